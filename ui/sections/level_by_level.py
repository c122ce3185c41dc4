"""The vanishing page's level-by-level section (claim VG4): greedy layer-wise training of the deep
sigmoid net, then fine-tuning, against end-to-end training at the same number of passes."""

from __future__ import annotations

import streamlit as st

from ui import charts, panels
from ui.charts import families
from ui.run import claim_preview


def level_by_level_section(dataset: str, key: str = "vanishing.layerwise") -> None:
    """Subheader, a Run button, then validation loss per epoch with the greedy phase shaded."""
    st.subheader("Level by level")
    st.markdown(
        "Before ReLU, a common way around vanishing gradients was to build a deep network one level at a "
        "time: train the first hidden layer as a small network of its own, freeze it, train the next one on "
        "its outputs, and so on, then fine-tune the whole stack. Here the deep sigmoid network is trained "
        "that way and end to end, with the same number of passes over the data, the same initial weights "
        "and the same data order."
    )
    result = claim_preview(
        "VG4",
        dataset,
        key,
        "Run level by level vs end to end",
        lambda b: f"{b.depth} sigmoid layers, {b.epochs} epochs each way",
    )
    if result is None:
        return
    order, summary = result.variant_order(), result.summary()
    greedy = int(summary["greedy_epochs"].max()) if "greedy_epochs" in summary else 0
    st.markdown("**Validation loss per epoch** (shaded: the level-by-level arm is still building its levels)")
    panels.chart(families.phase_curves(result.frame("epochs"), "val_loss", greedy, order))
    st.markdown("**Final validation loss per seed**")
    panels.chart(charts.final_metric(summary, "final_val_loss", order))
    panels.replay_caption(result)
