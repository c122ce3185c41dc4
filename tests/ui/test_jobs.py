"""The job registry without a browser or AppTest: one training per set of runs however many
sessions ask, jobs that finish without anyone watching, failures kept with a message until Run
again. Real tiny training, local backend."""

from __future__ import annotations

import threading

import pytest

from core.backends.worker import WorkerCrashed
from core.runner import groups_of, run_comparison
from core.spec import Comparison, Experiment
from ui import jobs

TINY = Experiment(n_samples=300, width=16, depth=1, epochs=2)
JOB_TIMEOUT = 300  # seconds: the first training in the test process imports TensorFlow


pytestmark = pytest.mark.usefixtures("local_backend")


def gated_runner(calls: list, gate: threading.Event):
    """run_comparison that records each call and waits for `gate` before training."""

    def run(comparison, store, progress, separate=False):
        calls.append(comparison)
        gate.wait(JOB_TIMEOUT)
        return run_comparison(comparison, store, progress, separate=separate)

    return run


def test_a_second_session_attaches_to_the_running_job_and_both_get_the_result(store):
    calls, gate = [], threading.Event()
    registry = jobs.JobRegistry(lambda: store, gated_runner(calls, gate))
    comparison = Comparison.of(TINY, {"learning_rate": [0.01, 0.1]}, seeds=2)
    first = registry.submit(comparison, owner="session-a")
    second = registry.submit(comparison, owner="session-b")
    assert second is first and first.active and first.sessions == 2
    gate.set()
    assert first.wait(JOB_TIMEOUT)
    assert len(calls) == 1  # trained once for both
    assert first.status == "done" and first.error is None
    assert [r.key for r in first.result.runs] == [m.key for m in comparison.members()]
    assert registry.submit(comparison) is first  # a later visit reuses the finished job


def test_a_job_finishes_and_stores_without_anyone_watching(store):
    registry = jobs.JobRegistry(lambda: store)
    comparison = Comparison.of(TINY, {"width": [8, 16]})
    key = registry.submit(comparison).key  # the "tab" keeps nothing but the key, then closes
    job = registry.get(key)
    assert job.wait(JOB_TIMEOUT) and job.status == "done"
    keys = [m.key for m in comparison.members()]
    assert store.has(keys) == set(keys)
    n_groups = len(groups_of(comparison.members()))
    assert len(job.runs()) == len(keys) and job.progress.groups == n_groups
    assert job.fraction() == 1.0


def test_a_failing_job_says_why_and_stays_failed_until_run_again(store):
    registry = jobs.JobRegistry(lambda: store)
    comparison = Comparison.of(Experiment(dataset="csv:0123456789abcdef", epochs=1))
    job = registry.submit(comparison)
    assert job.wait(JOB_TIMEOUT)
    assert job.status == "failed" and "upload the CSV again" in job.error
    assert registry.submit(comparison) is job  # a rerun of the page does not retrain by itself
    again = registry.submit(comparison, again=True)
    assert again is not job
    assert again.wait(JOB_TIMEOUT) and again.status == "failed"


def test_a_crashed_worker_is_reported_with_run_again(store):
    def crashing(comparison, store, progress, separate=False):
        raise WorkerCrashed("the training worker stopped (killed by SIGKILL) during the job")

    job = jobs.JobRegistry(lambda: store, crashing).submit(Comparison.of(TINY))
    assert job.wait(JOB_TIMEOUT) and job.status == "failed"
    assert "SIGKILL" in job.error and "Run again" in job.error


def test_jobs_of_different_runs_or_modes_are_different_jobs():
    comparison = Comparison.of(TINY, {"width": [8, 16]})
    other = Comparison.of(TINY, {"width": [8, 32]})
    assert jobs.job_key(comparison) != jobs.job_key(other)
    assert jobs.job_key(comparison) != jobs.job_key(comparison, separate=True)
    assert jobs.job_key(comparison) == jobs.job_key(Comparison.of(TINY, {"width": [8, 16]}))
