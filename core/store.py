"""`RunStore`: every finished run, kept in one SQLite file so a seen comparison replays instantly.

Why SQLite: one file that survives restarts, transactions that make a run either fully stored or
absent (a process killed mid-write leaves nothing half-written), and WAL mode so that the many
threads Streamlit runs scripts on, and CLI processes, can read while one of them writes.

Layout (schema version `SCHEMA_VERSION`, kept in PRAGMA user_version):
- runs:   one row per run: key, experiment (JSON of the knobs), summary (JSON), device,
          code_version, created, seconds, dataset (indexed, for filtering).
- frames: one Parquet blob per (run, frame name), so a caller can load only the frames it draws
          and listing runs never touches a blob.

A store file that is not a database, or was written with another schema, is never deleted or
overwritten: it is moved aside and a fresh store is started, with a message in `RunStore.notice`.

This module must not import TensorFlow or Keras (directly or through imports): replaying a stored
comparison only needs pandas, so the app can show it without paying for a TensorFlow import.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from core.results import RunResult
from core.spec import CODE_VERSION, KNOBS, Experiment

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
STORE_ENV = "WHATIF_STORE"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "runs.sqlite"
BUSY_TIMEOUT_S = 30.0
RETRIES = 8  # on top of the busy timeout: "database is locked" can still escape it (WAL recovery)
_CHUNK = 500  # keys per IN (...) query, below SQLite's host-parameter limit
_FLOAT_TAG = "$float"  # {"$float": "nan"}: how non-finite summary floats survive strict JSON
_LIST_COLUMNS = ("key", "created", "seconds", "device", "code_version")

_T = TypeVar("_T")


def _no_op(key: str) -> None:
    """Default of `_before_commit`."""


# Test seam: called inside the write transaction of `put`/`put_many`, after every row is written
# and just before COMMIT. A test replaces it (e.g. with a long sleep) to kill a writer mid-write.
_before_commit: Callable[[str], None] = _no_op

_SCHEMA = """
CREATE TABLE runs (
    key          TEXT PRIMARY KEY,
    experiment   TEXT NOT NULL,
    summary      TEXT NOT NULL,
    dataset      TEXT,
    device       TEXT,
    code_version TEXT,
    created      REAL NOT NULL,
    seconds      REAL
);
CREATE INDEX runs_dataset ON runs(dataset);
CREATE INDEX runs_created ON runs(created);
CREATE TABLE frames (
    key  TEXT NOT NULL,
    name TEXT NOT NULL,
    pos  INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (key, name)
);
"""


class RunStore:
    """Persistent map from run key to `RunResult`, safe to share between threads and processes.

    Each thread gets its own connection (sqlite3 connections must not be used concurrently), and
    a forked child opens its own instead of reusing its parent's. Writers wait for each other
    (busy timeout plus retries), so concurrent puts all succeed.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            path = os.environ.get(STORE_ENV) or DEFAULT_PATH
        self._path = Path(path).expanduser().resolve()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.notice: str | None = None
        self._open()

    # -- public API -----------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self._path

    def put(self, result: RunResult) -> None:
        """Store one run (replacing any run with the same key) in one transaction."""
        self.put_many([result])

    def put_many(self, results: Iterable[RunResult]) -> None:
        """Store runs in a single transaction: all of them are stored, or none.

        Encoding (JSON, Parquet) happens before the transaction starts so the write lock is held
        only for the inserts themselves.
        """
        rows = [_encode(r) for r in results]
        if not rows:
            return

        def write(conn: sqlite3.Connection) -> None:
            with _transaction(conn, "BEGIN IMMEDIATE"):
                for run_row, frame_rows in rows:
                    conn.execute("DELETE FROM frames WHERE key = ?", (run_row[0],))
                    conn.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", run_row)
                    conn.executemany("INSERT INTO frames VALUES (?, ?, ?, ?)", frame_rows)
                for run_row, _ in rows:
                    _before_commit(run_row[0])

        self._run(write)

    def get(self, key: str, frames: Iterable[str] | None = None) -> RunResult | None:
        """The stored run, or None. `frames` limits which frames are decoded (default: all)."""
        return self.get_many([key], frames).get(key)

    def get_many(self, keys: Iterable[str], frames: Iterable[str] | None = None) -> dict[str, RunResult]:
        """Stored runs by key; missing keys (and runs this code can no longer read) are left out."""
        keys = _as_list(keys)
        wanted = None if frames is None else set(frames)

        def read(conn: sqlite3.Connection) -> tuple[list[tuple], list[tuple]]:
            # One read transaction: a concurrent put cannot pair one version's summary with
            # another version's frames.
            with _transaction(conn, "BEGIN"):
                runs = _select_in(conn, "SELECT key, experiment, summary FROM runs WHERE key IN ({})", keys)
                blobs = []
                if wanted is None or wanted:
                    found = [r[0] for r in runs]
                    sql = "SELECT key, name, data FROM frames WHERE key IN ({}) ORDER BY key, pos"
                    blobs = _select_in(conn, sql, found)
            return runs, blobs

        runs, blobs = self._run(read)
        frames_of: dict[str, dict[str, pd.DataFrame]] = {}
        for key, name, data in blobs:
            if wanted is None or name in wanted:
                frames_of.setdefault(key, {})[name] = _frame_from_bytes(data)
        out: dict[str, RunResult] = {}
        for key, experiment, summary in runs:
            try:
                exp = Experiment(**json.loads(experiment))
            except (TypeError, ValueError) as err:
                log.warning(
                    "run %s in %s cannot be read by this version (%s); ignoring it", key, self._path, err
                )
                continue
            out[key] = RunResult(exp, _loads(summary), frames_of.get(key, {}))
        return out

    def has(self, keys: Iterable[str]) -> set[str]:
        """Which of these keys are stored (reads only the primary-key index, never a blob)."""
        keys = _as_list(keys)
        rows = self._run(lambda conn: _select_in(conn, "SELECT key FROM runs WHERE key IN ({})", keys))
        return {r[0] for r in rows}

    def list_runs(self, dataset: str | None = None) -> pd.DataFrame:
        """One row per stored run, oldest first: key, created, seconds, device, code_version,
        one column per knob (core.spec.KNOBS), then one per scalar summary field.

        Summary fields whose names are already taken (e.g. seconds) are not repeated. No blob
        is read, so this stays cheap however large the frames are.
        """
        sql = "SELECT key, created, seconds, device, code_version, experiment, summary FROM runs"
        params: tuple = ()
        if dataset is not None:
            sql, params = sql + " WHERE dataset = ?", (dataset,)
        rows = self._run(lambda conn: conn.execute(sql + " ORDER BY created, key", params).fetchall())
        records = []
        for key, created, seconds, device, code_version, experiment, summary in rows:
            record: dict[str, Any] = {"key": key, "created": created, "seconds": seconds}
            record.update(device=device, code_version=code_version)
            knobs = json.loads(experiment)
            record.update({k: knobs.get(k) for k in KNOBS})
            for name, value in _loads(summary).items():
                if name not in record and (value is None or isinstance(value, (bool, int, float, str))):
                    record[name] = value
            records.append(record)
        if not records:
            return pd.DataFrame(columns=[*_LIST_COLUMNS, *KNOBS])
        return pd.DataFrame.from_records(records)

    def delete(self, keys: Iterable[str]) -> int:
        """Remove runs (with their frames) in one transaction; returns how many runs were removed."""
        keys = _as_list(keys)

        def remove(conn: sqlite3.Connection) -> int:
            removed = 0
            with _transaction(conn, "BEGIN IMMEDIATE"):
                for i in range(0, len(keys), _CHUNK):
                    chunk = keys[i : i + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    conn.execute(f"DELETE FROM frames WHERE key IN ({marks})", chunk)
                    removed += conn.execute(f"DELETE FROM runs WHERE key IN ({marks})", chunk).rowcount
            return removed

        return self._run(remove) if keys else 0

    def count(self) -> int:
        return self._run(lambda conn: conn.execute("SELECT count(*) FROM runs").fetchone()[0])

    def close(self) -> None:
        """Close this thread's connection (other threads' connections close when they exit)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self._path)!r})"

    # -- connections ----------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = _connect(self._path)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run fn with this thread's connection, retrying when the database stays locked."""
        return _retrying(lambda: fn(self._conn()))

    # -- opening and recovery -------------------------------------------------------------------
    def _open(self) -> None:
        """Validate the file at path; move it aside if unusable; create the schema if new.

        The loop handles a race: another process may be recovering the same file right now, in
        which case the file we inspected is replaced by a fresh store that then validates fine.
        """
        for _ in range(10):
            identity = _identity(self._path)
            problem = self._inspect()
            if problem is None:
                return
            kind, reason = problem
            self.close()
            if _identity(self._path) != identity:
                continue  # someone else moved or replaced it meanwhile: look again
            kept = _move_aside(self._path, kind)
            if kept is None:
                continue
            if kind == "broken":
                what = f"was unreadable ({reason})"
            else:
                what = f"was written with another store format ({reason})"
            self.notice = (
                f"The run store at {self._path} {what}; it was kept as {kept} and a fresh store was "
                "started. Earlier runs will be retrained when needed."
            )
            log.warning("%s", self.notice)
        raise RuntimeError(f"could not open the run store at {self._path}: it keeps changing underneath")

    def _inspect(self) -> tuple[str, str] | None:
        """None if the store is usable (initializing it if empty), else (kind, reason)."""
        try:
            conn = self._conn()
            version, tables = _retrying(lambda: _read_header(conn))
            if version == 0 and not tables:
                _retrying(lambda: _initialize(conn))
                version, tables = _retrying(lambda: _read_header(conn))
        except sqlite3.OperationalError:
            raise  # busy for too long, no permission, a directory: not the file's fault
        except sqlite3.DatabaseError as err:  # "file is not a database", "disk image is malformed"
            return "broken", str(err)
        if version == SCHEMA_VERSION and {"runs", "frames"} <= tables:
            return None
        if version == SCHEMA_VERSION:
            return "broken", f"schema version {version} but tables {sorted(tables)}"
        label = "old" if version < SCHEMA_VERSION else "new"
        return f"{label}-schema-{version}", f"schema version {version}; this app uses {SCHEMA_VERSION}"


# -- SQLite helpers ------------------------------------------------------------------------------
def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves so a run is exactly one transaction.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def _read_header(conn: sqlite3.Connection) -> tuple[int, set[str]]:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return version, tables


def _initialize(conn: sqlite3.Connection) -> None:
    """Create the schema in an empty database; a no-op if another process got there first."""
    # WAL lets readers proceed during a write; it is persistent, so it is set once, here.
    # NORMAL sync is still crash-safe under WAL (a killed process never loses a commit).
    conn.execute("PRAGMA journal_mode = WAL")
    with _transaction(conn, "BEGIN IMMEDIATE"):
        version, tables = _read_header(conn)
        if version == 0 and not tables:
            for statement in filter(str.strip, _SCHEMA.split(";")):  # executescript would COMMIT
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def _transaction(conn: sqlite3.Connection, begin: str) -> Iterator[None]:
    conn.execute(begin)
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _is_busy(err: BaseException) -> bool:
    text = str(err).lower()
    return isinstance(err, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _retrying(fn: Callable[[], _T]) -> _T:
    """Call fn, retrying with jittered backoff while SQLite reports the database busy/locked."""
    for attempt in range(RETRIES):
        try:
            return fn()
        except sqlite3.OperationalError as err:
            if not _is_busy(err) or attempt == RETRIES - 1:
                raise
            log.info("run store busy (%s); retrying", err)
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def _select_in(conn: sqlite3.Connection, sql: str, keys: list[str]) -> list[tuple]:
    rows: list[tuple] = []
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        rows += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows


def _as_list(keys: Iterable[str]) -> list[str]:
    """Accept one key as well as many: a bare string must not be iterated character by character."""
    return [keys] if isinstance(keys, str) else list(dict.fromkeys(keys))


# -- moving a bad file aside ---------------------------------------------------------------------
def _identity(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _move_aside(path: Path, kind: str) -> Path | None:
    """Rename path (and its -wal/-shm companions) to a name that is not taken; None if it vanished.

    Renaming, not copying: the kept file is byte-identical and nothing is ever overwritten.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = path.with_name(f"{path.name}.{kind}-{stamp}")
    target, n = base, 0
    while any(Path(f"{target}{s}").exists() for s in ("", "-wal", "-shm")):
        n += 1
        target = base.with_name(f"{base.name}-{n}")
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    for suffix in ("-wal", "-shm"):
        companion = Path(f"{path}{suffix}")
        if companion.exists():
            with suppress(FileNotFoundError):
                os.rename(companion, f"{target}{suffix}")
    return target


# -- encoding ------------------------------------------------------------------------------------
def _encode(result: RunResult) -> tuple[tuple, list[tuple]]:
    """The runs row and the frames rows of one result, ready to insert."""
    exp, summary = result.experiment, result.summary
    key = result.key
    seconds = summary.get("seconds")
    run_row = (
        key,
        json.dumps(exp.to_dict(), sort_keys=True),
        _dumps(summary),
        exp.dataset,
        None if summary.get("device") is None else str(summary["device"]),
        CODE_VERSION,
        time.time(),
        float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None,
    )
    frame_rows = [
        (key, name, pos, _frame_to_bytes(df)) for pos, (name, df) in enumerate(result.frames.items())
    ]
    return run_row, frame_rows


def _frame_to_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow", compression="zstd")
    return buf.getvalue()


def _frame_from_bytes(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def _dumps(value: Any) -> str:
    """Strict JSON: non-finite floats become {"$float": "nan"|"inf"|"-inf"}; numpy scalars plain."""
    return json.dumps(_to_jsonable(value), sort_keys=True, allow_nan=False)


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_FLOAT_TAG: repr(float(value))}
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalar or array, without importing numpy here
        return _to_jsonable(value.tolist())
    raise TypeError(f"cannot store summary value {value!r} of type {type(value).__name__}")


def _loads(text: str) -> dict[str, Any]:
    def hook(obj: dict[str, Any]) -> Any:
        if len(obj) == 1 and _FLOAT_TAG in obj:
            return float(obj[_FLOAT_TAG])
        return obj

    return json.loads(text, object_hook=hook)
