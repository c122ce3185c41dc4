"""Training-curve builders (ui.charts.curves) on hand-built frames (see conftest)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from tests.ui.charts import vega
from tests.ui.charts.conftest import DIVERGED, EPOCHS, INSTANT, VARIANTS
from ui.charts import (
    curves,
    empty_chart,
    final_metric,
    schedule_chart,
    train_val_curves,
)


# -- training curves ---------------------------------------------------------------------------
def test_curves_band_line_pick_and_diverged_markers(epochs: pd.DataFrame, summary: pd.DataFrame) -> None:
    spec = vega.spec_of(curves(epochs, summary=summary, variant_order=VARIANTS))
    marks = vega.marks(spec)
    assert marks[0] == "area" and marks[-1] == "line"  # the line on top: ✕ marks never hide it
    assert set(marks[1:-1]) <= {"text"}
    vega.assert_pick(spec)
    vega.assert_small_and_finite(spec)
    units = list(vega.units(spec))
    area, line = units[0], units[-1]
    assert area["encoding"]["y2"]["field"] == "hi" and line["encoding"]["y"]["field"] == "mean"
    assert line["encoding"]["color"]["scale"]["domain"] == VARIANTS
    rows = vega.rows_of(spec, line)
    assert len(rows) == sum(
        len(epochs[(epochs["variant"] == v) & np.isfinite(epochs["val_loss"])]["epoch"].unique())
        for v in VARIANTS
    )
    first = next(r for r in rows if r["variant"] == VARIANTS[0] and r["x"] == 1)
    assert first["mean"] == pytest.approx(1 / 1.01 + 0.01) and first["lo"] == pytest.approx(1 / 1.01)
    assert first["hi"] == pytest.approx(1 / 1.01 + 0.02) and first["seeds"] == 3
    crosses = [u for u in vega.units(spec) if vega.mark(u) == "text"]
    drawn = {r["key"]: r for u in crosses for r in vega.rows_of(spec, u)}
    assert drawn[DIVERGED]["note"] == "diverged at step 25" and drawn[DIVERGED]["x"] == 2  # last finite epoch
    assert drawn[INSTANT]["note"] == "diverged at step 0"
    pinned = next(u for u in crosses if INSTANT in {r["key"] for r in vega.rows_of(spec, u)})
    assert pinned["encoding"]["y"] == {"value": 2}  # no finite point: pinned to the top edge


def test_run_without_any_rows_still_gets_its_cross_from_the_summary(
    epochs: pd.DataFrame, steps: pd.DataFrame, summary: pd.DataFrame
) -> None:
    for frame, x, metric, at in ((epochs, "epoch", "val_loss", 1), (steps, "step", "loss", 0)):
        spec = vega.spec_of(curves(frame[frame["key"] != INSTANT], metric, x, summary, VARIANTS))
        pinned = [
            r
            for u in vega.units(spec)
            if vega.mark(u) == "text"
            for r in vega.rows_of(spec, u)
            if r["key"] == INSTANT
        ]
        assert [(r["x"], r["note"]) for r in pinned] == [(at, "diverged at step 0")]


def test_curves_infers_divergence_without_summary_and_log_std_band(epochs: pd.DataFrame) -> None:
    spec = vega.spec_of(curves(epochs, log_y=True, band="std"))
    assert {
        u["encoding"]["y"].get("scale", {}).get("type")
        for u in vega.units(spec)
        if "field" in u["encoding"]["y"]
    } == {"log"}
    assert DIVERGED in json.dumps(spec)
    line = list(vega.units(spec))[-1]
    assert all(r["lo"] > 0 for r in vega.rows_of(spec, line))
    with pytest.raises(ValueError, match="band"):
        curves(epochs, band="iqr")


def test_curves_over_seconds_and_steps(
    epochs: pd.DataFrame, steps: pd.DataFrame, summary: pd.DataFrame
) -> None:
    per_epoch = epochs.assign(seconds=0.5)  # per-epoch durations are accumulated
    spec = vega.spec_of(curves(per_epoch, x="seconds", variant_order=VARIANTS))
    rows = vega.rows_of(spec, list(vega.units(spec))[-1])
    assert max(r["x"] for r in rows) == pytest.approx(0.5 * EPOCHS)
    spec = vega.spec_of(curves(steps, metric="loss", x="step", summary=summary))
    assert list(vega.units(spec))[-1]["encoding"]["x"]["title"] == "step"
    vega.assert_small_and_finite(spec)


def test_curves_bins_long_step_frames_under_the_row_limit() -> None:
    n = 3000
    big = pd.DataFrame(
        {"key": np.repeat([f"k{i}" for i in range(8)], n), "variant": np.repeat([f"v{i}" for i in range(8)], n),
         "seed": 0, "step": np.tile(np.arange(n), 8), "loss": np.tile(np.linspace(2, 0.1, n), 8)}
    )  # fmt: skip
    spec = vega.spec_of(curves(big, metric="loss", x="step"))
    vega.assert_small_and_finite(spec)
    assert 1000 < len(vega.rows_of(spec, list(vega.units(spec))[-1])) <= 2400


def test_regression_accuracy_and_empty_frames_say_so(epochs: pd.DataFrame, summary: pd.DataFrame) -> None:
    nan = epochs.assign(val_accuracy=math.nan, train_accuracy=math.nan)
    assert vega.is_message(vega.spec_of(curves(nan, metric="val_accuracy")), "regression")
    assert vega.is_message(vega.spec_of(train_val_curves(nan, metric="accuracy")), "regression")
    assert vega.is_message(vega.spec_of(final_metric(summary, "final_val_accuracy")), "regression")
    assert vega.is_message(vega.spec_of(empty_chart()), "no data yet")


def test_train_val_curves_dash_by_split(epochs: pd.DataFrame, summary: pd.DataFrame) -> None:
    spec = vega.spec_of(train_val_curves(epochs, summary=summary, variant_order=VARIANTS))
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    assert line["encoding"]["strokeDash"]["field"] == "split"
    assert {r["split"] for r in vega.rows_of(spec, line)} == {"train", "val"}
    vega.assert_pick(spec)
    vega.assert_small_and_finite(spec)
    assert DIVERGED in json.dumps(vega.datasets(spec))


def test_schedule_chart_adds_momentum_only_when_it_varies(steps: pd.DataFrame) -> None:
    spec = vega.spec_of(schedule_chart(steps, variant_order=VARIANTS))
    assert "vconcat" not in spec and spec["encoding"]["y"]["scale"]["type"] == "log"
    vega.assert_pick(spec)
    varied = steps.assign(momentum=np.where(steps["variant"] == VARIANTS[0], 0.0, 0.9))
    spec = vega.spec_of(schedule_chart(varied))
    assert [u["encoding"]["y"]["field"] for u in vega.units(spec)] == ["lr", "momentum"]
