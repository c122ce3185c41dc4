"""Altair charts beyond one comparison's training curves: the LR range test, the 2-D optimizer
sandbox and the run history. No Streamlit, same conventions as ui.charts (whose helpers these
reuse): pandas does the aggregation, at most MAX_ROWS rows per dataset, non-finite values dropped,
an empty frame gives a "no data yet" chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import (
    CROSS,
    MAX_ROWS,
    Chart,
    color,
    domain,
    empty_chart,
    fade,
    finite,
    flags,
    grid_cells,
    missing,
    pick,
    tip,
)

SUGGESTION_DASH = {"steepest": [6, 3], "valley": [2, 2], "minimum": [8, 3, 2, 3]}


def _thin(df: pd.DataFrame, by: str, order: str, limit: int) -> pd.DataFrame:
    """Every k-th row per group (keeping each group's last row) so the whole fits `limit` rows."""
    if len(df) <= limit:
        return df
    k = int(np.ceil(len(df) / limit))
    df = df.sort_values([by, order])
    pos = df.groupby(by).cumcount()
    last = pos == df.groupby(by)[order].transform("size") - 1
    return df[(pos % k == 0) | last]


# -- LR range test -----------------------------------------------------------------------------
def lr_finder_chart(curves: pd.DataFrame, suggestions: pd.DataFrame | None = None) -> Chart:
    """Loss vs learning rate (log x) of one or more range tests: raw loss thin and faint, the
    smoothed loss on top, the suggested LRs as labelled vertical rules, and a square where each
    sweep stopped (the loss blew past its stop factor, or the sweep ended).

    curves: run, lr, loss, smoothed. suggestions: run, name (steepest/valley/minimum), lr, loss.
    """
    if missing(curves, ["run", "lr", "smoothed"]):
        return empty_chart()
    cols = ["lr", "smoothed"] + (["loss"] if "loss" in curves else [])
    df = finite(curves, ["lr", "smoothed"])
    df = df[df["lr"] > 0].assign(run=lambda d: d["run"].astype(str))
    if df.empty:
        return empty_chart("the range test stopped before its first finite loss")
    df = _thin(df, "run", "lr", MAX_ROWS)
    dom, p = domain(df, None, "run"), pick("run")
    x = alt.X("lr:Q", scale=alt.Scale(type="log"), title="learning rate")
    y = alt.Y("smoothed:Q", scale=alt.Scale(zero=False), title="loss")
    base = alt.Chart(df).encode(x=x, color=color(dom, "run"))
    tooltip = ["run:N", tip("lr:Q", "lr", ".3g")] + [tip(f"{c}:Q", c) for c in cols[1:]]
    layers = []
    if "loss" in df:
        raw = finite(df, ["loss"])
        layers.append(
            alt.Chart(raw)
            .mark_line(strokeWidth=1)
            .encode(x=x, y=alt.Y("loss:Q", title="loss"), color=color(dom, "run"), opacity=fade(p, 0.3, 0.05))
        )
    layers.append(base.mark_line(strokeWidth=2.5).encode(y=y, opacity=fade(p), tooltip=tooltip).add_params(p))
    stops = df.sort_values("lr").groupby("run").tail(1).assign(note="sweep stopped here")
    layers.append(
        alt.Chart(stops)
        .mark_point(shape="square", filled=True, size=80)
        .encode(x=x, y=y, color=color(dom, "run"), opacity=fade(p), tooltip=[*tooltip, "note:N"])
    )
    if suggestions is not None and not missing(suggestions, ["run", "name", "lr"]):
        sug = finite(suggestions, ["lr"]).assign(run=lambda d: d["run"].astype(str))
        sug = sug[sug["lr"] > 0].assign(
            label=lambda d: [f"{n} {v:.2g}" for n, v in zip(d["name"], d["lr"], strict=True)]
        )
        for i, name in enumerate(dict.fromkeys(sug["name"])):
            mine = sug[sug["name"] == name]
            dash = SUGGESTION_DASH.get(str(name), [4, 2])
            rule_tip = ["run:N", "name:N", tip("lr:Q", "suggested lr", ".3g")]
            layers.append(
                alt.Chart(mine)
                .mark_rule(strokeDash=dash, strokeWidth=1.5)
                .encode(x=x, color=color(dom, "run"), opacity=fade(p), tooltip=rule_tip)
            )
            layers.append(
                alt.Chart(mine)
                .mark_text(align="left", dx=3, baseline="top", fontSize=11)
                .encode(
                    x=x, y=alt.value(2 + 13 * i), text="label:N", color=color(dom, "run"), opacity=fade(p)
                )
            )
    return alt.layer(*layers)


def lr_derivative_chart(curves: pd.DataFrame) -> Chart:
    """d(smoothed loss) / d(log10 lr) per run: the steepest-descent suggestion is this curve's
    minimum, marked, so the user sees why that LR was suggested and how sharp the dip is."""
    if missing(curves, ["run", "lr", "smoothed"]):
        return empty_chart()
    df = finite(curves, ["lr", "smoothed"])
    df = df[df["lr"] > 0].assign(run=lambda d: d["run"].astype(str))
    parts = []
    for run, g in df.sort_values("lr").groupby("run", sort=False):
        g = g.drop_duplicates("lr")
        if len(g) >= 2:
            slope = np.gradient(g["smoothed"].to_numpy(float), np.log10(g["lr"].to_numpy(float)))
            parts.append(pd.DataFrame({"run": run, "lr": g["lr"].to_numpy(), "slope": slope}))
    if not parts:
        return empty_chart("too few points to differentiate")
    data = _thin(finite(pd.concat(parts, ignore_index=True), ["slope"]), "run", "lr", MAX_ROWS)
    steepest = data.loc[data.groupby("run")["slope"].idxmin()].assign(note="steepest descent")
    dom, p = domain(data, None, "run"), pick("run")
    x = alt.X("lr:Q", scale=alt.Scale(type="log"), title="learning rate")
    y = alt.Y("slope:Q", title="d loss / d log10 lr")
    tooltip = ["run:N", tip("lr:Q", "lr", ".3g"), tip("slope:Q", "slope")]
    line = (
        alt.Chart(data)
        .mark_line()
        .encode(x=x, y=y, color=color(dom, "run"), opacity=fade(p), tooltip=tooltip)
        .add_params(p)
    )
    dots = (
        alt.Chart(steepest)
        .mark_point(filled=True, size=70)
        .encode(x=x, y=y, color=color(dom, "run"), tooltip=[*tooltip, "note:N"])
    )
    zero = (
        alt.Chart(pd.DataFrame({"slope": [0.0]}))
        .mark_rule(color="gray", strokeDash=[4, 3])
        .encode(y="slope:Q")
    )
    return alt.layer(line, zero, dots)


# -- 2-D optimizer sandbox ---------------------------------------------------------------------
def contour_paths(grid: pd.DataFrame, paths: pd.DataFrame | None = None, cells: int = 60) -> Chart:
    """The loss surface as a log-coloured heatmap (a contour plot without contouring) with each
    optimizer's path on top. Paths that leave the plotted window are clipped, not rescaled to,
    so a diverging optimizer cannot squash the surface into a dot.

    grid: x0, x1, loss. paths: optimizer, step, x0, x1 (loss optional).
    """
    if missing(grid, ["x0", "x1", "loss"]):
        return empty_chart()
    g = finite(grid, ["x0", "x1", "loss"])
    if g.empty:
        return empty_chart("the loss surface has no finite values")
    top = float(g["loss"].max())
    positive = g.loc[g["loss"] > 0, "loss"]
    floor = max(float(positive.min()) if len(positive) else 1e-12, abs(top) * 1e-6, 1e-12)
    g = g.assign(shown=g["loss"].clip(lower=floor))  # log colour: the minimum (loss 0) gets the floor
    has_paths = paths is not None and not missing(paths, ["optimizer", "step", "x0", "x1"])
    budget = MAX_ROWS - (min(len(paths), MAX_ROWS // 4) if has_paths else 0)
    side = max(2, min(cells, g["x0"].nunique(), g["x1"].nunique(), int(np.sqrt(budget))))
    surface = grid_cells(g, "shown", [], side).merge(
        grid_cells(g, "loss", [], side)[["x0", "x1", "loss"]], on=["x0", "x1"]
    )
    x_dom = [float(surface["x0_lo"].min()), float(surface["x0_hi"].max())]
    y_dom = [float(surface["x1_lo"].min()), float(surface["x1_hi"].max())]
    x = alt.X("x0_lo:Q", scale=alt.Scale(domain=x_dom, nice=False, zero=False), title="x0")
    y = alt.Y("x1_lo:Q", scale=alt.Scale(domain=y_dom, nice=False, zero=False), title="x1")
    heat = (
        alt.Chart(surface)
        .mark_rect()
        .encode(
            x=x,
            x2="x0_hi:Q",
            y=y,
            y2="x1_hi:Q",
            color=alt.Color(
                "shown:Q", scale=alt.Scale(type="log", scheme="greys", reverse=True), title="loss (log)"
            ),
            tooltip=[tip("x0:Q"), tip("x1:Q"), tip("loss:Q")],
        )
    )
    if not has_paths:
        return heat
    ps = finite(paths, ["step", "x0", "x1"]).assign(optimizer=lambda d: d["optimizer"].astype(str))
    ps = _thin(ps, "optimizer", "step", MAX_ROWS // 4)
    dom, p = domain(ps, None, "optimizer"), pick("optimizer")
    px = alt.X("x0:Q", scale=alt.Scale(domain=x_dom, nice=False, zero=False), title="x0")
    py = alt.Y("x1:Q", scale=alt.Scale(domain=y_dom, nice=False, zero=False), title="x1")
    tooltip = ["optimizer:N", "step:Q", tip("x0:Q"), tip("x1:Q")] + ([tip("loss:Q")] if "loss" in ps else [])
    enc = {"x": px, "y": py, "color": color(dom, "optimizer"), "opacity": fade(p), "tooltip": tooltip}
    points = alt.OverlayMarkDef(size=18, clip=True)  # one layer, so one optimizer legend
    line = (
        alt.Chart(ps)
        .mark_line(clip=True, strokeWidth=2, point=points)
        .encode(**enc, order="step:Q")
        .add_params(p)
    )
    return alt.layer(heat, line).resolve_scale(color="independent")


def stability_map(
    df: pd.DataFrame, x: str = "lr", y: str = "beta", value: str = "rate", ok: str = "converges"
) -> Chart:
    """Heavy-ball contraction rate over learning rate x momentum: blue contracts (rate < 1),
    red diverges, the white band is the edge; cells that diverge are also faded, so the
    stable region reads even without colour. Non-finite rates are drawn grey with a ✕ label."""
    if missing(df, [x, y, value]):
        return empty_chart()
    data = df.copy()
    data[value] = pd.to_numeric(data[value], errors="coerce")
    fin = np.isfinite(data[value].to_numpy(dtype=float))
    good = flags(data[ok], data.index) if ok in data else pd.Series(fin & (data[value] < 1), index=data.index)
    data["status"] = np.where(good, "converges", "diverges")
    if len(data) > MAX_ROWS:
        return empty_chart(f"{len(data)} cells is more than {MAX_ROWS}: use a coarser lr x beta grid")
    axis = alt.Axis(format=".2g", labelOverlap="greedy")
    xe, ye = (
        alt.X(f"{x}:O", sort="ascending", axis=alt.Axis(format=".2g", labelOverlap="greedy", labelAngle=-45)),
        alt.Y(f"{y}:O", sort="descending", axis=axis),
    )
    tooltip = [tip(f"{x}:Q", x, ".3g"), tip(f"{y}:Q", y, ".3g"), tip(f"{value}:Q", value), "status:N"]
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
        layers.append(alt.Chart(bad).mark_text(text=CROSS, color="gray").encode(x=xe, y=ye))
    return alt.layer(*layers)


# -- run history -------------------------------------------------------------------------------
def _normalize(values: pd.Series) -> tuple[pd.Series, str]:
    """Map one axis to 0..1 (log when a positive knob spans >= 2 decades; categories by order)."""
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all() and not pd.api.types.is_bool_dtype(values):
        log = bool((num > 0).all() and num.max() / num.min() >= 100)
        v = np.log10(num) if log else num
        span = v.max() - v.min()
        return ((v - v.min()) / span if span > 0 else v * 0 + 0.5), " (log)" if log else ""
    cats = list(dict.fromkeys(values.astype(str)))
    codes = values.astype(str).map({c: i for i, c in enumerate(cats)})
    return (codes / (len(cats) - 1) if len(cats) > 1 else codes * 0 + 0.5), ""


def parallel_coordinates(runs: pd.DataFrame, knobs: Sequence[str], metric: str = "final_val_loss") -> Chart:
    """One line per run across normalized knob axes (then the metric axis), coloured by the metric:
    which knob settings the good runs share. Each axis is min-max scaled on its own; the original
    value is in the tooltip and the axis ends are labelled. Runs without a finite metric (diverged)
    are dashed grey. Beyond the row budget the most recent runs are kept."""
    axes = [k for k in knobs if runs is not None and k in runs]
    if missing(runs, [metric]) or not axes:
        return empty_chart()
    df = runs.reset_index(drop=True)
    df = df.tail(max(1, MAX_ROWS // (len(axes) + 1))).copy()
    df["run"] = df["key"].astype(str) if "key" in df else df.index.astype(str)
    df["_metric"] = pd.to_numeric(df[metric], errors="coerce").where(lambda s: np.isfinite(s))
    axes = [*axes, metric]
    ident = [c for c in ("variant", "seed") if c in df]
    parts, ends = [], []
    for a in axes:
        values = df["_metric"] if a == metric else df[a]
        known = values.notna()  # a diverged run's line stops before the metric axis
        norm, suffix = _normalize(values[known])
        text = values[known].map(lambda v: f"{v:.4g}" if isinstance(v, float) else str(v))
        part = df.loc[known, ["run", *ident, "_metric"]].astype({c: str for c in ident})
        parts.append(
            part.rename(columns={"_metric": metric}).assign(axis=f"{a}{suffix}", norm=norm, value=text)
        )
        if known.any():
            ends.append(
                {"axis": f"{a}{suffix}", "end": "min", "norm": norm.min(), "value": text[norm.idxmin()]}
            )
            ends.append(
                {"axis": f"{a}{suffix}", "end": "max", "norm": norm.max(), "value": text[norm.idxmax()]}
            )
    long = pd.concat(parts, ignore_index=True)
    labels = list(dict.fromkeys(long["axis"]))
    x = alt.X("axis:N", sort=labels, title=None, axis=alt.Axis(labelAngle=0, orient="top", labelPadding=16))
    y = alt.Y("norm:Q", axis=None, scale=alt.Scale(domain=[0, 1]))
    hover = alt.selection_point(fields=["run"], on="pointerover", name="hover")
    extra = [f"{c}:N" for c in ident]
    tooltip = [*extra, "axis:N", "value:N", tip(f"{metric}:Q", metric)]
    ok, bad = long[long[metric].notna()], long[long[metric].isna()]
    lines = (
        alt.Chart(ok)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            detail="run:N",
            color=alt.Color(f"{metric}:Q", scale=alt.Scale(scheme="viridis", reverse=True)),
            opacity=fade(hover, 0.9, 0.15),
            tooltip=tooltip,
        )
        .add_params(hover)
    )
    layers = [alt.Chart(pd.DataFrame({"axis": labels})).mark_rule(color="lightgray").encode(x=x), lines]
    if len(bad):
        layers.append(
            alt.Chart(bad.assign(note="diverged / no metric"))
            .mark_line(strokeDash=[3, 3], color="gray", strokeWidth=1)
            .encode(x=x, y=y, detail="run:N", tooltip=[*extra, "axis:N", "value:N", "note:N"])
        )
    ends_df = pd.DataFrame(ends)
    for end, baseline, dy in (("max", "bottom", -3), ("min", "top", 3)):  # labels just outside the ends
        label = alt.Chart(ends_df[ends_df["end"] == end]).mark_text(
            fontSize=10, baseline=baseline, dy=dy, color="dimgray"
        )
        layers.append(label.encode(x=x, y=y, text="value:N"))
    return alt.layer(*layers)


def scatter(
    runs: pd.DataFrame,
    x: str,
    y: str,
    color_by: str | None = None,
    variant_order: Sequence[str] | None = None,
    log_x: bool = False,
    log_y: bool = False,
) -> Chart:
    """One dot per run, y against x, coloured by a column (default: variant, legend-pickable);
    diverged runs are crosses when they still have finite coordinates."""
    if missing(runs, [x, y]):
        return empty_chart()
    df = finite(runs, [x, y])
    if log_x:
        df = df[df[x] > 0]
    if log_y:
        df = df[df[y] > 0]
    if df.empty:
        return empty_chart(f"no runs with finite {x} and {y}")
    df = df.tail(MAX_ROWS).copy()
    df["status"] = np.where(flags(df.get("diverged"), df.index), "diverged", "ok")
    color_by = color_by or ("variant" if "variant" in df else None)
    extra = [c for c in ("variant", "seed", "key") if c in df and c != color_by]
    tooltip = [*[f"{c}:N" for c in extra], tip(f"{x}:Q", x), tip(f"{y}:Q", y), "status:N"]
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:Q", scale=alt.Scale(type="log") if log_x else alt.Scale(zero=False)),
        "y": alt.Y(f"{y}:Q", scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False)),
        "shape": alt.Shape("status:N", scale=alt.Scale(domain=["ok", "diverged"], range=["circle", "cross"])),
    }
    param = None
    if color_by and color_by in df:
        numeric = pd.api.types.is_numeric_dtype(df[color_by]) and not pd.api.types.is_bool_dtype(df[color_by])
        if numeric and color_by != "variant":
            enc["color"] = alt.Color(f"{color_by}:Q", scale=alt.Scale(scheme="viridis"))
            tooltip.append(tip(f"{color_by}:Q", color_by))
        else:
            df[color_by] = df[color_by].astype(str)
            dom = domain(df, variant_order if color_by == "variant" else None, color_by)
            param = pick(color_by)
            enc |= {"color": color(dom, color_by), "opacity": fade(param, 0.9)}
            tooltip.insert(0, f"{color_by}:N")
    chart = alt.Chart(df).mark_point(filled=True, size=70).encode(**enc, tooltip=tooltip)
    return chart.add_params(param) if param is not None else chart


def heatmap_grid(
    df: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    best_per: str | None = "row",
    lower_is_better: bool = True,
) -> Chart:
    """Mean of `value` over repeats (seeds) for every (x, y) cell, e.g. weight_decay x n_samples of
    final val loss, with the best cell per row (y), per column (x) or overall starred and outlined:
    "the best WD shifts with dataset size" is then read off the stars. Cells whose runs all
    diverged show a ✕ instead of a number."""
    if best_per not in ("row", "column", "all", None):
        raise ValueError(
            f"best_per={best_per!r} is not allowed: best_per must be 'row', 'column', 'all' or None"
        )
    if missing(df, [x, y, value]):
        return empty_chart()
    data = df[[x, y, value]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce").where(lambda s: np.isfinite(s))
    cells = data.groupby([x, y], sort=True).agg(
        mean=(value, "mean"), runs=(value, "size"), finite=(value, "count")
    )
    cells = cells.reset_index()
    if len(cells) > MAX_ROWS:
        return empty_chart(f"{len(cells)} cells is more than {MAX_ROWS}: choose coarser axes")
    cells["best"] = False
    ok = cells[cells["mean"].notna()]
    if best_per and len(ok):
        groups = {"row": [y], "column": [x], "all": []}[best_per]
        pick_best = "idxmin" if lower_is_better else "idxmax"
        winners = (
            getattr(ok.groupby(groups)["mean"], pick_best)() if groups else [getattr(ok["mean"], pick_best)()]
        )
        cells.loc[list(np.ravel(winners)), "best"] = True
    lo, hi = ok["mean"].min(), ok["mean"].max()
    t = (cells["mean"] - lo) / (hi - lo) if hi > lo else cells["mean"] * 0
    dark = t > 0.6 if lower_is_better else t < 0.4  # reversed viridis: high values are dark there
    cells["ink"] = np.where(dark, "white", "black")
    cells["label"] = [
        CROSS if pd.isna(m) else ("★ " if b else "") + f"{m:.3g}"
        for m, b in zip(cells["mean"], cells["best"], strict=True)
    ]
    base = alt.Chart(cells).encode(
        x=alt.X(f"{x}:O", sort="ascending", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:O", sort="ascending"),
        tooltip=[
            f"{x}:O",
            f"{y}:O",
            tip("mean:Q", f"mean {value}"),
            "runs:Q",
            alt.Tooltip("finite:Q", title="finite runs"),
            "best:N",
        ],
    )
    scale = alt.Scale(scheme="viridis", reverse=lower_is_better)
    rect = base.mark_rect().encode(color=alt.Color("mean:Q", scale=scale, title=value))
    outline = base.transform_filter(alt.datum.best).mark_rect(filled=False, stroke="black", strokeWidth=2.5)
    text = base.mark_text(fontSize=11).encode(text="label:N", color=alt.Color("ink:N", scale=None))
    return alt.layer(rect, outline, text).resolve_scale(color="independent")
