"""Training jobs that outlive a script run: submit, attach, follow progress in a fragment.

Why: training inside a page's script run blocks that session (the page sits in `st.status`),
and closing the tab loses the progress display. Here Run submits a job that trains in a thread
of the server process (the arithmetic itself happens in the worker process when the worker
backend is selected: core.backends.worker), and the page returns at once. A job is keyed by its
run keys, so a second session asking for the same runs attaches to the running job instead of
training them again, sees the same progress and gets the same result; a job survives its tab
closing. The store stays the source of truth: the runner stores every finished group as it
lands, and a job only keeps what it needs to show progress and hand back the result.

API for pages (ui.run):
- `submit(comparison, separate=False, again=False) -> Job`: the job for these runs (the running
  one, a finished one, or a new one); `again=True` replaces a failed or finished job.
- `job.status` (queued/running/done/failed), `job.progress` (core.runner.Progress),
  `job.finished` (runs stored so far), `job.result`, `job.error`.
- `progress_view(key, live=None)`: a `st.fragment(run_every=...)` that shows a job's progress,
  calls `live(runs)` with the finished groups as they land, and reruns the page once when the
  job is done (ui.run draws it for a job that did not finish within the inline wait).
- `start_app_backend(defaults)`: once per server process, selects the worker backend unless
  WHATIF_BACKEND says otherwise and warms it (ui.warm.warm_start): the shapes of the page defaults
  already stored are traced, the missing defaults are trained and stored while nobody else trains.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from core.results import ComparisonResult, RunResult
from core.runner import Progress, run_comparison
from core.spec import Comparison
from core.store import RunStore, set_owner
from core.variants import VariantSet

Runnable = Comparison | VariantSet
RunFn = Callable[..., ComparisonResult]
LOG = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # how often a progress view redraws: ETA and epochs move about this fast
# Seconds a page waits for its job before showing the progress view instead: a job that ends
# within it shows its result in the same script run, without a progress flash, a poll and a second
# run of the page (together ~2 s more here). A page-sized comparison of traced shapes trains in
# 1-3 s on a 2-core CPU, so 3 s covers most Runs; a longer job shows its progress 3 s after Run.
# Tests set it high, so a page script run ends with its result through the very same job path.
INLINE_WAIT_ENV = "WHATIF_INLINE_WAIT"
INLINE_WAIT_SECONDS = 3.0
# Finished jobs kept for sessions that attach late or rerun: each holds a ComparisonResult (a few
# MB of frames at most), and the store can replay any of them anyway once it is forgotten.
KEEP_FINISHED = 32
ACTIVE = ("queued", "running")
CRASHED = (
    "The training worker stopped during this job ({why}). Groups that had finished are stored; "
    "press Run again to train the rest."
)


def inline_wait() -> float:
    """The inline wait (seconds, >= 0) from WHATIF_INLINE_WAIT, else INLINE_WAIT_SECONDS."""
    try:
        return max(0.0, float(os.environ.get(INLINE_WAIT_ENV, INLINE_WAIT_SECONDS)))
    except ValueError:
        return INLINE_WAIT_SECONDS


def job_key(comparison: Runnable, separate: bool = False) -> str:
    """The identity of a job: its run keys (in member order) and whether members train alone."""
    keys = "|".join(m.key for m in comparison.members())
    return hashlib.sha256(f"{int(separate)}|{keys}".encode()).hexdigest()[:24]


@dataclass
class Job:
    """One comparison being trained in a thread; read from any session, written by its thread."""

    key: str
    comparison: Runnable
    separate: bool = False
    status: str = "queued"
    progress: Progress | None = None
    finished: list[RunResult] = field(default_factory=list)
    result: ComparisonResult | None = None
    error: str | None = None
    submitted: float = field(default_factory=time.time)
    ended: float | None = None
    sessions: int = 1  # how many submissions attached to this job (1 = only its starter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    thread: threading.Thread | None = field(default=None, repr=False, compare=False)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def report(self, p: Progress) -> None:
        """The runner's progress callback (called in the job's thread)."""
        with self.lock:
            self.status = "running"
            self.progress = p
            if p.phase == "stored":
                self.finished.extend(p.finished)

    def runs(self) -> list[RunResult]:
        """A copy of the runs finished so far (safe to draw while the job goes on)."""
        with self.lock:
            return list(self.finished)

    def fraction(self) -> float:
        """Share of the job done, from its groups and epochs (0 while queued)."""
        p = self.progress
        if self.status == "done":
            return 1.0
        if p is None or p.groups == 0:
            return 0.0
        within = p.epoch / p.epochs if p.phase == "training" and p.epochs else float(p.phase == "stored")
        return min(1.0, (p.group - 1 + within) / p.groups)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (tests, the CLI); True if it did."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)
        return not self.active


def failure_text(err: BaseException) -> str:
    """What a page says about a failed job: no server paths (ui.text.public_error)."""
    from core.backends.worker import WorkerCrashed
    from ui.text import public_error

    if isinstance(err, WorkerCrashed):
        why = str(err).removeprefix("the training worker stopped (").split(")")[0]
        return CRASHED.format(why=why)
    if isinstance(err, ValueError):  # bad data, spec limits: the message is for the visitor
        return public_error(err)
    return f"Training failed ({type(err).__name__}); the log has the details. Press Run again to retry."


class JobRegistry:
    """Jobs by key; one thread per job; finished ones kept for KEEP_FINISHED more submissions."""

    def __init__(self, store: Callable[[], RunStore | None], run: RunFn = run_comparison) -> None:
        self.store, self.run = store, run
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()

    def submit(
        self,
        comparison: Runnable,
        separate: bool = False,
        again: bool = False,
        owner: str | None = None,
        runs: RunStore | None = None,
        keep_done: bool = True,
    ) -> Job:
        """The job for these runs: the running one (attach), the finished one (unless `again`, or
        `keep_done` is off and it succeeded), or a new one started now. `owner` (a session id) owns
        the runs the new job stores; `runs` is the store it writes (default: the registry's)."""
        key = job_key(comparison, separate)
        with self.lock:
            job = self.jobs.get(key)
            stale = job is not None and job.status == "done" and not keep_done
            if job is not None and (job.active or not (again or stale)):
                job.sessions += 1
                self.jobs.move_to_end(key)
                return job
            job = Job(key, comparison, separate)
            self.jobs[key] = job
            self._forget_old()
        job.thread = threading.Thread(
            target=self._train,
            args=(job, owner, runs if runs is not None else self.store()),
            name=f"whatif-job-{key[:8]}",
            daemon=True,
        )
        job.thread.start()
        return job

    def get(self, key: str) -> Job | None:
        with self.lock:
            return self.jobs.get(key)

    def active(self) -> list[Job]:
        with self.lock:
            return [job for job in self.jobs.values() if job.active]

    def _forget_old(self) -> None:
        finished = [k for k, job in self.jobs.items() if not job.active]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self.jobs[key]

    def _train(self, job: Job, owner: str | None, runs: RunStore | None) -> None:
        """The job's thread: the runner does replay, locks, the slot queue and storing."""
        set_owner(owner)
        try:
            result = self.run(job.comparison, runs, job.report, separate=job.separate)
        except Exception as err:  # shown on the page; the traceback goes to the log
            LOG.exception("training job %s failed", job.key)
            with job.lock:
                job.status, job.error, job.ended = "failed", failure_text(err), time.time()
            return
        with job.lock:
            job.result, job.status, job.ended = result, "done", time.time()


# -- Streamlit side ---------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, scope="global")
def registry() -> JobRegistry:
    """One registry per server process, shared by every session."""
    from ui.session import store

    runs = store()  # resolved here, in a script thread: job threads have no script context
    return JobRegistry(lambda: runs)


def submit(comparison: Runnable, separate: bool = False, again: bool = False) -> Job:
    """The job for these runs (attach or start); runs it stores belong to this session. A page asks
    only for runs its store lacks, so a finished job's runs are gone from it (deleted, or another
    store): they train again. A failed job stays failed until `again` (Run pressed), so a page that
    reruns never loops on a failing job."""
    from ui.session import session_id, store

    return registry().submit(comparison, separate, again, owner=session_id(), runs=store(), keep_done=False)


def status_text(job: Job) -> str:
    """One line on where a job is: queued behind others, training (group, epoch, ETA), storing."""
    p = job.progress
    if p is None:
        return "Queued: training starts in a moment…"
    if p.phase == "waiting":
        return f"Waiting for {max(p.ahead, 1)} training(s) ahead of this one (one at a time on this machine)…"
    if p.phase == "training":
        eta = f" · about {p.eta:.0f} s left in this group" if p.eta is not None else ""
        return f"Group {p.group} of {p.groups} ({p.runs} run(s) stacked): epoch {p.epoch}/{p.epochs}{eta}"
    return f"Group {p.group} of {p.groups} stored."


@st.fragment(run_every=POLL_SECONDS)
def progress_view(key: str, live: Callable[[list[RunResult]], None] | None = None) -> None:
    """A job's progress, redrawn every POLL_SECONDS without rerunning the page; the finished
    groups drawn by `live` as they land. When the job ends the whole page reruns once (it then
    gets the result from `follow`); a failed job says why and offers Run again."""
    job = registry().get(key)
    if job is None:
        st.info("This training is no longer tracked (the server restarted): press Run again.")
        return
    if job.status == "done":
        st.rerun(scope="app")
    if job.status == "failed":
        st.error(job.error or "Training failed.")
        if st.button("Run again", key=f"jobs.again.{key}", icon="🔁"):
            registry().submit(job.comparison, job.separate, again=True)
            st.rerun(scope="app")
        return
    st.progress(job.fraction(), text=status_text(job))
    if job.sessions > 1:
        st.caption("Another session asked for the same runs: they train once, for both of you.")
    runs = job.runs()
    if live is not None and runs:
        live(runs)


@st.cache_resource(show_spinner=False, scope="global")
def start_app_backend(_defaults: Callable[[], dict[str, Runnable]] | None = None) -> str:
    """Once per server process: train in the worker unless WHATIF_BACKEND chose a backend, start
    the worker now and, in the background, warm it with the page defaults `_defaults()` lists
    (ui.warm.warm_start: trace the stored ones' shapes, train and store the missing ones).
    Returns the backend name in use. (The leading underscore keeps the function out of
    Streamlit's cache key.)"""
    from core import backends
    from core.backends.worker import WorkerBackend
    from ui.session import store

    if not os.environ.get(backends.BACKEND_ENV, "").strip():
        backends.select("worker")  # the CLI keeps `local`: only the app calls this
    name = backends.selected_name()
    if name == "worker":
        worker: WorkerBackend = backends.get()  # type: ignore[assignment]
        worker.start()  # the process and its TensorFlow import, now
        jobs, runs = registry(), store()  # resolved here, in a script thread

        def warm() -> None:  # builds datasets (scikit-learn): not in a visitor's run
            from ui import warm

            try:
                defaults = _defaults() if _defaults is not None else {}
                warm.warm_start(worker, jobs, runs, defaults, warm.prefill_enabled())
            except Exception:  # costs only speed: the first visits train as they would anyway
                LOG.exception("the warm start failed")

        threading.Thread(target=warm, name="whatif-warm", daemon=True).start()
    return name
