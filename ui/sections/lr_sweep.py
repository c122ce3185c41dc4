"""The learning-rate page's sweep readings (LR1-LR3): each run judged converging, oscillating or
diverged by its own numbers, epochs to a target loss, and the generalization gap up to the
divergence edge. Numbers from core.topics.lr; charts from ui.charts.lr."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import measures
from core.results import ComparisonResult
from core.topics import lr as topics_lr
from ui import charts, panels
from ui.charts.base import memoized

# The sweep's readings are pure functions of the result's frames: kept by content, a revisit of a
# stored sweep does not recompute them.
classify_runs = memoized(topics_lr.classify_runs)
classify_variants = memoized(topics_lr.classify_variants)
epochs_to_target = memoized(measures.epochs_to_target)
target_table = memoized(measures.target_table)
gap_to_edge = memoized(topics_lr.gap_to_edge)


def numeric_knob(result: ComparisonResult, prefer: str = "learning_rate") -> str | None:
    """The knob to put on a quantitative x axis: `prefer` when varied alone, else the only varied
    numeric knob; None when the variants are not one numeric axis (then charts use labels)."""
    varied = result.comparison.varied
    if len(varied) != 1:
        return None
    name = varied[0]
    values = [v for _, vs in result.comparison.vary for v in vs]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return name if numeric and (name == prefer or len(values) > 1) else None


def knob_values(summary: pd.DataFrame, knob: str | None) -> dict[str, float]:
    """variant label -> its value of `knob` (empty without a knob)."""
    if knob is None:
        return {}
    return {v: float(x) for v, x in summary.groupby("variant", sort=False)[knob].first().items()}


def status_table(variants: pd.DataFrame) -> None:
    """One row per variant: its status (with a traffic light), seeds per status, volatility."""
    shown = variants.assign(status=[f"{charts.STATUS_ICON[s]} {s}" for s in variants["status"]])
    panels.dataframe(
        shown,
        column_config={
            "volatility": st.column_config.NumberColumn("mean volatility", format="%.3f"),
            "final_loss": st.column_config.NumberColumn("final train loss (not diverged)", format="%.4f"),
        },
    )


def sweep_readings(result: ComparisonResult, key: str) -> None:
    """LR1-LR3 read off one comparison: status per run and variant, epochs to a target, and the
    generalization gap up to the divergence edge."""
    steps, summary, epochs = result.frame("steps"), result.summary(), result.frame("epochs")
    order = result.variant_order()
    th = topics_lr.Thresholds()
    runs = classify_runs(steps, summary, th)
    variants = classify_variants(runs, order)
    knob = numeric_knob(result)
    values = knob_values(summary, knob)

    st.subheader("Converging, oscillating or diverged — each run judged by its own numbers")
    st.caption(
        f"A run is **diverged** when its loss turned NaN/∞ or blew up (a batch loss ≥ {th.blowup:g}× its "
        f"first) and never came back below {th.progress:.0%} of where it started — on a classifier that is "
        f"a network stuck at chance. It is **oscillating** when it survived but its volatility (std of the "
        f"step-to-step change of the batch loss, divided by the first batch loss) exceeds {th.oscillation:g}; "
        "**converging** otherwise, however slowly. A variant takes its seeds' most common status (a tie "
        "goes to the worse one)."
    )
    left, right = st.columns(2)
    with left:
        panels.chart(charts.status_chart(epochs, runs), key=f"{key}.status_chart")
    with right:
        panels.chart(
            charts.volatility_chart(runs, values, knob, order, th.oscillation), key=f"{key}.vol_chart"
        )
    status_table(variants)

    st.subheader("How many epochs to reach a given loss")
    epochs_run = int(result.comparison.baseline.epochs)
    target = st.number_input(
        "target training loss",
        min_value=1e-4,
        value=0.1,
        format="%g",
        key=f"{key}.target",
        help="the first epoch whose training loss (measured after the epoch) is at or below this",
    )
    per_run = epochs_to_target(epochs, float(target))
    table = target_table(per_run, summary, order, values)
    panels.chart(charts.target_chart(table, knob, order, epochs_run), key=f"{key}.target_chart")
    panels.dataframe(
        table.drop(columns=["value"]),
        column_config={"epochs": st.column_config.NumberColumn("mean epochs", format="%.1f")},
    )
    slower = topics_lr.slower_when_smaller(table) if knob else None
    if slower is not None:
        st.caption(
            f"Among the {knob} values that got there, a smaller value "
            + ("never needed fewer epochs." if slower else "sometimes needed *fewer* epochs.")
        )

    st.subheader("Generalization gap up to the divergence edge")
    edge = topics_lr.divergence_edge(variants, values) if knob else None
    gaps = gap_to_edge(summary, runs, knob, edge) if knob else pd.DataFrame()
    if not knob:
        st.caption("Vary one numeric knob (the learning rate) to see the gap against it.")
        return
    panels.chart(charts.gap_chart(gaps, knob, order, edge), key=f"{key}.gap_chart")
    trend = topics_lr.gap_trend(gaps, knob)
    edge_text = f"the first diverged {knob} is {edge:g}" if edge is not None else "no variant diverged"
    trend_text = (
        "too few values below the edge to read a trend"
        if trend is None
        else f"rank correlation of the gap with log {knob} below the edge: {trend:+.2f} "
        + ("(larger values, smaller gap)" if trend < 0 else "(larger values, larger gap)")
    )
    st.caption(f"{edge_text.capitalize()}; {trend_text}.")
