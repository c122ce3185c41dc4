"""Run a Comparison: replay what the store has, train the rest group by group, store as we go.

This is the one entry point the app, the CLI and the claims engine share. Three promises:
- a seen run is never retrained: the store is asked first, and asked again just before
  training (another session may have finished it meanwhile);
- two sessions that want the same unseen run train it once: per-run locks, taken in key order;
- the machine is not oversubscribed: a process-wide limit on concurrent trainings (default 1 on
  <= 2 cores), served first come first served, and whoever waits is told how many trainings
  are ahead of them.
Each finished group is stored before the next starts, so an interrupted comparison (a widget
click, a closed tab) loses only the group that was training.
TensorFlow is imported only when something actually has to be trained.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from core.results import ComparisonResult, RunResult
from core.spec import Experiment
from core.store import RunStore
from core.variants import RunPlan

MAX_TRAININGS_ENV = "WHATIF_MAX_TRAININGS"


@dataclass(frozen=True)
class Progress:
    """One progress report. `phase` is waiting / training / stored."""

    phase: str
    group: int  # 1-based index of the group being trained
    groups: int
    runs: int  # members in this group
    epoch: int = 0
    epochs: int = 0
    ahead: int = 0  # trainings running or queued before this one (phase "waiting")
    elapsed: float = 0.0  # seconds since this group started training
    finished: tuple[RunResult, ...] = ()  # phase "stored": the runs this group produced
    epoch_seconds: float = 0.0  # median duration of the epochs after the first (0: not measured yet)

    @property
    def eta(self) -> float | None:
        """Seconds left for this group, from the measured duration of its epochs after the
        first (the first also traces and compiles the model, so it says nothing about the rest);
        None until such an epoch has been timed."""
        if self.phase != "training" or self.epoch_seconds <= 0:
            return None
        return self.epoch_seconds * (self.epochs - self.epoch)


ProgressFn = Callable[[Progress], None]


def _max_trainings() -> int:
    try:
        return max(1, int(os.environ[MAX_TRAININGS_ENV]))
    except (KeyError, ValueError):
        return 1 if (os.cpu_count() or 1) <= 2 else 2


class _Gate:
    """Process-wide: a first-come-first-served queue for a limited number of training slots,
    and one lock per run key."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit or _max_trainings()
        self.cond = threading.Condition()
        self.waiting: deque[object] = deque()  # tickets, oldest first
        self.running = 0
        self.lock = threading.Lock()
        self.keys: dict[str, threading.Lock] = {}

    def key_lock(self, key: str) -> threading.Lock:
        with self.lock:
            return self.keys.setdefault(key, threading.Lock())

    def _take(self, ticket: object) -> bool:
        """(Holding cond.) Start if this ticket is first in line and a slot is free."""
        if self.waiting[0] is ticket and self.running < self.limit:
            self.waiting.popleft()
            self.running += 1
            return True
        return False

    @contextmanager
    def slot(self, on_wait: Callable[[int], None]) -> Iterator[None]:
        """Hold one training slot, in arrival order; while waiting, on_wait(trainings running or
        queued ahead of this one) about every half second — a live count that only goes down."""
        ticket = object()
        with self.cond:
            self.waiting.append(ticket)
        acquired = False
        try:
            while True:
                with self.cond:
                    acquired = self._take(ticket)
                    ahead = self.running + self.waiting.index(ticket) if not acquired else 0
                if acquired:
                    break
                on_wait(ahead)  # outside the lock: a page's callback may be slow or raise
                with self.cond:
                    if self.waiting[0] is not ticket or self.running >= self.limit:
                        self.cond.wait(timeout=0.5)
            yield
        finally:
            with self.cond:
                if acquired:
                    self.running -= 1
                else:
                    self.waiting.remove(ticket)
                self.cond.notify_all()

    @contextmanager
    def keys_held(self, keys: list[str], on_wait: Callable[[int], None]) -> Iterator[None]:
        """Hold the locks of these run keys (in key order: no deadlock between sessions); while
        another session is training one of them, on_wait(1) every half second."""
        locks = [self.key_lock(k) for k in sorted(set(keys))]
        taken = []
        try:
            for lock in locks:
                while not lock.acquire(timeout=0.5):
                    on_wait(1)
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()


GATE = _Gate()


def groups_of(members: list[Experiment]) -> list[list[Experiment]]:
    """Members that can share one stacked model, in first-seen order."""
    groups: dict[tuple, list[Experiment]] = {}
    for m in members:
        groups.setdefault(m.group_key, []).append(m)
    return list(groups.values())


def train(members: list[Experiment], progress: Callable[[int, int], None] | None = None) -> list[RunResult]:
    """Train one stacked group now (no store, no locks) on the selected backend (core.backends)."""
    from core import backends

    return backends.train_group(members, progress)


def run_comparison(
    comparison: RunPlan,
    store: RunStore | None = None,
    progress: ProgressFn | None = None,
    separate: bool = False,
) -> ComparisonResult:
    """Replay stored member runs and train the missing ones; results in member order.

    separate=True trains each member alone (its own group): needed when per-run wall time is
    the measurement (e.g. L1 vs L2 cost), since stacked members share one clock.
    """
    members = comparison.members()
    found = store.get_many([m.key for m in members]) if store else {}
    replayed = len(found)
    missing = list({m.key: m for m in members if m.key not in found}.values())
    groups = [[m] for m in missing] if separate else groups_of(missing)
    report = progress or (lambda p: None)
    for g, group in enumerate(groups, start=1):
        keys = [m.key for m in group]

        def on_wait(ahead: int, g=g, n=len(group)) -> None:
            report(Progress("waiting", g, len(groups), n, ahead=ahead))

        with GATE.keys_held(keys, on_wait), GATE.slot(on_wait):
            done = store.get_many(keys) if store else {}
            replayed += len(done)  # another session trained them while this one waited
            found.update(done)
            todo = [m for m in group if m.key not in done]
            if not todo:
                continue
            start = time.perf_counter()
            marks = [start]  # when each epoch ended

            def on_epoch(epoch: int, epochs: int, g=g, n=len(todo), start=start, marks=marks) -> None:
                marks.append(time.perf_counter())
                after_first = [b - a for a, b in zip(marks[1:-1], marks[2:], strict=True)]
                report(
                    Progress(
                        "training",
                        g,
                        len(groups),
                        n,
                        epoch,
                        epochs,
                        elapsed=marks[-1] - start,
                        epoch_seconds=statistics.median(after_first) if after_first else 0.0,
                    )
                )

            results = train(todo, on_epoch)
            if store:
                store.put_many(results)
            found.update({r.key: r for r in results})
            elapsed = time.perf_counter() - start
            report(Progress("stored", g, len(groups), len(todo), elapsed=elapsed, finished=tuple(results)))
    return ComparisonResult(comparison, [found[m.key] for m in members], replayed=replayed)
