"""The weights side of `core.store.RunStore`: reading a run's stored weights, and pointing
freshly stored runs at them. A mixin, so the store's module stays one readable sitting; the
tables and their trash handling live with the rest of the schema (core.store_sql).
"""

from __future__ import annotations

from core.results import RunResult
from core.store_sql import select_in
from core.weights import RunWeights, StoredWeights, decode


class WeightsMixin:
    """Needs the store's `_path`, `_memory`, `_memory_lock` and `_read`."""

    def _weights_now_stored(self, results: list[RunResult], blobs: list[bytes | None]) -> None:
        """After a write: the caller's runs point at their stored weights instead of holding the
        arrays (a page keeps its results for the session; weights are read when asked for). A
        run too large to keep weights for drops them, as a replay of it would have none."""
        for result, blob in zip(results, blobs, strict=True):
            if isinstance(result.weights, RunWeights):
                result.weights = StoredWeights(str(self._path), result.key) if blob is not None else None

    def weights(self, key: str) -> RunWeights | None:
        """The run's initial and final weights (core.weights.RunWeights), or None: not stored
        (trained before weights were kept, over the size cap, deleted) or a store without them."""
        with self._memory_lock:
            held = self._memory.get(key)
        if held is not None and isinstance(held[1].weights, RunWeights):
            return held[1].weights
        sql = "SELECT data FROM weights WHERE key = ?"
        row = self._read(lambda conn: conn.execute(sql, (key,)).fetchone(), None)
        return decode(row[0]) if row else None

    def _stored_weights(self, keys: list[str]) -> set[str]:
        """Which of these runs have weights in the file (the primary-key index only, no blob)."""
        sql = "SELECT key FROM weights WHERE key IN ({})"
        return {r[0] for r in self._read(lambda conn: select_in(conn, sql, keys), [])}
