"""The warm start (ui.warm): every page default still builds and is what the page itself shows,
the stored defaults' shapes are traced, the missing defaults are trained and stored through the
job registry (so a visitor attaches instead of training them twice), and WHATIF_PREFILL=0 keeps
to tracing. Real tiny training on the local backend; a recording stand-in for the worker."""

from __future__ import annotations

import threading

import pytest

from core.runner import groups_of, run_comparison
from core.spec import Comparison, Experiment
from ui import jobs, warm

TINY = Experiment(n_samples=300, width=16, depth=1, epochs=2)


class RecordingWorker:
    """The two calls warm_start makes of core.backends.worker.WorkerBackend, recorded."""

    def __init__(self, quiet: bool = True) -> None:
        self.traced: list[list[Experiment]] = []
        self.quiet = quiet
        self.waits = 0

    def start(self, warm_groups) -> threading.Thread:
        self.traced = [list(g) for g in warm_groups]
        thread = threading.Thread(target=lambda: None)
        thread.start()
        return thread

    def wait_quiet(self, since: float = float("-inf")) -> bool:
        self.waits += 1
        return self.quiet


pytestmark = pytest.mark.usefixtures("local_backend")


def keys(comparison) -> set[str]:
    return {m.key for m in comparison.members()}


def test_every_page_default_builds_and_warm_groups_stack():
    defaults = warm.page_defaults()
    assert set(defaults) == set(warm.PAGE_DEFAULTS)  # a page whose helpers moved fails here
    groups = warm.groups_to_trace(list(defaults.values()))
    assert groups
    for group in groups:
        assert len({m.group_key for m in group}) == 1
    members = {k for c in defaults.values() for k in keys(c)}
    assert {m.key for g in groups for m in g} == members  # every default run's shape is traced


def test_warm_start_traces_what_is_stored_and_trains_the_rest(store):
    stored = Comparison.of(TINY, {"learning_rate": [0.01, 0.1]})
    missing = Comparison.of(TINY, {"width": [8, 24]})
    run_comparison(stored, store)
    worker, registry = RecordingWorker(), jobs.JobRegistry(lambda: store)
    filled = warm.warm_start(worker, registry, store, {"a": missing, "b": stored})
    assert filled == ["a"]
    assert [[m.key for m in g] for g in worker.traced] == [
        [m.key for m in g] for g in groups_of(stored.members())
    ]
    assert store.has(sorted(keys(missing))) == keys(missing)  # trained and stored for everyone
    job = registry.get(jobs.job_key(missing))
    assert job is not None and job.status == "done"  # through the registry: a visitor attaches
    assert worker.waits == 1  # it waited for quiet before its one training


def test_prefill_off_or_a_stopped_worker_trains_nothing(store):
    missing = Comparison.of(TINY, {"width": [8, 24]})
    registry = jobs.JobRegistry(lambda: store)
    assert warm.warm_start(RecordingWorker(), registry, store, {"a": missing}, prefill=False) == []
    assert warm.warm_start(RecordingWorker(quiet=False), registry, store, {"a": missing}) == []
    assert not store.has(sorted(keys(missing)))


@pytest.mark.parametrize("page", sorted(warm.PAGE_DEFAULTS))
def test_the_warm_default_is_what_the_page_shows(app_test, page: str):
    """The prefill is only worth its training if a first visit replays it: every run of the warm
    default must be among the runs the page shows on load."""
    at = app_test(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    shown = {run.key for result in at.session_state["results"].values() for run in result.runs}
    assert keys(warm.page_defaults()[page]) <= shown
