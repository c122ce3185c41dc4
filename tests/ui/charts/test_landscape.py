"""Landscape charts (ui.charts.landscape): valid Vega-Lite, log loss axes, runs marked, empties."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.ui.charts import vega
from ui.charts.landscape import LOSS_FLOOR, interpolation_chart, sharpness_chart, slice_heatmap, split_lines

ORDER = ["batch_size=32", "batch_size=128"]


def interpolation_frame() -> pd.DataFrame:
    alphas = np.arange(-5, 26) / 20
    rows = []
    for variant in ORDER:
        for seed in (0, 1):
            loss = 2.3 * np.exp(-4 * alphas) + 0.01
            rows += [
                {"alpha": a, "train_loss": v, "variant": variant, "seed": seed} for a, v in zip(alphas, loss)
            ]
    rows[3]["train_loss"] = float("nan")  # a point that overflowed is left out, not drawn at 0
    return pd.DataFrame(rows)


def test_interpolation_is_one_log_line_per_run_with_the_ends_marked() -> None:
    spec = vega.spec_of(interpolation_chart(interpolation_frame(), ORDER))
    vega.assert_small_and_finite(spec)
    vega.assert_pick(spec)
    assert sorted(vega.marks(spec)) == ["line", "rule"]
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    assert line["encoding"]["y"]["scale"]["type"] == "log" and line["encoding"]["detail"]["field"] == "seed"
    assert len(vega.rows_of(spec, line)) == 4 * 31 - 1
    rule = next(u for u in vega.units(spec) if vega.mark(u) == "rule")
    assert [r["x"] for r in vega.rows_of(spec, rule)] == [0.0, 1.0]


def test_split_lines_and_a_zero_loss_on_a_log_axis() -> None:
    df = pd.DataFrame(
        {
            "offset": [-1.0, 0.0, 1.0] * 2,
            "loss": [0.5, 0.0, 0.4, 0.7, 0.2, 0.6],
            "split": ["train"] * 3 + ["validation"] * 3,
        }
    )
    spec = vega.spec_of(split_lines(df, "offset", "offset"))
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    assert min(r["loss"] for r in vega.rows_of(spec, line)) == LOSS_FLOOR


def test_heatmap_has_every_cell_and_the_trained_weights_marked() -> None:
    steps = np.arange(-12, 13) / 12
    gx, gy = np.meshgrid(steps, steps)
    df = pd.DataFrame(
        {"x": gx.ravel(), "y": gy.ravel(), "train_loss": 0.01 + gx.ravel() ** 2 + gy.ravel() ** 2}
    )
    spec = vega.spec_of(slice_heatmap(df))
    vega.assert_small_and_finite(spec)
    rect = next(u for u in vega.units(spec) if vega.mark(u) == "rect")
    assert len(vega.rows_of(spec, rect)) == 625 and rect["encoding"]["color"]["scale"]["type"] == "log"
    assert "point" in vega.marks(spec)


def test_sharpness_dots_and_empty_inputs() -> None:
    df = pd.DataFrame(
        {"variant": ORDER * 2, "seed": [0, 0, 1, 1], "sharpness": [0.1, 0.3, float("nan"), 0.2]}
    )
    spec = vega.spec_of(sharpness_chart(df, ORDER))
    assert vega.marks(spec) == ["circle"] and len(vega.rows_of(spec, next(vega.units(spec)))) == 3
    assert vega.is_message(
        vega.spec_of(sharpness_chart(df.assign(sharpness=float("nan")))), "no run has weights"
    )
    for empty in (
        interpolation_chart(pd.DataFrame()),
        slice_heatmap(pd.DataFrame()),
        split_lines(pd.DataFrame(), "x", "x"),
    ):
        assert vega.is_message(vega.spec_of(empty), "no data")
