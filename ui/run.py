"""Run a comparison from a page: replay instantly when stored, else train with visible progress.

Progress comes from core through a callback (never st.* inside a cached function, see
STREAMLIT_NOTES.md). Finished groups are stored by core as they finish and drawn here as they
arrive, so a person sees curves early and an interrupted run loses only the unfinished group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from core.results import ComparisonResult, RunResult
from core.runner import Progress, ProgressFn, run_comparison
from core.spec import Comparison
from ui.state import store


def stored_count(comparison: Comparison) -> int:
    return len(store().has([m.key for m in comparison.members()]))


def run(
    comparison: Comparison,
    key: str,
    live: Callable[[ComparisonResult], None] | None = None,
    separate: bool = False,
) -> ComparisonResult | None:
    """Replay or train `comparison`; remember the result for this page; None on a clear error."""
    missing = comparison.n_members - stored_count(comparison)
    try:
        if missing == 0:
            result = run_comparison(comparison, store())  # replay only: TensorFlow is not imported
        else:
            result = _train_with_status(comparison, missing, live, separate)
    except ValueError as err:  # bad data (offline download, vanished upload), spec limits
        st.error(str(err))
        return None
    st.session_state["results"][key] = result
    return result


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


def _train_with_status(comparison, missing, live, separate) -> ComparisonResult:
    def partial(runs: list[RunResult]) -> None:
        if live is not None:
            live(ComparisonResult(comparison, runs))

    with training_status(f"Training {missing} run(s)…", partial if live else None) as report:
        return run_comparison(comparison, store(), report, separate=separate)


def auto(
    comparison: Comparison,
    key: str,
    clicked: bool,
    default: Comparison,
    live: Callable[[ComparisonResult], None] | None = None,
    separate: bool = False,
) -> ComparisonResult | None:
    """What a page shows: on Run, the new comparison; on load, the page default (it trains in
    seconds) or any comparison already stored (a share link). Anything else waits for a click,
    so a link can never make the server train a large grid by itself."""
    if clicked or comparison == default or stored_count(comparison) == comparison.n_members:
        return run(comparison, key, live, separate)
    st.info(f"This comparison ({comparison.n_members} runs) has not been trained yet: press Run to train it.")
    return st.session_state["results"].get(key)
