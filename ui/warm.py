"""The warm start: each topic page's default comparison, trained (or traced) when the server starts.

Most visitors first see a page's default. So when the server starts (ui.jobs.start_app_backend)
the training worker first traces the shapes of the defaults the store already holds (a visitor's
changed comparison of that shape then trains without tracing delay), and then trains and stores
the defaults it lacks, most visited page first, each only while no visitor's job is running: the
first visit of a page on a warm server is then a replay. WHATIF_PREFILL=0 keeps to tracing.
Kept apart from ui.jobs because the defaults are built with the pages' own section helpers, and
those sections run jobs: jobs imports this module lazily, and the import graph has no cycle.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Protocol

from core.spec import Comparison, Experiment
from core.store import RunStore
from core.variants import VariantSet

Runnable = Comparison | VariantSet
LOG = logging.getLogger(__name__)


# -- warm start --------------------------------------------------------------------------------------
# Each topic page's default comparison, rebuilt here with the helpers the pages use. Why a list:
# pages build their presets in the script body (next to st.* calls), so they cannot be imported
# without running them. A page whose default changes here too late only loses its warm start (the
# builder is skipped if it fails); tests/ui/test_jobs.py checks every builder still builds.
# Order: least visited first, because the trainer keeps the last few traced shapes (an LRU) and
# the home page and the first topics should be the ones still traced when visitors arrive.
def _preset(baseline, vary=None, seeds: int = 3) -> Comparison:
    from ui.builder import Preset

    return Preset(baseline, dict(vary or {}), seeds).comparison()


def _wide_deep() -> Runnable:
    from core.data import load_for
    from core.topics.gradients import expand
    from core.topics.wide_deep import equal_budget, pair_changes
    from ui.sections.wide_deep import DEPTHS_DEFAULT, WIDE_DEFAULT

    preset = _preset(
        Experiment(dataset="spiral", n_samples=400, epochs=30, optimizer="adam", learning_rate=0.01), seeds=2
    )
    b = preset.baseline
    ds = load_for(b)
    outputs = 1 if ds.is_regression else ds.n_classes
    pairs = equal_budget(WIDE_DEFAULT, DEPTHS_DEFAULT, ds.n_features, outputs)
    return expand(preset, pair_changes(pairs), baseline=None)[0]


def _exploding() -> Runnable:
    from core.topics.gradients import BLOWS_UP, expand, fixes

    preset = _preset(BLOWS_UP, seeds=2)
    return expand(preset, fixes(preset.baseline))[0]


def _regularization() -> Runnable:
    from core.topics.regularization import regularization_set

    base = _preset(
        Experiment(n_samples=300, width=128, depth=2, epochs=30, batch_size=32, learning_rate=0.02)
    )
    return regularization_set(base.baseline, 1e-3, 3e-3, 0.3, 3)


def _batch_size() -> Runnable:
    from core.topics.regularization import full_batch

    base = Experiment(
        n_samples=1000, width=32, depth=1, epochs=8, optimizer="sgd", learning_rate=0.05, batch_size=32
    )
    return _preset(base, {"batch_size": (8, 32, 128, full_batch(base.n_samples, base.val_fraction))}, seeds=5)


def _weight_decay() -> Runnable:
    from ui.sections.weight_decay import DEFAULT_WEIGHT_DECAYS

    return _preset(Experiment(n_samples=600, epochs=30), {"weight_decay": DEFAULT_WEIGHT_DECAYS}, seeds=2)


PAGE_DEFAULTS: dict[str, Callable[[], Runnable]] = {
    "wide_deep": _wide_deep,
    "regularization": _regularization,
    "weight_decay": _weight_decay,
    "exploding": _exploding,
    "batch_norm": lambda: _preset(
        Experiment(n_samples=1000, depth=3, width=64, epochs=10, learning_rate=0.01),
        {"batch_norm": ("none", "before", "after")},
    ),
    "batch_size": _batch_size,
    "vanishing": lambda: _preset(
        Experiment(width=32, depth=10, epochs=3), {"activation": ("sigmoid", "relu")}, 2
    ),
    "optimizers": lambda: _preset(
        Experiment(width=32, batch_size=64, epochs=12), {"momentum": (0.0, 0.5, 0.9)}
    ),
    "learning_rate": lambda: _preset(
        Experiment(width=32, batch_size=64, epochs=12),
        {"learning_rate": (0.001, 0.01, 0.03, 0.1, 0.2, 0.3, 1.0)},
        seeds=2,
    ),
    "home": lambda: _preset(Experiment(epochs=10), {"learning_rate": ("0.001", "0.01", "0.1", "1")}, seeds=2),
}


def page_defaults() -> dict[str, Runnable]:
    """Every page default that still builds (a failing builder is logged and left out)."""
    out = {}
    for page, build in PAGE_DEFAULTS.items():
        try:
            out[page] = build()
        except Exception:
            LOG.exception("warm start: the default of page %r did not build", page)
    return out


# -- the warm start itself -------------------------------------------------------------------------
PREFILL_ENV = "WHATIF_PREFILL"


class Warmable(Protocol):
    """What the warm start needs of the worker backend (core.backends.worker.WorkerBackend)."""

    def start(self, warm_groups: list[list[Experiment]]): ...  # -> the thread tracing them

    def wait_quiet(self, since: float = ...) -> bool: ...


class Submitter(Protocol):
    """What the warm start needs of the job registry (ui.jobs.JobRegistry)."""

    def submit(self, comparison: Runnable, *, owner: str | None, runs: RunStore | None): ...


def prefill_enabled() -> bool:
    return os.environ.get(PREFILL_ENV, "1").strip() != "0"


def groups_to_trace(comparisons: list[Runnable]) -> list[list[Experiment]]:
    """The stacked groups these comparisons train on an empty store, each network shape once."""
    from core.runner import groups_of

    seen, out = set(), []
    for comparison in comparisons:
        members = list({m.key: m for m in comparison.members()}.values())
        for group in groups_of(members):
            ident = tuple(m.key for m in group)
            if ident not in seen:
                seen.add(ident)
                out.append(group)
    return out


def warm_start(
    worker: Warmable,
    jobs: Submitter,
    runs: RunStore,
    defaults: dict[str, Runnable],
    prefill: bool = True,
) -> list[str]:
    """Trace the stored defaults' shapes, then (if `prefill`) train the missing defaults, most
    visited page first (the reverse of PAGE_DEFAULTS' order), each after visitors' jobs have gone
    quiet and through the job registry, so a visitor who opens that page meanwhile attaches to
    the job instead of training the same runs again. The runs belong to no session (nobody but
    the admin may delete them). Returns the pages it trained."""

    def missing(comparison: Runnable) -> bool:
        keys = [m.key for m in comparison.members()]
        return len(runs.has(keys)) < len(set(keys))

    stored = [c for c in defaults.values() if not missing(c)]
    worker.start(groups_to_trace(stored)).join()
    filled, since = [], float("-inf")
    for page, comparison in reversed(list(defaults.items()) if prefill else []):
        if not missing(comparison):
            continue
        if not worker.wait_quiet(since):  # our own last job does not count as a visitor's
            break  # the worker was stopped: the server is going down
        job = jobs.submit(comparison, owner=None, runs=runs)
        job.wait()
        since = time.monotonic()
        if job.status == "done":
            filled.append(page)
        else:
            LOG.warning("warm start: the default of page %r did not train: %s", page, job.error)
    return filled
