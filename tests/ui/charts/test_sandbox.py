"""Optimizer-sandbox builders (ui.charts.sandbox)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from tests.ui.charts import vega
from ui.charts import (
    contour_paths,
    stability_map,
)


def test_contour_paths_log_colour_and_clipped_paths() -> None:
    g = np.linspace(-2, 2, 30)
    x0, x1 = (a.ravel() for a in np.meshgrid(g, g))
    grid = pd.DataFrame({"x0": x0, "x1": x1, "loss": x0**2 + 10 * x1**2})
    paths = pd.DataFrame({"optimizer": ["sgd"] * 3 + ["momentum"] * 3, "step": [0, 1, 2] * 2,
                          "x0": [1.5, 1.0, 1e6, 1.5, 0.5, 0.1], "x1": [1.0, -0.8, math.inf, 1.0, 0.2, 0.0]})  # fmt: skip
    spec = vega.spec_of(contour_paths(grid, paths))
    rect = next(u for u in vega.units(spec) if vega.mark(u) == "rect")
    assert rect["encoding"]["color"]["scale"]["type"] == "log"
    assert min(r["shown"] for r in vega.rows_of(spec, rect)) > 0  # the zero minimum is floored for log
    line = next(u for u in vega.units(spec) if vega.mark(u) == "line")
    assert line["mark"]["clip"] is True and len(vega.rows_of(spec, line)) == 5  # the inf point is dropped
    assert line["mark"]["point"]["clip"] is True
    assert spec["resolve"]["scale"]["color"] == "independent"
    vega.assert_pick(spec, "optimizer")


def test_stability_map_fades_divergent_cells() -> None:
    lr, beta = np.meshgrid([0.01, 0.1, 1.0], [0.0, 0.9])
    df = pd.DataFrame({"lr": lr.ravel(), "beta": beta.ravel(), "rate": [0.5, 0.9, 1.5, 0.7, 0.95, math.inf]})
    df["converges"] = df["rate"] < 1
    spec = vega.spec_of(stability_map(df))
    rect = next(vega.units(spec))
    assert (
        rect["encoding"]["opacity"]["field"] == "status"
        and rect["encoding"]["color"]["scale"]["domainMid"] == 1
    )
    assert {r["status"] for r in vega.rows_of(spec, rect)} == {"converges", "diverges"}
    assert len(vega.rows_of(spec, rect)) == 5 and "rate not finite" in json.dumps(spec)
