"""Charts of the model-family sections: probe accuracy by layer, ensemble vs deep net, and
level-by-level vs end-to-end training curves (claims WVD4, VG5, VG4). Pure Altair + pandas."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.charts import base

STAGE_ORDER = ["untrained", "trained"]
STAGE_COLOURS = ["#9e9e9e", "#1f77b4"]


def probe_accuracy(probes: pd.DataFrame) -> base.Chart:
    """Linear-probe validation accuracy per layer (0 = the input), trained vs untrained: mean
    over seeds as a line, the seeds' min-max as a band."""
    if base.missing(probes, ["layer", "layer_name", "stage", "accuracy"]):
        return base.empty_chart()
    df = base.finite(probes, ["accuracy"])
    stats = (
        df.groupby(["layer", "layer_name", "stage"], as_index=False)["accuracy"]
        .agg(mean="mean", lo="min", hi="max", seeds="count")
        .sort_values(["stage", "layer"])
    )
    x = alt.X("layer:O", title="layer (0 = input)", axis=alt.Axis(labelAngle=0))
    colour = alt.Color("stage:N", scale=alt.Scale(domain=STAGE_ORDER, range=STAGE_COLOURS), title="network")
    chart = alt.Chart(stats)
    band = chart.mark_area(opacity=0.2).encode(
        x=x, y=alt.Y("lo:Q", title="probe accuracy (validation)"), y2="hi:Q", color=colour
    )
    line = chart.mark_line(point=True).encode(
        x=x,
        y=alt.Y("mean:Q", scale=alt.Scale(zero=False)),
        color=colour,
        tooltip=[
            base.tip("layer_name", "layer"),
            base.tip("stage", "network"),
            base.tip("mean", "mean accuracy", ".3f"),
            base.tip("lo", "lowest seed", ".3f"),
            base.tip("hi", "highest seed", ".3f"),
            base.tip("seeds", "seeds", "d"),
        ],
    )
    return base.fit_labels(alt.layer(band, line))


def score_dots(rows: pd.DataFrame, metric: str, title: str) -> base.Chart:
    """One dot per seed and a tick at the mean, one row per arm (`arm`, `seed`, `metric` columns)."""
    if base.missing(rows, ["arm", "seed", metric]):
        return base.empty_chart()
    df = base.finite(rows, [metric])
    if df.empty:
        return base.empty_chart(base.undefined(metric))
    order = list(dict.fromkeys(df["arm"]))
    y = alt.Y("arm:N", sort=order, title=None)
    dots = (
        alt.Chart(df)
        .mark_circle(size=60, opacity=0.6)
        .encode(
            x=alt.X(f"{metric}:Q", title=title, scale=alt.Scale(zero=False)),
            y=y,
            color=alt.Color("arm:N", sort=order, legend=None),
            tooltip=[base.tip("arm", "arm"), base.tip("seed", "seed", "d"), base.tip(metric, title, ".4g")],
        )
    )
    means = df.groupby("arm", as_index=False)[metric].mean()
    ticks = alt.Chart(means).mark_tick(color="black", thickness=2, size=24).encode(x=f"{metric}:Q", y=y)
    return base.fit_labels(alt.layer(dots, ticks))


def phase_curves(
    epochs: pd.DataFrame, metric: str, greedy_epochs: int, variant_order: list[str]
) -> base.Chart:
    """`metric` per epoch for each arm (mean over seeds, min-max band), with the greedy phase of
    level-by-level training shaded: to its right both arms train the whole network."""
    if base.missing(epochs, ["variant", "seed", "epoch", metric]):
        return base.empty_chart()
    df = base.finite(epochs, [metric])
    stats = df.groupby(["variant", "epoch"], as_index=False)[metric].agg(mean="mean", lo="min", hi="max")
    dom = base.domain(stats, variant_order)
    x = alt.X("epoch:Q", title="epoch (passes over the data)")
    colour = base.color(dom)
    chart = alt.Chart(stats)
    band = chart.mark_area(opacity=0.15).encode(x=x, y="lo:Q", y2="hi:Q", color=colour)
    line = chart.mark_line(point=True).encode(
        x=x,
        y=alt.Y("mean:Q", title=metric.replace("_", " ")),
        color=colour,
        tooltip=[
            base.tip("variant", "arm"),
            base.tip("epoch", "epoch", "d"),
            base.tip("mean", metric, ".4g"),
        ],
    )
    shade = (
        alt.Chart(pd.DataFrame({"start": [0.5], "end": [greedy_epochs + 0.5], "what": ["greedy phase"]}))
        .mark_rect(opacity=0.08, color="orange")
        .encode(x="start:Q", x2="end:Q", tooltip=[base.tip("what", "")])
    )
    return base.fit_labels(alt.layer(shade, band, line))
