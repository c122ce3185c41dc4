"""The notes' claims as experiments: the one registry, and the function that runs a claim.

A verdict is never written down. Each claim (one module per topic, holding its text, preset and
rule together) trains a preset through core.runner, so a stored run replays instead of
retraining and a claim decided in the app, the CLI or a test gives the same answer from the same
runs. The rule reads the runs and core.claims.stats turns the measurement into one of three
verdicts by a stated test against a margin fixed before anything ran.

A new claim: add a Claim to its topic module's CLAIMS tuple; nothing else is registered by hand.
"""

from __future__ import annotations

from core.claims import (
    batch_norm,
    batch_size,
    exploding,
    learning_rate,
    optimizers,
    regularization,
    vanishing,
    weight_decay,
    wide_deep,
)
from core.claims.base import Claim, Outcome, Verdict
from core.claims.stats import FAILS, HOLDS, UNSURE, VERDICTS, sig3
from core.runner import ProgressFn, run_comparison

TOPIC_MODULES = (
    learning_rate,
    optimizers,
    weight_decay,
    batch_size,
    regularization,
    batch_norm,
    vanishing,
    exploding,
    wide_deep,
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
    "fmt",
    "get_claim",
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


def run_claim(
    claim_id: str,
    dataset: str = "digits",
    store=None,
    progress: ProgressFn | None = None,
    fast: bool = False,
    seeds: int | None = None,
) -> Verdict:
    """Replay or train the claim's presets on `dataset`, then decide. A `fresh` claim (a wall-time
    measurement) never reads or writes the store: its runs are timed now, on this machine."""
    claim = get_claim(claim_id)
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
