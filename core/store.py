"""`RunStore`: every finished run, kept in one SQLite file so a seen comparison replays instantly.

Why SQLite: one file that survives restarts, transactions that make a run either fully stored or
absent (a process killed mid-write leaves nothing half-written), and WAL mode so that the many
threads Streamlit runs scripts on, and CLI processes, can read while one of them writes.

Layout (schema version `SCHEMA_VERSION`, kept in PRAGMA user_version):
- runs:   one row per run: key, experiment (JSON of the knobs), summary (JSON), device,
          code_version, created, seconds, dataset (indexed, for filtering).
- frames: one Parquet blob per (run, frame name), so a caller can load only the frames it draws
          and listing runs never touches a blob.
- owners: which app session trained a run (so a session may discard its own runs).
- trash_runs / trash_frames / trash_weights: deleted runs, restorable for `TRASH_GRACE_S`, then purged
  (core.store_trash).
- weights / trash_weights: each run's initial and final weights, one npz blob (core.weights,
  at most core.weights.WEIGHTS_CAP_BYTES per run; larger networks keep none). A replayed run
  carries a StoredWeights reference, read only when a landscape or a claim asks (`weights`).

A store file that is not a database, fails PRAGMA quick_check, or was written with another
schema is never deleted or overwritten: it is moved aside and a fresh store is started, with a
message in `RunStore.notice` (paths: for the operator) and `RunStore.public_notice` (for a page).

A store that cannot be written (read-only file or folder, a folder at its path, a folder that
cannot be created, a full disk) never stops the app: it reads what it can (read-only replay) and
keeps new runs in memory until the process ends; `RunStore.unsaved` says why nothing is saved.

This module must not import TensorFlow or Keras (directly or through imports): replaying a stored
comparison only needs pandas, so the app can show it without paying for a TensorFlow import.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

import pandas as pd

from core.results import RunResult
from core.spec import KNOBS, Experiment
from core.store_sql import (
    RUN_COLUMNS,
    SCHEMA_VERSION,
    as_list,
    connect,
    connect_readonly,
    damage,
    encode,
    ensure_extras,
    frame_from_bytes,
    identity,
    initialize,
    is_busy,
    is_full,
    list_record,
    loads,
    log,
    move_aside,
    read_header,
    retrying,
    select_in,
    transaction,
)
from core.store_trash import TrashMixin
from core.store_weights import WeightsMixin
from core.weights import StoredWeights, weights_blob

__all__ = ["SCHEMA_VERSION", "STORE_ENV", "RunStore", "set_owner"]

STORE_ENV = "WHATIF_STORE"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "runs.sqlite"
MAX_MEMORY_RUNS = 500  # unsaved runs kept in memory (a few MB of frames each at most), oldest dropped
_LIST_COLUMNS = ("key", "created", "seconds", "device", "code_version")

_T = TypeVar("_T")
_OWNER: ContextVar[str | None] = ContextVar("whatif_store_owner", default=None)


def set_owner(owner: str | None) -> None:
    """Name whoever trains in this thread/context (an app session id): runs it stores are theirs."""
    _OWNER.set(owner)


def _no_op(key: str) -> None:
    """Default of `_before_commit`."""


# Test seam: called inside the write transaction of `put`/`put_many`, after every row is written
# and just before COMMIT. A test replaces it (e.g. with a long sleep) to kill a writer mid-write.
_before_commit: Callable[[str], None] = _no_op


class RunStore(WeightsMixin, TrashMixin):
    """Persistent map from run key to `RunResult`, safe to share between threads and processes.

    Each thread gets its own connection (sqlite3 connections must not be used concurrently), and
    a forked child opens its own instead of reusing its parent's. Writers wait for each other
    (busy timeout plus retries), so concurrent puts all succeed. `mode` is "rw", "ro" (replay
    only) or "memory" (nothing readable on disk); in the last two, new runs live in memory.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            path = os.environ.get(STORE_ENV) or DEFAULT_PATH
        self._path = Path(path).expanduser().resolve()
        self._local = threading.local()
        self._memory: dict[str, tuple[tuple, RunResult, str | None]] = {}  # unsaved runs
        self._memory_lock = threading.Lock()
        self.notice: str | None = None  # for the operator (names paths)
        self.public_notice: str | None = None  # the same news for a public page (no paths)
        self.unsaved: str | None = None  # why new runs are not being saved; None while they are
        self.on_unsaved: Callable[[RunStore], None] | None = None  # told when saving stops (an app's banner)
        self.mode = "rw"
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._open()
            self._run(ensure_extras)
        except (OSError, sqlite3.Error) as err:
            self._degrade(err)

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
        only for the inserts themselves. When the store cannot be written (a full disk, a file
        turned read-only), the runs are kept in memory instead and `unsaved` says why: the
        caller's results are never lost and a reload replays them instead of retraining.
        """
        results = list(results)
        rows = [encode(r) for r in results]
        if not rows:
            return
        blobs = [weights_blob(r) for r in results]
        owner = _OWNER.get()
        if self.mode == "rw":
            try:
                self._run(lambda conn: self._write(conn, rows, owner, blobs))
                self._weights_now_stored(results, blobs)
                return
            except sqlite3.DatabaseError as err:
                if is_busy(err):
                    raise
                self._stop_saving(err)
        with self._memory_lock:
            for (run_row, _), result in zip(rows, results, strict=True):
                self._memory.pop(run_row[0], None)
                # the summary as a replay from disk would give it (plain JSON types)
                kept = RunResult(result.experiment, loads(run_row[2]), dict(result.frames), result.weights)
                self._memory[run_row[0]] = (run_row, kept, owner)
            while len(self._memory) > MAX_MEMORY_RUNS:
                self._memory.pop(next(iter(self._memory)))

    def get(self, key: str, frames: Iterable[str] | None = None) -> RunResult | None:
        """The stored run, or None. `frames` limits which frames are decoded (default: all)."""
        return self.get_many([key], frames).get(key)

    def get_many(self, keys: Iterable[str], frames: Iterable[str] | None = None) -> dict[str, RunResult]:
        """Stored runs by key; missing keys (and runs this code can no longer read) are left out."""
        keys = as_list(keys)
        wanted = None if frames is None else set(frames)
        in_memory = self._from_memory(keys)

        def read(conn: sqlite3.Connection) -> tuple[list[tuple], list[tuple]]:
            # One read transaction: a concurrent put cannot pair one version's summary with
            # another version's frames.
            with transaction(conn, "BEGIN"):
                runs = select_in(conn, "SELECT key, experiment, summary FROM runs WHERE key IN ({})", keys)
                blobs = []
                if wanted is None or wanted:
                    found = [r[0] for r in runs]
                    sql = "SELECT key, name, data FROM frames WHERE key IN ({}) ORDER BY key, pos"
                    blobs = select_in(conn, sql, found)
            return runs, blobs

        runs, blobs = self._read(read, ([], []))
        frames_of: dict[str, dict[str, pd.DataFrame]] = {}
        for key, name, data in blobs:
            if wanted is None or name in wanted:
                frames_of.setdefault(key, {})[name] = frame_from_bytes(data)
        out: dict[str, RunResult] = {}
        with_weights = self._stored_weights([r[0] for r in runs]) if runs else set()
        for key, experiment, summary in runs:
            try:
                exp = Experiment(**json.loads(experiment))
            except (TypeError, ValueError) as err:
                log.warning(
                    "run %s in %s cannot be read by this version (%s); ignoring it", key, self._path, err
                )
                continue
            ref = StoredWeights(str(self._path), key) if key in with_weights else None
            out[key] = RunResult(exp, loads(summary), frames_of.get(key, {}), ref)
        for key, result in in_memory.items():
            kept = (
                result.frames if wanted is None else {n: f for n, f in result.frames.items() if n in wanted}
            )
            out[key] = RunResult(result.experiment, result.summary, kept, result.weights)
        return out

    def has(self, keys: Iterable[str]) -> set[str]:
        """Which of these keys are stored (reads only the primary-key index, never a blob)."""
        keys = as_list(keys)
        rows = self._read(lambda conn: select_in(conn, "SELECT key FROM runs WHERE key IN ({})", keys), [])
        return {r[0] for r in rows} | set(self._from_memory(keys))

    def list_runs(self, dataset: str | None = None) -> pd.DataFrame:
        """One row per stored run, oldest first: key, created, seconds, device, code_version,
        one column per knob (core.spec.KNOBS), then one per scalar summary field.

        Summary fields whose names are already taken (e.g. seconds) are not repeated. No blob
        is read, so this stays cheap however large the frames are.
        """
        sql = f"SELECT {RUN_COLUMNS} FROM runs"
        params: tuple = ()
        if dataset is not None:
            sql, params = sql + " WHERE dataset = ?", (dataset,)
        rows = self._read(lambda conn: conn.execute(sql + " ORDER BY created, key", params).fetchall(), [])
        with self._memory_lock:
            rows += [row for row, _, _ in self._memory.values() if dataset is None or row[3] == dataset]
        records = [list_record(row) for row in sorted(rows, key=lambda r: (r[6], r[0]))]
        if not records:
            return pd.DataFrame(columns=[*_LIST_COLUMNS, *KNOBS])
        return pd.DataFrame.from_records(records)

    def owned(self, owner: str) -> set[str]:
        """Keys of the runs this owner (an app session) trained and stored."""
        rows = self._read(
            lambda c: c.execute("SELECT key FROM owners WHERE owner = ?", (owner,)).fetchall(), []
        )
        with self._memory_lock:
            mine = {k for k, (_, _, o) in self._memory.items() if o == owner}
        return {r[0] for r in rows} | mine

    def count(self) -> int:
        stored = self._read(lambda conn: conn.execute("SELECT count(*) FROM runs").fetchone()[0], 0)
        return stored + len(self._memory)

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

    # -- writing --------------------------------------------------------------------------------
    @staticmethod
    def _write(
        conn: sqlite3.Connection,
        rows: list[tuple[tuple, list[tuple]]],
        owner: str | None,
        blobs: list[bytes | None],
    ) -> None:
        with transaction(conn, "BEGIN IMMEDIATE"):
            for (run_row, frame_rows), blob in zip(rows, blobs, strict=True):
                conn.execute("DELETE FROM frames WHERE key = ?", (run_row[0],))
                if blob is not None:  # a replay stored again (no arrays held) keeps its weights
                    conn.execute("INSERT OR REPLACE INTO weights VALUES (?, ?)", (run_row[0], blob))
                conn.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", run_row)
                conn.executemany("INSERT INTO frames VALUES (?, ?, ?, ?)", frame_rows)
                if owner is not None:
                    conn.execute("INSERT OR REPLACE INTO owners VALUES (?, ?)", (run_row[0], owner))
            for run_row, _ in rows:
                _before_commit(run_row[0])

    def _stop_saving(self, err: BaseException) -> None:
        """From now on keep new runs in memory (reads of the file go on: replay still works)."""
        reason = "the disk is full" if is_full(err) else f"the store cannot be written ({err})"
        self.mode = "ro"
        self._set_unsaved(reason, err)

    def _set_unsaved(self, reason: str, err: BaseException) -> None:
        self.unsaved = reason
        log.warning("run store %s: %s (%s); new runs are kept in memory only", self._path, reason, err)
        if self.on_unsaved is not None:
            try:
                self.on_unsaved(self)
            except Exception:  # a listener's failure must not lose the run being kept
                log.exception("run store: the on_unsaved listener failed")

    def _from_memory(self, keys: list[str]) -> dict[str, RunResult]:
        with self._memory_lock:
            return {k: self._memory[k][1] for k in keys if k in self._memory}

    # -- connections ----------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = connect(self._path) if self.mode == "rw" else connect_readonly(self._path)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _run(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run fn with this thread's connection, retrying when the database stays locked."""
        return retrying(lambda: fn(self._conn()))

    def _read(self, fn: Callable[[sqlite3.Connection], _T], empty: _T) -> _T:
        """A read that yields `empty` when there is no readable file (memory mode) or a table
        is missing (a read-only store from before the owners/trash tables)."""
        if self.mode == "memory":
            return empty
        try:
            return self._run(fn)
        except sqlite3.OperationalError as err:
            if is_busy(err) or "no such table" not in str(err):
                raise
            return empty

    # -- opening and recovery -------------------------------------------------------------------
    def _degrade(self, err: BaseException) -> None:
        """The file cannot be opened for writing: replay from it read-only if possible, else keep
        everything in memory. Either way the app goes on, and `unsaved` says why."""
        self.close()
        if self._path.is_dir():
            reason = "a folder is in the way of the store file"
        elif not self._path.parent.is_dir():
            reason = "the store's folder cannot be created"
        else:
            reason = "the store's file or folder is read-only"
        self.mode = "ro"
        try:
            version, tables = self._run(read_header)
            if version != SCHEMA_VERSION or not {"runs", "frames"} <= tables:
                raise sqlite3.DatabaseError(f"not a usable store (schema {version}, tables {sorted(tables)})")
        except (OSError, sqlite3.Error):
            self.close()
            self.mode = "memory"
        self._set_unsaved(reason, err)

    def _open(self) -> None:
        """Validate the file at path; move it aside if unusable; create the schema if new.

        The loop handles a race: another process may be recovering the same file right now, in
        which case the file we inspected is replaced by a fresh store that then validates fine.
        """
        for _ in range(10):
            before = identity(self._path)
            problem = self._inspect()
            if problem is None:
                return
            kind, reason = problem
            self.close()
            if identity(self._path) != before:
                continue  # someone else moved or replaced it meanwhile: look again
            kept = move_aside(self._path, kind)
            if kept is None:
                continue
            what = "was unreadable" if kind == "broken" else "was written with another store format"
            self.notice = (
                f"The run store at {self._path} {what} ({reason}); it was kept as {kept} and a fresh "
                "store was started. Earlier runs will be retrained when needed."
            )
            self.public_notice = (
                f"The run store {what}; it was set aside (the operator's log says where) and a fresh "
                "store was started. Earlier runs will be retrained when needed."
            )
            log.warning("%s", self.notice)
        raise RuntimeError(f"could not open the run store at {self._path}: it keeps changing underneath")

    def _inspect(self) -> tuple[str, str] | None:
        """None if the store is usable (initializing it if empty), else (kind, reason)."""
        try:
            conn = self._conn()
            version, tables = retrying(lambda: read_header(conn))
            if version == 0 and not tables:
                retrying(lambda: initialize(conn))
                version, tables = retrying(lambda: read_header(conn))
            damaged = damage(conn) if version == SCHEMA_VERSION else None
        except sqlite3.OperationalError:
            raise  # busy for too long, no permission, a directory: not the file's fault
        except sqlite3.DatabaseError as err:  # "file is not a database", "disk image is malformed"
            return "broken", str(err)
        if damaged:
            return "broken", f"integrity check: {damaged}"
        if version == SCHEMA_VERSION and {"runs", "frames"} <= tables:
            return None
        if version == SCHEMA_VERSION:
            return "broken", f"schema version {version} but tables {sorted(tables)}"
        label = "old" if version < SCHEMA_VERSION else "new"
        return f"{label}-schema-{version}", f"schema version {version}; this app uses {SCHEMA_VERSION}"
