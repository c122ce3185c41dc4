"""The batch-norm page's decay section (claim BN7): the same peak rate halved fast or slowly
(exponential decay), with and without BN."""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.claims.decay_with_bn import BN7_FAST, BN7_SLOW
from core.spec import Comparison, Experiment
from ui import charts, panels
from ui.run import on_demand, stacked_note
from ui.sections.inputs import ordered_pair

SEEDS = 2  # a look, not a verdict: the claim trains 8 seeds
HALF_LIVES = (0.5, 1.0, 2.0, 5.0, 10.0)  # epochs


def comparison(base: Experiment, fast: float, slow: float) -> Comparison:
    decaying = dataclasses.replace(base, lr_schedule="exponential")
    return Comparison.of(decaying, {"batch_norm": ("none", "before"), "lr_half_life": (fast, slow)}, SEEDS)


def decay_section(base: Experiment, key: str = "batch_norm.decay") -> None:
    """Subheader, the two half-lives, a Run button, then accuracy curves, the rate each run had,
    and the final accuracy against the half-life for each BN arm."""
    st.subheader("Faster learning-rate decay with BN")
    st.markdown(
        "The notes say that with batch normalization the learning rate can decay faster. Here the page's "
        "network starts at its learning rate and the rate halves every *half-life* epochs (Keras' "
        "ExponentialDecay with rate 0.5), fast or slow, with and without BN. If BN makes the fast decay "
        "cheaper, the gap between the two half-lives is smaller in the BN arm."
    )
    picked = ordered_pair(
        (f"{key}.fast", f"{key}.slow"),
        ("fast half-life (epochs)", "slow half-life (epochs)"),
        HALF_LIVES,
        (BN7_FAST, BN7_SLOW),
        "Pick a fast half-life shorter than the slow one.",
    )
    if picked is None:
        return
    fast, slow = picked
    plan = comparison(base, float(fast), float(slow))
    result = on_demand(plan, key, "Run the decay comparison", stacked_note(plan))
    if result is None:
        return
    summary, order = result.summary(), result.variant_order()
    epochs = result.frame("epochs")
    cols = st.columns(2)
    with cols[0]:
        st.markdown("**Validation accuracy per epoch**")
        panels.chart(charts.curves(epochs, "val_accuracy", "epoch", summary, order))
    with cols[1]:
        st.markdown("**Learning rate per epoch** (log)")
        panels.chart(charts.curves(epochs, "lr", "epoch", summary, order, log_y=True))
    st.markdown("**Final validation accuracy against the half-life**, one line per BN arm")
    panels.chart(charts.metric_vs_knob(summary, "lr_half_life", "final_val_accuracy", color_by="batch_norm"))
    st.caption("Claim BN7 in the claims block below decides this with 8 seeds in a deeper network.")
    panels.replay_caption(result)
