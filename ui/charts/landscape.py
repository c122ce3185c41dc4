"""Loss-landscape charts (pure Altair): lines through weight space, slices around a minimum, and
sharpness per run. Inputs are long frames built by ui.sections.landscape from core.landscape's
JSON-like dicts; losses span orders of magnitude (2.3 untrained, 0.001 converged), so every
loss axis is logarithmic and only finite, positive losses are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from ui.charts.base import color, domain, empty_chart, fade, log_axis, missing, pick, tip

LOSS_FLOOR = 1e-6  # a log axis cannot show 0: losses are clipped up to this before drawing


def _positive(df: pd.DataFrame, value: str) -> pd.DataFrame:
    out = df[pd.to_numeric(df[value], errors="coerce").notna()].copy()
    out[value] = out[value].astype(float).clip(lower=LOSS_FLOOR)
    return out


def interpolation_chart(df: pd.DataFrame, order: Sequence[str] | None = None) -> alt.Chart | alt.LayerChart:
    """Training loss against alpha (0 = initial weights, 1 = final), one line per run, coloured by
    variant; rules mark alpha 0 and 1. Columns: alpha, train_loss, variant, seed."""
    if missing(df, ["alpha", "train_loss", "variant", "seed"]):
        return empty_chart()
    data = _positive(df, "train_loss")
    dom, sel = domain(data, order), pick()
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=14))
        .encode(
            x=alt.X("alpha:Q", title="alpha (0 = initial weights, 1 = final weights)"),
            y=alt.Y("train_loss:Q", scale=alt.Scale(type="log"), axis=log_axis(), title="training loss"),
            color=color(dom),
            detail="seed:N",
            opacity=fade(sel),
            tooltip=[tip("variant"), tip("seed"), tip("alpha", fmt=".2f"), tip("train_loss")],
        )
        .add_params(sel)
    )
    return alt.layer(lines, _ends())


def _ends(values: Sequence[float] = (0.0, 1.0)) -> alt.Chart:
    return (
        alt.Chart(pd.DataFrame({"x": list(values)}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(x="x:Q")
    )


def split_lines(
    df: pd.DataFrame, x: str, x_title: str, marks: Sequence[float] = (0.0,)
) -> alt.Chart | alt.LayerChart:
    """Train and validation loss along one line (columns: x, loss, split), dashed rules at `marks`
    (the runs themselves: alpha 0 and 1 between two runs, offset 0 in a slice)."""
    if missing(df, [x, "loss", "split"]):
        return empty_chart()
    data = _positive(df, "loss")
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=14))
        .encode(
            x=alt.X(f"{x}:Q", title=x_title),
            y=alt.Y("loss:Q", scale=alt.Scale(type="log"), axis=log_axis(), title="loss"),
            color=alt.Color("split:N", scale=alt.Scale(domain=["train", "validation"]), title="split"),
            tooltip=[tip("split"), tip(x, fmt=".3f"), tip("loss")],
        )
    )
    return alt.layer(lines, _ends(marks))


def slice_heatmap(df: pd.DataFrame) -> alt.Chart | alt.LayerChart:
    """The 2-D slice as a heatmap (log colour), the trained weights marked at (0, 0). Columns: x,
    y (offsets along the two directions), train_loss."""
    if missing(df, ["x", "y", "train_loss"]):
        return empty_chart()
    data = _positive(df, "train_loss")
    cells = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("x:O", title="direction 1 (filter norms)", axis=alt.Axis(format=".2f", labelAngle=-45)),
            y=alt.Y(
                "y:O", title="direction 2 (filter norms)", sort="descending", axis=alt.Axis(format=".2f")
            ),
            color=alt.Color(
                "train_loss:Q", scale=alt.Scale(type="log", scheme="viridis"), title="training loss"
            ),
            tooltip=[tip("x", fmt=".2f"), tip("y", fmt=".2f"), tip("train_loss")],
        )
    )
    centre = (
        alt.Chart(pd.DataFrame({"x": [0.0], "y": [0.0]}))
        .mark_point(shape="cross", color="white", size=120, filled=True)
        .encode(x="x:O", y=alt.Y("y:O", sort="descending"))
    )
    return alt.layer(cells, centre)


def sharpness_chart(df: pd.DataFrame, order: Sequence[str] | None = None) -> alt.Chart:
    """Sharpness of every run (a dot per seed) per variant. Columns: variant, seed, sharpness."""
    if missing(df, ["variant", "seed", "sharpness"]):
        return empty_chart()
    data = df[pd.to_numeric(df["sharpness"], errors="coerce").notna()]
    if data.empty:
        return empty_chart("no run has weights to measure")
    dom = domain(data, order)
    return (
        alt.Chart(data)
        .mark_circle(size=70, opacity=0.8)
        .encode(
            x=alt.X("variant:N", sort=dom, title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sharpness:Q", title="sharpness (largest loss rise, nats)"),
            color=color(dom),
            tooltip=[tip("variant"), tip("seed"), tip("sharpness")],
        )
    )
