"""The exploding page's fewer-layers section (claim EG4): the run above, at decreasing depth."""

from __future__ import annotations

import streamlit as st

from core.claims.fewer_layers import depth_table
from core.spec import Comparison, Experiment
from ui import charts, panels
from ui.run import on_demand, stacked_note

SEEDS = 2  # a look, not a verdict: the claim trains 8 seeds
SHALLOWER = (4, 2, 1)  # removed layers, down to one hidden layer


def depths_of(base: Experiment) -> tuple[int, ...]:
    """The run's own depth, then fewer layers (never more than it has), deepest first."""
    return tuple(sorted({base.depth, *(d for d in SHALLOWER if d < base.depth)}, reverse=True))


def fewer_layers_section(base: Experiment, key: str = "exploding.depth") -> None:
    """Subheader, a Run button, then the per-depth table and the gradient norm per step."""
    st.subheader("Fewer layers")
    st.markdown(
        "Each layer multiplies the backward signal by roughly the same factor, so an explosion grows "
        "exponentially with depth, and the notes' simplest remedy is fewer layers. The run above trains "
        "again with layers removed, nothing else changed."
    )
    depths = depths_of(base)
    if len(depths) < 2:
        st.info("The run above has a single hidden layer: there is nothing to remove.")
        return
    plan = Comparison.of(base, {"depth": depths}, SEEDS)
    result = on_demand(
        plan, key, "Run at fewer layers", stacked_note(plan, "depths " + ", ".join(map(str, depths)))
    )
    if result is None:
        return
    summary, order = result.summary(), result.variant_order()
    panels.table(
        depth_table([result]),
        {"median_peak_grad_norm": "%.3g"},
        {
            "blew_up": "blew up",
            "did_not_train": "did not train",
            "median_peak_grad_norm": "median peak gradient norm",
        },
    )
    st.caption(
        "Blew up: NaN/inf or a 100x jump in the loss. Did not train: blew up, collapsed, or ended above half "
        "its starting loss. Peak gradient norm: the largest global norm over a run's steps (an overflow "
        "counts as float32's largest number)."
    )
    st.markdown("**Gradient norm per step** (global, before clipping; log)")
    panels.chart(charts.curves(result.frame("steps"), "grad_norm", "step", summary, order, log_y=True))
    panels.replay_caption(result)
