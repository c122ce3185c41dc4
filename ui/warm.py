"""The warm start's list: each topic page's default comparison, and the stacked groups they train.

The training worker traces these shapes when the server starts (ui.jobs.start_app_backend), so the
first Run on any page trains without import or tracing delay. Kept apart from ui.jobs because the
defaults are built with the pages' own section helpers, and those sections run jobs: jobs imports
this module lazily, in the warm-up thread, and the import graph has no cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.spec import Comparison, Experiment
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


def warm_groups() -> list[list]:
    """The stacked groups the page defaults train on an empty store (what the worker traces),
    each network shape once, in PAGE_DEFAULTS order."""
    from core.runner import groups_of

    seen, out = set(), []
    for comparison in page_defaults().values():
        members = list({m.key: m for m in comparison.members()}.values())
        for group in groups_of(members):
            ident = tuple(m.key for m in group)
            if ident not in seen:
                seen.add(ident)
                out.append(group)
    return out
