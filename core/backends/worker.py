"""The worker backend: groups train in a separate, recyclable process that owns TensorFlow.

Why: a process that imports TensorFlow sits at ~700 MB and grows with every traced shape, and it
cannot give that memory back. With this backend the Streamlit server never imports TensorFlow
(replay, charts and the store stay TF-free); one worker process (core.backends.worker_main) does
the training with the local backend's code (`train_chunk`), so the same members give
bit-identical numbers, and it is replaced between jobs once it has grown past
WHATIF_WORKER_MAX_MB or run WHATIF_WORKER_MAX_JOBS jobs.

The parent stays the only writer of the store, as with Ray: runs come back over the pipe, each
group as soon as it finishes (`on_done`), so a worker killed mid-job loses only the unfinished
group; `train_groups` then raises WorkerCrashed and the next call starts a new worker.
A job that raises in the worker raises the same exception here (a ValueError stays a ValueError,
so pages show it as they do for the local backend). Jobs run one at a time (the runner's gate
allows one training at once on <= 2 cores). A caller interrupted mid-job (a widget click stops
a script at its next st.* call, inside a progress callback) cancels it: the worker stops at its
next epoch and stays up for the next job.

`start(warm_groups)` brings the worker up in the background and traces the given groups' shapes
(one epoch each), so the first real job pays neither the import nor the tracing.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.backends.base import GroupDone, GroupProgress
from core.backends.worker_main import forwarded_env
from core.results import RunResult
from core.spec import Experiment

ROOT = Path(__file__).resolve().parents[2]
LOG = logging.getLogger(__name__)
STOP_SECONDS = 10  # a retiring or stopped worker gets this long to exit before it is killed
# Warm-up waits this long after a visitor's job before tracing its next shape: a comparison's
# groups arrive one by one, a fraction of a second apart, and must not queue behind warm-up.
WARM_QUIET_S = 3.0
WARM_POLL_S = 0.1
# A cancelled job stops at its next epoch: seconds at most for the groups this app trains. A
# worker still busy after this long is killed rather than left to block the next job.
CANCEL_SECONDS = 60


class WorkerCrashed(RuntimeError):
    """The worker process died during a job (killed, out of memory); finished groups were kept."""


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class _Process:
    """One worker process and its two pipes."""

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


class WorkerBackend:
    """Groups trained in one worker process, one job at a time; results in member order."""

    name = "worker"

    def __init__(self) -> None:
        self.lock = threading.Lock()  # one job at a time in the worker
        self.process: _Process | None = None
        self.warm_groups: list[list[Experiment]] = []
        self.started = 0  # worker processes started so far (recycled or crashed ones included)
        self.last_rss_mb = 0.0  # the worker's RSS after its last job
        self.warmed = threading.Event()  # set when the last warm-up requested has finished
        self._ids = itertools.count(1)  # job numbers: a cancel names the job it stops
        self._stops = 0  # stop() calls so far: a warm-up asked for before the last one gives up
        self._waiting = 0  # real jobs waiting for or holding the worker (under _count_lock)
        self._count_lock = threading.Lock()
        self._last_job = 0.0  # monotonic time the last real job ended

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        process = self.process
        return process.pid if process is not None and process.alive() else None

    def start(self, warm_groups: Sequence[Sequence[Experiment]] = ()) -> threading.Thread:
        """Start the worker now, in the background, and trace these groups' shapes in it (they are
        traced again in every replacement worker). Returns the thread doing it."""
        self.warm_groups = [list(g) for g in warm_groups]
        self.warmed.clear()
        thread = threading.Thread(
            target=self._warm_up, args=(self._stops,), name="whatif-worker-warm", daemon=True
        )
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop the worker and any warm-up under way (a new worker starts on the next job)."""
        with self.lock:
            self._stops += 1
            if self.process is not None:
                self.process.stop()
                self.process = None

    def _ensure(self) -> _Process:
        """The live worker, started if there is none (called with the lock held)."""
        if self.process is None or not self.process.alive():
            self.process = _Process()
            self.started += 1
        return self.process

    def _warm_up(self, stops: int) -> None:
        """Trace one group per job, releasing the lock in between so a real job goes first; give
        up when stop() was called since this warm-up was asked for (no worker outlives stop())."""
        try:
            for group in [None, *self.warm_groups]:  # None: just bring the process up
                self._until_quiet(stops)
                with self.lock:
                    if self._stops != stops:
                        return
                    if group is None:
                        self._ensure()
                        continue
                    message = ("warm", next(self._ids), forwarded_env(), [group])
                    try:
                        self._job(self._ensure(), message, 0, None, None)
                    except Exception:  # costs only speed; a real job of that shape will say why
                        LOG.warning("warm-up of a group failed", exc_info=True)
        finally:
            self.warmed.set()

    def wait_quiet(self, since: float = float("-inf")) -> bool:
        """Block until no job is waiting and none has ended for WARM_QUIET_S, not counting jobs
        that ended before `since` (time.monotonic(); the caller's own background jobs): background
        work goes after visitors' jobs. False if stop() was called meanwhile."""
        stops = self._stops
        self._until_quiet(stops, since)
        return self._stops == stops

    def _until_quiet(self, stops: int, since: float = float("-inf")) -> None:
        """Hold the next warm-up group while visitors' jobs run: a comparison reaches the worker
        one group at a time, and a warm-up group slipped in between two of them would make the
        visitor wait for a shape nobody asked for. Warm-up resumes after WARM_QUIET_S of quiet."""

        def busy() -> bool:
            ended = self._last_job if self._last_job > since else float("-inf")
            return bool(self._waiting) or time.monotonic() - ended < WARM_QUIET_S

        while self._stops == stops and busy():
            time.sleep(WARM_POLL_S)

    def _retire(self, process: _Process) -> None:
        """After a job: a retiring worker exits; its replacement starts (and warms) in the background."""
        process.stop()
        if self.process is process:
            self.process = None
        self.start(self.warm_groups)

    # -- jobs ---------------------------------------------------------------------------------------
    def train_groups(
        self,
        groups: Sequence[Sequence[Experiment]],
        progress: GroupProgress | None = None,
        lr_tables: Sequence[np.ndarray | None] | None = None,
        on_done: GroupDone | None = None,
    ) -> list[list[RunResult]]:
        tables = list(lr_tables) if lr_tables else None
        with self._count_lock:
            self._waiting += 1
        try:
            with self.lock:
                message = ("train", next(self._ids), forwarded_env(), [list(g) for g in groups], tables)
                out = self._job(self._ensure(), message, len(groups), progress, on_done)
        finally:
            with self._count_lock:
                self._waiting -= 1
                self._last_job = time.monotonic()
        return out

    def _job(self, process: _Process, message: tuple, n_groups: int, progress, on_done) -> list[Any]:
        """Send one job and read its answers; on a crash forget the process (and raise)."""
        try:
            process.send(message)
            out, error = self._collect(process, n_groups, progress, on_done)
        except WorkerCrashed:
            self._discard(process)
            raise
        except BaseException:  # the caller was interrupted mid-job (a rerun, Ctrl-C)
            self._cancel(process, message[1])
            raise
        if error is not None:  # the job itself failed; the worker has finished with it
            raise error
        return out

    def _cancel(self, process: _Process, job_id: int) -> None:
        """Stop the worker's job at its next epoch and read its remaining answers, so the next job
        starts clean; a worker that does not answer within CANCEL_SECONDS is killed instead."""
        deadline = threading.Timer(CANCEL_SECONDS, process.kill)
        deadline.start()
        try:
            process.send(("cancel", job_id))
            while (answer := process.receive())[0] not in ("end", "error"):
                pass
            if answer[-1]:  # retiring: it exits now
                self._retire(process)
        except WorkerCrashed:
            self._discard(process)
        finally:
            deadline.cancel()

    def _discard(self, process: _Process) -> None:
        process.kill()
        if self.process is process:
            self.process = None

    def _collect(
        self, process: _Process, n_groups: int, progress, on_done
    ) -> tuple[list[Any], BaseException | None]:
        """Answers until the job's end: the groups' runs, and the job's own error if it raised."""
        out: list[Any] = [None] * n_groups
        while True:
            kind, *body = process.receive()
            if kind == "epoch" and progress is not None:
                progress(*body)
            elif kind == "group":
                index, runs = body
                out[index] = runs
                if on_done is not None:
                    on_done(index, runs)
            elif kind in ("end", "error"):
                self.last_rss_mb, retiring = body[-2], body[-1]
                if retiring:
                    self._retire(process)
                return out, _raised(*body[:3]) if kind == "error" else None


def _raised(error: BaseException | None, summary: str, trace: str) -> BaseException:
    """The worker's exception, to raise here: itself when it crossed the pipe, else a RuntimeError
    carrying its message; the worker's traceback travels as a note for the logs."""
    err = error if error is not None else RuntimeError(f"training failed in the worker: {summary}")
    err.add_note(f"in the training worker:\n{trace}")
    return err
