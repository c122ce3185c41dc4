"""run_comparison's promises: replay what is stored, train a run once however many ask, keep the
machine to one training at a time (and say so to whoever waits), lose only the unfinished group."""

from __future__ import annotations

import threading

import pytest

from core import runner
from core.runner import run_comparison
from core.spec import Comparison, Experiment
from core.store import RunStore

TINY = Experiment(n_samples=300, width=16, depth=1, epochs=2)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs.sqlite")


@pytest.fixture
def counted(monkeypatch):
    """Count the groups actually trained (the real trainer still runs)."""
    calls: list[list[str]] = []
    real = runner.train

    def train(members, progress=None):
        calls.append([m.key for m in members])
        return real(members, progress)

    monkeypatch.setattr(runner, "train", train)
    return calls


def test_second_time_replays_without_training(store, counted):
    c = Comparison.of(TINY, {"learning_rate": [0.01, 0.1]}, seeds=2)
    first = run_comparison(c, store)
    assert first.replayed == 0 and len(counted) == 1  # one stacked group for 4 runs
    again = run_comparison(c, store)
    assert again.replayed == 4 and len(counted) == 1
    assert again.summary()["final_val_loss"].tolist() == first.summary()["final_val_loss"].tolist()


def test_two_sessions_asking_at_once_train_once(store, counted):
    c = Comparison.of(TINY, {"learning_rate": [0.02, 0.2]})
    results = []
    threads = [threading.Thread(target=lambda: results.append(run_comparison(c, store))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(counted) == 1  # the other session waited, then read the stored runs
    assert sorted(r.replayed for r in results) == [0, 2]


def test_a_waiting_session_is_told_how_many_are_ahead(store, monkeypatch):
    monkeypatch.setattr(runner, "GATE", runner._Gate())  # a fresh gate: exactly one slot
    first_training = threading.Event()
    second_waiting = threading.Event()
    seen = []

    def hold(p):  # the first session keeps its slot until the second has been told to wait
        if p.phase == "training":
            first_training.set()
            second_waiting.wait(timeout=60)

    def note(p):
        seen.append(p)
        if p.phase == "waiting":
            second_waiting.set()

    a = Comparison.of(TINY, {"learning_rate": [0.03]})
    b = Comparison.of(TINY, {"learning_rate": [0.3]})
    t = threading.Thread(target=run_comparison, args=(a, store, hold))
    t.start()
    assert first_training.wait(timeout=120)
    run_comparison(b, store, note)
    t.join()
    waits = [p for p in seen if p.phase == "waiting"]
    assert waits and waits[0].ahead == 1
    assert [p.phase for p in seen][-1] == "stored"


def test_an_interrupted_comparison_keeps_its_finished_groups(store):
    c = Comparison.of(TINY, {"width": [8, 16]})  # two shapes: two groups, stored one by one

    class Stop(Exception):
        pass

    def stop_in_second_group(p):
        if p.phase == "training" and p.group == 2:
            raise Stop  # what Streamlit does when a widget is clicked mid-run

    with pytest.raises(Stop):
        run_comparison(c, store, stop_in_second_group)
    keys = [m.key for m in c.members()]
    assert store.has(keys) == {keys[0]}
    assert run_comparison(c, store).replayed == 1  # and the rest trains on the next ask
