"""'What the notes claim': a topic's claims, each with a Run button, its verdict and the numbers.

A verdict is computed from runs, never written down: the block replays the claim's presets when
the store has them (instant, shown on load) and trains them only when asked. A claim measured on
this machine's clock (RG3) is timed fresh on every Run and never replayed; its last verdict in
this server process is kept so the page can show it again. With WHATIF_QUICK=1 (tests, demos)
every claim runs its fast preset (small data, few epochs), here and in the overview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from core.claims import (
    CLAIMS,
    MAP_DATASETS,
    Claim,
    Verdict,
    claims_for,
    fmt,
    preset_comparisons,
    preset_keys,
    run_claim,
)
from core.results import ComparisonResult
from core.runner import run_comparison
from core.tuned_claims import TUNABLE, run_claim_tuned
from ui import charts
from ui.run import training_status
from ui.session import quick, store
from ui.text import plain

VERDICT_TEXT = {"holds": "✅ holds", "does not hold": "❌ does not hold", "inconclusive": "🟠 inconclusive"}
BADGE = {
    "holds": ":green-badge[holds]",
    "does not hold": ":red-badge[does not hold]",
    "inconclusive": ":orange-badge[inconclusive]",
}
SENTENCE_CHARS = 5000  # a verdict's sentence is escaped whole, never shortened (plain() cuts at 200)
# A decimal with more digits than three significant figures need, inside a rule's text value.
_LONG_DECIMAL = re.compile(r"-?\d+\.\d{4,}(?:e[+-]?\d+)?")
NOT_RUN = "not run"
RULE_TEXT = (
    "**holds**: the effect points the way the notes say and a one-sided test at the 5% level rules out "
    "chance; **does not hold**: the effect is significant the other way, or its interval lies within the "
    "claim's practical margin; **inconclusive**: neither, with an estimate of how many seeds would decide it."
)


@st.cache_resource(show_spinner=False)
def _probed() -> set[tuple[str, str]]:
    """(claim, dataset) whose preset needed a range test that this server process has run, so
    asking for the preset again is instant (core.claims.learning_rate caches the probe)."""
    return set()


@st.cache_resource(show_spinner=False)
def _fresh_verdicts() -> dict[tuple[str, str], Verdict]:
    """Last verdict per (claim, dataset) of the claims timed fresh (never stored), this process."""
    return {}


def claim_keys(claim: Claim, dataset: str) -> tuple[str, ...] | None:
    """Member keys of the claim's presets on `dataset` (built once per process by
    core.claims.preset_keys); None when finding them would train (a claim whose preset starts with
    an LR range test, not yet run in this process)."""
    if claim.probe and (claim.id, dataset) not in _probed():
        return None
    return preset_keys(claim.id, dataset, quick())


@st.cache_data(show_spinner=False, max_entries=1024)
def _replayed_verdict(claim_id: str, dataset: str, keys: tuple[str, ...]) -> Verdict:
    """Replay a claim whose runs are all stored and decide it. Keyed by the run keys, which
    name immutable stored results, so a cached verdict can never go stale; a deleted run makes
    the caller see the claim as not run before it gets here."""
    comparisons = preset_comparisons(claim_id, dataset, quick())
    return CLAIMS[claim_id].decide([run_comparison(c, store()) for c in comparisons], dataset)


def stored_verdict(claim: Claim, dataset: str) -> Verdict | str | None:
    """The claim's verdict on `dataset` when its runs are all stored (or, for a fresh-timed claim,
    when it ran in this process); None when not run; a message when the claim cannot be set up
    on this dataset."""
    if claim.fresh:
        return _fresh_verdicts().get((claim.id, dataset))
    try:
        keys = claim_keys(claim, dataset)
    except ValueError as err:
        return f"n/a: {err}"
    if keys is None or len(store().has(keys)) < len(keys):
        return None
    return _replayed_verdict(claim.id, dataset, keys)


def mark_probed(claim: Claim, dataset: str) -> None:
    _probed().add((claim.id, dataset))


def remember(verdict: Verdict) -> None:
    """After a claim ran: a fresh-timed verdict is kept for this process (others are in the store)."""
    if CLAIMS[verdict.id].fresh:
        _fresh_verdicts()[(verdict.id, verdict.dataset)] = verdict


def shown(value: Any) -> str:
    """A measured value as the user reads it: three significant figures, also inside lists,
    mappings and text values that carry long decimals (a rule may store '0.1234567/2.0460458')."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {shown(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "/".join(shown(v) for v in value)
    if isinstance(value, str):
        return _LONG_DECIMAL.sub(lambda m: fmt(float(m.group())), value)
    return fmt(value)


def numbers_table(verdict: Verdict) -> pd.DataFrame:
    """The deciding test first, then every measured number, all at three significant figures."""
    low, high = verdict.ci
    rows = [
        ("test", verdict.test),
        ("effect", f"{fmt(verdict.effect)} {verdict.unit}"),
        ("90% interval", f"{fmt(low)} to {fmt(high)}"),
        ("one-sided p", fmt(verdict.p_value)),
        ("seeds", fmt(verdict.seeds)),
        ("practical margin", f"±{fmt(verdict.margin)}"),
    ]
    if verdict.seeds_needed is not None:
        rows.append(("seeds that would decide it", fmt(verdict.seeds_needed)))
    rows += [(k.replace("_", " "), shown(v)) for k, v in verdict.numbers.items()]
    return pd.DataFrame(rows, columns=["measure", "value"])


def parts_table(verdict: Verdict) -> pd.DataFrame | None:
    """One row per part of a multi-part claim (None for a single test)."""
    if len(verdict.parts) < 2:
        return None
    return pd.DataFrame(
        [
            {
                "part": shown(p["label"]),
                "verdict": VERDICT_TEXT[p["verdict"]],
                "test": p["test"],
                "effect": f"{fmt(p['effect'])} {p['unit']}",
                "90% interval": f"{fmt(p['ci'][0])} to {fmt(p['ci'][1])}",
                "p": fmt(p["p_value"]),
                "seeds": fmt(p["seeds"]),
            }
            for p in verdict.parts
        ]
    )


def claim_results(claim: Claim, dataset: str) -> list[ComparisonResult]:
    """The stored runs behind a claim's verdict (replay only: call after the claim has run)."""
    return [run_comparison(c, store()) for c in preset_comparisons(claim.id, dataset, quick())]


def run_now(claim: Claim, dataset: str) -> Verdict:
    with training_status(f"{claim.id}: running its comparison(s)…") as report:
        verdict = run_claim(claim.id, dataset, store(), report, fast=quick())
    mark_probed(claim, dataset)
    remember(verdict)
    return verdict


def elsewhere(claim: Claim, dataset: str) -> str:
    """Verdicts already stored for the other map datasets ('' when none): a page whose default
    dataset is not where the claim was run still shows what is known."""
    known = []
    for other in MAP_DATASETS:
        if other == dataset:
            continue
        outcome = stored_verdict(claim, other)
        if isinstance(outcome, Verdict):
            known.append(f"{other}: {VERDICT_TEXT[outcome.verdict]}")
    return "Stored on other datasets: " + " · ".join(known) if known else ""


def _show_verdict(claim: Claim, dataset: str, outcome: Verdict, expanded: bool) -> None:
    # The badge says the verdict; the sentence (no verdict word) names the dataset, which may be
    # a visitor's upload: escaped whole.
    st.markdown(f"{BADGE[outcome.verdict]} {plain(outcome.sentence, SENTENCE_CHARS)}")
    if not st.toggle("Show the numbers and the runs", value=expanded, key=f"claim.{claim.id}.{dataset}.show"):
        return
    st.dataframe(numbers_table(outcome), hide_index=True)
    parts = parts_table(outcome)
    if parts is not None:
        st.dataframe(parts, hide_index=True)
    if claim.fresh:
        st.caption("These runs were timed fresh on this machine and are not kept.")
        return
    for result in claim_results(claim, dataset):
        summary = charts.with_gaps(result.summary())
        st.altair_chart(
            charts.final_metric(summary, "final_val_loss", result.variant_order()), width="stretch"
        )


def show(topic: str, dataset: str = "digits") -> None:
    """Draw the block for one topic page: stored verdicts replay on load; Run trains the rest."""
    st.subheader("What the notes claim")
    st.caption(
        f"Each verdict is computed from runs on **{plain(dataset)}**, trained on demand and stored for everyone. "
        + RULE_TEXT
    )
    for claim in claims_for(topic):
        with st.container(border=True):
            top = st.columns([6, 1])
            top[0].markdown(f"**{claim.id}** — {claim.text}")
            top[0].caption(
                f"Decided by: {claim.measurement} Practical margin: ±{fmt(claim.margin)} {claim.unit} "
                f"({claim.margin_why})."
            )
            clicked = top[1].button("Run", key=f"claim.{claim.id}.{dataset}", icon="▶️")
            try:
                outcome = run_now(claim, dataset) if clicked else stored_verdict(claim, dataset)
            except ValueError as err:
                st.error(plain(err, SENTENCE_CHARS))
                continue
            if isinstance(outcome, Verdict):
                _show_verdict(claim, dataset, outcome, clicked)
            else:
                st.caption(
                    plain(outcome, SENTENCE_CHARS) if outcome else "Not run on this dataset yet: press Run."
                )
            known = elsewhere(claim, dataset)
            if known:
                st.caption(known)
            if claim.id in TUNABLE:
                tuned_block(claim, dataset)


def tuned_block(claim: Claim, dataset: str) -> None:
    """TUNING: the claim decided again with every arm at its own best learning rate, beside the
    verdict at the notes' fixed rate; a verdict that flips is said loudly (core.tuned_claims)."""
    state = f"claim.{claim.id}.{dataset}.tuned"
    if st.button("Decide it again with each arm at its own best learning rate", key=f"{state}.go", icon="🎯"):
        with training_status(f"{claim.id}: tuning each arm's learning rate…") as report:
            try:
                st.session_state[state] = run_claim_tuned(claim.id, dataset, store(), report, fast=quick())
            except ValueError as err:
                st.error(plain(err, SENTENCE_CHARS))
    tv = st.session_state.get(state)
    if tv is None:
        return
    if tv.flipped:
        st.warning(
            f"**The verdict flips under tuning**: {VERDICT_TEXT[tv.fixed.verdict]} at the notes' fixed rate, "
            f"{VERDICT_TEXT[tv.tuned.verdict]} with every arm at its own best rate. The fixed-rate verdict "
            "measured which arm that rate suits."
        )
    st.markdown(f"At its own best rate: {BADGE[tv.tuned.verdict]} {plain(tv.tuned.sentence, SENTENCE_CHARS)}")
    st.dataframe(
        pd.DataFrame([{**a, "variant": shown(a["variant"]) or "-"} for a in tv.arms]), hide_index=True
    )
