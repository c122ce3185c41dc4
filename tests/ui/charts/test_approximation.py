"""Universal-approximation builders (ui.charts.approximation): error vs width, surfaces."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tests.ui.charts import vega
from ui.charts import approximation

WIDTHS = (4, 64, 1024)


def summary() -> pd.DataFrame:
    rows = [
        {"width": w, "seed": s, "final_train_loss": 0.4 / (i + 1) + 0.01 * s, "variant": f"width={w}"}
        for i, w in enumerate(WIDTHS)
        for s in range(2)
    ]
    rows.append({"width": 8, "seed": 0, "final_train_loss": np.nan, "variant": "width=8"})  # diverged
    return pd.DataFrame(rows)


def grid_frame(value, side: int = 50) -> pd.DataFrame:
    g = np.linspace(-2, 2, side)
    xy = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    return pd.DataFrame({"x0": xy[:, 0], "x1": xy[:, 1], "value": value(xy)})


def test_error_vs_width_is_log_log_with_a_mean_line_and_every_seed() -> None:
    spec = vega.spec_of(approximation.error_vs_width(summary()))
    units = list(vega.units(spec))
    assert sorted(vega.mark(u) for u in units) == ["circle", "line"]
    for u in units:
        assert u["encoding"]["x"]["scale"]["type"] == "log" and u["encoding"]["y"]["scale"]["type"] == "log"
    dots = next(u for u in units if vega.mark(u) == "circle")
    assert len(vega.rows_of(spec, dots)) == 2 * len(WIDTHS)  # the diverged run is not drawn
    line = next(u for u in units if vega.mark(u) == "line")
    means = {r["width"]: r["final_train_loss"] for r in vega.rows_of(spec, line)}
    assert means[4] > means[64] > means[1024]
    vega.assert_small_and_finite(spec)


def test_error_vs_width_says_so_when_nothing_is_finite() -> None:
    dead = summary().assign(final_train_loss=np.nan)
    assert vega.is_message(vega.spec_of(approximation.error_vs_width(dead)), "diverged")
    assert vega.is_message(vega.spec_of(approximation.error_vs_width(pd.DataFrame())), "no data")


def test_surfaces_put_the_target_first_on_one_symmetric_colour_scale() -> None:
    target = grid_frame(lambda xy: np.sin(xy[:, 0]) * np.cos(xy[:, 1]))
    fitted = pd.concat(
        [
            grid_frame(lambda xy: 0.5 * np.sin(xy[:, 0])).assign(variant=f"width={w}", seed=s)
            for w in (4, 64)
            for s in range(2)
        ],
        ignore_index=True,
    )
    spec = vega.spec_of(approximation.surfaces(fitted, target, ["width=4", "width=64"]))
    assert spec["facet"]["field"] == "variant"
    assert spec["facet"]["sort"] == [approximation.TARGET, "width=4", "width=64"]
    rect = next(vega.units(spec))
    scale = rect["encoding"]["color"]["scale"]
    assert scale["domain"][0] == -scale["domain"][1] and scale["domainMid"] == 0
    rows = vega.rows_of(spec, rect)
    assert {r["variant"] for r in rows} == {approximation.TARGET, "width=4", "width=64"}
    vega.assert_small_and_finite(spec)


def test_surfaces_without_runs_still_show_the_target() -> None:
    target = grid_frame(lambda xy: xy[:, 0])
    spec = vega.spec_of(approximation.surfaces(pd.DataFrame(), target))
    assert {r["variant"] for r in vega.rows_of(spec, next(vega.units(spec)))} == {approximation.TARGET}
    assert "target" in json.dumps(spec)
