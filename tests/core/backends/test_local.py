"""Backend selection and the local backend's contract (progress per group, on_done as each group
finishes, results in member order), on real tiny training; and the chunking arithmetic."""

from __future__ import annotations

import pytest

from core import backends
from core.backends.local import LocalBackend
from core.backends.ray_backend import chunks
from core.runner import groups_of, train
from core.spec import Comparison, Experiment

TINY = Experiment(n_samples=300, width=16, depth=1, epochs=2)


@pytest.fixture(autouse=True)
def fresh_selection(monkeypatch):
    monkeypatch.delenv(backends.BACKEND_ENV, raising=False)
    backends.select(None)
    yield
    backends.select(None)


def test_selection_order_flag_then_environment_then_local(monkeypatch):
    assert backends.selected_name() == "local"
    monkeypatch.setenv(backends.BACKEND_ENV, "ray")
    assert backends.selected_name() == "ray"
    backends.select("local")
    assert backends.selected_name() == "local"
    assert isinstance(backends.get(), LocalBackend)


def test_unknown_backend_is_refused_with_the_choices(monkeypatch):
    with pytest.raises(ValueError, match="local, ray"):
        backends.select("dask")
    monkeypatch.setenv(backends.BACKEND_ENV, "spark")
    with pytest.raises(ValueError, match="unknown backend 'spark'"):
        backends.get()


def test_local_groups_report_progress_and_finish_in_member_order():
    members = Comparison.of(TINY, {"width": [8, 16], "learning_rate": [0.01, 0.1]}).members()
    groups = groups_of(members)
    progress, done = [], []
    results = LocalBackend().train_groups(
        groups, lambda g, e, n: progress.append((g, e, n)), on_done=lambda g, runs: done.append((g, runs))
    )
    assert [[r.key for r in runs] for runs in results] == [[m.key for m in g] for g in groups]
    assert progress == [(g, e, TINY.epochs) for g in range(len(groups)) for e in range(1, TINY.epochs + 1)]
    assert [(g, [r.key for r in runs]) for g, runs in done] == [
        (g, [r.key for r in runs]) for g, runs in enumerate(results)
    ]


def test_runner_train_goes_through_the_selected_backend(monkeypatch):
    asked = []

    class Recording(LocalBackend):
        def train_groups(self, groups, progress=None, lr_tables=None, on_done=None):
            asked.append([m.key for g in groups for m in g])
            return super().train_groups(groups, progress, lr_tables, on_done)

    monkeypatch.setitem(backends._instances, "local", Recording())
    members = Comparison.of(TINY, {"learning_rate": [0.01, 0.1]}).members()
    runs = train(members)
    assert asked == [[m.key for m in members]]
    assert [r.key for r in runs] == [m.key for m in members]


@pytest.mark.parametrize("n, most", [(1, 64), (8, 64), (10, 4), (64, 16), (7, 2)])
def test_chunks_cover_every_member_once_and_stay_under_the_limit(n, most):
    bounds = chunks(n, most)
    sizes = [hi - lo for lo, hi in bounds]
    assert [i for lo, hi in bounds for i in range(lo, hi)] == list(range(n))
    assert max(sizes) <= most and max(sizes) - min(sizes) <= 1
    assert len(bounds) == -(-n // most)  # the fewest chunks that fit
