"""Altair charts of what happens inside the networks of a comparison: per-layer gradient norms,
weight histograms and sparsity, decision boundaries and the gradient-norm distribution behind a
clipnorm choice. Faceted charts get a fixed panel width: Vega-Lite cannot stretch facets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import base


# -- inside the network ------------------------------------------------------------------------
def _layer_labels(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A layer label column ordered input -> output (names alone may repeat across groups)."""
    names = df.groupby("layer")["layer_name"].first() if "layer_name" in df else pd.Series(dtype=str)
    label = {i: f"{i}: {names.get(i, '')}".rstrip(": ") for i in sorted(df["layer"].unique())}
    return df.assign(layer_label=df["layer"].map(label)), list(label.values())


@base.memoized
def layer_heatmap(
    layers: pd.DataFrame, variant_order: Sequence[str] | None = None, max_bins: int = 200, columns: int = 3
) -> base.Chart:
    """Gradient norm per layer (rows, input at the top) and step, mean over seeds, on a LOG colour
    scale: vanishing gradients are orders of magnitude, invisible on a linear one."""
    if base.missing(layers, ["variant", "seed", "step", "layer", "grad_norm"]):
        return base.empty_chart()
    df = base.finite(layers, ["step", "layer", "grad_norm"])
    df = df[df["grad_norm"] > 0]
    if df.empty:
        return base.empty_chart("no finite gradient norms recorded")
    df, labels = _layer_labels(df)
    cells = max(1, df["variant"].nunique() * df["layer"].nunique())
    df = base.bin_column(df, "step", max(1, min(max_bins, base.MAX_ROWS // cells)))
    agg = (
        df.groupby(["variant", "layer_label", "step", "step_end"], sort=False)
        .agg(
            grad_norm=("grad_norm", "mean"),
            lo=("grad_norm", "min"),
            hi=("grad_norm", "max"),
            seeds=("seed", "nunique"),
        )
        .reset_index()
    )
    dom = base.domain(layers, variant_order)
    return (
        alt.Chart(agg)
        .mark_rect()
        .encode(
            x=alt.X("step:Q", title="step", axis=alt.Axis(format="d")),
            x2="step_end:Q",
            y=alt.Y("layer_label:O", sort=labels, title="layer"),
            color=alt.Color(
                "grad_norm:Q",
                scale=alt.Scale(type="log", scheme="viridis"),
                title="grad norm",
                legend=alt.Legend(format=".2g"),
            ),
            tooltip=[
                "variant:N",
                "layer_label:N",
                "step:Q",
                base.tip("grad_norm:Q", "mean grad norm"),
                *base.spread_tips(),
            ],
        )
        .properties(width=base.FACET_WIDTH, height=alt.Step(14))
        .facet(facet=alt.Facet("variant:N", sort=dom, title=None), columns=columns)
    )


@base.memoized
def layer_ratio(layers: pd.DataFrame, variant_order: Sequence[str] | None = None) -> base.Chart:
    """First-layer / last-layer gradient norm over steps (log y, geometric mean over seeds): far
    below 1 means the early layers barely learn (vanishing), far above means exploding."""
    if base.missing(layers, ["key", "variant", "seed", "step", "layer", "grad_norm"]):
        return base.empty_chart()
    df = base.finite(layers, ["step", "layer", "grad_norm"])
    df = df[df["grad_norm"] > 0]
    if df.empty:
        return base.empty_chart("no finite gradient norms recorded")
    first, last = df["layer"].min(), df["layer"].max()
    if first == last:
        return base.empty_chart("one layer only: there is no first/last ratio")
    ends = df[df["layer"].isin([first, last])]
    wide = ends.pivot_table(
        index=["variant", "key", "seed", "step"], columns="layer", values="grad_norm", aggfunc="mean"
    )
    ratio = np.log10(wide[first] / wide[last]).rename("log_ratio").reset_index()
    ratio = base.finite(ratio, ["log_ratio"])
    n = max(1, ratio["variant"].nunique())
    if ratio["step"].nunique() * n > base.MAX_ROWS:
        ratio = base.bin_column(ratio, "step", base.MAX_ROWS // n)
    stats = base.seed_stats(ratio, ["variant", "step"], "log_ratio", "minmax")
    for c in ("mean", "lo", "hi"):
        stats[c] = 10 ** stats[c]
    dom, p = base.domain(layers, variant_order), base.pick()
    encoded = alt.Chart(stats).encode(x=alt.X("step:Q", title="step"), color=base.color(dom))
    tooltip = [
        "variant:N",
        "step:Q",
        base.tip("mean:Q", "first/last (geo. mean)"),
        *base.spread_tips(),
    ]
    title = "grad norm first / last layer"
    y = alt.Y("mean:Q", scale=alt.Scale(type="log"), axis=base.log_axis(), title=title)
    area = encoded.mark_area().encode(
        y=alt.Y("lo:Q", scale=alt.Scale(type="log"), axis=base.log_axis(), title=title),
        y2="hi:Q",
        opacity=base.fade(p, 0.2, 0.04),
        tooltip=tooltip,
    )
    line = encoded.mark_line().encode(y=y, opacity=base.fade(p), tooltip=tooltip).add_params(p)
    one = (
        alt.Chart(pd.DataFrame({"ratio": [1.0]}))
        .mark_rule(strokeDash=[4, 3], color="gray")
        .encode(y="ratio:Q")
    )
    return alt.layer(area, line, one)


def _rebin_histograms(df: pd.DataFrame, bins: int) -> pd.DataFrame:
    """Mean count over seeds on common edges per layer: histograms of different groups (or
    widths) have different bin edges, so counts are moved to the common bin of their centre."""
    parts = []
    for (layer, label), g in df.groupby(["layer", "layer_label"], sort=True):
        edges = np.linspace(g["bin_start"].min(), g["bin_end"].max(), bins + 1)
        centre = (g["bin_start"] + g["bin_end"]) / 2
        idx = np.clip(np.searchsorted(edges, centre, side="right") - 1, 0, bins - 1)
        total = g.assign(i=idx).groupby(["variant", "i"])["count"].sum()
        seeds = g.groupby("variant")["seed"].nunique()
        full = pd.MultiIndex.from_product([seeds.index, range(bins)], names=["variant", "i"])
        mean = (
            total.reindex(full, fill_value=0) / seeds.reindex(full.get_level_values(0)).to_numpy()
        ).rename("count")
        out = mean.reset_index()
        out["bin_start"], out["bin_end"] = edges[out["i"]], edges[out["i"] + 1]
        out["seeds"] = seeds.reindex(out["variant"]).to_numpy()
        parts.append(out.assign(layer=layer, layer_label=label).drop(columns="i"))
    return pd.concat(parts, ignore_index=True)


@base.memoized
def weight_histograms(
    histograms: pd.DataFrame, variant_order: Sequence[str] | None = None, max_layers: int = 6, bins: int = 30
) -> base.Chart:
    """Kernel weight histograms after training, variant (rows) x layer (columns), symlog counts:
    L1's spike at zero and L2's bell differ by orders of magnitude in the tails. Deep networks
    show max_layers evenly spaced layers (always the first and the last)."""
    if base.missing(histograms, ["variant", "seed", "layer", "bin_start", "bin_end", "count"]):
        return base.empty_chart()
    df = base.finite(histograms, ["layer", "bin_start", "bin_end", "count"])
    if df.empty:
        return base.empty_chart("no finite weights recorded")
    if "layer_name" not in df:
        df = df.assign(layer_name="")
    shown = sorted(df["layer"].unique())
    if len(shown) > max_layers:
        shown = [shown[int(i)] for i in np.unique(np.linspace(0, len(shown) - 1, max_layers).round())]
    df, labels = _layer_labels(df[df["layer"].isin(shown)])
    native = int(df.groupby(["key", "layer"]).size().max()) if "key" in df else bins  # the trainer's bins
    bins = max(5, min(bins, native, base.MAX_ROWS // (df["variant"].nunique() * len(shown))))
    data = _rebin_histograms(df, bins)
    dom, p = base.domain(histograms, variant_order), base.pick()
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("bin_start:Q", title="weight"),
            x2="bin_end:Q",
            y=alt.Y("count:Q", scale=alt.Scale(type="symlog"), title="count (symlog)"),
            y2=alt.datum(0),  # bars from zero: with x/x2 ranges Vega-Lite would draw flat tiles
            color=base.color(dom),
            opacity=base.fade(p, 0.9),
            tooltip=[
                "variant:N",
                "layer_label:N",
                base.tip("bin_start:Q", "from"),
                base.tip("bin_end:Q", "to"),
                base.tip("count:Q", "mean count over seeds", ".1f"),
                "seeds:Q",
            ],
        )
        .add_params(p)
        .properties(width=base.FACET_WIDTH, height=80)
        .facet(
            row=alt.Row("variant:N", sort=dom, title=None),
            column=alt.Column("layer_label:N", sort=labels, title=None),
        )
        .resolve_scale(x="independent")
    )


@base.memoized
def sparsity_bars(weights: pd.DataFrame, variant_order: Sequence[str] | None = None) -> base.Chart:
    """Share of |w| < 1e-3 per layer at each run's last epoch (diverged runs stop early), mean
    over seeds with a min-max rule: the L1-vs-L2 sparsity claim in one chart."""
    if base.missing(weights, ["key", "variant", "seed", "epoch", "layer", "sparsity"]):
        return base.empty_chart()
    df = base.finite(weights, ["epoch", "layer", "sparsity"])
    if df.empty:
        return base.empty_chart("no finite weight statistics recorded")
    if "layer_name" not in df:
        df = df.assign(layer_name="")
    df = df[df["epoch"] == df.groupby("key")["epoch"].transform("max")]
    df, labels = _layer_labels(df)
    stats = base.seed_stats(df, ["variant", "layer_label"], "sparsity", "minmax")
    dom, p = base.domain(weights, variant_order), base.pick()
    encoded = alt.Chart(stats).encode(
        x=alt.X("layer_label:N", sort=labels, title="layer", axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("variant:N", sort=dom),
        color=base.color(dom),
        opacity=base.fade(p),
        tooltip=[
            "variant:N",
            "layer_label:N",
            base.tip("mean:Q", "sparsity (mean)", ".1%"),
            base.tip("lo:Q", "min", ".1%"),
            base.tip("hi:Q", "max", ".1%"),
            "seeds:Q",
        ],
    )
    bars = (
        encoded.mark_bar()
        .encode(y=alt.Y("mean:Q", title="share of |w| < 1e-3", axis=alt.Axis(format="%")))
        .add_params(p)
    )
    rule = encoded.mark_rule(color="black").encode(y="lo:Q", y2="hi:Q")
    return alt.layer(bars, rule)


@base.memoized
def decision_boundary(
    boundary: pd.DataFrame,
    points: pd.DataFrame | None = None,
    variant_order: Sequence[str] | None = None,
    columns: int = 3,
) -> base.Chart:
    """Predicted probability over the input plane per variant (mean over seeds), diverging colours
    centred at 0.5 so the boundary is the white band; optional training points as black/white
    shapes. Multi-class: colour = predicted class, opacity = its probability."""
    if base.missing(boundary, ["variant", "x0", "x1", "prob"]):
        return base.empty_chart()
    df = base.finite(boundary, ["x0", "x1", "prob"])
    if df.empty:
        return base.empty_chart("no finite probabilities: every run diverged")
    dom = base.domain(boundary, variant_order)
    drawn = set(df["variant"].astype(str).unique())
    variants = [v for v in dom if v in drawn]
    multi = "predicted" in df and df["predicted"].nunique() > 2
    side = max(
        2, min(df["x0"].nunique(), df["x1"].nunique(), int(math.sqrt(base.MAX_ROWS * 0.8 / len(variants))))
    )
    if multi:  # per cell, the class with the highest mean probability
        df = df.assign(predicted=df["predicted"].astype(str))
        cells = base.grid_cells(df, "prob", ["variant", "predicted"], side)
        cells = cells.sort_values("prob").drop_duplicates(["variant", "x0", "x1"], keep="last")
    else:
        cells = base.grid_cells(df, "prob", ["variant"], side)
    cells["kind"] = "grid"
    data = [cells]
    if points is not None and not base.missing(points, ["x0", "x1", "label"]):
        pts = base.finite(points, ["x0", "x1"])
        pts = pts.sample(n=min(len(pts), base.MAX_ROWS // 5 // len(variants)), random_state=0)[
            ["x0", "x1", "label"]
        ]
        pts = pts.assign(label=pts["label"].astype(str), kind="point")
        data.append(pts.merge(pd.DataFrame({"variant": variants}), how="cross"))
    frame = pd.concat(data, ignore_index=True)
    x = alt.X("x0_lo:Q", title="x0", scale=alt.Scale(zero=False, nice=False))
    y = alt.Y("x1_lo:Q", title="x1", scale=alt.Scale(zero=False, nice=False))
    fill = (
        alt.Color("predicted:N", title="predicted class")
        if multi
        else alt.Color(
            "prob:Q",
            scale=alt.Scale(scheme="redblue", domain=[0, 1], domainMid=0.5, reverse=True),
            title="P(class 1)",
        )
    )
    rect = base.cell_rects(alt.Chart().transform_filter(alt.datum.kind == "grid"), x, y).encode(
        color=fill,
        tooltip=[
            "variant:N",
            base.tip("x0:Q"),
            base.tip("x1:Q"),
            base.tip("prob:Q", "probability", ".2f"),
        ]
        + (["predicted:N"] if multi else []),
    )
    if multi:
        rect = rect.encode(opacity=alt.Opacity("prob:Q", scale=alt.Scale(domain=[0, 1]), legend=None))
    layers = [rect]
    if len(data) > 1:
        layers.append(
            alt.Chart()
            .transform_filter(alt.datum.kind == "point")
            .mark_point(size=14, filled=True, strokeWidth=0.5, stroke="black")
            .encode(
                x=alt.X("x0:Q", title="x0"),
                y=alt.Y("x1:Q", title="x1"),
                shape=alt.Shape("label:N", title="label"),
                fill=alt.Fill(
                    "label:N", scale=alt.Scale(range=["white", "black", "gold", "gray"]), legend=None
                ),
                tooltip=["label:N", base.tip("x0:Q"), base.tip("x1:Q")],
            )
        )
    return (
        alt.layer(*layers, data=frame)
        .properties(width=base.FACET_WIDTH, height=base.FACET_WIDTH)
        .facet(facet=alt.Facet("variant:N", sort=dom, title=None), columns=columns)
    )


# -- gradients ----------------------------------------------------------------------------------
@base.memoized
def gradient_histogram(
    steps: pd.DataFrame, quantile: float = 0.9, variant_order: Sequence[str] | None = None, bins: int = 40
) -> base.Chart:
    """Per-step gradient norms per variant on log bins, with the given quantile as a labelled
    rule: the 90th percentile of an unclipped run is the usual starting clipnorm."""
    if not 0 < quantile < 1:
        raise ValueError(f"quantile={quantile!r} is not allowed: quantile must be between 0 and 1")
    if base.missing(steps, ["variant", "grad_norm"]):
        return base.empty_chart()
    df = base.finite(steps, ["grad_norm"])
    df = df[df["grad_norm"] > 0]
    if df.empty:
        return base.empty_chart("no finite gradient norms recorded")
    dom, p = base.domain(steps, variant_order), base.pick()
    drawn = set(df["variant"].astype(str).unique())
    present = [v for v in dom if v in drawn]
    bins = max(5, min(bins, base.MAX_ROWS // max(1, len(present))))
    lo, hi = np.log10(df["grad_norm"].min()), np.log10(df["grad_norm"].max())
    edges = 10 ** np.linspace(lo - 0.05, hi + 0.05, bins + 1)
    parts, by_variant = [], df.assign(variant=df["variant"].astype(str)).groupby("variant")
    for v in present:
        values = by_variant.get_group(v)["grad_norm"].to_numpy(dtype=float)
        q = float(np.quantile(values, quantile))
        counts = np.histogram(values, bins=edges)[0]
        note = f"p{round(quantile * 100)} = {q:.3g} (clipnorm)"
        parts.append(
            pd.DataFrame(
                {
                    "variant": v,
                    "bin_start": edges[:-1],
                    "bin_end": edges[1:],
                    "count": counts,
                    "q": q,
                    "note": note,
                    "first": np.arange(bins) == 0,
                }
            )
        )
    data = pd.concat(parts, ignore_index=True)
    encoded = alt.Chart(data)
    x = alt.X(
        "bin_start:Q", scale=alt.Scale(type="log"), axis=base.log_axis(), title="gradient norm per step"
    )
    bars = (
        encoded.mark_bar()
        .encode(
            x=x,
            x2="bin_end:Q",
            y=alt.Y("count:Q", title="steps"),
            y2=alt.datum(0),
            color=base.color(dom),
            opacity=base.fade(p, 0.85),
            tooltip=["variant:N", base.tip("bin_start:Q", "from"), base.tip("bin_end:Q", "to"), "count:Q"],
        )
        .add_params(p)
    )
    marked = encoded.transform_filter(alt.datum.first)
    rule = marked.mark_rule(strokeDash=[4, 3], color="black").encode(
        x=alt.X("q:Q", scale=alt.Scale(type="log")), tooltip=["variant:N", "note:N"]
    )
    text = marked.mark_text(align="left", baseline="top", dx=4, fontSize=11).encode(
        x="q:Q", y=alt.value(2), text="note:N"
    )
    return (
        alt.layer(bars, rule, text)
        .properties(width=base.FACET_WIDTH * 3, height=90)
        .facet(row=alt.Row("variant:N", sort=dom, title=None))
    )
