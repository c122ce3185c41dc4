"""The claims overview's table: every claim, its verdict per dataset replayed from the store,
the counts, and the "run all" loop. The per-claim replay rules live in ui.claims_block."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.claims import CLAIMS, VERDICTS, Claim, Verdict, fmt, run_claim
from ui.claims_block import NOT_RUN, VERDICT_TEXT, mark_probed, stored_verdict
from ui.run import training_status
from ui.state import store


def claim_row(claim: Claim, dataset: str, outcome: Verdict | str | None) -> dict[str, str]:
    page = f"/{claim.topic}"
    if isinstance(outcome, Verdict):
        numbers = "; ".join(f"{k} = {fmt(v)}" for k, v in outcome.numbers.items())
        return {"id": claim.id, "topic": claim.topic, "claim": claim.text, "verdict": VERDICT_TEXT[outcome.verdict],
                "numbers": numbers, "sentence": outcome.sentence, "page": page}  # fmt: skip
    text = outcome if isinstance(outcome, str) else NOT_RUN
    return {"id": claim.id, "topic": claim.topic, "claim": claim.text, "verdict": text, "numbers": "",
            "sentence": "", "page": page}  # fmt: skip


def claims_rows(dataset: str, others: list[str] = ()) -> list[dict[str, str]]:
    """One row per claim for `dataset`, plus an "on <other>" verdict column per other dataset."""
    rows = []
    for c in CLAIMS.values():
        row = claim_row(c, dataset, stored_verdict(c, dataset))
        for other in others:
            outcome = stored_verdict(c, other)
            row[f"on {other}"] = (
                VERDICT_TEXT[outcome.verdict] if isinstance(outcome, Verdict) else outcome or NOT_RUN
            )
        rows.append(row)
    return rows


def verdict_counts(rows: list[dict[str, str]]) -> None:
    cols = st.columns(4)
    for col, (label, text) in zip(
        cols, [*((v, VERDICT_TEXT[v]) for v in VERDICTS), ("not run yet", NOT_RUN)]
    ):
        n = sum(r["verdict"] == text or (text == NOT_RUN and r["verdict"].startswith("n/a")) for r in rows)
        col.metric(label, n)


def claims_table(rows: list[dict[str, str]], dataset: str) -> None:
    others = [k for k in rows[0] if k.startswith("on ")] if rows else []
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        height=35 * (len(rows) + 1) + 3,  # every claim at once: no scrolling inside the table
        column_order=("id", "page", "claim", "verdict", *others, "numbers", "sentence"),
        column_config={
            "id": st.column_config.TextColumn("id", width="small"),
            "page": st.column_config.LinkColumn("topic page", display_text=r"^/(.*)$"),
            "claim": st.column_config.TextColumn("claim (our words)", width="large"),
            "verdict": st.column_config.TextColumn(f"verdict on {dataset}"),
            "numbers": st.column_config.TextColumn(f"the numbers ({dataset})", width="large"),
            "sentence": st.column_config.TextColumn("in a sentence", width="large"),
        },
    )


def run_all(dataset: str, rows: list[dict[str, str]], redraw) -> None:
    """Run every claim that has no verdict on `dataset` yet (stored ones are skipped, and
    stored runs inside a claim replay), redrawing the table after each claim."""
    todo = [i for i, r in enumerate(rows) if r["verdict"] == NOT_RUN]
    with training_status(f"Running {len(todo)} claim(s) on {dataset}…") as report:
        overall = st.progress(0.0, text=f"0 of {len(todo)} claims")
        for n, i in enumerate(todo, start=1):
            claim = list(CLAIMS.values())[i]
            try:
                outcome: Verdict | str = run_claim(claim.id, dataset, store(), report)
                mark_probed(claim, dataset)
            except ValueError as err:
                outcome = f"n/a: {err}"
            rows[i] = {**rows[i], **claim_row(claim, dataset, outcome)}
            overall.progress(n / len(todo), text=f"{n} of {len(todo)} claims · {claim.id} done")
            redraw(rows)
