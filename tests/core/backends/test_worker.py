"""The worker backend on real tiny training: same numbers as the local backend, a parent process
that never maps TensorFlow, a worker that survives a failing job, is replaced after a kill -9
(finished groups delivered, the next call trains) and recycles between jobs, never mid-job. With
two training slots, two jobs train at once in two workers, and a kill -9 of one spares the other."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pandas as pd
import pytest

from core import backends
from core.backends import worker as worker_module
from core.backends.worker import WorkerBackend, WorkerCrashed, pool_size
from core.data import DataUnavailable
from core.runner import groups_of
from core.spec import Comparison, Experiment

ROOT = Path(__file__).resolve().parents[3]
TINY = Experiment(n_samples=300, width=16, depth=1, epochs=2, dropout=0.1)  # dropout: seeded masks too
TWO_GROUPS = Comparison.of(TINY, {"width": [8, 16], "learning_rate": [0.01, 0.1]})
TIMING = ["seconds", "group_seconds"]  # wall time: what differs run to run on any backend
WORKER_TIMEOUT = 600  # seconds: a fresh worker imports TensorFlow, slow on a loaded 2-core machine

# Trains through the worker in a fresh interpreter (so nothing else in the test session has loaded
# TensorFlow), then reports what the parent process loaded and the runs it received.
PARENT_SCRIPT = textwrap.dedent(
    """
    import pickle, sys
    from core.backends.worker import WorkerBackend
    from core.runner import groups_of
    from core.spec import Comparison, Experiment

    comparison = pickle.loads(bytes.fromhex(sys.argv[1]))
    backend = WorkerBackend()
    runs = backend.train_groups(groups_of(comparison.members()))
    backend.stop()
    with open("/proc/self/maps") as maps:
        mapped = [line.split()[-1] for line in maps if "libtensorflow" in line]
    out = {"tf_imported": "tensorflow" in sys.modules, "tf_mapped": mapped, "runs": runs}
    sys.stdout.buffer.write(pickle.dumps(out))
    """
)


@pytest.fixture(scope="module")
def backend():
    worker = WorkerBackend()
    yield worker
    worker.stop()


def test_registered_as_a_backend(monkeypatch):
    monkeypatch.setenv(backends.BACKEND_ENV, "worker")
    backends.select(None)
    assert backends.selected_name() == "worker"
    assert "worker" in backends.BACKENDS


def test_same_numbers_as_local_and_the_parent_never_maps_tensorflow():
    done = subprocess.run(
        [sys.executable, "-c", PARENT_SCRIPT, pickle.dumps(TWO_GROUPS).hex()],
        cwd=ROOT,
        capture_output=True,
        timeout=WORKER_TIMEOUT,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out = pickle.loads(done.stdout)
    assert not out["tf_imported"]
    assert out["tf_mapped"] == []
    from core.backends.local import LocalBackend

    local = LocalBackend().train_groups(groups_of(TWO_GROUPS.members()))
    for worker_runs, local_runs in zip(out["runs"], local, strict=True):
        assert_same_numbers(worker_runs, local_runs)


def assert_same_numbers(worker_runs, local_runs) -> None:
    """One group's runs from the worker equal the local backend's, bit for bit (wall time aside)."""
    for w, loc in zip(worker_runs, local_runs, strict=True):
        assert w.key == loc.key
        for name in TIMING:
            assert w.summary.pop(name) > 0 and loc.summary.pop(name) > 0
        assert pickle.dumps(w.summary) == pickle.dumps(loc.summary)  # bit-identical, NaN included
        assert w.frames.keys() == loc.frames.keys()
        for name, frame in loc.frames.items():
            pd.testing.assert_frame_equal(
                w.frames[name].drop(columns=TIMING, errors="ignore"),
                frame.drop(columns=TIMING, errors="ignore"),
                check_exact=True,
            )


def test_progress_on_done_and_member_order(backend):
    groups = groups_of(TWO_GROUPS.members())
    progress, done = [], []
    results = backend.train_groups(
        groups, lambda g, e, n: progress.append((g, e, n)), on_done=lambda g, runs: done.append((g, runs))
    )
    assert [[r.key for r in runs] for runs in results] == [[m.key for m in g] for g in groups]
    assert progress == [(g, e, TINY.epochs) for g in range(len(groups)) for e in range(1, TINY.epochs + 1)]
    assert [g for g, _ in done] == list(range(len(groups)))


def test_start_brings_the_worker_up_and_traces_in_the_background(backend):
    warm = groups_of(TWO_GROUPS.members())
    thread = backend.start(warm)
    assert backend.warmed.wait(WORKER_TIMEOUT)
    thread.join(WORKER_TIMEOUT)
    pid = backend.pid
    assert pid is not None  # up before any job asked for it
    progress = []
    backend.train_groups(warm, lambda g, e, n: progress.append(backend.pid))
    assert set(progress) == {pid}  # the warmed process trains the job


def test_a_job_that_raises_raises_the_same_error_and_the_worker_survives(backend):
    backend.train_groups([[TINY]])  # make sure a worker is up
    pid = backend.pid
    missing = Experiment(dataset="csv:0123456789abcdef", epochs=1)
    with pytest.raises(DataUnavailable, match="upload the CSV again"):
        backend.train_groups([[missing]])
    assert backend.pid == pid
    assert len(backend.train_groups([[TINY]])[0]) == 1


def test_kill_minus_9_mid_job_keeps_finished_groups_and_the_next_call_trains(backend):
    backend.train_groups([[TINY]])
    killed_pid = backend.pid
    # A second group long enough that the kill lands while it trains.
    long = Experiment(n_samples=1500, width=64, depth=2, epochs=100, batch_size=16)
    done = []

    def kill_on_second_group(group: int, epoch: int, total: int) -> None:
        if group == 1 and epoch == 1:
            os.kill(killed_pid, signal.SIGKILL)

    with pytest.raises(WorkerCrashed, match="SIGKILL"):
        backend.train_groups([[TINY], [long]], kill_on_second_group, on_done=lambda g, r: done.append(g))
    assert done == [0]
    runs = backend.train_groups([[TINY]])
    assert [r.key for r in runs[0]] == [TINY.key]
    assert backend.pid not in (None, killed_pid)


class Interrupted(Exception):
    """What a Streamlit rerun raises inside a progress callback (StopException), in miniature."""


def test_an_interrupted_caller_cancels_the_job_and_the_worker_stays_up(backend):
    backend.train_groups([[TINY]])
    pid = backend.pid
    long = Experiment(n_samples=1500, width=64, depth=2, epochs=100, batch_size=16)

    def interrupt(group: int, epoch: int, total: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        backend.train_groups([[long]], interrupt)
    runs = backend.train_groups([[TINY]])  # answers of the cancelled job must not leak into this one
    assert [r.key for r in runs[0]] == [TINY.key]
    assert backend.pid == pid


def test_recycles_between_jobs_never_mid_job(monkeypatch):
    monkeypatch.setenv("WHATIF_WORKER_MAX_MB", "1")  # every worker is over the cap after a job
    worker = WorkerBackend()
    try:
        first, second = set(), set()
        worker.train_groups(groups_of(TWO_GROUPS.members()), lambda *_: first.add(worker.pid))
        assert len(first) == 1  # both groups trained in the same process
        worker.train_groups([[TINY]], lambda *_: second.add(worker.pid))
        assert len(second) == 1 and second.isdisjoint(first)  # the retired worker was replaced
        assert worker.started >= 2
    finally:
        worker.stop()


def test_wait_quiet_waits_for_visitors_jobs_but_not_the_callers_own(monkeypatch):
    """Background work (the warm start's prefill) goes after visitors' jobs: it waits until none
    is queued and WARM_QUIET_S have passed since the last one ended, ignoring jobs that ended
    before `since` (its own). No worker process is needed for this."""
    import time

    monkeypatch.setattr(worker_module, "WARM_QUIET_S", 0.5)
    backend = WorkerBackend()
    backend._last_job = time.monotonic()  # a job just ended
    started = time.monotonic()
    assert backend.wait_quiet(since=time.monotonic())  # it was the caller's own: no wait
    assert time.monotonic() - started < 0.3
    backend._last_job = time.monotonic()  # a visitor's job just ended
    started = time.monotonic()
    assert backend.wait_quiet()
    assert time.monotonic() - started >= 0.45
    backend._last_job = time.monotonic()
    threading.Timer(0.1, backend.stop).start()
    assert not backend.wait_quiet()  # stopped while waiting: it says so instead of going on


# -- a pool of two workers (WHATIF_MAX_TRAININGS=2) ------------------------------------------------
# Shared by the tests below: each worker costs a TensorFlow import, tens of seconds on a loaded
# 2-core machine. The pool reads its size from the runner at each job, so the slot count is set
# per test (two_slots) while the workers outlive it.
BOTH_TRAINING_S = 300  # a failure only: the other job never started training (a fresh worker imports TF)


@pytest.fixture(scope="module")
def pool():
    worker = WorkerBackend()
    yield worker
    worker.stop()


@pytest.fixture
def two_slots(monkeypatch):
    """The runner lets two trainings run at once, as WHATIF_MAX_TRAININGS=2 does on > 2 cores."""
    from core import runner

    monkeypatch.setenv(runner.MAX_TRAININGS_ENV, "2")
    monkeypatch.setattr(runner, "GATE", runner._Gate())  # a fresh gate: exactly two slots
    monkeypatch.setattr(worker_module, "WARM_QUIET_S", 0.5)
    assert pool_size() == 2


def in_threads(*jobs):
    """Run each job in its own thread (as two sessions' scripts do); their results or exceptions."""
    out: list = [None] * len(jobs)

    def run(index, job):
        try:
            out[index] = job()
        except BaseException as err:  # the test looks at it
            out[index] = err

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WORKER_TIMEOUT)
    return out


def train_at_once(pool: WorkerBackend, groups) -> tuple[list, list[int | None]]:
    """Train each group in its own thread, each job waiting at its first epoch until the other is
    at its own: only two workers training at once get both past it (one worker would run the
    second job after the first had ended). The runs of each group, and the pid each trained in."""
    both_training = threading.Barrier(len(groups), timeout=BOTH_TRAINING_S)
    pids: list[int | None] = [None] * len(groups)

    def job(index: int):
        def on_epoch(group: int, epoch: int, total: int) -> None:
            if epoch == 1:
                pids[index] = pool.job_pid
                both_training.wait()

        return pool.train_groups([groups[index]], on_epoch)[0]

    runs = in_threads(*(lambda i=i: job(i) for i in range(len(groups))))
    assert not [r for r in runs if isinstance(r, BaseException)], runs
    return runs, pids


def test_two_slots_train_two_groups_at_once_in_two_workers_and_the_later_one_warms_too(pool, two_slots):
    pool.stop()  # from no worker at all, whichever test used the pool before
    groups = groups_of(TWO_GROUPS.members())
    warm = [[TINY]]
    pool.start(warm).join(WORKER_TIMEOUT)
    assert len(pool.pids) == 1  # start() brings up one worker: a second costs memory
    started = pool.started
    runs, pids = train_at_once(pool, groups)
    assert pids[0] != pids[1] and sorted(pool.pids) == sorted(pids)
    assert pool.started == started + 1  # the second slot's worker, started for the job waiting
    from core.backends.local import LocalBackend

    for worker_runs, local_runs in zip(runs, LocalBackend().train_groups(groups), strict=True):
        assert_same_numbers(worker_runs, local_runs)
    # The worker started for the second job traces the warm groups after the jobs, like the first.
    assert pool.warmed.wait(WORKER_TIMEOUT)
    ident = tuple(m.key for m in warm[0])
    assert all(ident in slot.live().traced for slot in pool.slots)


def test_kill_minus_9_of_one_worker_leaves_the_other_job_intact(pool, two_slots):
    groups = groups_of(TWO_GROUPS.members())
    # Minutes of training if left alone (its worker trains on while this side waits): the kill lands
    # mid-job even when the other job's worker is still importing TensorFlow.
    long = Experiment(n_samples=4000, width=64, depth=2, epochs=200, batch_size=8)
    survivor_training, killed = threading.Event(), threading.Event()
    pids: dict[str, int | None] = {}

    def kill_own_worker(group: int, epoch: int, total: int) -> None:
        if epoch == 1:  # once the other job trains too
            assert survivor_training.wait(BOTH_TRAINING_S)
            pids["killed"] = pool.job_pid
            os.kill(pool.job_pid, signal.SIGKILL)
            killed.set()

    def outlive_the_kill(group: int, epoch: int, total: int) -> None:
        if epoch == 1:  # the job stays unfinished until the other worker is dead
            pids["survivor"] = pool.job_pid
            survivor_training.set()
            assert killed.wait(BOTH_TRAINING_S)

    crashed, survived = in_threads(
        lambda: pool.train_groups([[long]], kill_own_worker),
        lambda: pool.train_groups([groups[0]], outlive_the_kill)[0],
    )
    assert isinstance(crashed, WorkerCrashed) and "SIGKILL" in str(crashed), crashed
    assert pids["killed"] != pids["survivor"]
    from core.backends.local import LocalBackend

    assert_same_numbers(survived, LocalBackend().train_groups([groups[0]])[0])
    assert pool.pids == [pids["survivor"]]  # the other worker is untouched
    started = pool.started
    _, after = train_at_once(pool, [[TINY], groups[0]])  # the dead worker's slot starts a new one
    assert pids["survivor"] in after and pids["killed"] not in after and after[0] != after[1]
    assert pool.started == started + 1
