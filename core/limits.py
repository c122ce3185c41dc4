"""What one visitor may ask of a shared server: size limits and the memory estimate behind them.

Kept out of core.spec so the numbers a public deployment tunes sit in one short file, each named.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from core.constants import EVAL_CHUNK

if TYPE_CHECKING:
    from core.spec import Experiment

# Public-app limits: large enough for every experiment in the notes, small enough that one
# visitor cannot exhaust a 1-2 GB Community Cloud container.
MAX_WIDTH = 1024
MAX_DEPTH = 32
MAX_EPOCHS = 200
MAX_MEMBERS = 64
MAX_SAMPLES = 70_000
MEMORY_ENV = "WHATIF_MEMORY_MB"
DEFAULT_MEMORY_MB = 1024

FLOAT_BYTES = 4  # float32 everywhere
WEIGHT_COPIES = 6  # weights, gradients, two optimizer slots, the update and the previous copy
ACTIVATION_COPIES = 4  # pre-activation, activation, its gradient and a BN/dropout temporary


def memory_budget_mb() -> float:
    try:
        return float(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))
    except ValueError:
        return float(DEFAULT_MEMORY_MB)


def estimate_memory_mb(members: list[Experiment], n_features: int = 784, n_classes: int = 10) -> float:
    """Rough upper bound of what training these members together needs, in MB.

    Weights live ~6 times (weights, gradients, two optimizer slots, update, previous copy);
    activations ~4 times per layer for a batch and for an evaluation chunk. Real data is counted
    at its largest (MNIST-sized inputs) because the spec does not know the CSV shape yet.
    """
    groups: dict[tuple, list[Experiment]] = {}
    for m in members:
        groups.setdefault(m.group_key, []).append(m)
    peak = 0.0
    for group in groups.values():
        e, k = group[0], len(group)
        params = n_features * e.width + (e.depth - 1) * e.width * e.width + e.width * n_classes
        weights = WEIGHT_COPIES * FLOAT_BYTES * k * params
        batch = min(e.batch_size, e.n_samples)
        acts = ACTIVATION_COPIES * FLOAT_BYTES * k * (batch + EVAL_CHUNK) * e.width * (e.depth + 1)
        data = FLOAT_BYTES * e.n_samples * n_features
        peak = max(peak, (weights + acts + data) / 2**20)
    return peak


def check_memory(members: list[Experiment]) -> None:
    need, budget = estimate_memory_mb(members), memory_budget_mb()
    if need > budget:
        raise ValueError(
            f"this comparison needs about {need:,.0f} MB and the budget is {budget:,.0f} MB "
            f"(set {MEMORY_ENV} to change it): shrink width, depth, batch_size or the number "
            "of runs"
        )
