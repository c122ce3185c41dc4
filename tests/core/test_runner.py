"""run_comparison's promises: replay what is stored, train a run once however many ask, keep the
machine to one training at a time (and say so to whoever waits), lose only the unfinished group."""

from __future__ import annotations

import dataclasses
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
    monkeypatch.setenv(runner.MAX_TRAININGS_ENV, "1")  # one slot whatever this machine's cores
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


def test_the_waiting_queue_is_first_come_first_served_with_a_live_count():
    """Issue 13 defect 8: a later session never overtakes an earlier one, and each waiting
    session's "N ahead" counts down as the line moves."""
    gate = runner._Gate(limit=1)
    order: list[str] = []
    told: dict[str, list[int]] = {"b": [], "c": [], "d": []}
    release = threading.Event()

    def session(name: str, hold: threading.Event | None = None) -> None:
        with gate.slot(lambda ahead: told[name].append(ahead) if name in told else None):
            order.append(name)
            if hold is not None:
                hold.wait(timeout=60)

    first = threading.Thread(target=session, args=("a", release))
    first.start()
    while not order:
        threading.Event().wait(0.01)
    later = []
    for name in ("b", "c", "d"):  # each arrives once the previous one is queued
        t = threading.Thread(target=session, args=(name,))
        t.start()
        later.append(t)
        while not told[name]:
            threading.Event().wait(0.01)
    release.set()
    for t in [first, *later]:
        t.join(timeout=60)
    assert order == ["a", "b", "c", "d"]
    assert [told[n][0] for n in ("b", "c", "d")] == [1, 2, 3]
    assert all(counts == sorted(counts, reverse=True) for counts in told.values())


def test_the_eta_comes_from_measured_epochs_not_the_first_one(store):
    """Issue 13 defect 8: the first epoch also traces and compiles; an ETA extrapolated from it
    was far off. No ETA until an epoch after the first is timed; then it is that duration times
    the epochs left, never the first epoch's inflated average."""
    seen: list[runner.Progress] = []
    run_comparison(Comparison.of(dataclasses.replace(TINY, epochs=4), {"width": [24]}), store, seen.append)
    training = [p for p in seen if p.phase == "training"]
    assert training[0].epoch == 1 and training[0].eta is None
    timed = [p for p in training if p.eta is not None]
    assert timed and all(p.epoch >= 2 for p in timed)
    for p in timed:
        assert p.eta == pytest.approx(p.epoch_seconds * (p.epochs - p.epoch))
        assert p.epoch_seconds <= p.elapsed / p.epoch  # the first epoch's compile is left out


def test_a_full_disk_keeps_results_and_never_retrains(tmp_path, counted, monkeypatch):
    """Issue 13 defect 5: "database or disk is full" at the store -> the comparison still
    returns its runs, and asking again replays them from memory instead of retraining."""
    import core.store

    real = core.store.connect

    def full(path):
        conn = real(path)
        conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
        return conn

    RunStore(tmp_path / "runs.sqlite").close()  # an existing store, on a disk that then fills up
    monkeypatch.setattr(core.store, "connect", full)
    store = RunStore(tmp_path / "runs.sqlite")
    c = Comparison.of(TINY, {"learning_rate": [0.04, 0.4]})
    first = run_comparison(c, store)
    assert store.unsaved == "the disk is full" and len(first.runs) == 2
    again = run_comparison(c, store)
    assert again.replayed == 2 and len(counted) == 1
