"""The training worker's process: `python -m core.backends.worker_main`, started by core.backends.worker.

Why a separate process: TensorFlow costs ~700 MB once imported and keeps every traced shape, and
a process cannot give that memory back. The Streamlit server therefore never imports it; this
process does, trains what the server sends, and is replaced when it has grown too large.

Protocol (both ends are this repository's code, so pickle is the framing): the parent writes
one message per job on stdin, the worker answers on the stdout it was started with (fd 1 is then
pointed at stderr so that a library printing to stdout cannot corrupt the stream):
- parent -> worker: ("train", job, env, groups, lr_tables) | ("warm", job, env, groups) |
  ("cancel", job) | ("exit",), where job is a number the parent gives each job; a cancel stops
  that job at its next epoch (a thread reads the pipe while a job trains)
- worker -> parent: ("ready", pid) once TensorFlow is imported; per job any number of
  ("epoch", group, done, total) and ("group", group, runs), then ("end", rss_mb, retiring) or
  ("error", exception_or_None, message, traceback_text, rss_mb, retiring).
A retiring worker exits right after its answer: recycling happens between jobs, never mid-group.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import queue
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any, BinaryIO

# Variables the parent forwards with every job: they choose the data folder, the store, XLA and
# quick presets, and may change after the worker started (tests point them at temporary folders).
ENV_PREFIXES = ("WHATIF_", "KERAS_", "TF_")
MAX_MB_ENV = "WHATIF_WORKER_MAX_MB"
MAX_JOBS_ENV = "WHATIF_WORKER_MAX_JOBS"
# Community Cloud's largest container is 2.7 GB. The server stays near 250 MB without TensorFlow,
# one job's own peak (MNIST pool, its frames) is a few hundred MB, and a fresh worker sits near
# 700 MB: retiring at 1.5 GB leaves room for both of those plus a replacement starting up.
DEFAULT_MAX_MB = 1500
# Even when the cap is not reached, a fresh process every 50 jobs keeps leaks we did not measure
# (allocator fragmentation, Keras globals) from accumulating for days; the restart costs one import.
DEFAULT_MAX_JOBS = 50
KIB_PER_MIB = 1024
PORTABLE_MODULES = ("builtins", "core")  # exceptions from these cross the pipe as themselves


def rss_mb() -> float:
    """This process's resident memory now (Linux /proc), else its peak (getrusage)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / KIB_PER_MIB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB


def positive_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ[name]))
    except (KeyError, ValueError):
        return default


def forwarded_env() -> dict[str, str]:
    """The variables of this process that a job carries to the worker."""
    return {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}


def apply_env(env: Mapping[str, str]) -> None:
    """Make the worker's forwarded variables equal the parent's at submission time."""
    for name in [k for k in os.environ if k.startswith(ENV_PREFIXES) and k not in env]:
        del os.environ[name]
    os.environ.update(env)


class Cancelled(Exception):
    """The parent gave up on this job (its caller was interrupted): stop at the next epoch."""


def _train(groups, lr_tables, send: Callable[[tuple], None], cancelled: Callable[[], bool]) -> None:
    from core.backends.local import train_chunk

    for index, group in enumerate(groups):

        def on_epoch(done: int, total: int, index: int = index) -> None:
            if cancelled():
                raise Cancelled("cancelled by the parent")
            send(("epoch", index, done, total))

        table = lr_tables[index] if lr_tables else None
        send(("group", index, train_chunk(group, progress=on_epoch, lr_table=table)))


def _warm(groups: Sequence[Sequence[Any]]) -> None:
    """Trace each group's network shape: one epoch of the same stacked members (the compiled
    epoch is specialised on shapes and flags, not on the epoch count), results thrown away."""
    from core.backends.local import train_chunk

    for group in groups:
        train_chunk([dataclasses.replace(m, epochs=1) for m in group])


def _portable(err: BaseException) -> BaseException | None:
    """The exception itself when the parent can unpickle it without new imports: Python's own and
    this repository's. A TensorFlow error (out of memory, say) would import TensorFlow into the
    server on unpickling, so it travels as its message only."""
    if type(err).__module__.split(".")[0] not in PORTABLE_MODULES:
        return None
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        return None
    return err


class _Inbox:
    """Reads the parent's messages in a thread, so a cancel is seen while a job trains."""

    def __init__(self, stream: BinaryIO) -> None:
        self.jobs: queue.Queue[tuple | None] = queue.Queue()
        self.cancelled: set[int] = set()
        threading.Thread(target=self._read, args=(stream,), name="inbox", daemon=True).start()

    def _read(self, stream: BinaryIO) -> None:
        while True:
            try:
                message = pickle.load(stream)
            except (EOFError, OSError, pickle.UnpicklingError):
                self.jobs.put(None)  # the parent closed the pipe (or died)
                return
            if message[0] == "cancel":
                self.cancelled.add(message[1])
            else:
                self.jobs.put(message)


def _run(message: tuple, send: Callable[[tuple], None], inbox: _Inbox) -> BaseException | None:
    """One job; its exception (if any) instead of raising it."""
    kind, job_id, env, groups, *tables = message
    try:
        apply_env(env)
        if kind == "warm":
            _warm(groups)
        else:
            _train(groups, tables[0], send, lambda: job_id in inbox.cancelled)
    except Exception as err:  # reported to the parent, which raises it there
        return err
    return None


def serve(stream: BinaryIO, outbox: BinaryIO) -> None:
    """Answer jobs until told to exit, the parent goes away, or it is time to retire."""

    def send(message: tuple) -> None:
        pickle.dump(message, outbox, protocol=pickle.HIGHEST_PROTOCOL)
        outbox.flush()

    inbox = _Inbox(stream)
    import core.training.trainer  # noqa: F401  (the import is the warm-up: ~5 s, paid here once)

    send(("ready", os.getpid()))
    max_mb, max_jobs = positive_env(MAX_MB_ENV, DEFAULT_MAX_MB), positive_env(MAX_JOBS_ENV, DEFAULT_MAX_JOBS)
    jobs = 0
    while (message := inbox.jobs.get()) is not None and message[0] != "exit":
        jobs += message[0] == "train"  # warm-up traces are not jobs: they are why a worker exists
        error = _run(message, send, inbox)
        size = rss_mb()
        # Only after a real job: a worker retiring during its own warm-up would warm again forever.
        retiring = message[0] == "train" and (jobs >= max_jobs or size > max_mb)
        if error is None:
            send(("end", size, retiring))
        else:
            text = "".join(traceback.format_exception(error))
            send(("error", _portable(error), f"{type(error).__name__}: {error}", text, size, retiring))
        if retiring:
            return


def main() -> None:
    outbox = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to the log, not the stream
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, outbox)


if __name__ == "__main__":  # run under its own name, so what it pickles (Cancelled) unpickles
    from core.backends import worker_main

    worker_main.main()
