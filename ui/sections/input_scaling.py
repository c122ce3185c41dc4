"""The batch-norm page's input-scaling section (claim BN6): on a heavy-tailed copy of the data,
scale the inputs first (standard, robust, quantile) or feed them raw and let BN normalize."""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.spec import INPUT_TRANSFORMS, Experiment
from core.variants import VariantSet
from ui import charts, panels
from ui.run import on_demand, stacked_note

SEEDS = 2  # a look, not a verdict: the claim below trains 8 seeds
# (label, scaling, batch_norm): three scalings without BN, and BN on the raw values
ARMS = (
    ("z-score, no BN", "standard", "none"),
    ("robust, no BN", "robust", "none"),
    ("quantile, no BN", "quantile", "none"),
    ("raw + BN", "none", "before"),
)
TRANSFORM_HELP = {
    "lognormal": "every feature through exp of its z-score, in units spread over two decades: skewed, heavy right tail",
    "outliers": "1% of the entries pushed 10 SD out, on a random side",
}


def variants(base: Experiment, transform: str) -> VariantSet:
    """The four arms on the transformed data; everything else as the page's comparison."""
    heavy = dataclasses.replace(base, input_transform=transform)
    return VariantSet.of(
        {label: dataclasses.replace(heavy, scaling=s, batch_norm=bn) for label, s, bn in ARMS}, SEEDS
    )


def input_scaling_section(base: Experiment, key: str = "batch_norm.scaling") -> None:
    """Subheader, the transform choice, a Run button, then loss curves and final losses."""
    st.subheader("Non-Gaussian inputs: scale them first, or rely on BN?")
    st.markdown(
        "The notes suggest that when inputs are far from Gaussian, scaling the data beforehand may serve "
        "better than batch normalization. Below the same network trains on a distorted copy of the data "
        "(the same copy for every seed): with the inputs z-scored, robust-scaled (median and interquartile "
        "range) or quantile-mapped to a normal, each fitted on the training rows only, and with the raw "
        "values and BN before every activation (the model has no BN on the input itself; BN on the first "
        "layer's pre-activations is the nearest it has)."
    )
    choices = [t for t in INPUT_TRANSFORMS if t != "none"]
    transform = st.radio(
        "distortion of the inputs",
        choices,
        horizontal=True,
        key=f"{key}.transform",
        help=" · ".join(f"{t}: {TRANSFORM_HELP.get(t, t)}" for t in choices),
    )
    plan = variants(base, str(transform))
    result = on_demand(plan, f"{key}.{transform}", "Run the scaling comparison", stacked_note(plan))
    if result is None:
        return
    summary, order = result.summary(), result.variant_order()
    cols = st.columns(2)
    with cols[0]:
        st.markdown("**Validation loss per epoch**")
        panels.chart(charts.curves(result.frame("epochs"), "val_loss", "epoch", summary, order, log_y=True))
    with cols[1]:
        st.markdown("**Final validation loss, every seed**")
        panels.chart(charts.final_metric(summary, "final_val_loss", order))
    st.caption(
        "A run that blew up ends in ✕. Claim BN6 in the claims block below decides this with 8 seeds "
        "and a paired test."
    )
    panels.replay_caption(result)
