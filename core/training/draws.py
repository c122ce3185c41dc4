"""The stacked trainer's random draws, in NumPy only: initial weights, epoch order, train-metric rows.

Why a module of their own: each draw is a pure function of the member's seed (and its split),
never of TensorFlow or of the group it trains in, so code that must not import TensorFlow (the
Streamlit server exporting an "exact" script, core.export_exact) computes the very numbers the
trainer uses. The trainer (core.training.trainer, core.training.model) draws through here too,
so there is one definition, not two that could drift apart.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from core.constants import NORMAL_STD

TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated at +-2 (Keras VarianceScaling)
INIT_SALT = 7919  # mixed into the member's seed so its weights and its other draws are unrelated
# Seed salts: mixed into the member's seed so each random stream (epoch order, the train-metric
# subset) is unrelated to the others drawn from the same seed. Any fixed distinct numbers do;
# changing one changes every stored run (bump CODE_VERSION).
ORDER_SALT = 104729  # the 10,000th prime
EVAL_SUBSET_SALT = 1
TRAIN_EVAL_CAP = 1024  # train metrics on a fixed subset of at most this many training examples


class HasSizes(Protocol):
    """Anything with the layer sizes [features, width x depth, outputs] (model.Shape)."""

    @property
    def sizes(self) -> list[int]: ...


class Seeded(Protocol):
    """The two knobs the initial weights depend on (an Experiment)."""

    seed: int
    init: str


def init_kernel(init: str, fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """One kernel with Keras' initializer semantics (he/lecun are truncated normals)."""
    if init == "glorot_uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out))
    if init in NORMAL_STD:
        return rng.normal(0.0, NORMAL_STD[init], (fan_in, fan_out))
    scale = 2.0 if init == "he_normal" else 1.0
    std = np.sqrt(scale / fan_in) / TRUNCATED_STD
    z = rng.standard_normal((fan_in, fan_out))
    while (bad := np.abs(z) > 2).any():
        z[bad] = rng.standard_normal(int(bad.sum()))
    return z * std


def init_member(e: Seeded, shape: HasSizes) -> dict[str, list[np.ndarray]]:
    """Initial parameters of one member, from its seed alone (float32)."""
    rng = np.random.default_rng([e.seed, INIT_SALT])
    sizes = shape.sizes
    kernels = [init_kernel(e.init, a, b, rng).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(b, np.float32) for b in sizes[1:]]
    return {"kernels": kernels, "biases": biases}


def epoch_order(seed: int, epoch: int, train_idx: np.ndarray, n_rows: int) -> np.ndarray:
    """The training rows of one epoch in the order they are fed: a permutation of train_idx drawn
    from (seed, epoch), cut to n_rows (whole batches: the partial last batch is dropped)."""
    rng = np.random.default_rng([seed, epoch, ORDER_SALT])
    return rng.permutation(train_idx)[:n_rows]


def eval_subset(seed: int, train_idx: np.ndarray) -> np.ndarray:
    """The training rows the end-of-epoch train metrics are measured on: all of them, or a fixed
    random TRAIN_EVAL_CAP of them (random, because a file sorted by class would bias the first)."""
    if len(train_idx) <= TRAIN_EVAL_CAP:
        return train_idx
    rng = np.random.default_rng([seed, EVAL_SUBSET_SALT])
    return rng.permutation(train_idx)[:TRAIN_EVAL_CAP]
