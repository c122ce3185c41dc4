"""The trash side of `core.store.RunStore`: deleting runs to a restorable trash, listing it,
restoring from it, purging what is older than TRASH_GRACE_S. A mixin, so the store's module stays
one readable sitting; the trash tables are created with the rest of the schema (core.store_sql).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

import pandas as pd

from core.store_sql import _CHUNK, BLOB_TABLES, RUN_COLUMNS, as_list, purge, select_in, transaction

TRASH_GRACE_S = 7 * 24 * 3600  # a deleted run stays restorable for a week, then is purged


class TrashMixin:
    """Needs the store's `mode`, `_memory`, `_memory_lock`, `_run` and `_read`."""

    def delete(self, keys: Iterable[str]) -> int:
        """Move runs (with their frames) to the trash in one transaction; returns how many runs
        were removed. Trash older than `TRASH_GRACE_S` is purged on the way."""
        keys = as_list(keys)
        with self._memory_lock:
            removed = sum(self._memory.pop(k, None) is not None for k in keys)
        if not keys or self.mode != "rw":
            return removed
        now = time.time()

        def move(conn: sqlite3.Connection) -> int:
            count = 0
            with transaction(conn, "BEGIN IMMEDIATE"):
                for i in range(0, len(keys), _CHUNK):
                    chunk = keys[i : i + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    conn.execute(
                        f"INSERT OR REPLACE INTO trash_runs SELECT {RUN_COLUMNS}, ? FROM runs WHERE key IN ({marks})",
                        (now, *chunk),
                    )
                    for table in BLOB_TABLES:
                        conn.execute(
                            f"INSERT OR REPLACE INTO trash_{table} SELECT * FROM {table} WHERE key IN ({marks})",
                            chunk,
                        )
                        conn.execute(f"DELETE FROM {table} WHERE key IN ({marks})", chunk)
                    conn.execute(f"DELETE FROM owners WHERE key IN ({marks})", chunk)
                    count += conn.execute(f"DELETE FROM runs WHERE key IN ({marks})", chunk).rowcount
                purge(conn, now - TRASH_GRACE_S)
            return count

        return removed + self._run(move)

    def trash(self) -> pd.DataFrame:
        """The deleted runs still restorable: key, dataset, created, deleted (newest first)."""
        sql = "SELECT key, dataset, created, deleted FROM trash_runs ORDER BY deleted DESC, key"
        rows = self._read(lambda conn: conn.execute(sql).fetchall(), [])
        return pd.DataFrame(rows, columns=["key", "dataset", "created", "deleted"])

    def restore(self, keys: Iterable[str]) -> int:
        """Put trashed runs back; returns how many came back (a key stored again meanwhile keeps
        its newer run). The trash entries are removed either way."""
        keys = as_list(keys)
        if not keys or self.mode != "rw":
            return 0

        def back(conn: sqlite3.Connection) -> int:
            count = 0
            with transaction(conn, "BEGIN IMMEDIATE"):
                stored = {r[0] for r in select_in(conn, "SELECT key FROM runs WHERE key IN ({})", keys)}
                for key in keys:
                    if key not in stored:
                        count += conn.execute(
                            f"INSERT INTO runs SELECT {RUN_COLUMNS} FROM trash_runs WHERE key = ?", (key,)
                        ).rowcount
                        for table in BLOB_TABLES:
                            conn.execute(
                                f"INSERT OR IGNORE INTO {table} SELECT * FROM trash_{table} WHERE key = ?",
                                (key,),
                            )
                    for table in (*BLOB_TABLES, "runs"):
                        conn.execute(f"DELETE FROM trash_{table} WHERE key = ?", (key,))
            return count

        return self._run(back)
