"""LR range-test builders (ui.charts.lr)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.ui.charts import vega
from ui.charts import (
    lr_derivative_chart,
    lr_finder_chart,
)


# -- LR finder, sandbox, history ---------------------------------------------------------------
@pytest.fixture(scope="module")
def lr_curves() -> pd.DataFrame:
    lr = np.logspace(-5, 0, 50)
    parts = []
    for run, shift in (("baseline", 0.0), ("batch_norm=before", 1.0)):
        smoothed = 2.0 - np.log10(lr) * 0.0 - np.tanh(np.log10(lr) + 3 - shift)
        parts.append(pd.DataFrame({"run": run, "lr": lr, "loss": smoothed + 0.05, "smoothed": smoothed}))
    df = pd.concat(parts, ignore_index=True)
    df.loc[len(df)] = {"run": "baseline", "lr": 2.0, "loss": math.inf, "smoothed": math.nan}
    return df


def test_lr_finder_chart_rules_labels_and_stop_marker(lr_curves: pd.DataFrame) -> None:
    sug = pd.DataFrame(
        {
            "run": ["baseline", "baseline"],
            "name": ["steepest", "valley"],
            "lr": [1e-3, 3e-3],
            "loss": [2.0, 1.5],
        }
    )
    spec = vega.spec_of(lr_finder_chart(lr_curves, sug))
    vega.assert_small_and_finite(spec)
    vega.assert_pick(spec, "run")
    assert vega.marks(spec).count("rule") == 2 and vega.marks(spec).count("text") == 0  # no labels to overlap
    assert all(u["encoding"]["x"]["scale"]["type"] == "log" for u in vega.units(spec) if "x" in u["encoding"])
    stop = next(u for u in vega.units(spec) if vega.mark(u) == "point")
    assert {r["run"]: r["lr"] for r in vega.rows_of(spec, stop)} == {
        "baseline": 1.0,
        "batch_norm=before": 1.0,
    }
    marker = next(u for u in vega.units(spec) if "shape" in u.get("encoding", {}))
    labels = [r["label"] for r in vega.rows_of(spec, marker)]
    assert labels == ["baseline: steepest 0.001", "baseline: valley 0.003"]  # two networks: run named
    assert marker["encoding"]["shape"]["scale"]["range"] == ["diamond", "triangle-down"]  # one shape per rule
    assert [r["lr"] for r in vega.rows_of(spec, marker)] == [1e-3, 3e-3]


def test_lr_finder_clips_the_blow_up_and_marks_it() -> None:
    lr = np.logspace(-4, 1, 30)
    smoothed = np.r_[np.linspace(2.3, 0.4, 25), [3, 10, 30, 60, 80]]
    spec = vega.spec_of(
        lr_finder_chart(pd.DataFrame({"run": "a", "lr": lr, "loss": smoothed, "smoothed": smoothed}))
    )
    line = next(
        u for u in vega.units(spec) if vega.mark(u) == "line" and u["encoding"]["y"]["field"] == "smoothed"
    )
    top = line["encoding"]["y"]["scale"]["domain"][1]
    assert top == pytest.approx(1.5 * 2.3) and line["mark"]["clip"] is True
    stop = next(u for u in vega.units(spec) if vega.mark(u) == "point")
    (row,) = vega.rows_of(spec, stop)
    assert row["shown"] == pytest.approx(top) and "blew up" in row["note"]


def test_lr_derivative_marks_each_suggestion_at_its_lr() -> None:
    lr = np.logspace(-4, 0, 41)
    df = pd.DataFrame({"run": "a", "lr": lr, "smoothed": 3.0 - np.exp(-((np.log10(lr) + 2) ** 2))})
    sug = pd.DataFrame({"run": ["a", "a"], "name": ["steepest", "valley"], "lr": [10**-2.5, 1e-3]})
    spec = vega.spec_of(lr_derivative_chart(df, sug))
    dots = next(u for u in vega.units(spec) if "shape" in u.get("encoding", {}))
    assert [r["lr"] for r in vega.rows_of(spec, dots)] == pytest.approx(
        [10**-2.5, 1e-3]
    )  # at the suggestions


def test_lr_derivative_is_slope_per_decade() -> None:
    lr = np.logspace(-4, 0, 9)
    df = pd.DataFrame({"run": "a", "lr": lr, "smoothed": 3.0 - 0.5 * np.log10(lr)})
    spec = vega.spec_of(lr_derivative_chart(df))
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    assert [r["slope"] for r in vega.rows_of(spec, line)] == pytest.approx([-0.5] * 9)
