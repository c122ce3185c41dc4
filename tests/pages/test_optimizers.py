"""Optimizers page: the sandbox draws paths, closed forms and the (α, β) map with no training; the
momentum comparison runs and replays; the schedules comparison draws LR and momentum under the
loss; a claim gets a verdict."""

import json

from tests.app_helpers import assert_replayed, assert_verdict, opened, run_changed, specs, table_with
from ui.labels import short

PAGE = "pages/optimizers.py"


def test_defaults_render_sandbox_and_network(app_test):
    at = opened(app_test, PAGE)
    text = json.dumps(specs(at))
    assert '"optimizer"' in text and '"x0' in text  # contour map with the optimizers' paths
    assert '"beta' in text and '"rate' in text  # the (α, β) stability map
    assert '"momentum' in text and "train_loss" in text  # the real network's curves
    table = table_with(at, "steps_to_tol")
    assert {"sgd", "momentum", "nesterov", "rmsprop", "adam", "momentum at α*, β*"} == set(table["optimizer"])
    assert any("Closed forms" in m.value for m in at.markdown)
    assert any(c.value.startswith("9 runs on ") for c in at.caption)  # the replay caption names the data


def test_sandbox_slider_and_changed_comparison(app_test):
    at = app_test(PAGE).run()
    before = table_with(at, "steps_to_tol")
    at.select_slider(key="optimizers.kappa").set_value(200).run()
    after = table_with(at, "steps_to_tol")
    assert not at.exception and not before.equals(after)  # a harder ravine, other numbers
    run_changed(at, "optimizers", "0, 0.95", 2)
    summary = next(
        d.value for d in at.dataframe if "diverged" in d.value.columns and "seeds" in d.value.columns
    )
    assert list(summary["variant"]) == [short("momentum=0"), short("momentum=0.95")]
    assert_replayed(app_test(PAGE).run(), 9)  # a new session: the default comparison replays


def test_schedules_draw_lr_and_momentum(app_test):
    at = app_test(PAGE).run()
    next(b for b in at.button if b.label == "Run" and b.form_id == "optimizers.sched_form").click().run()
    assert not at.exception, at.exception
    sched = [s for s in specs(at) if "vconcat" in s]
    assert sched, "LR and momentum panels (one_cycle cycles the momentum)"
    fields = json.dumps(sched[0])
    assert '"lr"' in fields and '"momentum"' in fields


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "MO2")
