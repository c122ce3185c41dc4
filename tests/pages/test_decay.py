"""Batch-norm page, decay section (BN7): fast vs slow exponential decay with and without BN."""

import json

from tests.app_helpers import specs

PAGE = "pages/batch_norm.py"


def test_decay_section_runs_and_draws_accuracy_against_half_life(app_test):
    at = app_test(PAGE).run()
    at.button(key="batch_norm.decay.run").click().run()
    assert not at.exception, at.exception
    drawn = [json.dumps(s) for s in specs(at)]
    assert any('"field": "lr_half_life"' in s and "final_val_accuracy" in s for s in drawn)
    assert any('"lr"' in s for s in drawn)  # the rate each run had, per epoch


def test_a_fast_half_life_must_be_shorter_than_the_slow_one(app_test):
    at = app_test(PAGE).run()
    at.select_slider(key="batch_norm.decay.fast").set_value(10.0).run()
    assert not at.exception
    assert any("shorter than the slow one" in w.value for w in at.warning)
