"""Inside-the-network builders (ui.charts.network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.ui.charts import vega
from tests.ui.charts.conftest import LAYERS, VARIANTS
from ui import charts


# -- inside the network ------------------------------------------------------------------------
def test_layer_heatmap_log_colour_facets_and_bins(layers: pd.DataFrame) -> None:
    spec = vega.spec_of(charts.layer_heatmap(layers, VARIANTS))
    unit = next(vega.units(spec))
    assert unit["encoding"]["color"]["scale"]["type"] == "log"
    assert spec["facet"]["field"] == "variant" and spec["facet"]["sort"] == VARIANTS
    rows = vega.rows_of(spec, unit)
    assert len(rows) == 3 * LAYERS * 30  # 30 recorded steps, finite variants only (INSTANT is NaN)
    cell = next(
        r for r in rows if r["variant"] == VARIANTS[0] and r["step"] == 0 and r["layer_label"] == "0: dense_0"
    )
    assert cell["grad_norm"] == pytest.approx(0.02) and cell["seeds"] == 3
    many = pd.concat([layers.assign(step=layers["step"] + 60 * i) for i in range(20)], ignore_index=True)
    spec = vega.spec_of(charts.layer_heatmap(many, VARIANTS))
    assert len({r["step"] for r in vega.rows_of(spec, next(vega.units(spec)))}) <= 200
    vega.assert_small_and_finite(spec)


def test_layer_ratio_is_first_over_last_on_log_y(layers: pd.DataFrame) -> None:
    spec = vega.spec_of(charts.layer_ratio(layers, VARIANTS))
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    assert line["encoding"]["y"]["scale"]["type"] == "log"
    assert all(r["mean"] == pytest.approx(0.01) for r in vega.rows_of(spec, line))
    assert "area" in vega.marks(spec)
    vega.assert_pick(spec)
    one_layer = layers[layers["layer"] == 0]
    assert vega.is_message(vega.spec_of(charts.layer_ratio(one_layer)), "one layer")


def test_weight_histograms_symlog_grid_and_seed_mean(histograms: pd.DataFrame) -> None:
    spec = vega.spec_of(charts.weight_histograms(histograms, VARIANTS))
    unit = next(vega.units(spec))
    assert unit["encoding"]["y"]["scale"]["type"] == "symlog"
    assert spec["facet"]["row"]["field"] == "variant" and spec["facet"]["column"]["field"] == "layer_label"
    rows = vega.rows_of(spec, unit)
    assert len(rows) == 3 * LAYERS * 20  # 30 bins asked, capped at the trainer's 20
    assert {r["count"] for r in rows if r["bin_start"] < -0.5} == {1.0}  # mean of seeds 0, 1, 2
    vega.assert_pick(spec)
    deep = pd.concat(
        [histograms.assign(layer=histograms["layer"] + 3 * i) for i in range(4)], ignore_index=True
    )
    shown = {
        r["layer_label"].split(":")[0]
        for r in vega.rows_of(
            *(lambda s: (s, next(vega.units(s))))(vega.spec_of(charts.weight_histograms(deep)))
        )
    }
    assert len(shown) == 6 and {"0", "11"} <= shown


def test_sparsity_bars_use_each_runs_last_epoch(weights: pd.DataFrame) -> None:
    spec = vega.spec_of(charts.sparsity_bars(weights, VARIANTS))
    bars = next(u for u in vega.units(spec) if vega.mark(u) == "bar")
    assert bars["encoding"]["xOffset"]["field"] == "variant"
    rows = vega.rows_of(spec, bars)
    assert len(rows) == 3 * LAYERS
    r = next(r for r in rows if r["variant"] == VARIANTS[2] and r["layer_label"] == "0: dense_0")
    assert r["mean"] == pytest.approx(0.51)  # the diverged run's epoch 3 counts as its last
    assert "rule" in vega.marks(spec)


def test_decision_boundary_diverging_scale_with_points(boundary: pd.DataFrame) -> None:
    points = pd.DataFrame({"x0": [-1.0, 1.0, 0.5], "x1": [-1.0, 1.0, -0.5], "label": [0, 1, 1]})
    spec = vega.spec_of(charts.decision_boundary(boundary, points, VARIANTS))
    rect = next(u for u in vega.units(spec) if vega.mark(u) == "rect")
    scale = rect["encoding"]["color"]["scale"]
    assert scale["scheme"] == "redblue" and scale["domainMid"] == 0.5
    assert spec["facet"]["field"] == "variant"
    rows = vega.datasets(spec)[spec["data"]["name"]]
    assert sum(r["kind"] == "point" for r in rows) == 3 * len(VARIANTS)  # replicated into each facet
    assert sum(r["kind"] == "grid" for r in rows) == 400 * len(VARIANTS)
    assert "point" in vega.marks(spec)


def test_gradient_histogram_marks_the_quantile(steps: pd.DataFrame) -> None:
    spec = vega.spec_of(charts.gradient_histogram(steps, 0.9, VARIANTS))
    rule = next(u for u in vega.units(spec) if vega.mark(u) == "rule")
    assert rule["encoding"]["x"]["field"] == "q"
    rows = vega.datasets(spec)[spec["data"]["name"]]
    q = {r["variant"]: r["q"] for r in rows}
    values = steps.loc[steps["variant"] == VARIANTS[0], "grad_norm"]
    assert q[VARIANTS[0]] == pytest.approx(np.quantile(values, 0.9))
    assert sum(r["count"] for r in rows if r["variant"] == VARIANTS[0]) == len(values)
    assert "p90" in next(r["note"] for r in rows) and spec["facet"]["row"]["field"] == "variant"
    vega.assert_pick(spec)
