"""Altair charts of training results, built from core.results' long-form frames. No Streamlit.

Why pure Altair + pandas: a chart is then a function of a DataFrame, so tests build a frame by
hand and assert on the Vega-Lite dict, and the same charts work in a notebook or a saved HTML.
Conventions every builder here (and in ui.charts_network, ui.charts_extra) follows:
- colour = variant over a fixed domain (`variant_order`), so a variant keeps its colour on every
  chart of a page; a legend click highlights it (selection parameter "pick");
- seeds are aggregated in pandas (mean line + min-max or ±std band) and steps are binned, so no
  chart embeds more than MAX_ROWS rows per dataset (Altair refuses more than 5,000 in to_dict);
- non-finite values (divergence) are dropped before plotting, and a diverged run gets a ✕ where
  it stopped instead of a line that silently ends;
- an empty frame gives a "no data yet" text chart, and an all-NaN metric (accuracy on a
  regression task) says so in words: never a fake line.
Widths are left to the container (Streamlit stretches single views); only faceted charts get a
fixed per-panel width, because Vega-Lite cannot stretch facets to a container.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

MAX_ROWS = 4800  # per embedded dataset; under Altair's 5,000-row guard with a margin
FACET_WIDTH = 170  # px per facet panel (facets cannot use width="container")
PICK = "pick"
CROSS = "✕"
Chart = alt.Chart | alt.LayerChart | alt.FacetChart | alt.VConcatChart | alt.HConcatChart


# -- shared helpers (ui.charts_network and ui.charts_extra use them too) ----------------------
def empty_chart(text: str = "no data yet") -> alt.Chart:
    """A chart that says why there is nothing to draw, so a page never shows a blank or a traceback."""
    return (
        alt.Chart(pd.DataFrame({"message": [text]}))
        .mark_text(size=14, color="gray")
        .encode(text="message:N")
        .properties(height=60)
    )


def missing(df: pd.DataFrame | None, columns: Iterable[str]) -> bool:
    """True when there is nothing to chart: no frame, no rows or a required column absent."""
    return df is None or df.empty or any(c not in df.columns for c in columns)


def undefined(metric: str) -> str:
    """Why a metric column is all NaN: accuracy only exists for classification."""
    if "accuracy" in metric:
        return f"{metric} is not defined for this task (regression: no accuracy)"
    return f"{metric} was not recorded for these runs"


def finite(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Rows whose given columns are all finite numbers (NaN/inf from divergence dropped)."""
    out = df.copy()
    for c in columns:
        out[c] = pd.to_numeric(out[c], errors="coerce")
    return out[np.isfinite(out[list(columns)].to_numpy(dtype=float)).all(axis=1)]


def all_nan(values: pd.Series) -> bool:
    return not np.isfinite(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)).any()


def flags(values: pd.Series | None, index: pd.Index) -> pd.Series:
    """A clean bool Series from a column that may hold None/NaN/objects (the diverged flag)."""
    if values is None:
        return pd.Series(False, index=index)
    return values.map(lambda v: bool(v) if pd.notna(v) else False).astype(bool)


def domain(df: pd.DataFrame, order: Sequence[str] | None, field: str = "variant") -> list[str]:
    """Colour domain: the caller's order first (stable across charts), then any unlisted labels."""
    given = [str(v) for v in (order or [])]
    seen = [str(v) for v in pd.unique(df[field].to_numpy())] if field in df else []  # order of appearance
    return given + [v for v in seen if v not in given]


def pick(field: str = "variant") -> alt.Parameter:
    """Legend-bound point selection: clicking a legend entry highlights that variant."""
    return alt.selection_point(fields=[field], bind="legend", name=PICK)


def color(dom: Sequence[str], field: str = "variant") -> alt.Color:
    """Nominal colour over a fixed domain; legend symbols stay opaque even when the first layer is
    a faint band (the legend takes its symbols from there)."""
    legend = alt.Legend(symbolOpacity=1, symbolStrokeWidth=3)
    return alt.Color(
        f"{field}:N", scale=alt.Scale(domain=list(dom)), sort=list(dom), title=field, legend=legend
    )


def fade(param: alt.Parameter, on: float = 1.0, off: float = 0.15) -> Any:
    """Opacity that dims everything but the picked variant (all stay lit while nothing is picked)."""
    return alt.when(param).then(alt.value(on)).otherwise(alt.value(off))


def bin_column(df: pd.DataFrame, column: str, max_bins: int) -> pd.DataFrame:
    """Snap an integer-like column to at most max_bins equal-width bins (start in column, end in
    column_end), so step-level frames fit the row budget while staying aligned across variants."""
    values = np.unique(df[column].to_numpy(dtype=float))
    lo, hi = float(values[0]), float(values[-1])
    spacing = float(np.diff(values).min()) if len(values) > 1 else 1.0  # steps recorded every k-th
    width = max(spacing, math.ceil((hi - lo + spacing) / max(1, max_bins)))
    out = df.copy()
    out[column] = lo + ((out[column] - lo) // width) * width
    out[f"{column}_end"] = out[column] + width
    return out


def x_axis(x: str) -> alt.Axis:
    """Whole-number ticks for epoch/step axes (no "epoch 2.5")."""
    return alt.Axis(format="d", tickMinStep=1) if x in ("epoch", "step") else alt.Axis()


def tip(field: str, title: str | None = None, fmt: str = ".4g") -> alt.Tooltip:
    return alt.Tooltip(field, title=title or field.split(":")[0], format=fmt)


def _y_scale(log: bool) -> alt.Scale:
    return alt.Scale(type="log") if log else alt.Scale(zero=False)


def seed_stats(df: pd.DataFrame, by: list[str], value: str, band: str) -> pd.DataFrame:
    """Mean over seeds plus the band edges: min-max, or mean ± std. For positive data a std band
    that would reach <= 0 stops at the seed minimum instead, which keeps log axes drawable."""
    out = (
        df.groupby(by, sort=False)
        .agg(
            mean=(value, "mean"),
            lo=(value, "min"),
            hi=(value, "max"),
            std=(value, "std"),
            seeds=("seed", "nunique"),
        )
        .reset_index()
    )
    if band == "std":
        std = out["std"].fillna(0.0)
        low = out["mean"] - std
        out["lo"] = low.where(low > 0, out["lo"]) if (out["lo"] > 0).all() else low
        out["hi"] = out["mean"] + std
    return out.drop(columns="std")


def _elapsed(df: pd.DataFrame) -> pd.Series:
    """Seconds since the start of training per row. The trainer records elapsed time already;
    a run whose seconds do not strictly increase holds per-epoch durations: those are summed."""
    s = pd.to_numeric(df["seconds"], errors="coerce")
    monotonic = (
        s.groupby(df["key"]).transform(lambda v: v.is_monotonic_increasing and v.is_unique).astype(bool)
    )
    return s.where(monotonic, s.groupby(df["key"]).cumsum())


def _diverged_runs(frame: pd.DataFrame, metric: str, summary: pd.DataFrame | None) -> pd.DataFrame:
    """key, variant, seed, step, epoch, note ("diverged at step N") of every diverged run: those
    the summary flags or, without a summary, those whose metric turned NaN/inf in the frame."""
    cols = ["key", "variant", "seed", "step", "epoch", "note"]
    if (
        summary is not None
        and not summary.empty
        and {"key", "variant", "seed", "diverged"} <= set(summary.columns)
    ):
        runs = summary[flags(summary["diverged"], summary.index)]
        step = pd.to_numeric(runs.get("diverged_step", pd.Series(np.nan, runs.index)), errors="coerce")
        epoch = pd.to_numeric(runs.get("diverged_epoch", pd.Series(np.nan, runs.index)), errors="coerce")
        step, epoch = step.where(step >= 0), epoch.where(epoch >= 0)  # the trainer writes -1 for "never"
        note = [
            f"diverged at step {int(s)}"
            if pd.notna(s)
            else f"diverged in epoch {int(e)}"
            if pd.notna(e)
            else "diverged"
            for s, e in zip(step, epoch, strict=True)
        ]
        out = runs[["key", "variant", "seed"]].assign(step=step.to_numpy(), epoch=epoch.to_numpy(), note=note)
        return out.astype({"key": str, "variant": str})[cols]
    values = pd.to_numeric(frame[metric], errors="coerce").to_numpy(dtype=float)
    bad = frame[~np.isfinite(values)].drop_duplicates("key")
    out = bad[["key", "variant", "seed"]].assign(
        step=np.nan, epoch=np.nan, note=f"diverged ({metric} not finite)"
    )
    return out.astype({"key": str, "variant": str})[cols]


def _diverged_marks(
    raw: pd.DataFrame, clean: pd.DataFrame, metric: str, x: str, summary: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per diverged run at its last finite point. y is NaN (drawn at the top edge) when the
    run has no finite point; x then comes from its last row, else from the summary's diverged
    step/epoch: a run that blew up in its first epoch has no rows at all but still gets its ✕."""
    rows = []
    for run in _diverged_runs(raw, metric, summary).itertuples(index=False):
        mine, everything = clean[clean["key"] == run.key], raw[raw["key"] == run.key]
        if len(mine) or len(everything):
            last = (mine if len(mine) else everything).sort_values(x).iloc[-1]
            at, y = float(last[x]), float(last[metric]) if len(mine) else np.nan
        else:
            at, y = {"step": run.step, "epoch": run.epoch}.get(x, np.nan), np.nan
        if pd.notna(at):
            rows.append(
                {"key": run.key, "variant": run.variant, "seed": run.seed, "x": at, "y": y, "note": run.note}
            )
    return pd.DataFrame(rows, columns=["key", "variant", "seed", "x", "y", "note"])


def _mark_layers(
    marks: pd.DataFrame, x_title: str, y_title: str, log_y: bool, dom: list[str], param: Any
) -> list:
    """✕ text marks for diverged runs: at their last point, or pinned to the top when unknown."""
    layers = []
    tooltip = ["variant:N", "seed:Q", "note:N", tip("x:Q", x_title)]
    on, off = marks[marks["y"].notna()], marks[marks["y"].isna()]
    style = {"text": CROSS, "size": 18, "fontWeight": "bold"}
    if len(on):
        layers.append(
            alt.Chart(on)
            .mark_text(**style)
            .encode(
                x=alt.X("x:Q", title=x_title),
                y=alt.Y("y:Q", scale=_y_scale(log_y), title=y_title),
                color=color(dom),
                opacity=fade(param),
                tooltip=[*tooltip, tip("y:Q", y_title)],
            )
        )
    if len(off):
        layers.append(
            alt.Chart(off)
            .mark_text(**style, baseline="top")
            .encode(
                x=alt.X("x:Q", title=x_title),
                y=alt.value(2),
                color=color(dom),
                opacity=fade(param),
                tooltip=tooltip,
            )
        )
    return layers


# -- training curves ---------------------------------------------------------------------------
def curves(
    epochs: pd.DataFrame,
    metric: str = "val_loss",
    x: str = "epoch",
    summary: pd.DataFrame | None = None,
    variant_order: Sequence[str] | None = None,
    log_y: bool = False,
    band: str = "minmax",
) -> Chart:
    """Mean of `metric` per variant over seeds, with the seed spread as a band underneath.

    x: "epoch" or "seconds" (epochs frame) or "step" (steps frame, metric "loss"). With seconds,
    seeds are averaged per epoch (their clocks differ). Diverged runs end where they stopped and
    carry a ✕ with "diverged at step N" in the tooltip.
    """
    if band not in ("minmax", "std"):
        raise ValueError(f"band={band!r} is not allowed: band must be 'minmax' or 'std'")
    if missing(epochs, ["key", "variant", "seed", metric, x]):
        return empty_chart()
    if all_nan(epochs[metric]):
        return empty_chart(undefined(metric))
    raw = epochs.sort_values(["key", "epoch" if "epoch" in epochs else x])
    if x == "seconds":
        raw = raw.assign(seconds=_elapsed(raw))
    group = "epoch" if x == "seconds" and "epoch" in raw else x
    df = finite(raw, [metric, x])
    if log_y:
        df = df[df[metric] > 0]
    if df.empty:
        return empty_chart(f"no finite {metric} values: every run diverged")
    dom = domain(raw, variant_order)
    if df[group].nunique() * max(1, df["variant"].nunique()) > MAX_ROWS // 2:
        df = bin_column(df, group, MAX_ROWS // 2 // max(1, df["variant"].nunique()))
    stats = seed_stats(df, ["variant", group], metric, band)
    xs = df.groupby(["variant", group], sort=False)[x].mean().rename("x").reset_index()  # seconds: mean clock
    stats = stats.merge(xs, on=["variant", group])
    p = pick()
    base = alt.Chart(stats).encode(x=alt.X("x:Q", title=x, axis=x_axis(x)), color=color(dom))
    tooltip = [
        "variant:N",
        tip("x:Q", x),
        tip("mean:Q", f"mean {metric}"),
        tip("lo:Q", "band low"),
        tip("hi:Q", "band high"),
        "seeds:Q",
    ]
    area = base.mark_area(interpolate="linear").encode(
        y=alt.Y("lo:Q", scale=_y_scale(log_y), title=metric),
        y2="hi:Q",
        opacity=fade(p, 0.22, 0.04),
        tooltip=tooltip,
    )
    line = (
        base.mark_line()
        .encode(y=alt.Y("mean:Q", scale=_y_scale(log_y), title=metric), opacity=fade(p), tooltip=tooltip)
        .add_params(p)
    )
    marks = _diverged_marks(raw, df, metric, x, summary)
    return alt.layer(area, line, *_mark_layers(marks, x, metric, log_y, dom, p))


def train_val_curves(
    epochs: pd.DataFrame,
    metric: str = "loss",
    summary: pd.DataFrame | None = None,
    variant_order: Sequence[str] | None = None,
    log_y: bool = False,
) -> Chart:
    """Train (solid) and val (dashed) mean curves per variant: the gap between them is the
    generalization gap, so both splits share one axis. metric: "loss" or "accuracy"."""
    cols = {f"train_{metric}": "train", f"val_{metric}": "val"}
    if missing(epochs, ["key", "variant", "seed", "epoch"]) or not set(cols) & set(epochs.columns):
        return empty_chart()
    present = [c for c in cols if c in epochs and not all_nan(epochs[c])]
    if not present:
        return empty_chart(undefined(f"val_{metric}"))
    raw = epochs.sort_values(["key", "epoch"])
    long = raw.melt(
        id_vars=["key", "variant", "seed", "epoch"], value_vars=present, var_name="split", value_name=metric
    )
    long["split"] = long["split"].map(cols)
    df = finite(long, [metric, "epoch"])
    if log_y:
        df = df[df[metric] > 0]
    if df.empty:
        return empty_chart(f"no finite {metric} values: every run diverged")
    n = max(1, df["variant"].nunique()) * 2
    if df["epoch"].nunique() * n > MAX_ROWS // 2:
        df = bin_column(df, "epoch", MAX_ROWS // 2 // n)
    stats = seed_stats(df, ["variant", "split", "epoch"], metric, "minmax").rename(columns={"epoch": "x"})
    dom, p = domain(raw, variant_order), pick()
    line = (
        alt.Chart(stats)
        .mark_line()
        .encode(
            x=alt.X("x:Q", title="epoch", axis=x_axis("epoch")),
            y=alt.Y("mean:Q", scale=_y_scale(log_y), title=metric),
            color=color(dom),
            strokeDash=alt.StrokeDash("split:N", sort=["train", "val"], title="split"),
            detail="split:N",
            opacity=fade(p),
            tooltip=[
                "variant:N",
                "split:N",
                tip("x:Q", "epoch"),
                tip("mean:Q", f"mean {metric}"),
                tip("lo:Q", "min over seeds"),
                tip("hi:Q", "max over seeds"),
                "seeds:Q",
            ],
        )
        .add_params(p)
    )
    val = f"val_{metric}" if f"val_{metric}" in present else present[0]
    marks = _diverged_marks(raw, finite(raw, [val, "epoch"]), val, "epoch", summary)
    return alt.layer(line, *_mark_layers(marks, "epoch", metric, log_y, dom, p))


def schedule_chart(
    steps: pd.DataFrame, variant_order: Sequence[str] | None = None, log_y: bool = True, height: int = 110
) -> Chart:
    """The learning rate (and momentum, when it differs anywhere) per step, short enough to sit
    under a loss chart and explain its bumps. Log y by default: LR sweeps span decades."""
    if missing(steps, ["variant", "seed", "step", "lr"]):
        return empty_chart()
    df = finite(steps, ["step", "lr"])
    if log_y:
        df = df[df["lr"] > 0]
    if df.empty:
        return empty_chart("no learning-rate values recorded")
    n = max(1, df["variant"].nunique())
    if df["step"].nunique() * n > MAX_ROWS:
        df = bin_column(df, "step", MAX_ROWS // n)
    dom, p = domain(steps, variant_order), pick()
    series = ["lr"]
    if "momentum" in df and finite(df, ["momentum"])["momentum"].nunique() > 1:
        series.append("momentum")
    agg = df.groupby(["variant", "step"], sort=False)[series].mean().reset_index()
    charts = []
    for name in series:
        data = finite(agg, [name])
        chart = (
            alt.Chart(data)
            .mark_line(interpolate="step-after")
            .encode(
                x=alt.X("step:Q", title="step", axis=x_axis("step")),
                y=alt.Y(f"{name}:Q", scale=_y_scale(log_y and name == "lr"), title=name),
                color=color(dom),
                opacity=fade(p),
                tooltip=["variant:N", "step:Q", tip(f"{name}:Q", name)],
            )
            .properties(height=height)
        )
        charts.append(chart.add_params(p) if not charts else chart)
    return charts[0] if len(charts) == 1 else alt.vconcat(*charts)


def _snap(values: pd.Series, cells: int) -> tuple[pd.Series, float, float]:
    """Grid index of each value on `cells` equal cells over its range, plus (origin, cell width):
    aligns members whose grids differ and coarsens grids too fine for the row budget."""
    lo, hi = float(values.min()), float(values.max())
    width = (hi - lo) / cells if hi > lo else 1.0
    return np.clip(((values - lo) / width).astype(int), 0, cells - 1), lo, width


def grid_cells(df: pd.DataFrame, value: str, by: list[str], cells: int) -> pd.DataFrame:
    """Mean of value per (by, x0 cell, x1 cell) with cell edges x0_lo..x0_hi, x1_lo..x1_hi."""
    i0, lo0, w0 = _snap(df["x0"], cells)
    i1, lo1, w1 = _snap(df["x1"], cells)
    agg = df.assign(i0=i0, i1=i1).groupby([*by, "i0", "i1"], sort=False)[value].mean().reset_index()
    agg["x0_lo"], agg["x1_lo"] = lo0 + agg["i0"] * w0, lo1 + agg["i1"] * w1
    agg["x0_hi"], agg["x1_hi"] = agg["x0_lo"] + w0, agg["x1_lo"] + w1
    agg["x0"], agg["x1"] = agg["x0_lo"] + w0 / 2, agg["x1_lo"] + w1 / 2
    return agg.drop(columns=["i0", "i1"])


# -- final metrics -----------------------------------------------------------------------------
def with_gaps(summary: pd.DataFrame) -> pd.DataFrame:
    """Add generalization_gap (val - train loss) and accuracy_gap (train - val accuracy), the
    measurements behind the "X regularizes" claims, so every chart can plot them like a column."""
    out = summary.copy()
    if {"final_val_loss", "final_train_loss"} <= set(out.columns):
        out["generalization_gap"] = pd.to_numeric(out["final_val_loss"], errors="coerce") - pd.to_numeric(
            out["final_train_loss"], errors="coerce"
        )
    if {"final_train_accuracy", "final_val_accuracy"} <= set(out.columns):
        out["accuracy_gap"] = pd.to_numeric(out["final_train_accuracy"], errors="coerce") - pd.to_numeric(
            out["final_val_accuracy"], errors="coerce"
        )
    return out


def _spread(summary: pd.DataFrame, by: list[str], metric: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(alive finite runs, per-group mean/min/max/seeds + diverged count and note). Diverged runs
    are left out of the mean, as in ComparisonResult.aggregate, and counted instead."""
    df = with_gaps(summary)
    df["diverged"] = flags(df.get("diverged"), df.index)
    alive = finite(df[~df["diverged"]], [metric])
    stats = alive.groupby(by, sort=False).agg(mean=(metric, "mean"), lo=(metric, "min"), hi=(metric, "max"))
    counts = df.groupby(by, sort=False).agg(runs=("diverged", "size"), diverged=("diverged", "sum"))
    counts["seeds"] = alive.groupby(by, sort=False).size().reindex(counts.index).fillna(0).astype(int)
    stats = counts.join(stats).reset_index()
    stats["note"] = [
        f"{d} of {r} seeds diverged" if d else ""
        for d, r in zip(stats["diverged"], stats["runs"], strict=True)
    ]
    return alive, stats


def _undefined_for_survivors(summary: pd.DataFrame, metric: str) -> bool:
    """All-NaN metric among runs that did not diverge: not measurable (regression accuracy), as
    opposed to NaN because every run diverged, which the charts say differently."""
    df = with_gaps(summary)
    survivors = df[~flags(df.get("diverged"), df.index)]
    return len(survivors) > 0 and all_nan(survivors[metric])


def final_metric(
    summary: pd.DataFrame, metric: str = "final_val_loss", variant_order: Sequence[str] | None = None
) -> Chart:
    """Every seed's final value as a dot, the mean as a tick and the min-max as a rule, one row
    per variant: whether two variants differ by more than seed noise is visible at a glance."""
    if missing(with_gaps(summary) if summary is not None else None, ["variant", "seed", metric]):
        return empty_chart()
    alive, stats = _spread(summary, ["variant"], metric)
    if _undefined_for_survivors(summary, metric):
        return empty_chart(undefined(metric))
    if alive.empty:
        return empty_chart(f"every run diverged: no final {metric}")
    dom, p = domain(summary, variant_order), pick()
    # Diverged seeds have no final value: the row label says how many, so a clean-looking
    # spread is never mistaken for all seeds.
    stats["row"] = [
        f"{v} ({d}/{r} diverged)" if d else v
        for v, d, r in stats[["variant", "diverged", "runs"]].itertuples(index=False)
    ]
    rows = dict(zip(stats["variant"], stats["row"], strict=True))
    alive = alive.assign(row=alive["variant"].map(rows))
    y = alt.Y("row:N", sort=[rows[v] for v in dom if v in rows], title=None)
    scale = alt.Scale(zero=False)
    tooltip = [
        "variant:N",
        tip("mean:Q", f"mean {metric}"),
        tip("lo:Q", "min"),
        tip("hi:Q", "max"),
        "seeds:Q",
        "note:N",
    ]
    dots = (
        alt.Chart(alive)
        .mark_circle(size=70)
        .encode(
            x=alt.X(f"{metric}:Q", scale=scale, title=metric),
            y=y,
            color=color(dom),
            opacity=fade(p, 0.9),
            tooltip=["variant:N", "seed:Q", "key:N", tip(f"{metric}:Q", metric)],
        )
        .add_params(p)
    )
    ranged = alt.Chart(stats).encode(y=y, color=color(dom), opacity=fade(p), tooltip=tooltip)
    rule = ranged.mark_rule(strokeWidth=2).encode(x=alt.X("lo:Q", scale=scale, title=metric), x2="hi:Q")
    tick = ranged.mark_tick(thickness=3, size=22).encode(x=alt.X("mean:Q", scale=scale, title=metric))
    layers = [rule, dots, tick]
    lost = stats[stats["seeds"] == 0].assign(note=lambda d: CROSS + " every seed diverged")
    if len(lost):  # a row with no dots at all: say so inside the plot
        layers.append(
            alt.Chart(lost)
            .mark_text(align="left", x=4, color="firebrick")
            .encode(y=y, text="note:N", tooltip=tooltip)
        )
    return alt.layer(*layers)


def metric_vs_knob(
    summary: pd.DataFrame,
    knob: str,
    metric: str = "final_val_loss",
    log_x: bool = False,
    log_y: bool = False,
    color_by: str | None = None,
    variant_order: Sequence[str] | None = None,
) -> Chart:
    """Mean (line + points) and seed spread (rule) of a metric against a varied knob, e.g. the
    generalization gap vs learning_rate; a ✕ marks knob values where a seed diverged (pinned to the
    top when no seed survived). color_by: the second varied knob, one line per value."""
    if summary is None or missing(with_gaps(summary), [knob, metric, "seed"]):
        return empty_chart()
    by = [knob] + ([color_by] if color_by and color_by in summary else [])
    _, stats = _spread(summary, by, metric)
    if _undefined_for_survivors(summary, metric):
        return empty_chart(undefined(metric))
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
        p = pick(color_by)
        enc |= {"color": color(dom, color_by), "opacity": fade(p)}
    tooltip = [f"{c}:N" for c in by] + [
        tip("mean:Q", f"mean {metric}"),
        tip("lo:Q", "min"),
        tip("hi:Q", "max"),
        "seeds:Q",
        "note:N",
    ]
    ys = _y_scale(log_y)
    base = alt.Chart(stats).encode(**enc, tooltip=tooltip)
    rule = base.mark_rule(strokeWidth=2, color="steelblue").encode(
        y=alt.Y("lo:Q", scale=ys, title=metric), y2="hi:Q"
    )
    line = base.mark_line(point=True).encode(y=alt.Y("mean:Q", scale=ys, title=metric))
    if p is not None:
        line = line.add_params(p)
    hit = stats[stats["diverged"] > 0]
    style = {"text": CROSS, "size": 18, "fontWeight": "bold", "color": "firebrick"}
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


# The network-internals charts live in ui.charts_network and the LR finder, sandbox and history
# charts in ui.charts_extra (each module readable in one sitting); these lazy re-exports keep
# `from ui.charts import layer_heatmap` working for pages that want one import line.
_ELSEWHERE = {
    "ui.charts_network": (
        "layer_heatmap",
        "layer_ratio",
        "weight_histograms",
        "sparsity_bars",
        "decision_boundary",
        "gradient_histogram",
    ),
    "ui.charts_extra": (
        "lr_finder_chart",
        "lr_derivative_chart",
        "contour_paths",
        "stability_map",
        "parallel_coordinates",
        "scatter",
        "heatmap_grid",
    ),
}


def __getattr__(name: str) -> Any:
    """Lazy re-export (PEP 562): those modules import their helpers from here, so an eager
    import at module level would be circular."""
    for module, names in _ELSEWHERE.items():
        if name in names:
            return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
