"""Run-history builders (ui.charts.history)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.ui.charts import vega
from tests.ui.charts.conftest import VARIANTS
from ui.charts import (
    parallel_coordinates,
    scatter,
)


def test_parallel_coordinates_normalizes_each_axis(summary: pd.DataFrame) -> None:
    runs = summary.assign(batch_size=[16, 32, 64] * 3, optimizer=["sgd", "adam", "sgd"] * 3)
    spec = vega.spec_of(parallel_coordinates(runs, ["learning_rate", "batch_size", "optimizer"]))
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    rows = vega.rows_of(spec, line)
    assert all(0 <= r["norm"] <= 1 for r in rows)
    assert line["encoding"]["x"]["sort"] == [
        "learning_rate (log)",
        "batch_size",
        "optimizer",
        "final_val_loss",
    ]
    lr_axis = {r["value"]: r["norm"] for r in rows if r["axis"] == "learning_rate (log)"}
    assert lr_axis == {"0.01": 0.0, "0.1": pytest.approx(1 / 3), "10": 1.0}
    dashed = [u for u in vega.units(spec) if vega.mark(u) == "line" and u is not line]
    assert {r["seed"] for r in vega.rows_of(spec, dashed[0])} == {"1", "2"}  # the two diverged runs
    assert "final_val_loss" not in {r["axis"] for r in vega.rows_of(spec, dashed[0])}  # they stop before it
    ends = [r["value"] for u in vega.units(spec) if vega.mark(u) == "text" for r in vega.rows_of(spec, u)]
    assert "nan" not in ends and {"0.01", "10", "sgd", "adam"} <= set(ends)


def test_scatter_marks_diverged_runs(summary: pd.DataFrame) -> None:
    runs = summary.assign(final_val_loss=summary["final_val_loss"].fillna(9.0))
    spec = vega.spec_of(scatter(runs, "learning_rate", "final_val_loss", log_x=True, variant_order=VARIANTS))
    assert spec["encoding"]["shape"]["field"] == "status"
    assert sum(r["status"] == "diverged" for r in vega.rows_of(spec, spec)) == 2
    vega.assert_pick(spec)


def test_scatter_clips_blown_up_runs_and_marks_them(summary: pd.DataFrame) -> None:
    runs = summary.assign(
        final_val_loss=summary["final_val_loss"].fillna(900.0), diverged=False
    )  # finite but enormous: blown up without the trainer's flag
    spec = vega.spec_of(scatter(runs, "learning_rate", "final_val_loss", log_x=True))
    rows = vega.rows_of(spec, spec)
    clipped = [r for r in rows if r["status"] == "blew up (clipped)"]
    assert len(clipped) == 2 and all(r["final_val_loss"] == 900.0 for r in clipped)  # true value kept
    shown = spec["encoding"]["y"]["field"]
    assert max(r[shown] for r in rows) < 900.0 and spec["encoding"]["y"]["title"] == "final_val_loss"
    assert "triangle-up" in spec["encoding"]["shape"]["scale"]["range"]


def test_parallel_coordinates_colour_is_not_flattened_by_a_blow_up(summary: pd.DataFrame) -> None:
    runs = summary.assign(final_val_loss=summary["final_val_loss"].fillna(900.0))
    spec = vega.spec_of(parallel_coordinates(runs, ["learning_rate"]))
    colour = next(u["encoding"]["color"] for u in vega.units(spec) if "color" in u.get("encoding", {}))
    assert colour["scale"]["clamp"] is True and colour["scale"]["domain"][1] < 900.0
