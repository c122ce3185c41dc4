"""Final metrics per variant and against a knob: every seed as a dot, the mean, the spread, and
(heatmap_grid) a two-knob grid with the best cell starred. Diverged seeds are counted, not averaged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from core.measures import with_gaps  # re-exported by ui.charts for callers that chart the gap
from ui.charts import base
from ui.charts.base import MAX_ROWS


def _spread(summary: pd.DataFrame, by: list[str], metric: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(alive finite runs, per-group mean/min/max/seeds + diverged count and note). Diverged runs
    are left out of the mean, as in ComparisonResult.aggregate, and counted instead."""
    df = with_gaps(summary)
    df["diverged"] = base.flags(df.get("diverged"), df.index)
    alive = base.finite(df[~df["diverged"]], [metric])
    stats = alive.groupby(by, sort=False).agg(mean=(metric, "mean"), lo=(metric, "min"), hi=(metric, "max"))
    df["collapsed"] = base.flags(df.get("collapsed"), df.index) & ~df["diverged"]
    counts = df.groupby(by, sort=False).agg(
        runs=("diverged", "size"), diverged=("diverged", "sum"), collapsed=("collapsed", "sum")
    )
    counts["seeds"] = alive.groupby(by, sort=False).size().reindex(counts.index).fillna(0).astype(int)
    stats = counts.join(stats).reset_index()
    stats["note"] = [
        "; ".join(
            part
            for part in (f"{d} of {r} seeds diverged" if d else "", f"{c} of {r} sat at chance" if c else "")
            if part
        )
        for d, c, r in zip(stats["diverged"], stats["collapsed"], stats["runs"], strict=True)
    ]
    return alive, stats


def _undefined_for_survivors(summary: pd.DataFrame, metric: str) -> bool:
    """All-NaN metric among runs that did not diverge: not measurable (regression accuracy), as
    opposed to NaN because every run diverged, which the charts say differently."""
    df = with_gaps(summary)
    survivors = df[~base.flags(df.get("diverged"), df.index)]
    return len(survivors) > 0 and base.all_nan(survivors[metric])


@base.memoized
def final_metric(
    summary: pd.DataFrame, metric: str = "final_val_loss", variant_order: Sequence[str] | None = None
) -> base.Chart:
    """Every seed's final value as a dot, the mean as a tick and the min-max as a rule, one row
    per variant: whether two variants differ by more than seed noise is visible at a glance."""
    if base.missing(with_gaps(summary) if summary is not None else None, ["variant", "seed", metric]):
        return base.empty_chart()
    alive, stats = _spread(summary, ["variant"], metric)
    if _undefined_for_survivors(summary, metric):
        return base.empty_chart(base.undefined(metric))
    if alive.empty:
        return base.empty_chart(f"every run diverged: no final {metric}")
    dom, p = base.domain(summary, variant_order), base.pick()
    # Diverged seeds have no final value: the row label says how many, so a clean-looking
    # spread is never mistaken for all seeds.
    # A collapsed seed (stuck at chance) keeps its dot but is counted with the diverged ones.
    stats["row"] = [
        f"{v} ({d + c}/{r} did not train)" if c else f"{v} ({d}/{r} diverged)" if d else v
        for v, d, c, r in stats[["variant", "diverged", "collapsed", "runs"]].itertuples(index=False)
    ]
    rows = dict(zip(stats["variant"], stats["row"], strict=True))
    alive = alive.assign(row=alive["variant"].map(rows))
    y = alt.Y("row:N", sort=[rows[v] for v in dom if v in rows], title=None)
    scale = alt.Scale(zero=False)
    tooltip = [
        "variant:N",
        base.tip("mean:Q", f"mean {metric}"),
        *base.spread_tips(),
        "note:N",
    ]
    dots = (
        alt.Chart(alive)
        .mark_circle(size=70)
        .encode(
            x=alt.X(f"{metric}:Q", scale=scale, title=metric),
            y=y,
            color=base.color(dom),
            opacity=base.fade(p, 0.9),
            tooltip=["variant:N", "seed:Q", "key:N", base.tip(f"{metric}:Q", metric)],
        )
        .add_params(p)
    )
    ranged = alt.Chart(stats).encode(y=y, color=base.color(dom), opacity=base.fade(p), tooltip=tooltip)
    rule = ranged.mark_rule(strokeWidth=2).encode(x=alt.X("lo:Q", scale=scale, title=metric), x2="hi:Q")
    tick = ranged.mark_tick(thickness=3, size=22).encode(x=alt.X("mean:Q", scale=scale, title=metric))
    layers = [rule, dots, tick]
    lost = stats[stats["seeds"] == 0].assign(note=lambda d: base.CROSS + " every seed diverged")
    if len(lost):  # a row with no dots at all: say so inside the plot
        layers.append(
            alt.Chart(lost)
            .mark_text(align="left", x=4, color="firebrick")
            .encode(y=y, text="note:N", tooltip=tooltip)
        )
    return alt.layer(*layers)


@base.memoized
def metric_vs_knob(
    summary: pd.DataFrame,
    knob: str,
    metric: str = "final_val_loss",
    log_x: bool = False,
    log_y: bool = False,
    color_by: str | None = None,
    variant_order: Sequence[str] | None = None,
) -> base.Chart:
    """Mean (line + points) and seed spread (rule) of a metric against a varied knob, e.g. the
    generalization gap vs learning_rate; a ✕ marks knob values where a seed diverged (pinned to the
    top when no seed survived). color_by: the second varied knob, one line per value."""
    if summary is None or base.missing(with_gaps(summary), [knob, metric, "seed"]):
        return base.empty_chart()
    by = [knob] + ([color_by] if color_by and color_by in summary else [])
    _, stats = _spread(summary, by, metric)
    if _undefined_for_survivors(summary, metric):
        return base.empty_chart(base.undefined(metric))
    numeric = pd.api.types.is_numeric_dtype(summary[knob]) and not pd.api.types.is_bool_dtype(summary[knob])
    log_x = log_x and numeric and bool((pd.to_numeric(summary[knob]) > 0).all())
    order = [str(v) for v in dict.fromkeys(summary[knob])]
    if not numeric:
        stats[knob] = stats[knob].astype(str)
    x = (
        alt.X(f"{knob}:Q", scale=alt.Scale(type="log" if log_x else "linear", zero=False))
        if numeric
        else alt.X(f"{knob}:N", sort=order)
    )
    enc: dict[str, Any] = {"x": x}
    p = None
    if len(by) > 1:
        dom = [str(v) for v in dict.fromkeys(summary[color_by])]
        stats[color_by] = stats[color_by].astype(str)
        p = base.pick(color_by)
        enc |= {"color": base.color(dom, color_by), "opacity": base.fade(p)}
    tooltip = [f"{c}:N" for c in by] + [
        base.tip("mean:Q", f"mean {metric}"),
        *base.spread_tips(),
        "note:N",
    ]
    ys = base.y_scale(log_y)
    encoded = alt.Chart(stats).encode(**enc, tooltip=tooltip)
    rule = encoded.mark_rule(strokeWidth=2, color="steelblue").encode(
        y=alt.Y("lo:Q", scale=ys, axis=base.y_axis(log_y), title=metric), y2="hi:Q"
    )
    line = encoded.mark_line(point=True).encode(
        y=alt.Y("mean:Q", scale=ys, axis=base.y_axis(log_y), title=metric)
    )
    if p is not None:
        line = line.add_params(p)
    hit = stats[stats["diverged"] > 0]
    style = {"text": base.CROSS, "size": 18, "fontWeight": "bold", "color": "firebrick"}
    layers = [rule, line]
    if hit["mean"].notna().any():  # some seeds survived: ✕ just above their mean
        layers.append(
            alt.Chart(hit[hit["mean"].notna()])
            .mark_text(**style, dy=-14)
            .encode(x=x, y=alt.Y("mean:Q", scale=ys), tooltip=tooltip)
        )
    if hit["mean"].isna().any():  # no seed survived: ✕ pinned to the top edge
        layers.append(
            alt.Chart(hit[hit["mean"].isna()])
            .mark_text(**style, baseline="top")
            .encode(x=x, y=alt.value(2), tooltip=tooltip)
        )
    return alt.layer(*layers)


@base.memoized
def heatmap_grid(
    df: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    best_per: str | None = "row",
    lower_is_better: bool = True,
) -> base.Chart:
    """Mean of `value` over repeats (seeds) for every (x, y) cell, e.g. weight_decay x n_samples of
    final val loss, with the best cell per row (y), per column (x) or overall starred and outlined:
    "the best WD shifts with dataset size" is then read off the stars. Cells whose runs all
    diverged show a ✕ instead of a number."""
    if best_per not in ("row", "column", "all", None):
        raise ValueError(
            f"best_per={best_per!r} is not allowed: best_per must be 'row', 'column', 'all' or None"
        )
    if base.missing(df, [x, y, value]):
        return base.empty_chart()
    data = df[[x, y, value]].copy()
    data[value] = pd.to_numeric(data[value], errors="coerce").where(lambda s: np.isfinite(s))
    cells = data.groupby([x, y], sort=True).agg(
        mean=(value, "mean"), runs=(value, "size"), finite=(value, "count")
    )
    cells = cells.reset_index()
    if len(cells) > MAX_ROWS:
        return base.empty_chart(f"{len(cells)} cells is more than {MAX_ROWS}: choose coarser axes")
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
        base.CROSS if pd.isna(m) else ("★ " if b else "") + f"{m:.3g}"
        for m, b in zip(cells["mean"], cells["best"], strict=True)
    ]
    encoded = alt.Chart(cells).encode(
        x=alt.X(f"{x}:O", sort="ascending", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{y}:O", sort="ascending"),
        tooltip=[
            f"{x}:O",
            f"{y}:O",
            base.tip("mean:Q", f"mean {value}"),
            "runs:Q",
            alt.Tooltip("finite:Q", title="finite runs"),
            "best:N",
        ],
    )
    scale = alt.Scale(scheme="viridis", reverse=lower_is_better)
    rect = encoded.mark_rect().encode(color=alt.Color("mean:Q", scale=scale, title=value))
    outline = encoded.transform_filter(alt.datum.best).mark_rect(
        filled=False, stroke="black", strokeWidth=2.5
    )
    text = encoded.mark_text(fontSize=11).encode(text="label:N", color=alt.Color("ink:N", scale=None))
    return alt.layer(rect, outline, text).resolve_scale(color="independent")


@base.memoized
def edge_chart(summary: pd.DataFrame, edges: pd.DataFrame, arm: str = "batch_norm") -> base.Chart:
    """Final training loss against the learning rate, one line per arm (✕ where seeds diverged),
    with a dashed rule at each arm's largest stable rate: the divergence edge sits just right of it."""
    encoded = metric_vs_knob(
        summary, "learning_rate", "final_train_loss", log_x=True, log_y=True, color_by=arm
    )
    marks = edges.dropna(subset=["largest_stable_lr"]) if len(edges) else edges
    if summary is None or summary.empty or marks.empty:
        return encoded
    dom = [str(v) for v in dict.fromkeys(summary[arm])]
    data = marks.assign(**{arm: marks[arm].astype(str)})
    data["note"] = [
        f"largest stable LR ({arm}={a}): {lr:g}" for a, lr in zip(data[arm], data["largest_stable_lr"])
    ]
    rules = (
        alt.Chart(data)
        .mark_rule(strokeDash=[6, 4], strokeWidth=2)
        .encode(
            x=alt.X("largest_stable_lr:Q", scale=alt.Scale(type="log"), title="learning_rate"),
            color=alt.Color(f"{arm}:N", scale=alt.Scale(domain=dom), title=arm),
            tooltip=["note:N"],
        )
    )
    return alt.layer(encoded, rules)
