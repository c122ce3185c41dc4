"""The worker backend: groups train in separate, recyclable processes that own TensorFlow.

Why: a process that imports TensorFlow sits at ~700 MB and grows with every traced shape, and it
cannot give that memory back. With this backend the Streamlit server never imports TensorFlow
(replay, charts and the store stay TF-free); worker processes (core.backends.worker_main) do the
training with the local backend's code (`train_chunk`), so the same members give bit-identical
numbers, and each is replaced between jobs once it has grown past WHATIF_WORKER_MAX_MB or run
WHATIF_WORKER_MAX_JOBS jobs (never mid-job).

A pool of up to N workers, N = the runner's training slots (WHATIF_MAX_TRAININGS; 1 on <= 2
cores, else 2), read at each job. Why N follows the slots: the runner's gate is what tells a page
"training" rather than "waiting, k ahead", and every caller that trains holds a slot; with fewer
workers than slots the second admitted group would queue silently behind the first while its page
says it trains, with more the extra ones would never get a job. Each worker runs one job at a
time (its slot's lock); a job takes a free worker, starting one while fewer than N exist, so N
groups really train in parallel. The cost is memory: N x ~700 MB at rest (up to
WHATIF_WORKER_MAX_MB each), so the default N=1 on small machines keeps exactly one worker; a
second one starts only when two jobs first overlap, and then stays.

The parent stays the only writer of the store, as with Ray: runs come back over the pipe, each
group as soon as it finishes (`on_done`), so a worker killed mid-job loses only the unfinished
group; `train_groups` then raises WorkerCrashed and that slot's next job starts a new worker (the
other workers and their jobs are untouched). A job that raises in the worker raises the same
exception here (a ValueError stays a ValueError, so pages show it as they do for the local
backend). A caller interrupted mid-job (a widget click stops a script at its next st.* call,
inside a progress callback) cancels it: the worker stops at its next epoch and stays up.

`start(warm_groups)` brings the first worker up in the background and traces the given groups'
shapes (one epoch each) in every worker, so the first real job pays neither the import nor the
tracing. A worker started later (a recycled one, a second slot's) traces them too, in the
background, after the visitors' jobs: warm-up waits for quiet and never delays a job.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from core.backends.base import GroupDone, GroupProgress
from core.backends.worker_main import forwarded_env
from core.backends.worker_process import WorkerCrashed, WorkerProcess, raised_here
from core.results import RunResult
from core.spec import Experiment

__all__ = ["WorkerBackend", "WorkerCrashed", "pool_size"]

LOG = logging.getLogger(__name__)
# Warm-up waits this long after a visitor's job before tracing its next shape: a comparison's
# groups arrive one by one, a fraction of a second apart, and must not queue behind warm-up.
WARM_QUIET_S = 3.0
WARM_POLL_S = 0.1
# A cancelled job stops at its next epoch: seconds at most for the groups this app trains. A
# worker still busy after this long is killed rather than left to block the next job.
CANCEL_SECONDS = 60


class _Slot:
    """One place in the pool: its worker process (None until a job or a warm-up needs one) and the
    lock a job or a warm-up holds while it uses that process. Slots are claimed under the pool's
    condition, so a job can take whichever is free without blocking on a busy one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: WorkerProcess | None = None

    def live(self) -> WorkerProcess | None:
        process = self.process
        return process if process is not None and process.alive() else None


def pool_size() -> int:
    """How many worker processes may exist: the runner's training slots, read now (tests and the
    runner's own tests swap its gate). Every caller that trains holds one of those slots, so more
    processes would only sit idle and fewer would queue a training the page reports as running."""
    from core import runner

    return max(1, runner.GATE.limit)


class WorkerBackend:
    """Groups trained in a pool of worker processes, one job per process at a time; results in
    member order."""

    name = "worker"

    def __init__(self) -> None:
        self.slots: list[_Slot] = []  # index order: the first slot is the one start() brings up
        self._pool = threading.Condition()  # claiming a slot; notified whenever one is freed
        self.warm_groups: list[list[Experiment]] = []
        self.started = 0  # worker processes started so far (recycled or crashed ones included)
        self.last_rss_mb = 0.0  # the RSS of the worker that finished a job last, after that job
        self.warmed = threading.Event()  # set when no warm-up requested is still under way
        self._warming = 0  # warm-ups under way (under _count_lock)
        self._ids = itertools.count(1)  # job numbers: a cancel names the job it stops
        self._stops = 0  # stop() calls so far: a warm-up asked for before the last one gives up
        self._waiting = 0  # real jobs waiting for or holding a worker (under _count_lock)
        self._count_lock = threading.Lock()
        self._last_job = 0.0  # monotonic time the last real job ended
        self._local = threading.local()  # the pid of the calling thread's job, while it runs

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def pids(self) -> list[int]:
        """The live worker processes' pids, in slot order."""
        return [process.pid for slot in list(self.slots) if (process := slot.live()) is not None]

    @property
    def pid(self) -> int | None:
        """The first live worker's pid (the only one while the runner allows one training)."""
        pids = self.pids
        return pids[0] if pids else None

    @property
    def job_pid(self) -> int | None:
        """Inside a job's callbacks, the pid of the worker training it (else None): which process
        of the pool a job ran in, for logs and tests."""
        return getattr(self._local, "pid", None)

    def start(self, warm_groups: Sequence[Sequence[Experiment]] = ()) -> threading.Thread:
        """Start the first worker now, in the background, and trace these groups' shapes in it and
        in the other live workers of the pool (a worker started later traces them too). Returns the
        thread doing it. Only the first is started: a second costs ~700 MB, and comes when two jobs
        first overlap."""
        self.warm_groups = [list(g) for g in warm_groups]
        with self._pool:
            if not self.slots:
                self.slots.append(_Slot())
            slots = list(self.slots)
        return self._warm_later(slots, bring_up=True)

    def stop(self) -> None:
        """Stop every worker, after its job, and any warm-up under way (new workers start on the
        next jobs)."""
        with self._count_lock:
            self._stops += 1
        with self._pool:
            slots = list(self.slots)
        for slot in slots:
            with self._holding(slot):
                if slot.process is not None:
                    slot.process.stop()
                    slot.process = None

    def _ensure(self, slot: _Slot) -> WorkerProcess:
        """The slot's live worker, started if there is none (called holding the slot)."""
        process = slot.live()
        if process is None:
            process = slot.process = WorkerProcess()
            with self._count_lock:
                self.started += 1
        return process

    def _warm_later(self, slots: list[_Slot], bring_up: bool) -> threading.Thread:
        """Warm these slots' live workers in a background thread; `bring_up`: start the first
        slot's worker if it has none (the others are warmed only while they have one)."""
        with self._count_lock:
            self._warming += 1
            self.warmed.clear()
        thread = threading.Thread(
            target=self._warm_up, args=(slots, bring_up, self._stops), name="whatif-worker-warm", daemon=True
        )
        thread.start()
        return thread

    def _warm_up(self, slots: list[_Slot], bring_up: bool, stops: int) -> None:
        """Trace one group per job, releasing the slot in between so a real job goes first; give
        up when stop() was called since this warm-up was asked for (no worker outlives stop())."""
        try:
            for index, slot in enumerate(slots):
                if self._stops != stops:
                    return
                for group in [None, *self.warm_groups]:  # None: just bring the process up
                    if not self._warm_step(slot, group, bring_up and index == 0, stops):
                        break
        finally:
            with self._count_lock:
                self._warming -= 1
                if not self._warming:
                    self.warmed.set()

    def _warm_step(self, slot: _Slot, group: list[Experiment] | None, bring_up: bool, stops: int) -> bool:
        """Trace one group in one slot's worker unless it did already; False: leave this slot
        (stopped, or its worker is gone and this warm-up only warms the worker it was asked for)."""
        ident = None if group is None else tuple(m.key for m in group)
        process = slot.live()
        if process is None and not bring_up:
            return False
        if process is not None and ident in process.traced:
            return True  # nothing to wait for
        self._until_quiet(stops)
        with self._holding(slot):
            if self._stops != stops or not (bring_up or slot.live()):
                return False
            process = self._ensure(slot)
            if ident is None or ident in process.traced:
                return True
            message = ("warm", next(self._ids), forwarded_env(), [group])
            try:
                self._job(slot, process, message, 0, None, None)
            except Exception:  # costs only speed; a real job of that shape will say why
                LOG.warning("warm-up of a group failed", exc_info=True)
            else:
                process.traced.add(ident)
        return True

    def wait_quiet(self, since: float = float("-inf")) -> bool:
        """Block until no job is waiting and none has ended for WARM_QUIET_S, not counting jobs
        that ended before `since` (time.monotonic(); the caller's own background jobs): background
        work goes after visitors' jobs. False if stop() was called meanwhile."""
        stops = self._stops
        self._until_quiet(stops, since)
        return self._stops == stops

    def _until_quiet(self, stops: int, since: float = float("-inf")) -> None:
        """Hold the next warm-up group while visitors' jobs run, in any worker of the pool: a
        comparison reaches the pool one group at a time, and a warm-up group slipped in between two
        of them would make the visitor wait for a shape nobody asked for. Warm-up resumes after
        WARM_QUIET_S of quiet."""

        def busy() -> bool:
            ended = self._last_job if self._last_job > since else float("-inf")
            return bool(self._waiting) or time.monotonic() - ended < WARM_QUIET_S

        while self._stops == stops and busy():
            time.sleep(WARM_POLL_S)

    def _retire(self, slot: _Slot, process: WorkerProcess) -> None:
        """After a job: a retiring worker exits; its replacement starts (and warms) in the background."""
        process.stop()
        if slot.process is process:
            slot.process = None
        self._warm_later([slot], bring_up=True)

    # -- slots ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _claimed(self) -> Iterator[_Slot]:
        """Hold a free slot for a job: one with a live worker first, else one without (its worker
        starts), else a new slot while the pool has fewer than pool_size(); else wait for one."""
        with self._pool:
            while (slot := self._take_free(pool_size())) is None:
                self._pool.wait()
        try:
            yield slot
        finally:
            self._release(slot)

    def _take_free(self, size: int) -> _Slot | None:
        """(Holding _pool.) Acquire a free slot among the first `size`, growing the pool up to it.
        Slots past a size lowered meanwhile get no job; their workers go at stop()."""
        for slot in sorted(self.slots[:size], key=lambda s: s.live() is None):  # stable: slot order
            if slot.lock.acquire(blocking=False):
                return slot
        if len(self.slots) >= size:
            return None
        slot = _Slot()
        slot.lock.acquire()
        self.slots.append(slot)
        return slot

    @contextlib.contextmanager
    def _holding(self, slot: _Slot) -> Iterator[None]:
        """Hold this slot (a warm-up, stop()), once its job is done."""
        with self._pool:
            while not slot.lock.acquire(blocking=False):
                self._pool.wait()
        try:
            yield
        finally:
            self._release(slot)

    def _release(self, slot: _Slot) -> None:
        slot.lock.release()
        with self._pool:
            self._pool.notify_all()

    # -- jobs ---------------------------------------------------------------------------------------
    def train_groups(
        self,
        groups: Sequence[Sequence[Experiment]],
        progress: GroupProgress | None = None,
        lr_tables: Sequence[np.ndarray | None] | None = None,
        on_done: GroupDone | None = None,
    ) -> list[list[RunResult]]:
        """Train these groups in one free worker of the pool (all of them in the same one)."""
        tables = list(lr_tables) if lr_tables else None
        with self._count_lock:
            self._waiting += 1
        try:
            with self._claimed() as slot:
                fresh = slot.live() is None
                process = self._ensure(slot)
                if fresh and self.warm_groups:  # traced after this job and the ones waiting
                    self._warm_later([slot], bring_up=False)
                self._local.pid = process.pid
                message = ("train", next(self._ids), forwarded_env(), [list(g) for g in groups], tables)
                out = self._job(slot, process, message, len(groups), progress, on_done)
        finally:
            self._local.pid = None
            with self._count_lock:
                self._waiting -= 1
                self._last_job = time.monotonic()
        return out

    def _job(
        self, slot: _Slot, process: WorkerProcess, message: tuple, n_groups: int, progress, on_done
    ) -> list[Any]:
        """Send one job and read its answers; on a crash forget the process (and raise)."""
        try:
            process.send(message)
            out, error = self._collect(slot, process, n_groups, progress, on_done)
        except WorkerCrashed:
            self._discard(slot, process)
            raise
        except BaseException:  # the caller was interrupted mid-job (a rerun, Ctrl-C)
            self._cancel(slot, process, message[1])
            raise
        if error is not None:  # the job itself failed; the worker has finished with it
            raise error
        return out

    def _cancel(self, slot: _Slot, process: WorkerProcess, job_id: int) -> None:
        """Stop the worker's job at its next epoch and read its remaining answers, so the next job
        starts clean; a worker that does not answer within CANCEL_SECONDS is killed instead."""
        deadline = threading.Timer(CANCEL_SECONDS, process.kill)
        deadline.start()
        try:
            process.send(("cancel", job_id))
            while (answer := process.receive())[0] not in ("end", "error"):
                pass
            if answer[-1]:  # retiring: it exits now
                self._retire(slot, process)
        except WorkerCrashed:
            self._discard(slot, process)
        finally:
            deadline.cancel()

    def _discard(self, slot: _Slot, process: WorkerProcess) -> None:
        process.kill()
        if slot.process is process:
            slot.process = None

    def _collect(
        self, slot: _Slot, process: WorkerProcess, n_groups: int, progress, on_done
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
                    self._retire(slot, process)
                return out, raised_here(*body[:3]) if kind == "error" else None
