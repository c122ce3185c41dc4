"""The L1/L2/dropout page's inputs and sweep: strength sliders and one strength swept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.measures import with_gaps as gaps
from core.results import ComparisonResult
from ui import charts, panels


def strength_sliders(key: str, defaults: Sequence[float]) -> tuple[float, float, float]:
    """L1 strength, L2 strength and dropout rate: log-spaced choices for the penalties."""
    rates = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    cols = st.columns(3)
    l1 = penalty_slider(
        cols[0], "L1", defaults[0], key, "penalty l1 × Σ|w| on every kernel (Keras regularizers.L1)"
    )
    l2 = penalty_slider(
        cols[1], "L2", defaults[1], key, "penalty l2 × Σw² on every kernel (Keras regularizers.L2)"
    )
    dropout = cols[2].select_slider(
        "dropout rate",
        rates,
        value=defaults[2],
        key=f"{key}.dropout_rate",
        help="share of hidden units dropped at each training step",
    )
    return l1, l2, float(dropout)


def penalty_slider(col: Any, name: str, default: float, key: str, help_text: str) -> float:
    """One penalty strength (`name` is L1 or L2) on a log-spaced scale of choices."""
    penalties = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
    return float(
        col.select_slider(
            f"{name} strength",
            penalties,
            value=default,
            format_func=lambda v: f"{v:g}",
            key=f"{key}.{name.lower()}_strength",
            help=help_text,
        )
    )


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
    panels.replay_caption(result)
