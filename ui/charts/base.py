"""Shared pieces of every chart builder in ui.charts: constants, frame helpers and encodings.

Why pure Altair + pandas: a chart is then a function of a DataFrame, so tests build a frame by
hand and assert on the Vega-Lite dict, and the same charts work in a notebook or a saved HTML.
Conventions every builder in this package follows:
- colour = variant over a fixed domain (`domain`), so a variant keeps its colour on every
  chart of a page; a legend click highlights it (selection parameter "pick");
- seeds are aggregated in pandas (mean line + min-max or ±std band) and steps are binned, so no
  chart embeds more than MAX_ROWS rows per dataset (Altair refuses more than 5,000 in to_dict);
- non-finite values (divergence) are dropped before plotting, and a diverged run gets a ✕ where
  it stopped instead of a line that silently ends;
- an empty frame gives a "no data yet" text chart, and an all-NaN metric (accuracy on a
  regression task) says so in words: never a fake line;
- labels are never cut: `fit_labels` sizes axis and legend label limits to the longest label.
Widths are left to the container (Streamlit stretches single views); only faceted charts get a
fixed per-panel width, because Vega-Lite cannot stretch facets to a container.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ui.cache import memoized  # noqa: F401  (the builders' memo; re-exported for ui.charts modules)
from ui.labels import full

MAX_ROWS = 4800  # per embedded dataset; under Altair's 5,000-row guard with a margin
FACET_WIDTH = 170  # px per facet panel (facets cannot use width="container")
PICK = "pick"
CROSS = "✕"
# Label room: Vega draws axis, legend and header labels at 10-11 px sans-serif, whose glyphs
# average ~6 px; 7 px per character (+ a small pad) always fits, so a label is never cut. Vega's
# own defaults (180 px axis, 160 px legend) cut "learning_rate=0.01, momentum=0.9".
LABEL_CHAR_PX = 7
LABEL_PAD_PX = 12
MIN_LABEL_LIMIT = 180
Chart = alt.Chart | alt.LayerChart | alt.FacetChart | alt.VConcatChart | alt.HConcatChart


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
    """True when no value of the column is a finite number (nothing to draw)."""
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
    """A tooltip entry with a readable title and number format."""
    return alt.Tooltip(field, title=title or field.split(":")[0], format=fmt)


def spread_tips() -> list[Any]:
    """The tooltip entries of a band over seeds (seed_stats' lo, hi and seeds columns)."""
    return [tip("lo:Q", "min"), tip("hi:Q", "max"), "seeds:Q"]


SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
# Powers of ten at or beyond 10^±3 are written 10ⁿ (a blown-up loss of 1e11 reads "10¹¹", not
# "100,000,000,000"); smaller values read as plain numbers (0.01, 1, 100). Between powers of ten a
# wide log axis shows no label (Vega would print "2e+11" there).
_EXPONENT = "round(log(datum.value) / LN10)"
_DIGIT = f"substring('{SUPERSCRIPT_DIGITS}', {{d}}, {{d}} + 1)"
_POWER = (
    f"'10' + ({_EXPONENT} < 0 ? '⁻' : '')"
    f" + (abs({_EXPONENT}) >= 10 ? {_DIGIT.format(d=f'floor(abs({_EXPONENT}) / 10)')} : '')"
    f" + {_DIGIT.format(d=f'abs({_EXPONENT}) % 10')}"
)
POWERS_OF_TEN = (
    f"datum.value <= 0 ? '' : abs({_EXPONENT}) < 3 ? format(datum.value, '~g')"
    f" : abs(datum.value / pow(10, {_EXPONENT}) - 1) < 1e-6 ? {_POWER} : ''"
)


def log_axis(**kwargs: Any) -> alt.Axis:
    """An axis for a log scale whose labels are powers of ten (10⁻⁴, 1, 10⁶)."""
    return alt.Axis(labelExpr=POWERS_OF_TEN, **kwargs)


def y_axis(log: bool) -> alt.Axis:
    """Powers-of-ten labels on a log y axis, Vega's defaults otherwise."""
    return log_axis() if log else alt.Axis()


def y_scale(log: bool) -> alt.Scale:
    """A log scale, or a linear one that need not include zero (losses sit far from it)."""
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


def cell_rects(chart: alt.Chart, x: alt.X, y: alt.Y) -> alt.Chart:
    """grid_cells' cells as rectangles: x/y on the cells' low edges (x0_lo, x1_lo), spanning to
    their high edges; the caller adds colour and tooltip with .encode()."""
    return chart.mark_rect().encode(x=x, x2="x0_hi:Q", y=y, y2="x1_hi:Q")


def thin(df: pd.DataFrame, by: str, order: str, limit: int) -> pd.DataFrame:
    """Every k-th row per group (keeping each group's last row) so the whole fits `limit` rows."""
    if len(df) <= limit:
        return df
    k = int(np.ceil(len(df) / limit))
    df = df.sort_values([by, order])
    pos = df.groupby(by).cumcount()
    last = pos == df.groupby(by)[order].transform("size") - 1
    return df[(pos % k == 0) | last]


def _frames(node: Any) -> Iterable[pd.DataFrame]:
    """Every DataFrame embedded anywhere in a (layered, faceted or concatenated) chart."""
    data = getattr(node, "data", None)
    if isinstance(data, pd.DataFrame):
        yield data
    for attr in ("layer", "vconcat", "hconcat", "concat"):
        for child in getattr(node, attr, None) or []:
            yield from _frames(child)
    spec = getattr(node, "spec", None)
    if spec is not None and not isinstance(spec, (str, dict)):
        yield from _frames(spec)


# A column with more distinct values than this holds run keys or notes, not labels an axis,
# legend or header draws (those name variants, layers or knob values: a few dozen at most).
MAX_LABEL_VALUES = 500


def longest_label(chart: Any) -> int:
    """Characters in the longest text value of any embedded frame's label-like columns."""
    longest = 0
    for df in _frames(chart):
        for column in df.columns:
            values = df[column]
            if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
                continue
            distinct = pd.unique(values.dropna())
            if 0 < len(distinct) <= MAX_LABEL_VALUES:
                longest = max(longest, max(len(str(v)) for v in distinct))
    return longest


def label_limit(n_chars: int) -> int:
    """Pixels that hold a label of n_chars characters (never below Vega's own default)."""
    return max(MIN_LABEL_LIMIT, LABEL_PAD_PX + LABEL_CHAR_PX * n_chars)


def fit_labels(chart: Any) -> Any:
    """The chart with axis, legend and facet-header label limits sized to its longest label, so
    no label is truncated ("batch_norm=bef…"). Applies to a top-level chart only (Vega-Lite
    config lives there); pages draw through ui.panels.chart, which calls this. The config is set
    on a shallow copy: Altair's configure_* would copy the whole chart, data included, 3 times."""
    limit = label_limit(longest_label(chart))
    fitted = chart.copy(deep=False)
    fitted.config = alt.Config(
        axis=alt.AxisConfig(labelLimit=limit),
        legend=alt.LegendConfig(labelLimit=limit, titleLimit=limit),
        header=alt.HeaderConfig(labelLimit=limit),
    )
    return fitted


FULL_FIELD = "variant_full"
FULL_TIP = {"field": FULL_FIELD, "type": "nominal", "title": "variant, in full"}


def with_full_names(chart: Any) -> bool:
    """Give every view's data with a short `variant` column the label in full ("learning_rate=0.01,
    momentum=0.9" beside "lr 0.01 · mom 0.9"), for tooltips; True if any view has one (then
    `add_full_tips` puts it in the drawn spec's tooltips). Done once where a page draws
    (ui.panels.chart) instead of in 30 tooltip lists. Adds the column in place: charts are
    memoized by their inputs, and the column is a pure function of `variant`."""
    found = False
    for view in _views(chart):
        data = getattr(view, "data", None)
        if isinstance(data, pd.DataFrame) and "variant" in data.columns:
            if FULL_FIELD not in data.columns:
                data[FULL_FIELD] = data["variant"].map(full)
            found = True
    return found


def _views(chart: Any) -> Iterable[Any]:
    """The chart and every chart nested in it (layers, concatenations, a facet's inner spec)."""
    yield chart
    for attr in ("layer", "hconcat", "vconcat", "concat"):
        for sub in getattr(chart, attr, None) or ():
            yield from _views(sub)
    inner = getattr(chart, "spec", None)
    if inner is not None and not isinstance(inner, (str, dict)) and inner is not alt.Undefined:
        yield from _views(inner)


def _variant_tip(tips: list) -> int | None:
    """Where the tooltip list shows the variant, or None."""
    return next((i for i, t in enumerate(tips) if isinstance(t, dict) and t.get("field") == "variant"), None)


def add_full_tips(node: Any) -> Any:
    """Every `tooltip` list of a spec dict that shows the variant gains its full form after it."""
    _add_full_tips(node)
    return node


def _add_full_tips(node: Any) -> None:
    """Every `tooltip` list that names the variant field gets the full-label line after it."""
    if isinstance(node, list):
        for item in node:
            _add_full_tips(item)
        return
    if not isinstance(node, dict):
        return
    tips = node.get("encoding", {}).get("tooltip") if isinstance(node.get("encoding"), dict) else None
    at = _variant_tip(tips) if isinstance(tips, list) and FULL_TIP not in tips else None
    if at is not None:
        tips.insert(at + 1, dict(FULL_TIP))
    for key, value in node.items():
        if key not in ("datasets", "data") and isinstance(value, (dict, list)):
            _add_full_tips(value)
