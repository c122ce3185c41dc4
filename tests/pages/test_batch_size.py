"""Batch-size page: the default sweep renders its three x axes, seed spread and update norms;
a changed comparison runs; the linear-LR toggle retrains with scaled rates; a new session
replays; a claim gets a verdict."""

import json

from tests.app_helpers import assert_replayed, assert_verdict, opened, run_changed, specs, submit, table_with
from ui.labels import short

PAGE = "pages/batch_size.py"


def test_defaults_render_three_ways_and_replay(app_test):
    at = opened(app_test, PAGE)
    text = json.dumps(specs(at))
    assert "final_val_accuracy" in text and "generalization_gap" in text and "update_norm" in text
    assert "time_per_epoch" in text
    spread = table_with(at, "range")
    assert list(spread["variant"]) == [short(f"batch_size={b}") for b in (8, 32, 128, 800)]
    assert (spread["seeds"] == 5).all()  # five seeds by default: the page is about variance
    steps = table_with(at, "steps_per_epoch").set_index("variant")["steps_per_epoch"]
    assert (
        steps[short("batch_size=8")] > steps[short("batch_size=128")] > steps[short("batch_size=800")] == 1
    )  # full batch
    at.radio(key="batch_size.x").set_value("optimizer step").run()
    assert not at.exception
    assert json.dumps(specs(at)[0]).count('"title": "step"') >= 1
    assert_replayed(app_test(PAGE).run(), 20)  # a new session replays everything


def test_changed_comparison_and_linear_lr_rule(app_test):
    at = app_test(PAGE).run()
    run_changed(at, "batch_size", "8, 128", 2)
    assert list(table_with(at, "range")["variant"]) == [short("batch_size=8"), short("batch_size=128")]
    at.toggle(key="batch_size.scale_lr").set_value(True).run()  # asks before training a new set
    assert not at.exception
    assert any("press Run" in i.value for i in at.info)
    submit(at).click().run()
    assert not at.exception, at.exception
    rates = table_with(at, "update_noise").set_index("variant")["learning_rate"]
    assert rates[short("batch_size=8")] == 0.05 * 8 / 32 and rates[short("batch_size=128")] == 0.05 * 128 / 32


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "BS3")
