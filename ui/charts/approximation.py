"""Charts of the universal-approximation section (WVD3): training error against the width of one
hidden layer, and the fitted surface beside the target it approximates.

Pure Altair on plain frames, like every builder in ui.charts: the surfaces come from the runs'
`boundary` frames (for regression, the fitted value on a grid: x0, x1, value) and the target
from the caller (a frame of the same columns), so nothing here knows the bumps formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import pandas as pd

from ui.charts import base

TARGET = "target"  # the panel name of the function being approximated
SURFACE_SCHEME = "redblue"  # diverging around 0: the target has mean 0, hills red, valleys blue


@base.memoized
def error_vs_width(summary: pd.DataFrame, metric: str = "final_train_loss") -> base.Chart:
    """Every seed's final training error as a dot and the mean over seeds as a line, against the
    width of the hidden layer; both axes logarithmic (widths x4 apart, errors over decades)."""
    if base.missing(summary, ["width", "seed", metric]):
        return base.empty_chart()
    df = base.finite(summary[["width", "seed", metric]], ["width", metric])
    df = df[df[metric] > 0]  # a log axis cannot show 0 (an exact fit would be a sight to see)
    if df.empty:
        return base.empty_chart("no finite training error: every run diverged")
    means = df.groupby("width", as_index=False)[metric].mean()
    x = alt.X("width:Q", title="units in the hidden layer", scale=alt.Scale(type="log", base=2))
    y = alt.Y(f"{metric}:Q", title="training error (MSE)", scale=alt.Scale(type="log"))
    dots = (
        alt.Chart(df)
        .mark_circle(size=40, opacity=0.5, color="gray")
        .encode(x=x, y=y, tooltip=["width:Q", "seed:Q", base.tip(f"{metric}:Q", "training MSE")])
    )
    line = (
        alt.Chart(means)
        .mark_line(point=True, strokeWidth=2.5)
        .encode(x=x, y=y, tooltip=["width:Q", base.tip(f"{metric}:Q", "mean training MSE")])
    )
    return alt.layer(dots, line).properties(height=260)


@base.memoized
def surfaces(
    boundary: pd.DataFrame,
    target: pd.DataFrame,
    variant_order: Sequence[str] | None = None,
    columns: int = 3,
) -> base.Chart:
    """The target surface and each variant's fitted surface (mean over seeds) as heatmaps on one
    colour scale, target first: where a narrow net smooths the hills away is visible by eye."""
    if base.missing(target, ["x0", "x1", "value"]):
        return base.empty_chart()
    fitted = (
        pd.DataFrame(columns=["variant", "x0", "x1", "value"])
        if base.missing(boundary, ["variant", "x0", "x1", "value"])
        else base.finite(boundary, ["x0", "x1", "value"])
    )
    order = [v for v in base.domain(fitted, variant_order) if v in set(fitted["variant"].astype(str))]
    panels = [TARGET, *order]
    side = max(2, min(target["x0"].nunique(), int(math.sqrt(base.MAX_ROWS * 0.8 / len(panels)))))
    frames = [base.grid_cells(target.assign(variant=TARGET), "value", ["variant"], side)]
    if len(fitted):
        fitted = fitted.assign(variant=fitted["variant"].astype(str))
        frames.append(base.grid_cells(fitted, "value", ["variant"], side))
    cells = pd.concat(frames, ignore_index=True)
    bound = float(cells["value"].abs().quantile(0.99)) or 1.0  # one scale, symmetric around 0
    x = alt.X("x0_lo:Q", title="x0", scale=alt.Scale(zero=False, nice=False))
    y = alt.Y("x1_lo:Q", title="x1", scale=alt.Scale(zero=False, nice=False))
    rect = base.cell_rects(alt.Chart(), x, y).encode(
        color=alt.Color(
            "value:Q",
            scale=alt.Scale(
                scheme=SURFACE_SCHEME, domain=[-bound, bound], domainMid=0, reverse=True, clamp=True
            ),
            title="value",
        ),
        tooltip=["variant:N", base.tip("x0:Q"), base.tip("x1:Q"), base.tip("value:Q", "value", ".3f")],
    )
    return (
        alt.layer(rect, data=cells)
        .properties(width=base.FACET_WIDTH, height=base.FACET_WIDTH)
        .facet(facet=alt.Facet("variant:N", sort=panels, title=None), columns=columns)
    )
