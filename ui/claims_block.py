"""'What the notes claim': a topic's claims, each with a Run button, its verdict and the numbers.

A verdict is computed from runs, never written down: the block replays the claim's presets when
the store has them (instant, shown on load) and trains them only when asked.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.claims import CLAIMS, Claim, Verdict, claims_for, run_claim
from core.results import ComparisonResult
from core.runner import run_comparison
from ui import charts
from ui.run import training_status
from ui.state import store

VERDICT_TEXT = {"holds": "✅ holds", "does not hold": "❌ does not hold", "inconclusive": "🟠 inconclusive"}
NOT_RUN = "not run"


@st.cache_resource(show_spinner=False)
def _probed() -> set[tuple[str, str]]:
    """(claim, dataset) whose preset needed a range test that this server process has run, so
    asking for the preset again is instant (core.claims.rules caches the probe per process)."""
    return set()


def claim_keys(claim: Claim, dataset: str) -> tuple[str, ...] | None:
    """Member keys of the claim's presets on `dataset`; None when finding them would train (a
    claim whose preset starts with an LR range test, not yet run in this process)."""
    if claim.probe and (claim.id, dataset) not in _probed():
        return None
    return tuple(dict.fromkeys(m.key for c in claim.comparisons(dataset) for m in c.members()))


@st.cache_data(show_spinner=False, max_entries=1024)
def _replayed_verdict(claim_id: str, dataset: str, keys: tuple[str, ...]) -> Verdict:
    """Replay a claim whose runs are all stored and decide it. Keyed by the run keys, which
    name immutable stored results, so a cached verdict can never go stale; a deleted run makes
    the caller see the claim as not run before it gets here."""
    claim = CLAIMS[claim_id]
    return claim.decide([run_comparison(c, store()) for c in claim.comparisons(dataset)], dataset)


def stored_verdict(claim: Claim, dataset: str) -> Verdict | str | None:
    """The claim's verdict on `dataset` when its runs are all stored; None when not run; a
    message when the claim cannot be set up on this dataset."""
    try:
        keys = claim_keys(claim, dataset)
    except ValueError as err:
        return f"n/a: {err}"
    if keys is None or len(store().has(keys)) < len(keys):
        return None
    return _replayed_verdict(claim.id, dataset, keys)


def mark_probed(claim: Claim, dataset: str) -> None:
    _probed().add((claim.id, dataset))


BADGE = {"holds": ":green-badge[holds]", "does not hold": ":red-badge[does not hold]",
         "inconclusive": ":orange-badge[inconclusive]"}  # fmt: skip


def numbers_table(verdict: Verdict) -> pd.DataFrame:
    return pd.DataFrame(
        {"measure": list(verdict.numbers), "value": [str(v) for v in verdict.numbers.values()]}
    )


def claim_results(claim: Claim, dataset: str) -> list[ComparisonResult]:
    """The stored runs behind a claim's verdict (replay only: call after the claim has run)."""
    return [run_comparison(c, store()) for c in claim.comparisons(dataset)]


def _run(claim: Claim, dataset: str) -> Verdict:
    with training_status(f"{claim.id}: running its comparison(s)…") as report:
        verdict = run_claim(claim.id, dataset, store(), report)
    mark_probed(claim, dataset)
    return verdict


def show(topic: str, dataset: str = "digits") -> None:
    """Draw the block for one topic page: stored verdicts replay on load; Run trains the rest."""
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
                outcome = _run(claim, dataset) if clicked else stored_verdict(claim, dataset)
            except ValueError as err:
                st.error(str(err))
                continue
            if not isinstance(outcome, Verdict):
                st.caption(outcome or "Not run on this dataset yet: press Run.")
                continue
            st.markdown(f"{BADGE[outcome.verdict]} {outcome.sentence}")
            if st.toggle(
                "Show the numbers and the runs", value=clicked, key=f"claim.{claim.id}.{dataset}.show"
            ):
                st.dataframe(numbers_table(outcome), hide_index=True)
                for result in claim_results(claim, dataset):
                    summary = charts.with_gaps(result.summary())
                    chart = charts.final_metric(summary, "final_val_loss", result.variant_order())
                    st.altair_chart(chart, width="stretch")
