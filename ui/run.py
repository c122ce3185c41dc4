"""Run a comparison from a page: replay instantly when stored, else train with visible progress.

Three rules, each written once here: `auto` (a page's main comparison: trains on Run or when it
is the page default), `on_demand` (an extra comparison behind its own button: trains on the
click, replays on load once stored) and `run` (replay or train, then remember for the page).

Progress comes from core through a callback (never st.* inside a cached function, see
STREAMLIT_NOTES.md). Finished groups are stored by core as they finish and drawn here as they
arrive, so a person sees curves early and an interrupted run loses only the unfinished group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from core.results import ComparisonResult, RunResult, labelled
from core.runner import Progress, ProgressFn, run_comparison
from core.spec import Comparison
from core.variants import RunPlan
from ui import jobs
from ui.builder import Preset, comparison_builder
from ui.labels import shorten
from ui.session import quick, show_banner, store
from ui.text import public_error

Runnable = RunPlan  # a Comparison or a VariantSet (multi-knob variants with their own labels)


def stored_count(comparison: Runnable) -> int:
    """How many of the comparison's runs the store already holds (all of them: a replay)."""
    return len(store().has([m.key for m in comparison.members()]))


def run(
    comparison: Runnable,
    key: str,
    live: Callable[[ComparisonResult], None] | None = None,
    separate: bool = False,
    clicked: bool = False,
) -> ComparisonResult | None:
    """Replay or train `comparison`; remember the result for this page; None on a clear error or
    while it trains. Training never blocks the page: it is a job (ui.jobs) that trains in the
    background and survives the tab; its progress view draws finished groups (`live`) as they land
    and reruns the page when all are stored. `clicked` (a Run press) retries a failed job.
    A VariantSet's result carries its variant labels; every label is in ui.labels' short scheme."""
    missing = comparison.n_members - stored_count(comparison)
    try:
        if missing == 0:
            result = run_comparison(comparison, store())  # replay only: TensorFlow is not imported
        else:
            result = _train_in_background(comparison, missing, live, separate, clicked)
    except ValueError as err:  # bad data (offline download, vanished upload), spec limits
        st.error(public_error(err))  # escaped, and no server path on a public page
        return None
    if result is None:
        return None
    result = shorten(labelled(result))
    st.session_state["results"][key] = result
    return result


def _train_in_background(comparison, missing, live, separate, clicked) -> ComparisonResult | None:
    """Submit (or attach to) the job for the missing runs; its result once done, else None while
    the progress view follows it. A short job finishes within the inline wait and shows at once."""
    job = jobs.submit(comparison, separate, again=clicked)
    job.wait(jobs.inline_wait())
    if store().unsaved:  # saving stopped in the job's thread (a full disk): say so on this page
        show_banner(store())
    if job.status == "done":
        return job.result
    if job.status == "failed":
        st.error(job.error or "Training failed.")
        return None

    def partial(runs: list[RunResult]) -> None:
        if live is not None:
            live(shorten(labelled(ComparisonResult(comparison, runs))))

    st.caption(f"Training {missing} run(s) in the background: the rest of the page stays usable.")
    jobs.progress_view(job.key, partial if live else None)
    return None


@contextmanager
def training_status(
    label: str, live: Callable[[list[RunResult]], None] | None = None
) -> Iterator[ProgressFn]:
    """A status box with a progress bar, ETA and queue message; yields core's progress callback."""
    finished: list[RunResult] = []
    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0)
        note = st.empty()
        area = st.empty()

        def report(p: Progress) -> None:
            done = (p.group - 1 + (p.epoch / p.epochs if p.epochs else 0)) / max(p.groups, 1)
            if p.phase == "waiting":
                note.info(
                    f"Waiting for {max(p.ahead, 1)} training(s) ahead of this one (one at a time on this machine)…"
                )
            elif p.phase == "training":
                eta = f" · about {p.eta:.0f} s left in this group" if p.eta is not None else ""
                bar.progress(min(done, 1.0))
                note.write(
                    f"Group {p.group} of {p.groups} ({p.runs} run(s) stacked): epoch {p.epoch}/{p.epochs}{eta}"
                )
            elif p.phase == "stored" and live is not None:
                finished.extend(p.finished)
                with area.container():
                    live(list(finished))

        yield report
        bar.progress(1.0)
        status.update(label="Done: results stored for everyone", state="complete", expanded=False)


def auto(
    comparison: Runnable,
    key: str,
    clicked: bool,
    default: Runnable,
    live: Callable[[ComparisonResult], None] | None = None,
    separate: bool = False,
) -> ComparisonResult | None:
    """What a page shows: on Run, the new comparison; on load, the page default (it trains in
    seconds) or any comparison already stored (a share link). Anything else waits for a click,
    so a link can never make the server train a large grid by itself."""
    if clicked or comparison == default or stored_count(comparison) == comparison.n_members:
        return run(comparison, key, live, separate, clicked)
    stored, n = stored_count(comparison), comparison.n_members
    st.info(
        f"{stored} of the {n} runs of this comparison are stored: press Run to train the other {n - stored}."
        if stored
        else f"This comparison ({n} runs) has not been trained yet: press Run to train it."
    )
    return st.session_state["results"].get(key)


def built(key: str, preset: Preset, knobs: tuple[str, ...]) -> tuple[Comparison, ComparisonResult | None]:
    """A page's builder and its main result, for a page that runs the builder's comparison as it
    is: the comparison asked for, and what auto() shows for it (None while it waits for Run)."""
    comparison, clicked = comparison_builder(key, preset, knobs=knobs)
    return comparison, auto(comparison, key, clicked, preset.comparison())


def auto_expanded(
    key: str,
    clicked: bool,
    asked: Callable[[], tuple[Runnable, list[str]]],
    default: Callable[[], tuple[Runnable, list[str]]],
) -> ComparisonResult | None:
    """auto() for a page whose variants are expanded from its builder's comparison (the
    `(variants, skipped)` of core.topics.gradients.expand, for what was asked and for the page's
    default): a spec the expansion refuses stops the page with the reason, skipped changes are named."""
    try:
        variants, skipped = asked()
        default_variants, _ = default()
    except ValueError as err:
        st.error(f"Not run: {public_error(err)}")
        st.stop()
    if skipped:
        st.caption("Left out: " + "; ".join(skipped))
    return auto(variants, key, clicked, default_variants)


def groups(comparison: Runnable) -> int:
    """How many separately compiled models a comparison trains (the cost a button should quote)."""
    return len({m.group_key for m in comparison.members()})


def stacked_note(comparison: Runnable, detail: str = "") -> str:
    """An on-demand button's cost note: how many runs, in how many stacked models, and what.
    Families with their own procedure (ensembles, level-by-level, ...) train net by net: said so."""
    what = f": {detail}" if detail else ""
    if any(m.family not in ("stacked", "recurrent") for m in comparison.members()):
        return f"{comparison.n_members} runs, each trained on its own{what}."
    return f"{comparison.n_members} runs in {groups(comparison)} stacked models{what}."


def on_demand(
    comparison: Runnable,
    key: str,
    label: str | None = None,
    note: str | None = None,
    clicked: bool | None = None,
    separate: bool = False,
) -> ComparisonResult | None:
    """An extra comparison of a section, too large to train on page load: trained when clicked,
    replayed whenever the store already has every run (a grid someone trained shows for everyone,
    instantly), or this session's earlier result for it; otherwise None and the `note`.

    With `label` the helper draws its own button; a section whose button or form serves several
    comparisons passes `clicked` instead."""
    if clicked is None:
        clicked = st.button(label or "Run", key=f"{key}.run", icon="▶️")
    if clicked or stored_count(comparison) == comparison.n_members:
        return run(comparison, key, separate=separate, clicked=bool(clicked))
    previous = st.session_state["results"].get(key)
    if previous is not None and previous.comparison == comparison:
        return shorten(labelled(previous))
    if note:
        st.caption(note)
    return None


PREVIEW_SEEDS = 2  # a section's look at a claim's preset: the claim itself trains 8 or more


def claim_preview(
    claim_id: str, dataset: str, key: str, label: str, detail: Callable[[Any], str]
) -> ComparisonResult | None:
    """A section's look at a claim's own (single) preset with PREVIEW_SEEDS seeds, behind its Run
    button (on_demand); quick mode shrinks it as it shrinks the claim. `detail(baseline)` finishes
    the button's cost note."""
    from core.claims import CLAIMS

    (plan,) = CLAIMS[claim_id].comparisons(dataset, fast=quick(), seeds=PREVIEW_SEEDS)
    return on_demand(plan, key, label, stacked_note(plan, detail(plan.baseline)))
