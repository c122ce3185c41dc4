"""One training worker process as the parent sees it: start it, talk to it over its pipes, stop it.

Split from core.backends.worker, which keeps a pool of these (one per training slot of the
runner) and decides which job goes to which; everything here concerns a single process and knows
nothing of the pool. The protocol itself is described in core.backends.worker_main.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 10  # a retiring or stopped worker gets this long to exit before it is killed


class WorkerCrashed(RuntimeError):
    """The worker process died during a job (killed, out of memory); finished groups were kept."""


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class WorkerProcess:
    """One worker process and its two pipes; `traced` names the groups its warm-up traced, so a
    second warm-up request for the same process (a retire and a job both asking) skips them."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core.backends.worker_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        self.pid = self.proc.pid
        self.ready = False
        self.traced: set[tuple[str, ...]] = set()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, message: tuple) -> None:
        try:
            pickle.dump(message, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as err:
            raise self.crashed() from err

    def receive(self) -> tuple:
        while True:
            try:
                message = pickle.load(self.proc.stdout)
            except (
                EOFError,
                OSError,
                pickle.UnpicklingError,
                ValueError,
                AttributeError,
                ImportError,
            ) as err:
                raise self.crashed() from err  # an unreadable answer leaves the stream unusable too
            if message[0] != "ready":
                return message
            self.ready = True

    def crashed(self) -> WorkerCrashed:
        try:
            code = self.proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        return WorkerCrashed(f"the training worker stopped ({_exit_text(code)}) during the job")

    def stop(self) -> None:
        """Ask it to exit (closing stdin is enough), then make sure it did."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()


def raised_here(error: BaseException | None, summary: str, trace: str) -> BaseException:
    """The worker's exception, to raise here: itself when it crossed the pipe, else a RuntimeError
    carrying its message; the worker's traceback travels as a note for the logs."""
    err = error if error is not None else RuntimeError(f"training failed in the worker: {summary}")
    err.add_note(f"in the training worker:\n{trace}")
    return err
