"""The vanishing-gradients page's "check the derivatives" panel: which layers get a gradient under
VANISH_RATIO of the last layer's, per variant."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.topics.gradients import (
    VANISH_RATIO,
)
from ui import panels


# -- vanishing -------------------------------------------------------------------------------------
def vanishing_panel(summary: pd.DataFrame, ratios: pd.DataFrame) -> None:
    """The notes' "check the derivatives": per variant, which layers get a gradient under
    VANISH_RATIO of the last layer's."""
    for row in summary.itertuples():
        if row.n_flagged:
            st.warning(
                f"**{row.variant}**: {row.n_flagged} of {row.n_layers - 1} hidden layers get a gradient below "
                f"{VANISH_RATIO:g} of the last layer's ({row.flagged_layers}). They barely move."
            )
    if not summary["n_flagged"].any():
        st.success(f"No layer's gradient is below {VANISH_RATIO:g} of the last layer's in any variant.")
    panels.dataframe(
        summary,
        column_config={
            "variant": st.column_config.TextColumn("variant"),
            "first_last_ratio": st.column_config.NumberColumn("first / last layer", format="%.2e"),
            "smallest_ratio": st.column_config.NumberColumn("smallest layer / last", format="%.2e"),
            "flagged_layers": st.column_config.TextColumn(f"layers below {VANISH_RATIO:g}"),
            "n_flagged": st.column_config.NumberColumn("flagged"),
            "n_layers": st.column_config.NumberColumn("layers (incl. output)"),
        },
    )
    with st.expander("Every layer's gradient norm and its ratio to the last layer"):
        panels.dataframe(
            ratios,
            column_config={
                "grad_norm": st.column_config.NumberColumn("mean grad norm", format="%.2e"),
                "ratio": st.column_config.NumberColumn("ratio to last layer", format="%.2e"),
                "flagged_runs": st.column_config.NumberColumn("flagged seeds"),
            },
        )
