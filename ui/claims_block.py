"""'What the notes claim': a topic's claims, each with a Run button, its verdict and the numbers.

A verdict is computed from runs, never written down: the block replays the claim's presets when
the store has them (instant, shown on load) and trains them only when asked.
"""

from __future__ import annotations

from contextlib import nullcontext

import pandas as pd
import streamlit as st

from core.claims import Claim, Verdict, claims_for
from core.results import ComparisonResult
from core.runner import run_comparison
from ui import charts
from ui.run import training_status
from ui.state import store

BADGE = {"holds": ":green-badge[holds]", "does not hold": ":red-badge[does not hold]",
         "inconclusive": ":orange-badge[inconclusive]"}  # fmt: skip


def _stored(claim: Claim, dataset: str) -> bool:
    return all(
        len(store().has([m.key for m in c.members()])) == c.n_members for c in claim.comparisons(dataset)
    )


def evaluate(claim: Claim, dataset: str, train: bool) -> tuple[Verdict, list[ComparisonResult]] | None:
    """The claim's verdict from its preset runs: replayed, or trained when `train` is set."""
    if not train and not _stored(claim, dataset):
        return None
    results = []
    status = training_status(f"{claim.id}: running its comparison(s)…") if train else nullcontext()
    with status as report:
        for comparison in claim.comparisons(dataset):
            results.append(run_comparison(comparison, store(), report, separate=claim.separate))
    return claim.decide(results), results


def numbers_table(verdict: Verdict) -> pd.DataFrame:
    return pd.DataFrame(
        {"measure": list(verdict.numbers), "value": [str(v) for v in verdict.numbers.values()]}
    )


def show(topic: str, dataset: str = "digits") -> None:
    """Draw the block for one topic page."""
    st.subheader("What the notes claim")
    st.caption(f"Each verdict is computed from runs on **{dataset}**, trained on demand and stored for everyone. "
               "Inconclusive means the effect was smaller than the seed-to-seed spread.")  # fmt: skip
    for claim in claims_for(topic):
        with st.container(border=True):
            top = st.columns([6, 1])
            top[0].markdown(f"**{claim.id}** — {claim.text}")
            top[0].caption(f"Decided by: {claim.measurement}")
            clicked = top[1].button("Run", key=f"claim.{claim.id}.{dataset}", icon="▶️")
            try:
                outcome = evaluate(claim, dataset, clicked)
            except ValueError as err:
                st.error(str(err))
                continue
            if outcome is None:
                st.caption("Not run on this dataset yet.")
                continue
            verdict, results = outcome
            st.markdown(f"{BADGE[verdict.verdict]} {verdict.sentence}")
            with st.expander("The numbers and the runs behind it"):
                st.dataframe(numbers_table(verdict), hide_index=True)
                for result in results:
                    summary = charts.with_gaps(result.summary())
                    st.altair_chart(
                        charts.final_metric(summary, "final_val_loss", result.variant_order()),
                        width="stretch",
                    )
