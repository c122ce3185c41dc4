"""The builder's "tune the learning rate for each variant" switch (ui.builder, ui.sections.tuning):
off, the page shows no tuning; on with a typed grid, Run trains the grid and the page draws the
isolation plot (each variant at its best rate, the rate written beside it), the score-vs-rate
axis plot and the tuned rates, each one of the grid."""

import json

from tests.app_helpers import specs, submit, table_with

PAGE = "pages/optimizers.py"
GRID = (0.01, 0.1, 1.0)
ISOLATION = "Each variant at its best learning rate"
AXIS = "Score against learning rate"


def test_switch_trains_the_grid_and_draws_the_isolation_plot(app_test):
    at = app_test(PAGE).run()
    assert not at.exception, at.exception
    assert ISOLATION not in json.dumps(specs(at))  # switch off: no tuning section
    at.checkbox(key="optimizers.tune").check()
    at.text_input(key="optimizers.tune_grid").input(", ".join(map(str, GRID)))
    submit(at).click().run()
    assert not at.exception, at.exception
    drawn = json.dumps(specs(at))
    assert ISOLATION in drawn and AXIS in drawn
    assert '"text": {"field": "note"' in drawn  # the chosen rate is written beside each tuned point
    tuned = table_with(at, "tuned_learning_rate")
    assert len(tuned) == 3  # momentum 0, 0.5, 0.9: the page's variants
    assert set(tuned["tuned_learning_rate"].dropna()) <= set(GRID)
    assert tuned["tuned_learning_rate"].notna().all()


def test_a_bad_grid_is_refused_on_the_page(app_test):
    at = app_test(PAGE).run()
    at.checkbox(key="optimizers.tune").check()
    at.text_input(key="optimizers.tune_grid").input("0.1, fast")
    submit(at).click().run()
    assert not at.exception, at.exception
    assert any("Not tuned" in e.value and "not a number" in e.value for e in at.error)
