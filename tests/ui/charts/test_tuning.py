"""Tuning charts (ui.charts.tuning): the isolation plot and the score-vs-rate axis plot, on
frames shaped like core.tuning's rows and table."""

from __future__ import annotations

from tests.ui.charts import vega
from ui.charts import tuning

GRID = (0.01, 0.1, 1.0)
ROWS = [
    {"label": "opt sgd", "tuned_learning_rate": 1.0, "report_val_loss": 0.3, "select_val_loss": 0.28,
     "held_out": True},
    {"label": "opt adam", "tuned_learning_rate": 0.01, "report_val_loss": 0.2, "select_val_loss": 0.19,
     "held_out": True},
    {"label": "opt rmsprop", "tuned_learning_rate": None, "report_val_loss": None, "select_val_loss": None,
     "held_out": True},
]  # fmt: skip
FIXED = {"opt sgd": 0.5, "opt adam": 0.9, "opt rmsprop": None}
TABLE = [
    {"variant": r["label"], "learning_rate": lr, "select_val_loss": None if r["tuned_learning_rate"] is None
     else 0.5 + abs(lr - r["tuned_learning_rate"]), "did_not_train": 0}
    for r in ROWS for lr in GRID
]  # fmt: skip
ORDER = [r["label"] for r in ROWS]


def test_isolation_pairs_fixed_and_tuned_and_writes_the_rate():
    frame = tuning.isolation_frame(ROWS, FIXED)
    spec = vega.spec_of(tuning.isolation(frame, ORDER))
    vega.assert_small_and_finite(spec)
    points = next(u for u in vega.units(spec) if vega.mark(u) == "point")
    drawn = vega.rows_of(spec, points)
    assert {(r["variant"], r["series"]) for r in drawn} == {
        ("opt sgd", tuning.FIXED),
        ("opt sgd", tuning.TUNED),
        ("opt adam", tuning.FIXED),
        ("opt adam", tuning.TUNED),
    }  # fmt: skip  -- rmsprop has no number at either rate: left out, not drawn at 0
    text = next(u for u in vega.units(spec) if vega.mark(u) == "text")
    assert {r["note"] for r in vega.rows_of(spec, text)} == {"lr=1", "lr=0.01"}


def test_lr_axis_rings_the_chosen_rate_on_a_log_axis():
    frame = tuning.axis_frame(TABLE, ROWS)
    spec = vega.spec_of(tuning.lr_axis(frame, ORDER))
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    assert line["encoding"]["x"]["scale"]["type"] == "log"
    ring = next(u for u in vega.units(spec) if vega.mark(u) == "point")
    chosen = {(r["variant"], r["learning_rate"]) for r in vega.rows_of(spec, ring)}
    assert chosen == {("opt sgd", 1.0), ("opt adam", 0.01)}


def test_empty_frames_say_so():
    assert vega.is_message(vega.spec_of(tuning.isolation(tuning.isolation_frame([], {}), [])), "no variant")
    empty_axis = tuning.axis_frame([], [])
    assert vega.is_message(vega.spec_of(tuning.lr_axis(empty_axis, [])), "no rate")
