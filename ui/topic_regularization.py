"""Widgets and charts shared by the batch size, regularization and batch normalization pages.

The numbers come from core.topics.regularization (pure, tested there); this module only draws.
`on_demand` is the rule for a page's extra comparisons: they are too large to train on page
load, so they train on a button click (with progress), and replay on load once stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd
import streamlit as st

from core.results import ComparisonResult
from core.spec import Comparison
from core.topics.regularization import VariantSet, gaps, labelled, training_clock, with_steps
from ui import charts, panels
from ui.run import run, stored_count

X_AXES = {"epoch": "epoch", "optimizer step": "step", "seconds (training)": "seconds"}


def on_demand(
    comparison: Comparison | VariantSet, key: str, label: str, note: str, separate: bool = False
) -> ComparisonResult | None:
    """A Run button for an extra comparison; its result when clicked, already stored, or shown
    earlier in this session; otherwise a note saying what the button would train."""
    clicked = st.button(label, key=f"{key}.run", icon="▶️")
    if clicked or stored_count(comparison) == comparison.n_members:
        return labelled(run(comparison, key, separate=separate))
    previous = st.session_state["results"].get(key)
    if previous is not None and previous.comparison == comparison:
        return labelled(previous)
    st.caption(note)
    return None


def groups(comparison: Comparison | VariantSet) -> int:
    """How many separately compiled models a comparison trains (the cost a page should quote)."""
    return len({m.group_key for m in comparison.members()})


def curves_three_ways(
    result: ComparisonResult,
    key: str,
    default_metric: str = "val_loss",
    epochs: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
) -> None:
    """Curves with seed bands against epochs, optimizer steps or training seconds.

    Seconds leave out each group's first-epoch tracing/compilation (core.epoch_times), which
    is paid once per network shape and would otherwise dominate short runs. Pass the frames
    when the page already has them: building them again is a noticeable share of a replay.
    """
    summary = result.summary() if summary is None else summary
    epochs = result.frame("epochs") if epochs is None else epochs
    order = result.variant_order()
    cols = st.columns([2, 3, 1])
    metrics = list(panels.METRICS)
    metric = cols[0].selectbox(
        "metric",
        metrics,
        index=metrics.index(default_metric),
        format_func=panels.METRICS.get,
        key=f"{key}.metric",
    )
    x = cols[1].radio("x axis", list(X_AXES), horizontal=True, key=f"{key}.x")
    log_y = cols[2].toggle("log y", value=False, key=f"{key}.log")
    epochs = with_steps(training_clock(epochs), summary)
    panels.chart(
        charts.curves(epochs, metric=metric, x=X_AXES[x], summary=summary, variant_order=order, log_y=log_y)
    )


def replay_caption(result: ComparisonResult) -> None:
    st.caption(
        f"{len(result.runs)} runs · {result.replayed} of {len(result.runs)} runs replayed from the store"
    )


def table(
    df: pd.DataFrame, formats: dict[str, str] | None = None, labels: dict[str, str] | None = None
) -> None:
    """A read-only numbers table with printf formats and friendlier column titles."""
    formats, labels = formats or {}, labels or {}
    config = {
        c: st.column_config.NumberColumn(labels.get(c, c), format=formats[c])
        if c in formats
        else st.column_config.Column(labels.get(c, c))
        for c in df.columns
    }
    st.dataframe(df, hide_index=True, width="stretch", column_config=config)


def edge_chart(summary: pd.DataFrame, edges: pd.DataFrame, arm: str = "batch_norm") -> charts.Chart:
    """Final training loss against the learning rate, one line per arm (✕ where seeds diverged),
    with a dashed rule at each arm's largest stable rate: the divergence edge sits just right of it."""
    base = charts.metric_vs_knob(
        summary, "learning_rate", "final_train_loss", log_x=True, log_y=True, color_by=arm
    )
    marks = edges.dropna(subset=["largest_stable_lr"]) if len(edges) else edges
    if summary is None or summary.empty or marks.empty:
        return base
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
    return alt.layer(base, rules)


def strength_sliders(key: str, defaults: Sequence[float]) -> tuple[float, float, float]:
    """L1 strength, L2 strength and dropout rate: log-spaced choices for the penalties."""
    penalties = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
    rates = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    cols = st.columns(3)
    l1 = cols[0].select_slider(
        "L1 strength", penalties, value=defaults[0], format_func=lambda v: f"{v:g}", key=f"{key}.l1_strength",
        help="penalty l1 × Σ|w| on every kernel (Keras regularizers.L1)",
    )  # fmt: skip
    l2 = cols[1].select_slider(
        "L2 strength", penalties, value=defaults[1], format_func=lambda v: f"{v:g}", key=f"{key}.l2_strength",
        help="penalty l2 × Σw² on every kernel (Keras regularizers.L2)",
    )  # fmt: skip
    dropout = cols[2].select_slider(
        "dropout rate", rates, value=defaults[2], key=f"{key}.dropout_rate",
        help="share of hidden units dropped at each training step",
    )  # fmt: skip
    return float(l1), float(l2), float(dropout)


def sweep_charts(result: ComparisonResult, knob: str) -> None:
    """Gap, validation loss and (for the penalties) sparsity against one swept strength. The
    strengths are drawn as categories: the sweep includes 0, which a log axis cannot show."""
    summary = gaps(result.summary())
    summary[knob] = summary[knob].map(lambda v: f"{v:g}")
    cols = st.columns(3 if knob != "dropout" else 2)
    with cols[0]:
        st.markdown("**Generalization gap**")
        panels.chart(charts.metric_vs_knob(summary, knob, "generalization_gap"))
    with cols[1]:
        st.markdown("**Final validation loss**")
        panels.chart(charts.metric_vs_knob(summary, knob, "final_val_loss"))
    if knob != "dropout":
        with cols[2]:
            st.markdown("**Share of |w| < 1e-3**")
            panels.chart(charts.metric_vs_knob(summary, knob, "weight_sparsity"))
    replay_caption(result)
