"""Final-metric builders (ui.charts.finals): dots, spreads, knob axes and heatmap grids."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core.measures import with_gaps
from tests.ui.charts import vega
from tests.ui.charts.conftest import EPOCHS, VARIANTS
from ui.charts import (
    final_metric,
    heatmap_grid,
    metric_vs_knob,
)


# -- final metrics -----------------------------------------------------------------------------
def test_final_metric_dots_tick_rule_and_diverged_note(summary: pd.DataFrame) -> None:
    spec = vega.spec_of(final_metric(summary, "final_val_loss", VARIANTS))
    assert sorted(vega.marks(spec)) == ["circle", "rule", "tick"]
    vega.assert_pick(spec)
    dots = next(u for u in vega.units(spec) if vega.mark(u) == "circle")
    assert dots["encoding"]["y"]["sort"] == [*VARIANTS[:2], "learning_rate=10 (2/3 diverged)"]
    assert dots["encoding"]["x"]["field"] == "final_val_loss"
    assert len(vega.rows_of(spec, dots)) == 7  # 9 runs minus the two diverged
    tick = next(u for u in vega.units(spec) if vega.mark(u) == "tick")
    means = {r["variant"]: r["mean"] for r in vega.rows_of(spec, tick)}
    assert means[VARIANTS[2]] == pytest.approx(1 / (EPOCHS * 11))  # the one surviving seed
    all_lost = summary.assign(diverged=summary["variant"] == VARIANTS[2])
    spec = vega.spec_of(final_metric(all_lost, "final_val_loss", VARIANTS))
    note = next(u for u in vega.units(spec) if vega.mark(u) == "text")
    assert [(r["variant"], r["note"]) for r in vega.rows_of(spec, note)] == [
        (VARIANTS[2], "✕ every seed diverged")
    ]


def test_metric_vs_knob_gap_on_log_x_marks_divergence(summary: pd.DataFrame) -> None:
    spec = vega.spec_of(metric_vs_knob(summary, "learning_rate", "generalization_gap", log_x=True))
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    assert line["encoding"]["x"]["scale"]["type"] == "log"
    rows = vega.rows_of(spec, line)
    gap = with_gaps(summary)
    expected = gap[~gap["diverged"] & (gap["learning_rate"] == 0.1)]["generalization_gap"].mean()
    assert next(r["mean"] for r in rows if r["learning_rate"] == 0.1) == pytest.approx(expected)
    cross = next(u for u in vega.units(spec) if vega.mark(u) == "text")
    assert [r["learning_rate"] for r in vega.rows_of(spec, cross)] == [10.0]
    vega.assert_small_and_finite(spec)


def test_heatmap_grid_marks_the_best_cell_per_row() -> None:
    df = pd.DataFrame(
        {"weight_decay": [0.0, 1e-4, 1e-3] * 4, "n_samples": [200] * 6 + [2000] * 6,
         "final_val_loss": [0.9, 0.5, 0.7, 0.8, 0.6, 0.7, 0.3, 0.5, math.nan, 0.4, 0.3, math.nan]}
    )  # fmt: skip
    spec = vega.spec_of(heatmap_grid(df, "weight_decay", "n_samples", "final_val_loss"))
    rows = vega.rows_of(spec, next(vega.units(spec)))
    best = {(r["n_samples"], r["weight_decay"]) for r in rows if r["best"]}
    assert best == {(200, 1e-4), (2000, 0.0)}  # cell means 0.55 and 0.35
    labels = {(r["n_samples"], r["weight_decay"]): r["label"] for r in rows}
    assert labels[(200, 1e-4)] == "★ 0.55" and labels[(2000, 1e-3)] == "✕"
    outline = [u for u in vega.units(spec) if vega.mark(u) == "rect"][1]
    assert outline["transform"] == [{"filter": "datum.best"}]
    assert spec["resolve"]["scale"]["color"] == "independent"  # text ink vs value colour (else Vega fails)
    by_column = vega.spec_of(
        heatmap_grid(df, "weight_decay", "n_samples", "final_val_loss", best_per="column")
    )
    best = {
        (r["n_samples"], r["weight_decay"])
        for r in vega.rows_of(by_column, next(vega.units(by_column)))
        if r["best"]
    }
    assert best == {(2000, 0.0), (2000, 1e-4), (200, 1e-3)}  # the all-diverged cell cannot win
