"""Charts of the run history: parallel coordinates over knobs and a metric, and a knob-vs-metric
scatter. Exploding runs are common there, so both offer log scales and mark clipped runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import base

# A run whose metric is more than BLOWUP_FACTOR x the median of all runs blew up (val losses of
# 400-900 among runs near 0.3): drawn at that cap, marked, its true value in the tooltip, so the
# other runs are not squashed to a line at the bottom.
BLOWUP_FACTOR = 10.0
CLIPPED = "blew up (clipped)"


def blowup_cap(values: pd.Series) -> float | None:
    """The clipping cap for a metric (BLOWUP_FACTOR x the median of its positive finite values),
    or None when no value exceeds it (nothing to clip)."""
    v = pd.to_numeric(values, errors="coerce")
    v = v[np.isfinite(v) & (v > 0)]
    if v.empty:
        return None
    cap = BLOWUP_FACTOR * float(v.median())
    return cap if bool((v > cap).any()) else None


def _text(value: Any) -> str:
    """An axis-end label: 4 significant digits for any float (numpy's too), the value otherwise."""
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)


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


def _metric_colour(values: pd.Series, metric: str) -> alt.Color:
    """Viridis over the metric, so good runs stand out from the rest even when some blew up:
    clamped at the blow-up cap (those runs share the far colour), else on a log scale when the
    metric spans two decades or more."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    cap = blowup_cap(v)
    if cap is not None:
        scale = alt.Scale(scheme="viridis", reverse=True, domain=[float(v.min()), cap], clamp=True)
        return alt.Color(f"{metric}:Q", scale=scale, title=f"{metric} (≥ {cap:.3g}: blew up)")
    if len(v) and bool((v > 0).all()) and v.max() / v.min() >= 100:
        scale = alt.Scale(scheme="viridis", reverse=True, type="log")
        return alt.Color(f"{metric}:Q", scale=scale, title=f"{metric} (log)")
    return alt.Color(f"{metric}:Q", scale=alt.Scale(scheme="viridis", reverse=True))


@base.memoized
def parallel_coordinates(
    runs: pd.DataFrame, knobs: Sequence[str], metric: str = "final_val_loss"
) -> base.Chart:
    """One line per run across normalized knob axes (then the metric axis), coloured by the metric:
    which knob settings the good runs share. Each axis is min-max scaled on its own; the original
    value is in the tooltip and the axis ends are labelled. Runs without a finite metric (diverged)
    are dashed grey. Beyond the row budget the most recent runs are kept."""
    axes = [k for k in knobs if runs is not None and k in runs]
    if base.missing(runs, [metric]) or not axes:
        return base.empty_chart()
    df = runs.reset_index(drop=True)
    df = df.tail(max(1, base.MAX_ROWS // (len(axes) + 1))).copy()
    df["run"] = df["key"].astype(str) if "key" in df else df.index.astype(str)
    df["_metric"] = pd.to_numeric(df[metric], errors="coerce").where(lambda s: np.isfinite(s))
    axes = [*axes, metric]
    ident = [c for c in ("variant", "seed") if c in df]
    parts, ends = [], []
    for a in axes:
        values = df["_metric"] if a == metric else df[a]
        known = values.notna()  # a diverged run's line stops before the metric axis
        norm, suffix = _normalize(values[known])
        text = values[known].map(_text)
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
    tooltip = [*extra, "axis:N", "value:N", base.tip(f"{metric}:Q", metric)]
    ok, bad = long[long[metric].notna()], long[long[metric].isna()]
    lines = (
        alt.Chart(ok)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=x,
            y=y,
            detail="run:N",
            color=_metric_colour(ok[metric], metric),
            opacity=base.fade(hover, 0.9, 0.15),
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


@base.memoized
def scatter(
    runs: pd.DataFrame,
    x: str,
    y: str,
    color_by: str | None = None,
    variant_order: Sequence[str] | None = None,
    log_x: bool = False,
    log_y: bool = False,
    clip: bool = True,
) -> base.Chart:
    """One dot per run, y against x, coloured by a column (default: variant, legend-pickable);
    diverged runs are crosses when they still have finite coordinates. With `clip` (and a linear
    y), runs that blew up (y > BLOWUP_FACTOR x the median) sit on a cap line as triangles, their
    true value in the tooltip."""
    if base.missing(runs, [x, y]):
        return base.empty_chart()
    df = base.finite(runs, [x, y])
    if log_x:
        df = df[df[x] > 0]
    if log_y:
        df = df[df[y] > 0]
    if df.empty:
        return base.empty_chart(f"no runs with finite {x} and {y}")
    df = df.tail(base.MAX_ROWS).copy()
    df["status"] = np.where(base.flags(df.get("diverged"), df.index), "diverged", "ok")
    cap = blowup_cap(df[y]) if clip and not log_y else None
    shown = y
    if cap is not None:
        shown = f"{y} (clipped)"
        df[shown] = df[y].clip(upper=cap)
        df.loc[(df[y] > cap) & (df["status"] == "ok"), "status"] = CLIPPED  # a diverged run stays a ✕
    color_by = color_by or ("variant" if "variant" in df else None)
    extra = [c for c in ("variant", "seed", "key") if c in df and c != color_by]
    tooltip = [*[f"{c}:N" for c in extra], base.tip(f"{x}:Q", x), base.tip(f"{y}:Q", y), "status:N"]
    enc: dict[str, Any] = {
        "x": alt.X(f"{x}:Q", scale=alt.Scale(type="log") if log_x else alt.Scale(zero=False)),
        "y": alt.Y(f"{shown}:Q", scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False), title=y),
        "shape": alt.Shape(
            "status:N",
            scale=alt.Scale(domain=["ok", "diverged", CLIPPED], range=["circle", "cross", "triangle-up"]),
        ),
    }
    param = None
    if color_by and color_by in df:
        numeric = pd.api.types.is_numeric_dtype(df[color_by]) and not pd.api.types.is_bool_dtype(df[color_by])
        if numeric and color_by != "variant":
            enc["color"] = alt.Color(f"{color_by}:Q", scale=alt.Scale(scheme="viridis"))
            tooltip.append(base.tip(f"{color_by}:Q", color_by))
        else:
            df[color_by] = df[color_by].astype(str)
            dom = base.domain(df, variant_order if color_by == "variant" else None, color_by)
            param = base.pick(color_by)
            enc |= {"color": base.color(dom, color_by), "opacity": base.fade(param, 0.9)}
            tooltip.insert(0, f"{color_by}:N")
    chart = alt.Chart(df).mark_point(filled=True, size=70).encode(**enc, tooltip=tooltip)
    return chart.add_params(param) if param is not None else chart
