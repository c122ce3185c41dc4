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
INPUT_COPIES = 2  # the gathered rows and their standardized copy, per batch and per eval chunk
POOL_COPIES = 2  # the pool's numpy array and the TensorFlow constant made from it
STEP_RECORD_FIELDS = 5  # loss, grad_norm, update_norm, clipped, alive (+ one per layer) per step
# TensorFlow's per-shape cost beyond the arrays: XLA compilation and the allocator's pools. Measured
# on a 2-core CPU as the RSS rise of a training minus its arrays: 40 MB (2 features, width 16)
# to 150 MB (1,000 features, width 1,024), so the larger figure.
RUNTIME_OVERHEAD_MB = 150
# A recurrent step keeps an LSTM's 4 gate pre-activations, its cell and hidden state (an RNN fewer);
# sequences are flattened to [N, seq_len x 2] (core.data.sequences: value and marker per step).
RECURRENT_STEP_TENSORS = 6
SEQUENCE_FEATURES_PER_STEP = 2
DOWNLOADED_SHAPE = (70_000, 784, 10)  # MNIST and Fashion-MNIST: rows, features, classes
UNKNOWN_SHAPE = DOWNLOADED_SHAPE  # a dataset we cannot look at cheaply: assume the largest known


def memory_budget_mb() -> float:
    try:
        return float(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))
    except ValueError:
        return float(DEFAULT_MEMORY_MB)


def data_shape(e: Experiment) -> tuple[int, int, int]:
    """(pool rows, features, outputs) of the experiment's data, found cheaply: toy and bundled
    data from core.data's memoized pool, an upload from its stored meta (never its arrays), the
    downloaded sets from their known shape (validating a spec must not start a download)."""
    from core.constants import (
        BUNDLED_DATASETS,
        CSV_PREFIX,
        DOWNLOADED_DATASETS,
        SEQUENCE_DATASETS,
        TOY_DATASETS,
    )

    if e.dataset in DOWNLOADED_DATASETS:
        return DOWNLOADED_SHAPE
    if e.dataset.startswith(CSV_PREFIX):
        from core.data.upload import upload_meta

        meta = upload_meta(e.dataset)
        if meta is None:  # not stored here: training will say so; nothing is allocated
            return UNKNOWN_SHAPE
        return int(meta["rows"]), len(meta["feature_names"]), max(1, int(meta["n_classes"]))
    if e.dataset in TOY_DATASETS or e.dataset in BUNDLED_DATASETS or e.dataset in SEQUENCE_DATASETS:
        from core.data import load_for

        ds = load_for(e)
        return len(ds), ds.n_features, max(1, ds.n_classes)
    return UNKNOWN_SHAPE


def group_memory_mb(group: list[Experiment], shape: tuple[int, int, int]) -> float:
    """What training one stacked group needs at its peak, in MB, for data of `shape`.

    Weights live ~6 times; activations ~4 times per layer for a batch and for an evaluation
    chunk; the gathered inputs twice for each; the pool twice (numpy + TensorFlow); and the
    per-step records of one epoch; plus TensorFlow's own per-shape cost. Padding members are not
    counted: up to 7 only when a member is cheap (core.training.stacking.stack_size's budget), and
    one or two when it is big enough for its memory to matter. tests/core/test_limits.py holds it to a measured peak.
    """
    rows, n_features, n_outputs = shape
    e, k = group[0], len(group)
    used = min(e.n_samples, rows)
    n_train = max(1, int(used * (1 - e.val_fraction)))
    batch = min(e.batch_size, n_train)
    chunk = min(EVAL_CHUNK, max(n_train, used - n_train))
    params = n_features * e.width + (e.depth - 1) * e.width * e.width + e.width * n_outputs
    weights = WEIGHT_COPIES * k * params
    inputs = INPUT_COPIES * k * (batch + chunk) * n_features
    acts = ACTIVATION_COPIES * k * (batch + chunk) * e.width * (e.depth + 1)
    if e.model != "mlp":  # backprop through time keeps every step's gates and states of a batch
        seq_len = n_features // SEQUENCE_FEATURES_PER_STEP
        acts = ACTIVATION_COPIES * k * (batch * seq_len + chunk) * e.width * RECURRENT_STEP_TENSORS
    pool = POOL_COPIES * rows * n_features
    records = (n_train // batch) * k * (STEP_RECORD_FIELDS + e.depth + 1)
    return RUNTIME_OVERHEAD_MB + FLOAT_BYTES * (weights + inputs + acts + pool + records) / 2**20


def estimate_memory_mb(
    members: list[Experiment], n_features: int | None = None, n_classes: int | None = None
) -> float:
    """Rough upper bound of what training these members together needs, in MB: the largest of
    their stacked groups (groups train one after the other). The data's real shape is used
    unless n_features / n_classes are given."""
    groups: dict[tuple, list[Experiment]] = {}
    for m in members:
        groups.setdefault(m.group_key, []).append(m)
    peak = 0.0
    for group in groups.values():
        rows, features, outputs = data_shape(group[0])
        shape = (rows, n_features or features, n_classes or outputs)
        peak = max(peak, group_memory_mb(group, shape))
    return peak


def check_memory(members: list[Experiment]) -> None:
    """Refuse, before anything is allocated, what would not fit the memory budget."""
    need, budget = estimate_memory_mb(members), memory_budget_mb()
    if need > budget:
        raise ValueError(
            f"this comparison needs about {need:,.0f} MB and the budget is {budget:,.0f} MB "
            f"(set {MEMORY_ENV} to change it): shrink width, depth, batch_size, the number "
            "of runs or the data's columns"
        )
