"""Charts of the 2-D optimizer sandbox: the loss surface with optimizer paths, and the heavy-ball
stability map over learning rate x momentum."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import base
from ui.charts.base import MAX_ROWS


# -- 2-D optimizer sandbox ---------------------------------------------------------------------
@base.memoized
def contour_paths(grid: pd.DataFrame, paths: pd.DataFrame | None = None, cells: int = 60) -> base.Chart:
    """The loss surface as a log-coloured heatmap (a contour plot without contouring) with each
    optimizer's path on top. Paths that leave the plotted window are clipped, not rescaled to,
    so a diverging optimizer cannot squash the surface into a dot.

    grid: x0, x1, loss. paths: optimizer, step, x0, x1 (loss optional).
    """
    if base.missing(grid, ["x0", "x1", "loss"]):
        return base.empty_chart()
    g = base.finite(grid, ["x0", "x1", "loss"])
    if g.empty:
        return base.empty_chart("the loss surface has no finite values")
    top = float(g["loss"].max())
    positive = g.loc[g["loss"] > 0, "loss"]
    floor = max(float(positive.min()) if len(positive) else 1e-12, abs(top) * 1e-6, 1e-12)
    g = g.assign(shown=g["loss"].clip(lower=floor))  # log colour: the minimum (loss 0) gets the floor
    has_paths = paths is not None and not base.missing(paths, ["optimizer", "step", "x0", "x1"])
    budget = MAX_ROWS - (min(len(paths), MAX_ROWS // 4) if has_paths else 0)
    side = max(2, min(cells, g["x0"].nunique(), g["x1"].nunique(), int(np.sqrt(budget))))
    surface = base.grid_cells(g, "shown", [], side).merge(
        base.grid_cells(g, "loss", [], side)[["x0", "x1", "loss"]], on=["x0", "x1"]
    )
    x_dom = [float(surface["x0_lo"].min()), float(surface["x0_hi"].max())]
    y_dom = [float(surface["x1_lo"].min()), float(surface["x1_hi"].max())]
    x = alt.X("x0_lo:Q", scale=alt.Scale(domain=x_dom, nice=False, zero=False), title="x0")
    y = alt.Y("x1_lo:Q", scale=alt.Scale(domain=y_dom, nice=False, zero=False), title="x1")
    heat = base.cell_rects(alt.Chart(surface), x, y).encode(
        color=alt.Color(
            "shown:Q", scale=alt.Scale(type="log", scheme="greys", reverse=True), title="loss (log)"
        ),
        tooltip=[base.tip("x0:Q"), base.tip("x1:Q"), base.tip("loss:Q")],
    )
    if not has_paths:
        return heat
    ps = base.finite(paths, ["step", "x0", "x1"]).assign(optimizer=lambda d: d["optimizer"].astype(str))
    ps = base.thin(ps, "optimizer", "step", MAX_ROWS // 4)
    dom, p = base.domain(ps, None, "optimizer"), base.pick("optimizer")
    px = alt.X("x0:Q", scale=alt.Scale(domain=x_dom, nice=False, zero=False), title="x0")
    py = alt.Y("x1:Q", scale=alt.Scale(domain=y_dom, nice=False, zero=False), title="x1")
    tooltip = ["optimizer:N", "step:Q", base.tip("x0:Q"), base.tip("x1:Q")] + (
        [base.tip("loss:Q")] if "loss" in ps else []
    )
    enc = {
        "x": px,
        "y": py,
        "color": base.color(dom, "optimizer"),
        "opacity": base.fade(p),
        "tooltip": tooltip,
    }
    points = alt.OverlayMarkDef(size=18, clip=True)  # one layer, so one optimizer legend
    line = (
        alt.Chart(ps)
        .mark_line(clip=True, strokeWidth=2, point=points)
        .encode(**enc, order="step:Q")
        .add_params(p)
    )
    return alt.layer(heat, line).resolve_scale(color="independent")


@base.memoized
def stability_map(
    df: pd.DataFrame, x: str = "lr", y: str = "beta", value: str = "rate", ok: str = "converges"
) -> base.Chart:
    """Heavy-ball contraction rate over learning rate x momentum: blue contracts (rate < 1),
    red diverges, the white band is the edge; cells that diverge are also faded, so the
    stable region reads even without colour. Non-finite rates are drawn grey with a ✕ label."""
    if base.missing(df, [x, y, value]):
        return base.empty_chart()
    data = df.copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    fin = np.isfinite(data[value].to_numpy(dtype=float))
    good = (
        base.flags(data[ok], data.index)
        if ok in data
        else pd.Series(fin & (data[value] < 1), index=data.index)
    )
    data["status"] = np.where(good, "converges", "diverges")
    if len(data) > MAX_ROWS:
        return base.empty_chart(f"{len(data)} cells is more than {MAX_ROWS}: use a coarser lr x beta grid")
    axis = alt.Axis(format=".2g", labelOverlap="greedy")
    xe, ye = (
        alt.X(f"{x}:O", sort="ascending", axis=alt.Axis(format=".2g", labelOverlap="greedy", labelAngle=-45)),
        alt.Y(f"{y}:O", sort="descending", axis=axis),
    )
    tooltip = [
        base.tip(f"{x}:Q", x, ".3g"),
        base.tip(f"{y}:Q", y, ".3g"),
        base.tip(f"{value}:Q", value),
        "status:N",
    ]
    rate = alt.Color(
        f"{value}:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[0, 2], domainMid=1, clamp=True)
    )
    shade = alt.Opacity(
        "status:N", scale=alt.Scale(domain=["converges", "diverges"], range=[1.0, 0.45]), title=None
    )
    heat = alt.Chart(data[fin]).mark_rect().encode(x=xe, y=ye, color=rate, opacity=shade, tooltip=tooltip)
    layers = [heat]
    if (~fin).any():
        bad = data[~fin].assign(**{value: None}, note="rate not finite")
        layers.append(
            alt.Chart(bad).mark_rect(color="lightgray").encode(x=xe, y=ye, tooltip=[*tooltip[:2], "note:N"])
        )
        layers.append(alt.Chart(bad).mark_text(text=base.CROSS, color="gray").encode(x=xe, y=ye))
    return alt.layer(*layers)


@base.memoized
def stability_with_marks(df: pd.DataFrame, marks: pd.DataFrame) -> base.Chart:
    """The stability map with diamonds at given (lr, beta) cells, e.g. the user's α, β and the
    closed-form optimum. marks: lr, beta, what (the legend text)."""
    point = (
        alt.Chart(marks)
        .mark_point(shape="diamond", size=140, filled=True, stroke="black")
        .encode(
            x=alt.X("lr:O", sort="ascending"),
            y=alt.Y("beta:O", sort="descending"),
            fill=alt.Fill("what:N", scale=alt.Scale(range=["gold", "white"]), title=None),
            tooltip=["what:N", "lr:Q", "beta:Q"],
        )
    )
    return alt.layer(stability_map(df), point)


@base.memoized
def swing_chart(sweep: pd.DataFrame) -> base.Chart:
    """Distance travelled across the ravine against α (log-log), one line per momentum β; a ✕ at
    the top where that α diverged. sweep: lr, beta, across, max_swing, crossings."""
    if base.missing(sweep, ["lr", "beta", "across"]):
        return base.empty_chart()
    sweep = sweep.assign(momentum=sweep["beta"].map(lambda b: f"β = {b:g}"))
    ok = sweep[np.isfinite(sweep["across"])]
    p = base.pick("momentum")
    line = (
        alt.Chart(ok)
        .mark_line(point=True)
        .encode(
            x=alt.X("lr:Q", scale=alt.Scale(type="log"), title="α"),
            y=alt.Y("across:Q", scale=alt.Scale(type="log"), title="distance travelled across (× offset)"),
            color=alt.Color("momentum:N", title=None),
            opacity=base.fade(p),
            tooltip=[
                "momentum:N",
                base.tip("lr:Q", "α"),
                base.tip("across:Q"),
                base.tip("max_swing:Q", "largest swing"),
                "crossings:Q",
            ],
        )
        .add_params(p)
    )
    blown = sweep[~np.isfinite(sweep["across"])].assign(note="diverged")
    layers = [line]
    if len(blown):
        layers.append(
            alt.Chart(blown)
            .mark_text(text=base.CROSS, size=16, color="firebrick", baseline="top")
            .encode(x="lr:Q", y=alt.value(2), tooltip=["momentum:N", "lr:Q", "note:N"])
        )
    return alt.layer(*layers)
