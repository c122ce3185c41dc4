"""The notes' claims as experiments: the one registry, and the function that runs a claim.

A verdict is never written down. Each claim (one module per topic, holding its text, preset and
rule together) trains a preset through core.runner, so a stored run replays instead of
retraining and a claim decided in the app, the CLI or a test gives the same answer from the same
runs. The rule reads the runs and core.claims.stats turns the measurement into one of three
verdicts by a stated test against a margin fixed before anything ran.

A new claim: one module of its own (text, preset and rule together, a `CLAIMS` tuple), listed in
TOPIC_MODULES after its topic; nothing else is registered by hand.
"""

from __future__ import annotations

import functools

from core.claims import (
    abstraction,
    approximation,
    batch_norm,
    batch_size,
    decay_with_bn,
    ensembles,
    exploding,
    fewer_layers,
    input_scaling,
    learning_rate,
    level_by_level,
    optimizers,
    recurrent,
    regularization,
    sharpness,
    vanishing,
    weight_decay,
    wide_deep,
)
from core.claims.base import Claim, Outcome, Verdict
from core.claims.stats import FAILS, HOLDS, UNSURE, VERDICTS, sig3
from core.runner import ProgressFn, run_comparison
from core.spec import Comparison

# Registry order is page order. The first claims of a topic share its module; a claim added
# later is one module of its own (its text, preset and rule together), listed after its topic.
TOPIC_MODULES = (
    learning_rate,
    optimizers,
    weight_decay,
    batch_size,
    sharpness,  # BS5
    regularization,
    batch_norm,
    input_scaling,  # BN6
    decay_with_bn,  # BN7
    vanishing,
    recurrent,  # VG3
    level_by_level,  # VG4
    ensembles,  # VG5
    exploding,
    fewer_layers,  # EG4
    wide_deep,
    approximation,  # WVD3
    abstraction,  # WVD4
)
CLAIMS: dict[str, Claim] = {c.id: c for module in TOPIC_MODULES for c in module.CLAIMS}
fmt = sig3  # the numbers' display: three significant figures
# The robustness map's datasets: every dataset that needs no download, across kinds (images of
# digits, two small tabular sets, a 2-D toy world), as in the careful run that motivated it.
MAP_DATASETS = ("digits", "wine", "breast_cancer", "moons")

__all__ = [
    "CLAIMS",
    "FAILS",
    "HOLDS",
    "MAP_DATASETS",
    "UNSURE",
    "VERDICTS",
    "Claim",
    "Outcome",
    "Verdict",
    "claims_for",
    "clear_preset_cache",
    "fmt",
    "get_claim",
    "preset_comparisons",
    "preset_keys",
    "run_all",
    "run_claim",
]


def claims_for(topic: str) -> list[Claim]:
    """The claims a topic page shows, in registry order."""
    return [c for c in CLAIMS.values() if c.topic == topic]


def get_claim(claim_id: str) -> Claim:
    if claim_id not in CLAIMS:
        raise ValueError(f"unknown claim {claim_id!r}; claims are: {', '.join(CLAIMS)}")
    return CLAIMS[claim_id]


# Distinct (claim, dataset, fast) triples a server sees: 28 claims x a handful of datasets x 2.
PRESET_CACHE_SIZE = 512


@functools.lru_cache(maxsize=PRESET_CACHE_SIZE)
def _presets(claim_id: str, dataset: str, fast: bool) -> tuple[tuple[Comparison, ...], str]:
    """(the claim's comparisons, '') or ((), the reason it cannot be set up on this dataset).
    The error is cached too, so a claim that does not apply is not rebuilt on every page load."""
    try:
        claim = get_claim(claim_id)
        return tuple(claim.comparisons(claim.dataset_for(dataset), fast)), ""
    except ValueError as err:
        return (), str(err)


def preset_comparisons(claim_id: str, dataset: str = "digits", fast: bool = False) -> tuple[Comparison, ...]:
    """The claim's default presets on `dataset`, built once per process.

    A preset is a pure function of (claim, dataset, fast): no store access, no clock, so pages
    that replay a claim on every script run need not rebuild hundreds of members each time
    (the cost of a revisit was mostly that). Raises ValueError when the claim cannot be set up
    on the dataset. A claim whose preset starts with an LR range test (`probe`) trains that test
    the first time it is asked for; callers that must not train check that first.
    """
    comparisons, error = _presets(claim_id, dataset, fast)
    if error:
        raise ValueError(error)
    return comparisons


@functools.lru_cache(maxsize=PRESET_CACHE_SIZE)
def _keys(claim_id: str, dataset: str, fast: bool) -> tuple[str, ...]:
    comparisons = preset_comparisons(claim_id, dataset, fast)
    return tuple(dict.fromkeys(m.key for c in comparisons for m in c.members()))


def preset_keys(claim_id: str, dataset: str = "digits", fast: bool = False) -> tuple[str, ...]:
    """The distinct run keys of the claim's presets on `dataset` (in member order), computed once
    per process; raises ValueError like preset_comparisons."""
    return _keys(claim_id, dataset, fast)


def clear_preset_cache() -> None:
    """Forget built presets (tests that swap a preset's inputs, e.g. a stubbed range test)."""
    _presets.cache_clear()
    _keys.cache_clear()


def run_claim(
    claim_id: str,
    dataset: str | None = None,
    store=None,
    progress: ProgressFn | None = None,
    fast: bool = False,
    seeds: int | None = None,
) -> Verdict:
    """Replay or train the claim's presets on `dataset`, then decide. A `fresh` claim (a wall-time
    measurement) never reads or writes the store: its runs are timed now, on this machine. A claim
    with its own data runs there whatever `dataset` says (None: the claim's default)."""
    claim = get_claim(claim_id)
    dataset = claim.dataset_for(dataset)
    runs_store = None if claim.fresh else store
    results = [
        run_comparison(c, runs_store, progress, separate=claim.separate)
        for c in claim.comparisons(dataset, fast, seeds)
    ]
    return claim.decide(results, dataset)


def run_all(
    dataset: str = "digits", store=None, progress: ProgressFn | None = None, seeds: int | None = None
) -> list[Verdict]:
    return [run_claim(cid, dataset, store, progress, seeds=seeds) for cid in CLAIMS]
