"""Charts of the recurrent section (claim VG3): how much gradient reaches each time step, and the
learning curves against the constant predictor. Pure Altair + pandas, like every ui.charts module.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import base
from ui.charts.curves import curves

FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # as core.training.recurrent's floor


@base.memoized
def timestep_heatmap(
    timesteps: pd.DataFrame, variant_order: Sequence[str] | None = None, columns: int = 2
) -> base.Chart:
    """||dL/dh_t|| relative to the last step's, per time step (rows, first step at the top) and
    epoch, geometric mean over seeds, on a LOG colour scale (the layer heatmap's time twin): a
    plain RNN's early steps fade to 10^-3 and below, a trained LSTM's stay near 10^-1..1."""
    if base.missing(timesteps, ["variant", "seed", "epoch", "t", "grad_norm"]):
        return base.empty_chart()
    df = base.finite(timesteps, ["epoch", "t", "grad_norm"])
    if df.empty:
        return base.empty_chart("no finite gradient norms recorded")
    # a gradient that underflowed to 0 is drawn at the float32 floor: the most complete vanishing
    df = df.assign(grad_norm=np.maximum(df["grad_norm"].to_numpy(float), FLOAT32_TINY))
    last_t = df.groupby(["key", "epoch"])["t"].transform("max")
    last = df[df["t"] == last_t].set_index(["key", "epoch"])["grad_norm"]
    df = df.assign(
        log_ratio=np.log10(df["grad_norm"].to_numpy())
        - np.log10(last.reindex(df.set_index(["key", "epoch"]).index)).to_numpy()
    )
    cells = max(1, df["variant"].nunique() * df["t"].nunique())
    df = base.bin_column(df, "epoch", max(1, base.MAX_ROWS // cells))  # long runs: epochs binned
    agg = df.groupby(["variant", "t", "epoch", "epoch_end"], sort=False).agg(
        log_ratio=("log_ratio", "mean"),
        lo=("log_ratio", "min"),
        hi=("log_ratio", "max"),
        seeds=("seed", "nunique"),
    )
    agg = agg.reset_index()
    agg["ratio"], agg["lo"], agg["hi"] = 10 ** agg["log_ratio"], 10 ** agg["lo"], 10 ** agg["hi"]
    dom = base.domain(timesteps, variant_order)
    return (
        alt.Chart(agg)
        .mark_rect()
        .encode(
            x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(format="d", tickMinStep=1)),
            x2="epoch_end:Q",
            y=alt.Y("t:O", title="time step (0 = first)", axis=alt.Axis(values=_ticks(agg["t"]))),
            color=alt.Color(
                "ratio:Q",
                scale=alt.Scale(type="log", scheme="viridis"),
                title="grad / last step's",
                legend=alt.Legend(format=".0e"),
            ),
            tooltip=[
                "variant:N",
                "t:O",
                "epoch:Q",
                base.tip("ratio:Q", "||dL/dh_t|| / ||dL/dh_T||"),
                *base.spread_tips(),
            ],
        )
        .properties(width=base.FACET_WIDTH * 1.5, height=alt.Step(5))
        .facet(facet=alt.Facet("variant:N", sort=dom, title=None), columns=columns)
    )


def _ticks(t: pd.Series) -> list[int]:
    """About ten labelled rows: every row is too dense at T = 50 and above."""
    top = int(t.max()) if len(t) else 0
    every = max(1, round((top + 1) / 10))
    return [*range(0, top + 1, every)]


@base.memoized
def curves_vs_baseline(
    epochs: pd.DataFrame,
    summary: pd.DataFrame,
    variant_order: Sequence[str] | None = None,
    metric: str = "val_loss",
) -> base.Chart:
    """Validation MSE per model over epochs (log y, seed band) with the constant predictor's MSE as
    a dashed line: a curve that stays on the line has learned nothing about the markers."""
    lines = curves(epochs, metric, summary=summary, variant_order=variant_order, log_y=True)
    level = pd.to_numeric(summary.get("baseline_val_loss"), errors="coerce") if len(summary) else None
    if level is None or not np.isfinite(level).any():
        return lines
    rule = (
        alt.Chart(pd.DataFrame({"baseline": [float(np.nanmean(level))], "label": ["constant predictor"]}))
        .mark_rule(strokeDash=[6, 4], color="gray")
        .encode(
            y="baseline:Q", tooltip=["label:N", base.tip("baseline:Q", "MSE of always predicting the mean")]
        )
    )
    return alt.layer(lines, rule)
