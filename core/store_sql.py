"""SQLite plumbing and encoding behind `core.store.RunStore`: connections, transactions, retries,
moving a bad file aside, and the JSON/Parquet encoding of a run.

Kept apart from the store's API so core/store.py reads as what the store promises (replay,
trash, a store that cannot be written) and stays short; nothing here knows about sessions.
TensorFlow-free, like the store.
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from core.results import RunResult
from core.spec import CODE_VERSION, KNOBS

log = logging.getLogger("core.store")

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
RETRIES = 8  # on top of the busy timeout: "database is locked" can still escape it (WAL recovery)
_CHUNK = 500  # keys per IN (...) query, below SQLite's host-parameter limit
_FLOAT_TAG = "$float"  # {"$float": "nan"}: how non-finite summary floats survive strict JSON

_T = TypeVar("_T")

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

# Added to schema version 1 without a version bump (older code never reads them, so a store
# written by this version still opens with the previous one): who trained a run, the trash, and
# each run's initial and final weights (one npz blob per run, core.weights; bounded by
# core.weights.WEIGHTS_CAP_BYTES; deleted, trashed and restored with its run).
_EXTRAS = """
CREATE TABLE IF NOT EXISTS owners (key TEXT PRIMARY KEY, owner TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trash_runs (
    key TEXT PRIMARY KEY, experiment TEXT NOT NULL, summary TEXT NOT NULL, dataset TEXT,
    device TEXT, code_version TEXT, created REAL NOT NULL, seconds REAL, deleted REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trash_frames (
    key TEXT NOT NULL, name TEXT NOT NULL, pos INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (key, name)
);
CREATE TABLE IF NOT EXISTS weights (key TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS trash_weights (key TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


def connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves so a run is exactly one transaction.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that never writes: mode=ro when SQLite can still create its -shm file beside
    the database, else immutable=1 (a read-only folder: nobody can be writing there either)."""
    for flags in ("mode=ro", "immutable=1"):
        conn = sqlite3.connect(
            f"{path.as_uri()}?{flags}", uri=True, isolation_level=None, check_same_thread=False
        )
        try:
            read_header(conn)
            return conn
        except sqlite3.OperationalError:
            conn.close()
    raise sqlite3.OperationalError(f"unable to open {path} read-only")


def ensure_extras(conn: sqlite3.Connection) -> None:
    """Add the owners and trash tables to a store that predates them (idempotent), and prove
    the file writable."""
    with transaction(conn, "BEGIN IMMEDIATE"):
        for statement in filter(str.strip, _EXTRAS.split(";")):
            conn.execute(statement)
        # A real write, so a file SQLite silently opened read-only is found now, not at a put.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def damage(conn: sqlite3.Connection) -> str | None:
    """What PRAGMA quick_check finds wrong (damaged pages a header check misses), else None."""
    row = conn.execute("PRAGMA quick_check(1)").fetchone()
    return None if row and row[0] == "ok" else str(row[0] if row else "quick_check returned nothing")


def is_full(err: BaseException) -> bool:
    """SQLITE_FULL: "database or disk is full" (also what PRAGMA max_page_count produces)."""
    return isinstance(err, sqlite3.OperationalError) and "full" in str(err).lower()


def read_header(conn: sqlite3.Connection) -> tuple[int, set[str]]:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return version, tables


def initialize(conn: sqlite3.Connection) -> None:
    """Create the schema in an empty database; a no-op if another process got there first."""
    # WAL lets readers proceed during a write; it is persistent, so it is set once, here.
    # NORMAL sync is still crash-safe under WAL (a killed process never loses a commit).
    conn.execute("PRAGMA journal_mode = WAL")
    with transaction(conn, "BEGIN IMMEDIATE"):
        version, tables = read_header(conn)
        if version == 0 and not tables:
            for statement in filter(str.strip, _SCHEMA.split(";")):  # executescript would COMMIT
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def transaction(conn: sqlite3.Connection, begin: str) -> Iterator[None]:
    conn.execute(begin)
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def is_busy(err: BaseException) -> bool:
    text = str(err).lower()
    return isinstance(err, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def retrying(fn: Callable[[], _T]) -> _T:
    """Call fn, retrying with jittered backoff while SQLite reports the database busy/locked."""
    for attempt in range(RETRIES):
        try:
            return fn()
        except sqlite3.OperationalError as err:
            if not is_busy(err) or attempt == RETRIES - 1:
                raise
            log.info("run store busy (%s); retrying", err)
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def select_in(conn: sqlite3.Connection, sql: str, keys: list[str]) -> list[tuple]:
    rows: list[tuple] = []
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        rows += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows


def as_list(keys: Iterable[str]) -> list[str]:
    """Accept one key as well as many: a bare string must not be iterated character by character."""
    return [keys] if isinstance(keys, str) else list(dict.fromkeys(keys))


# -- moving a bad file aside ---------------------------------------------------------------------
def identity(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def move_aside(path: Path, kind: str) -> Path | None:
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
def encode(result: RunResult) -> tuple[tuple, list[tuple]]:
    """The runs row and the frames rows of one result, ready to insert."""
    exp, summary = result.experiment, result.summary
    key = result.key
    seconds = summary.get("seconds")
    run_row = (
        key,
        json.dumps(exp.to_dict(), sort_keys=True),
        dumps(summary),
        exp.dataset,
        None if summary.get("device") is None else str(summary["device"]),
        CODE_VERSION,
        time.time(),
        float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else None,
    )
    frame_rows = [
        (key, name, pos, frame_to_bytes(df)) for pos, (name, df) in enumerate(result.frames.items())
    ]
    return run_row, frame_rows


def frame_to_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow", compression="zstd")
    return buf.getvalue()


def frame_from_bytes(data: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def dumps(value: Any) -> str:
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


def loads(text: str) -> dict[str, Any]:
    def hook(obj: dict[str, Any]) -> Any:
        if len(obj) == 1 and _FLOAT_TAG in obj:
            return float(obj[_FLOAT_TAG])
        return obj

    return json.loads(text, object_hook=hook)


# The tables holding a run's blobs, keyed by run key; each has a trash_<name> twin with the same
# columns, so deleting, restoring and purging treat them alike.
BLOB_TABLES = ("frames", "weights")
RUN_COLUMNS = "key, experiment, summary, dataset, device, code_version, created, seconds"


def purge(conn: sqlite3.Connection, before: float) -> None:
    """Forget trashed runs deleted before `before` (inside the caller's transaction)."""
    old = [r[0] for r in conn.execute("SELECT key FROM trash_runs WHERE deleted < ?", (before,))]
    for i in range(0, len(old), _CHUNK):
        chunk = old[i : i + _CHUNK]
        marks = ",".join("?" * len(chunk))
        for table in BLOB_TABLES:
            conn.execute(f"DELETE FROM trash_{table} WHERE key IN ({marks})", chunk)
        conn.execute(f"DELETE FROM trash_runs WHERE key IN ({marks})", chunk)


def list_record(row: tuple) -> dict[str, Any]:
    """One list_runs row from a runs-table row (key, experiment, summary, dataset, device,
    code_version, created, seconds)."""
    key, experiment, summary, _, device, code_version, created, seconds = row
    record: dict[str, Any] = {"key": key, "created": created, "seconds": seconds}
    record.update(device=device, code_version=code_version)
    knobs = json.loads(experiment)
    record.update({k: knobs.get(k) for k in KNOBS})
    for name, value in loads(summary).items():
        if name not in record and (value is None or isinstance(value, (bool, int, float, str))):
            record[name] = value
    return record
