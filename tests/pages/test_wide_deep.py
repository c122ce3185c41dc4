"""Wide-vs-deep page: equal-budget pairs with train/val accuracy and decision boundaries by default;
other depths + Run retrain; a new session replays; the random-label memorization test runs from
its button; a claim's Run button gives a verdict."""

import json

from tests.app_helpers import assert_new_session_replays, assert_verdict, opened, specs, table_with

PAGE = "pages/wide_deep.py"


def test_defaults_show_equal_budget_pairs_and_boundaries(app_test):
    at = opened(app_test, PAGE)
    pairs = table_with(at, "vs budget")
    assert list(pairs["depth"]) == [1, 4] and pairs["matched"].all()
    assert pairs["width"].is_monotonic_decreasing
    fit = table_with(at, "accuracy_gap")
    assert list(fit["variant"]) == list(pairs["network"])
    assert (fit["n_params"] == pairs["parameters"].to_numpy()).all()  # what trained = what was planned
    text = json.dumps(specs(at))
    assert "P(class 1)" in text  # decision boundaries on the 2-D default data
    assert '"split"' in text and "accuracy" in text  # train vs val accuracy curves


def test_other_depths_then_run(app_test):
    at = app_test(PAGE).run()
    at.multiselect(key="wide_deep.depths").set_value([1, 2]).run()
    assert not at.exception, at.exception
    assert list(table_with(at, "vs budget")["depth"]) == [1, 2]
    at.number_input(key="wide_deep.seeds").set_value(1)
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    fit = table_with(at, "accuracy_gap")
    assert len(fit) == 2 and fit["variant"].iloc[0].startswith("1 × ")


def test_second_session_replays_from_the_store(app_test):
    assert_new_session_replays(app_test, PAGE, 4)


def test_memorization_test_on_shuffled_labels(app_test):
    at = app_test(PAGE).run()
    at.multiselect(key="wide_deep.depths").set_value([1, 2])
    at.number_input(key="wide_deep.mem_n").set_value(100)
    at.number_input(key="wide_deep.mem_epochs").set_value(5).run()
    assert any("csv:" in c.value for c in at.caption)  # the registered shuffled copy
    at.button(key="wide_deep.memo.run").click().run()
    assert not at.exception, at.exception
    memo = table_with(at, "epochs_to_100")
    assert len(memo) == 2 and memo["chance"].between(0.05, 0.2).all()  # digits: ~10% per class
    assert memo["val_accuracy"].max() < 0.5  # random labels: nothing to generalize


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "WVD1", "spiral")
