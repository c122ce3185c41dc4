"""RunStore: round trips, listing, concurrency, crash safety and recovery from unusable files.

Results are built by hand (no training, no TensorFlow) so the whole file runs in seconds.
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from core.results import RunResult
from core.spec import CODE_VERSION, KNOBS, Experiment
from core.store import SCHEMA_VERSION, STORE_ENV, RunStore

REPO = Path(__file__).resolve().parents[2]


def make_result(seed: int = 0, rows: int = 5, **knobs) -> RunResult:
    """A small but realistic RunResult with every column dtype the store must preserve."""
    exp = Experiment(seed=seed, **knobs)
    epochs = pd.DataFrame(
        {
            "epoch": np.arange(1, rows + 1, dtype="int64"),
            "train_loss": np.linspace(1.0, 0.1, rows),
            "val_loss": [*np.linspace(1.1, 0.2, rows - 1), float("nan")],
            "lr": [0.05] * rows,
        }
    )
    steps = pd.DataFrame(
        {
            "step": np.arange(rows * 2, dtype="int64"),
            "loss": np.linspace(2.0, 0.5, rows * 2),
            "clipped": [i % 2 == 0 for i in range(rows * 2)],
        }
    )
    layers = pd.DataFrame(
        {"layer": [0, 1], "layer_name": ["dense", "dense_1"], "grad_norm": [0.5, float("inf")]}
    )
    summary = {
        "final_val_accuracy": 0.9 + seed / 1000,
        "final_val_loss": float("nan"),
        "best_loss": float("inf"),
        "worst": float("-inf"),
        "diverged": False,
        "residual_used": True,
        "epochs_run": rows,
        "seconds": 1.5,
        "device": "CPU",
        "note": "NaN",  # a string that looks like a float must stay a string
        "per_layer": [0.1, float("nan")],
        "np_int": np.int64(7),
        "np_float": np.float32(0.5),
    }
    return RunResult(
        exp, summary, {"epochs": epochs, "steps": steps, "layers": layers, "boundary": pd.DataFrame()}
    )


def assert_same_run(got: RunResult, want: RunResult) -> None:
    assert got.key == want.key
    assert got.experiment == want.experiment
    assert set(got.frames) == set(want.frames)
    for name, frame in want.frames.items():
        assert_frame_equal(got.frames[name], frame)
    expected = {**want.summary, "np_int": 7, "np_float": 0.5}
    assert set(got.summary) == set(expected)
    for k, v in expected.items():
        g = got.summary[k]
        if isinstance(v, float) and math.isnan(v):
            assert isinstance(g, float) and math.isnan(g), k
        elif isinstance(v, list):
            assert len(g) == len(v) and g[0] == v[0] and math.isnan(g[1])
        else:
            assert g == v and type(g) is type(v), k


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs.sqlite")


def test_round_trip(store: RunStore) -> None:
    run = make_result(seed=3, dataset="moons", noise=0.3, optimizer="adam", residual=True)
    store.put(run)
    got = store.get(run.key)
    assert got is not None
    assert_same_run(got, run)
    assert got.frames["steps"]["clipped"].dtype == bool
    assert got.frames["epochs"]["epoch"].dtype == "int64"
    assert store.get("missing") is None
    assert store.count() == 1
    assert store.notice is None


def test_put_replaces_and_partial_frames(store: RunStore) -> None:
    run = make_result()
    store.put(run)
    shorter = RunResult(run.experiment, {"diverged": True}, {"epochs": run.frames["epochs"].head(2)})
    store.put(shorter)
    got = store.get(run.key)
    assert store.count() == 1
    assert got is not None and list(got.frames) == ["epochs"] and got.diverged
    only = store.get_many([run.key], frames=["steps"])[run.key]
    assert only.frames == {}


def test_get_many_has_delete(store: RunStore) -> None:
    runs = [make_result(seed=s) for s in range(5)]
    store.put_many(runs)
    keys = [r.key for r in runs]
    assert store.has([*keys, "nope"]) == set(keys)
    assert store.has(keys[0]) == {keys[0]}  # a bare key is one key, not its characters
    got = store.get_many([keys[1], keys[3], "nope"])
    assert set(got) == {keys[1], keys[3]}
    assert_same_run(got[keys[3]], runs[3])
    assert store.delete([keys[0], keys[1], "nope"]) == 2
    assert store.count() == 3
    assert store.has(keys) == set(keys[2:])
    assert store.get(keys[0]) is None
    assert store.delete([]) == 0


def test_list_runs(store: RunStore) -> None:
    empty = store.list_runs()
    assert empty.empty and {"key", "created", "dataset", "learning_rate"} <= set(empty.columns)
    runs = [make_result(seed=0), make_result(seed=1, dataset="moons", learning_rate=0.5)]
    for r in runs:
        store.put(r)
    table = store.list_runs()
    assert len(table) == 2
    assert list(table.columns[:5]) == ["key", "created", "seconds", "device", "code_version"]
    assert set(KNOBS) <= set(table.columns)
    row = table.set_index("key").loc[runs[1].key]
    assert row["dataset"] == "moons" and row["learning_rate"] == 0.5 and row["seed"] == 1
    assert row["device"] == "CPU" and row["seconds"] == 1.5 and row["code_version"] == CODE_VERSION
    assert row["final_val_accuracy"] == pytest.approx(0.901)
    assert math.isnan(row["final_val_loss"]) and row["best_loss"] == math.inf
    assert not row["diverged"] and row["note"] == "NaN"
    assert "per_layer" not in table.columns  # not a scalar
    assert list(store.list_runs(dataset="moons")["key"]) == [runs[1].key]


def test_default_path_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "nested" / "dir" / "store.sqlite"
    monkeypatch.setenv(STORE_ENV, str(target))
    s = RunStore()
    assert s.path == target.resolve() and target.exists()


def write_from_threads(store: RunStore, read_between: bool = False) -> list[BaseException]:
    """Eight threads each put ten results (seeds t * 100 + i) into one store at the same time,
    each write followed by a read when read_between; returns what any of them raised."""
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(10):
                store.put(make_result(seed=t * 100 + i, rows=3))
                if read_between:
                    store.has([f"x{i}"])
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_threads(store: RunStore) -> None:
    errors = write_from_threads(store, read_between=True)  # reads interleaved with writes
    assert not errors
    assert store.count() == 80
    assert len(store.get_many(store.list_runs()["key"])) == 80


# Children load this file by path (not as tests.core...), so no package layout is assumed.
CHILD_PRELUDE = """
import importlib.util, sys

def load_helpers(path):
    spec = importlib.util.spec_from_file_location("store_test_helpers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
"""

CHILD_WRITER = (
    CHILD_PRELUDE
    + """
from core.store import RunStore
make_result = load_helpers(sys.argv[-1]).make_result
store = RunStore(sys.argv[1])
base = int(sys.argv[2])
for i in range(10):
    store.put(make_result(seed=base + i, rows=3))
"""
)


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def test_concurrent_processes_and_threads(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD_WRITER, str(path), str(10_000 + 100 * p), __file__],
            cwd=REPO,
            env=_child_env(),
        )
        for p in range(3)
    ]
    errors = write_from_threads(store)
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert not errors
    fresh = RunStore(path)
    assert fresh.count() == 110
    runs = fresh.get_many(fresh.list_runs()["key"])
    assert len(runs) == 110
    assert_same_run(runs[make_result(seed=10_205, rows=3).key], make_result(seed=10_205, rows=3))


CHILD_KILLED = (
    CHILD_PRELUDE
    + """
import time
import core.store
from core.store import RunStore
make_result = load_helpers(sys.argv[-1]).make_result

def stall(key):
    print("WRITING", flush=True)
    time.sleep(120)

core.store._before_commit = stall
RunStore(sys.argv[1]).put(make_result(seed=999, rows=20_000))
"""
)


def test_killed_writer_leaves_no_half_run(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    earlier = [make_result(seed=s) for s in range(3)]
    store.put_many(earlier)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_KILLED, str(path), __file__],
        cwd=REPO,
        env=_child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "WRITING"  # rows written, COMMIT not yet
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    store.close()
    after = RunStore(path)
    assert after.notice is None
    assert after.count() == 3
    assert after.get(make_result(seed=999).key) is None
    assert after.has([make_result(seed=999).key]) == set()
    for run in earlier:
        assert_same_run(after.get(run.key), run)  # type: ignore[arg-type]
    with sqlite3.connect(path) as conn:  # no orphan frames of the killed run either
        assert conn.execute("SELECT count(DISTINCT key) FROM frames").fetchone()[0] == 3
    after.put(make_result(seed=4))  # and the lock the killed child held is gone
    assert after.count() == 4


def _kept_files(path: Path, marker: str) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.{marker}"))


def test_corrupt_file_is_kept_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    garbage = os.urandom(4096) + b"definitely not sqlite" * 100
    path.write_bytes(garbage)
    store = RunStore(path)
    kept = _kept_files(path, "broken-")
    assert len(kept) == 1 and kept[0].read_bytes() == garbage
    assert store.notice is not None and str(kept[0]) in store.notice and "fresh store" in store.notice
    store.put(make_result())
    assert store.count() == 1
    again = RunStore(path)  # the fresh store is fine: no second notice, nothing else moved
    assert again.notice is None and again.count() == 1
    assert len(_kept_files(path, "broken-")) == 1


@pytest.mark.parametrize("version", [SCHEMA_VERSION - 1, SCHEMA_VERSION + 1])
def test_other_schema_is_kept_and_replaced(tmp_path: Path, version: int) -> None:
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (key TEXT PRIMARY KEY, blob BLOB)")
        conn.execute("INSERT INTO runs VALUES ('old', x'00')")
        conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    original = path.read_bytes()
    store = RunStore(path)
    kind = "old" if version < SCHEMA_VERSION else "new"
    kept = _kept_files(path, f"{kind}-schema-{version}-")
    assert len(kept) == 1 and kept[0].read_bytes() == original
    assert store.notice is not None and str(kept[0]) in store.notice
    assert store.count() == 0
    with sqlite3.connect(kept[0]) as old:
        assert old.execute("SELECT key FROM runs").fetchall() == [("old",)]
    old.close()


def test_import_does_not_load_tensorflow() -> None:
    code = "import core.store, sys; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


# -- trash, owners ---------------------------------------------------------------------------------
def test_delete_moves_runs_to_a_trash_the_admin_can_restore(store: RunStore) -> None:
    """Issue 13 defect 2: a deleted run is kept in the trash, and comes back whole."""
    runs = [make_result(seed=s) for s in range(3)]
    store.put_many(runs)
    assert store.delete([runs[0].key, runs[1].key]) == 2
    assert store.has([r.key for r in runs]) == {runs[2].key}
    assert set(store.trash()["key"]) == {runs[0].key, runs[1].key}
    assert store.restore([runs[0].key]) == 1
    assert_same_run(store.get(runs[0].key), runs[0])
    assert list(store.trash()["key"]) == [runs[1].key]


def test_trash_is_purged_after_the_grace_period(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.store_trash

    old, new = make_result(seed=1), make_result(seed=2)
    store.put_many([old, new])
    store.delete([old.key])
    real_time = core.store_trash.time.time
    monkeypatch.setattr(
        core.store_trash.time, "time", lambda: real_time() + core.store_trash.TRASH_GRACE_S + 60
    )
    store.delete([new.key])  # a later delete purges what has been in the trash too long
    assert list(store.trash()["key"]) == [new.key]


def test_runs_remember_the_session_that_stored_them(store: RunStore) -> None:
    from core.store import set_owner

    mine, theirs = make_result(seed=1), make_result(seed=2)
    set_owner("session-a")
    store.put(mine)
    set_owner("session-b")
    store.put(theirs)
    set_owner(None)
    assert store.owned("session-a") == {mine.key} and store.owned("session-b") == {theirs.key}


# -- damaged and unusable stores ---------------------------------------------------------------------
def test_damaged_data_pages_are_found_and_the_file_kept_aside(tmp_path: Path) -> None:
    """Issue 13 defect 4: garbage inside the data pages (the header intact) passes a header
    check; PRAGMA quick_check on open finds it and the file is moved aside like a bad header."""
    path = tmp_path / "runs.sqlite"
    first = RunStore(path)
    first.put_many([make_result(seed=s, rows=200) for s in range(20)])
    first._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    first.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[3 * page : 6 * page] = os.urandom(3 * page)  # header page intact
    path.write_bytes(bytes(data))
    store = RunStore(path)
    assert len(_kept_files(path, "broken-")) == 1
    assert store.notice and "integrity" in store.notice and store.count() == 0
    assert store.public_notice and str(tmp_path) not in store.public_notice  # no path on a page


def _freeze(path: Path) -> None:
    """Make a file or folder unwritable, for root too (chattr +i) — tests often run as root."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)


def _thaw(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o755 if path.is_dir() else 0o644)


def make_unusable(root: Path, how: str) -> tuple[Path, Path | None]:
    """A store path made unusable in one of the four ways; (path, what was frozen or None)."""
    folder = root / how
    folder.mkdir()
    path = folder / "runs.sqlite"
    target = None
    if how in ("read-only folder", "read-only file"):
        seeded = RunStore(path)
        seeded.put(make_result(seed=7))
        seeded._conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        seeded.close()
        for companion in ("-wal", "-shm"):
            Path(f"{path}{companion}").unlink(missing_ok=True)
        target = folder if how == "read-only folder" else path
        _freeze(target)
    elif how == "folder at the path":
        path.mkdir()
    else:  # a folder that cannot be created: its parent is a file
        (folder / "file").write_text("x")
        path = folder / "file" / "sub" / "runs.sqlite"
    return path, target


@pytest.fixture
def unusable(tmp_path: Path):
    """make_unusable for one test, thawed afterwards so the temporary folder can be removed."""
    frozen: list[Path] = []

    def make(how: str) -> Path:
        path, target = make_unusable(tmp_path, how)
        if target is not None:
            frozen.append(target)
        return path

    yield make
    for p in frozen:
        _thaw(p)


UNUSABLE = ("read-only folder", "read-only file", "folder at the path", "uncreatable folder")


@pytest.mark.parametrize("how", UNUSABLE)
def test_an_unusable_store_still_replays_and_keeps_new_runs_in_memory(unusable, how: str) -> None:
    """Issue 13 defect 4: no exception; what is on disk replays; new runs live in memory."""
    path = unusable(how)
    store = RunStore(path)
    assert store.unsaved, "the store must say why nothing is saved"
    if how.startswith("read-only"):
        assert store.mode == "ro" and store.get(make_result(seed=7).key) is not None  # replay
    else:
        assert store.mode == "memory" and store.count() == 0
    fresh = make_result(seed=8)
    store.put(fresh)
    assert_same_run(store.get(fresh.key), fresh)
    assert fresh.key in set(store.list_runs()["key"])
    assert store.delete([fresh.key]) == 1 and store.get(fresh.key) is None


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every new connection may not grow the file: SQLite answers "database or disk is full"."""
    import core.store

    real = core.store.connect

    def connect(path):
        conn = real(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return conn

    monkeypatch.setattr(core.store, "connect", connect)


def test_a_full_disk_keeps_results_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13 defect 5: put_many on a full disk neither raises nor loses the runs."""
    path = tmp_path / "runs.sqlite"
    RunStore(path).put(make_result(seed=1))
    _full_disk(monkeypatch)
    store = RunStore(path)
    big = make_result(seed=2, rows=50_000)
    store.put(big)  # used to raise sqlite3.OperationalError: database or disk is full
    assert store.unsaved == "the disk is full"
    assert_same_run(store.get(big.key), big)
    assert store.has([make_result(seed=1).key, big.key]) == {make_result(seed=1).key, big.key}
