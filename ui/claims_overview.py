"""The claims overview: every claim's verdict per dataset replayed from the store, the robustness
map (claims x datasets), the claims whose verdict changes with the dataset, and the loops that
run what is missing. The per-claim replay rules live in ui.claims_block."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import altair as alt
import pandas as pd
import streamlit as st

from core.claims import CLAIMS, MAP_DATASETS, VERDICTS, Claim, Verdict, fmt, run_claim
from ui.claims_block import NOT_RUN, VERDICT_TEXT, mark_probed, remember, shown, stored_verdict
from ui.nav import PAGES
from ui.run import training_status
from ui.session import quick, store

# Map colours: green / red / orange as the badges, grey for "not run", light grey for n/a.
MAP_COLORS = {
    "holds": "#2e7d32",
    "does not hold": "#c62828",
    "inconclusive": "#ef6c00",
    NOT_RUN: "#bdbdbd",
    "n/a": "#eeeeee",
}
CELL_PX = 26  # one claim per row of the map: tall enough for its label
# The table's rows are as tall as the longest claim needs, so claim text wraps and is never cut:
# Streamlit wraps cell text only when row_height exceeds 4rem (64 px).
WRAP_MIN_PX = 65
LINE_PX = 21  # one line of table text at the default font size
ROW_PAD_PX = 10  # the cell's top and bottom padding
CLAIM_LINE_CHARS = 48  # characters per line of a "large" (400 px) column
PAGE_TITLES = {p.path.removeprefix("pages/").removesuffix(".py"): p.title for p in PAGES}


def claim_row(claim: Claim, dataset: str, outcome: Verdict | str | None) -> dict[str, str]:
    base = {
        "id": claim.id,
        "topic": PAGE_TITLES.get(claim.topic, claim.topic),
        "claim": claim.text,
        "page": f"/{claim.topic}",
    }
    if isinstance(outcome, Verdict):
        low, high = outcome.ci
        numbers = "; ".join(f"{k.replace('_', ' ')} = {shown(v)}" for k, v in outcome.numbers.items())
        return {
            **base,
            "verdict": VERDICT_TEXT[outcome.verdict],
            "test": outcome.test,
            "effect": f"{fmt(outcome.effect)} {outcome.unit}",
            "interval": f"{fmt(low)} to {fmt(high)}",
            "p": fmt(outcome.p_value),
            "seeds": fmt(outcome.seeds),
            "numbers": numbers,
            "sentence": outcome.sentence,
        }
    text = outcome if isinstance(outcome, str) else NOT_RUN
    return {
        **base,
        "verdict": text,
        "test": "",
        "effect": "",
        "interval": "",
        "p": "",
        "seeds": "",
        "numbers": "",
        "sentence": "",
    }


def claims_rows(dataset: str, others: Sequence[str] = ()) -> list[dict[str, str]]:
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


def row_height(rows: list[dict[str, str]]) -> int:
    """Pixels per row so that the longest claim wraps in full (and at least the height at which
    Streamlit wraps at all)."""
    lines = max((math.ceil(len(r["claim"]) / CLAIM_LINE_CHARS) for r in rows), default=1)
    return max(WRAP_MIN_PX, lines * LINE_PX + ROW_PAD_PX)


def claims_table(rows: list[dict[str, str]], dataset: str) -> None:
    others = [k for k in rows[0] if k.startswith("on ")] if rows else []
    height = row_height(rows)
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        row_height=height,
        height=height * len(rows) + 38,  # every claim at once (+ the header): no scrolling inside
        column_order=(
            "id",
            "topic",
            "claim",
            "verdict",
            *others,
            "effect",
            "interval",
            "p",
            "seeds",
            "test",
            "sentence",
            "numbers",
            "page",
        ),
        column_config={
            "id": st.column_config.TextColumn("id", width="small"),
            "topic": st.column_config.TextColumn("topic page"),
            "page": st.column_config.LinkColumn("open", display_text="open ↗", width="small"),
            "claim": st.column_config.TextColumn("claim (our words)", width="large"),
            "verdict": st.column_config.TextColumn(f"verdict on {dataset}"),
            "interval": st.column_config.TextColumn("90% interval"),
            "p": st.column_config.TextColumn("one-sided p"),
            "numbers": st.column_config.TextColumn(f"the numbers ({dataset})", width="large"),
            "sentence": st.column_config.TextColumn("in a sentence", width="large"),
        },
    )


def run_missing(
    dataset: str, rows: list[dict[str, str]], redraw: Callable[[list[dict[str, str]]], None]
) -> None:
    """Run every claim that has no verdict on `dataset` yet (stored ones are skipped, and
    stored runs inside a claim replay), redrawing the table after each claim."""
    todo = [i for i, r in enumerate(rows) if r["verdict"] == NOT_RUN]
    claims = list(CLAIMS.values())
    with training_status(f"Running {len(todo)} claim(s) on {dataset}…") as report:
        overall = st.progress(0.0, text=f"0 of {len(todo)} claims")
        for n, i in enumerate(todo, start=1):
            outcome = _run_one(claims[i], dataset, report)
            rows[i] = {**rows[i], **claim_row(claims[i], dataset, outcome)}
            overall.progress(n / len(todo), text=f"{n} of {len(todo)} claims · {claims[i].id} done")
            redraw(rows)


run_all = run_missing  # the page's historical name for the loop


def _run_one(claim: Claim, dataset: str, report) -> Verdict | str:
    try:
        verdict = run_claim(claim.id, dataset, store(), report, fast=quick())
    except ValueError as err:
        return f"n/a: {err}"  # shown in a table cell (not Markdown)
    mark_probed(claim, dataset)
    remember(verdict)
    return verdict


# -- the robustness map --------------------------------------------------------------------------
def map_frame(datasets: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per (claim, dataset) with the stored verdict and the numbers behind it."""
    rows = []
    for c in CLAIMS.values():
        for d in datasets or MAP_DATASETS:
            outcome = stored_verdict(c, d)
            if isinstance(outcome, Verdict):
                low, high = outcome.ci
                rows.append(
                    {
                        "claim": c.id,
                        "dataset": d,
                        "verdict": outcome.verdict,
                        "effect": f"{fmt(outcome.effect)} {outcome.unit}",
                        "interval": f"{fmt(low)} to {fmt(high)}",
                        "p": fmt(outcome.p_value),
                        "seeds": fmt(outcome.seeds),
                        "test": outcome.test,
                    }
                )
            else:
                state = "n/a" if isinstance(outcome, str) else NOT_RUN
                rows.append(
                    {
                        "claim": c.id,
                        "dataset": d,
                        "verdict": state,
                        "effect": "",
                        "interval": "",
                        "p": "",
                        "seeds": "",
                        "test": "",
                    }
                )
    return pd.DataFrame(rows)


def robustness_map(frame: pd.DataFrame) -> alt.Chart:
    """Heatmap claims x datasets, colour = verdict, tooltip = effect, interval, p, seeds."""
    order = list(MAP_COLORS)
    return (
        alt.Chart(frame)
        .mark_rect(stroke="white")
        .encode(
            x=alt.X(
                "dataset:N",
                sort=list(dict.fromkeys(frame["dataset"])),
                title=None,
                axis=alt.Axis(orient="top"),
            ),
            y=alt.Y("claim:N", sort=list(CLAIMS), title=None),
            color=alt.Color(
                "verdict:N",
                scale=alt.Scale(domain=order, range=[MAP_COLORS[v] for v in order]),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["claim", "dataset", "verdict", "effect", "interval", "p", "seeds", "test"],
        )
        .properties(height=CELL_PX * frame["claim"].nunique())
    )


def dataset_dependent(frame: pd.DataFrame) -> list[str]:
    """Claims that hold on at least one dataset and do not hold on another (decided verdicts only)."""
    out = []
    for claim, g in frame.groupby("claim", sort=False):
        verdicts = set(g["verdict"])
        if "holds" in verdicts and "does not hold" in verdicts:
            held = ", ".join(g.loc[g["verdict"] == "holds", "dataset"])
            failed = ", ".join(g.loc[g["verdict"] == "does not hold", "dataset"])
            out.append(f"**{claim}** holds on {held} but not on {failed}")
    return out


def fill_map(datasets: Sequence[str] | None = None) -> int:
    """Run every claim on every map dataset that has no stored verdict yet, with progress;
    returns how many ran."""
    datasets = datasets or MAP_DATASETS
    todo = [(c, d) for d in datasets for c in CLAIMS.values() if stored_verdict(c, d) is None]
    with training_status(f"Running {len(todo)} claim(s) across {len(datasets)} datasets…") as report:
        overall = st.progress(0.0, text=f"0 of {len(todo)}")
        for n, (claim, dataset) in enumerate(todo, start=1):
            _run_one(claim, dataset, report)
            overall.progress(n / len(todo), text=f"{n} of {len(todo)} · {claim.id} on {dataset} done")
    return len(todo)
