"""The store keeps each run's weights beside it: read on demand, deleted, trashed and restored
with the run, and old stores without the table keep working (hand-made results, no training)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from core.results import RunResult
from core.spec import Experiment
from core.store import RunStore
from core.weights import RunWeights, StoredWeights, weights_of
from tests.core.test_weights import made


def result(seed: int = 0, with_weights: bool = True) -> RunResult:
    return RunResult(
        Experiment(seed=seed),
        {"final_train_loss": 0.5, "seconds": 1.0},
        {},
        made(seed=seed) if with_weights else None,
    )


def same(a: RunWeights, b: RunWeights) -> bool:
    return all(np.array_equal(x, y) for x, y in [*zip(a.initial, b.initial), *zip(a.final, b.final)])


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs.sqlite")


def test_weights_are_stored_and_replays_read_them_on_demand(store: RunStore) -> None:
    run = result()
    held = run.weights
    store.put(run)
    assert isinstance(run.weights, StoredWeights)  # the caller's run now points at the store
    assert same(store.weights(run.key), held)
    replay = store.get(run.key)
    assert isinstance(replay.weights, StoredWeights) and same(weights_of(replay), held)
    assert store.get(run.key, frames=[]).weights is not None


def test_a_run_without_weights_replays_with_none(store: RunStore) -> None:
    run = result(seed=1, with_weights=False)
    store.put(run)
    assert store.weights(run.key) is None and weights_of(store.get(run.key)) is None


def test_storing_a_replay_again_keeps_its_weights(store: RunStore) -> None:
    run = result(seed=2)
    held = run.weights
    store.put(run)
    store.put(store.get(run.key))  # a replay holds a reference, not the arrays
    assert same(store.weights(run.key), held)


def test_delete_trashes_the_weights_and_restore_brings_them_back(store: RunStore) -> None:
    run = result(seed=3)
    held = run.weights
    store.put(run)
    assert store.delete([run.key]) == 1
    assert store.weights(run.key) is None and weights_of(run) is None  # gone with the run
    assert store.restore([run.key]) == 1
    assert same(store.weights(run.key), held)


def test_purged_trash_takes_the_weights(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.store_trash

    run = result(seed=4)
    store.put(run)
    store.delete([run.key])
    monkeypatch.setattr(core.store_trash, "TRASH_GRACE_S", -1.0)
    store.put(result(seed=5))
    store.delete([result(seed=5).key])  # a delete purges every trashed run older than the grace
    rows = store._conn().execute("SELECT count(*) FROM trash_weights").fetchone()[0]
    assert rows == 0


def test_an_old_store_without_the_weights_table_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    seeded = RunStore(path)
    seeded.put(result(seed=6, with_weights=False))
    conn = seeded._conn()
    conn.execute("DROP TABLE weights")
    conn.execute("DROP TABLE trash_weights")
    seeded.close()
    # read-only: what an app sees when it cannot write an old file
    raw = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    assert "weights" not in {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    raw.close()
    assert StoredWeights(str(path), result(seed=6).key).load() is None
    reopened = RunStore(path)  # read-write: the table is added, old runs replay as before
    old = reopened.get(result(seed=6).key)
    assert old is not None and old.weights is None
    fresh = result(seed=7)
    reopened.put(fresh)
    assert reopened.weights(fresh.key) is not None


def test_a_store_that_cannot_write_keeps_weights_in_memory(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    store.mode = "memory"  # as after a failed open: nothing on disk
    run = result(seed=8)
    held = run.weights
    store.put(run)
    assert same(store.weights(run.key), held) and same(weights_of(store.get(run.key)), held)
