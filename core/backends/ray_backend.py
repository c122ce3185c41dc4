"""The Ray backend: each stacked group (or chunk of a large one) is one Ray task on the cluster.

Why Ray (and not Dask distributed, the lighter option): tasks carry resource requests
(`num_cpus=1`, a GPU fraction) that the scheduler honours across nodes, workers recycle after
`max_calls` tasks (TensorFlow keeps every traced shape until its process ends), a small actor
gives live progress without polling files, and `ray.init(address=...)` joins a cluster with no
code change. Dask's workers are long-lived processes with no per-task recycling, and resource
annotations there are advisory.

What stays on the driver: loading the dataset (sent once per group via the object store, so
workers need no data files or uploads), the RunStore (the driver is its only writer) and the
runner's per-run locks. A task runs the same `core.backends.local.train_chunk` as the local
backend, so the same members give bit-identical numbers; a group larger than the chunk size is
split, which equals local training once members are independent of their group-mates.

Environment: WHATIF_RAY_ADDRESS joins a running cluster; otherwise a local Ray is started with
this machine's cores, listening on 127.0.0.1 only, without token auth (local use only), with a bounded
object store. WHATIF_RAY_MAX_MEMBERS sets the chunk size, WHATIF_RAY_GPU_SHARE the GPU fraction.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.backends.base import GroupDone, GroupProgress
from core.backends.local import train_chunk
from core.limits import MAX_MEMBERS
from core.results import RunResult
from core.spec import Experiment

ADDRESS_ENV = "WHATIF_RAY_ADDRESS"
MAX_MEMBERS_ENV = "WHATIF_RAY_MAX_MEMBERS"
GPU_SHARE_ENV = "WHATIF_RAY_GPU_SHARE"
OBJECT_STORE_ENV = "WHATIF_RAY_OBJECT_STORE_MB"
ROOT = Path(__file__).resolve().parents[2]
# A worker imports TensorFlow once (~5 s) and keeps each traced shape; after this many groups it
# is replaced, which bounds its memory at the price of one more import per ten groups.
MAX_CALLS = 10
# Default chunk = the largest comparison the product allows: a group is then never split, so Ray
# gives exactly the local numbers. Lower it on a cluster of small workers.
DEFAULT_MAX_MEMBERS = MAX_MEMBERS
# Four small stacked groups share one GPU comfortably (each is a few MB of weights).
DEFAULT_GPU_SHARE = 0.25
# Results are a few MB of frames; the largest dataset (MNIST, ~220 MB of float32) must fit once.
DEFAULT_OBJECT_STORE_MB = 512
LOOPBACK = "127.0.0.1"
POLL_SECONDS = 0.5  # how often progress is read while tasks run
# Driver-side variables that change the numbers or the noise; workers on a cluster need them too.
FORWARDED_ENV = ("WHATIF_XLA", "TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")
NOT_UPLOADED = [".venv", ".git", "data", "docs", "tests", "**/__pycache__"]


def local_only_environment() -> None:
    """A local Ray (no WHATIF_RAY_ADDRESS) listens on 127.0.0.1 without token auth. Ray reads
    these variables when it is imported, so this runs when this module is, before `import ray`."""
    if not os.environ.get(ADDRESS_ENV, "").strip():
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # "no cluster": loopback
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # nobody else can reach the node


local_only_environment()


def _int_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ[name]))
    except (KeyError, ValueError):
        return default


def _float_env(name: str, default: float) -> float:
    try:
        value = float(os.environ[name])
    except (KeyError, ValueError):
        return default
    return value if 0 < value <= 1 else default


def chunks(n: int, max_members: int) -> list[tuple[int, int]]:
    """Split n members into the fewest chunks of at most max_members, sizes as even as possible."""
    parts = max(1, math.ceil(n / max_members))
    bounds = np.linspace(0, n, parts + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


class ProgressBoard:
    """A small actor the tasks report epochs to; the driver reads it while waiting."""

    def __init__(self) -> None:
        self.epochs: dict[tuple[int, int, int], tuple[int, int]] = {}

    def report(self, call: int, group: int, chunk: int, done: int, total: int) -> None:
        self.epochs[(call, group, chunk)] = (done, total)

    def read(self, call: int) -> dict[tuple[int, int], tuple[int, int]]:
        return {(g, c): v for (k, g, c), v in self.epochs.items() if k == call}

    def forget(self, call: int) -> None:
        self.epochs = {key: v for key, v in self.epochs.items() if key[0] != call}


def _task(members, ds, lr_table, board, key) -> list[RunResult]:
    """Body of one Ray task: the local trainer, with epochs reported to the board."""

    def progress(done: int, total: int) -> None:
        board.report.remote(*key, done, total)

    return train_chunk(members, ds, progress, lr_table)


class RayBackend:
    """Groups as concurrent Ray tasks; results gathered on the driver in member order."""

    name = "ray"

    def __init__(self) -> None:
        try:
            import ray
        except ImportError as err:
            raise ValueError("the ray backend needs Ray: pip install -r requirements-cluster.txt") from err
        self.ray = ray
        self.init_seconds = self._connect()
        gpus = ray.cluster_resources().get("GPU", 0)
        share = _float_env(GPU_SHARE_ENV, DEFAULT_GPU_SHARE) if gpus else 0
        self.remote = ray.remote(num_cpus=1, num_gpus=share, max_calls=MAX_CALLS)(_task)
        self.board = ray.remote(num_cpus=0)(ProgressBoard).remote()
        self.max_members = _int_env(MAX_MEMBERS_ENV, DEFAULT_MAX_MEMBERS)
        self.calls = 0
        self.lock = threading.Lock()

    def _connect(self) -> float:
        """Join WHATIF_RAY_ADDRESS, or start a local Ray on 127.0.0.1 with this machine's cores."""
        start = time.perf_counter()
        if self.ray.is_initialized():
            return 0.0
        env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
        address = os.environ.get(ADDRESS_ENV, "").strip()
        if address:  # the cluster's nodes get this checkout (not the data or the venv)
            runtime_env = {"working_dir": str(ROOT), "excludes": NOT_UPLOADED, "env_vars": env}
            self.ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
        else:
            path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
            self.ray.init(
                num_cpus=os.cpu_count() or 1,
                object_store_memory=_int_env(OBJECT_STORE_ENV, DEFAULT_OBJECT_STORE_MB) * 2**20,
                include_dashboard=False,
                _node_ip_address=LOOPBACK,  # without it the node listens on the machine's address
                log_to_driver=False,
                runtime_env={"env_vars": {**env, "PYTHONPATH": path}},
            )
        return time.perf_counter() - start

    def train_groups(
        self,
        groups: Sequence[Sequence[Experiment]],
        progress: GroupProgress | None = None,
        lr_tables: Sequence[np.ndarray | None] | None = None,
        on_done: GroupDone | None = None,
    ) -> list[list[RunResult]]:
        with self.lock:
            self.calls += 1
            call = self.calls
        pending = self._submit(call, groups, lr_tables)
        parts: dict[tuple[int, int], list[RunResult]] = {}
        try:
            self._gather(call, groups, pending, parts, progress, on_done)
        finally:
            for ref in pending:  # interrupted (a closed tab, Ctrl-C): stop what still runs
                self.ray.cancel(ref, force=True)
            self.board.forget.remote(call)
        return [_joined(parts, g, len(self._bounds(group))) for g, group in enumerate(groups)]

    def _bounds(self, group: Sequence[Experiment]) -> list[tuple[int, int]]:
        return chunks(len(group), self.max_members)

    def _submit(self, call, groups, lr_tables) -> dict:
        from core.data import load_for

        pending = {}
        for g, group in enumerate(groups):
            e = group[0]
            ds = self.ray.put(load_for(e))
            table = lr_tables[g] if lr_tables else None
            for c, (lo, hi) in enumerate(self._bounds(group)):
                part = None if table is None else np.ascontiguousarray(table[:, lo:hi])
                ref = self.remote.remote(list(group[lo:hi]), ds, part, self.board, (call, g, c))
                pending[ref] = (g, c)
        return pending

    def _gather(self, call, groups, pending, parts, progress, on_done) -> None:
        """Collect chunks as they finish; report each group's slowest chunk to `progress`; call
        on_done(group, runs) once all chunks of a group are in."""
        seen: dict[int, tuple[int, int]] = {}
        while pending:
            ready, _ = self.ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                g, c = pending.pop(ref)
                parts[(g, c)] = self.ray.get(ref)
                n_chunks = len(self._bounds(groups[g]))
                if on_done is not None and all((g, i) in parts for i in range(n_chunks)):
                    on_done(g, _joined(parts, g, n_chunks))
            if progress is not None:
                board = self.ray.get(self.board.read.remote(call))
                for g, epochs in _group_epochs(board, [len(self._bounds(group)) for group in groups]).items():
                    if seen.get(g) != epochs:
                        seen[g] = epochs
                        progress(g, *epochs)


def _joined(parts: dict[tuple[int, int], list[RunResult]], group: int, n_chunks: int) -> list[RunResult]:
    return [run for c in range(n_chunks) for run in parts[(group, c)]]


def _group_epochs(
    board: dict[tuple[int, int], tuple[int, int]], n_chunks: list[int]
) -> dict[int, tuple[int, int]]:
    """(epochs done, epochs total) of each group that has reported: its slowest chunk, a chunk
    that has not reported yet counting as 0 epochs done."""
    out: dict[int, tuple[int, int]] = {}
    for g, n in enumerate(n_chunks):
        reports = [board[(g, c)] for c in range(n) if (g, c) in board]
        if reports:
            done = min(r[0] for r in reports) if len(reports) == n else 0
            out[g] = (done, max(r[1] for r in reports))
    return out
