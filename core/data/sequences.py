"""Generated sequence tasks with a long-range dependency: the adding problem (Hochreiter &
Schmidhuber 1997), the classic test of whether a recurrent net can carry information across
many time steps (claim VG3: an LSTM can, a plain RNN loses the gradient on the way).

The adding problem, T steps of two features each:
- value_t ~ U(0, 1) at every step, marker_t in {0, 1};
- exactly two markers: one at a uniformly drawn step of the first half, one in the second half;
- target: the sum of the two marked values (regression, in [0, 2]).

Why the adding problem rather than first-token recall: its answer needs information from the
first half of the sequence (up to T steps before the end), so a net that keeps only the recent
past cannot do better than about the constant predictor, and the regression loss has a closed-
form chance level: always answering the mean, 1, costs Var(a + b) = 2/12 = 1/6 (CONSTANT_MSE).
A net whose validation MSE stays near 1/6 has learned nothing about the markers.

Layout: a `Dataset` keeps 2-D x so that splits, limits, the store and replay need nothing new:
x is [N, T * FEATURES_PER_STEP], step-major (value_0, marker_0, value_1, marker_1, ...), and
the recurrent trainer reshapes it with `steps_of`. The world is fixed (SEQUENCE_SEED): the
member seed only changes the split, the initialization and the data order, as for toy data.
Inputs are already on a unit scale, so the recurrent trainer feeds them raw: standardizing each
time step on its own would give every step its own scale and break the weight sharing over time.
"""

from __future__ import annotations

import functools

import numpy as np

from core.data.base import Dataset, freeze

SEQUENCE_SEED = 0  # the generated world is fixed; only the split varies with the member seed
FEATURES_PER_STEP = 2  # (value, marker) at each time step
CONSTANT_MSE = 2.0 / 12.0  # Var(a + b) for a, b ~ U(0, 1): the MSE of always predicting 1
SEQUENCE_TASKS = ("adding",)


def steps_of(ds: Dataset) -> int:
    """Time steps of a sequence dataset (its flattened width over the features per step)."""
    return ds.n_features // FEATURES_PER_STEP


def as_sequences(x: np.ndarray) -> np.ndarray:
    """[N, T * FEATURES_PER_STEP] -> [N, T, FEATURES_PER_STEP] (a view: no copy)."""
    return x.reshape(x.shape[0], -1, FEATURES_PER_STEP)


def marker_positions(ds: Dataset) -> np.ndarray:
    """[N, 2] the two marked steps of each sequence (first half, second half)."""
    markers = as_sequences(ds.x)[:, :, 1]
    return np.stack([markers.argmax(axis=1), markers.shape[1] - 1 - markers[:, ::-1].argmax(axis=1)], 1)


@functools.lru_cache(maxsize=16)
def load_sequences(name: str, n_samples: int, seq_len: int) -> Dataset:
    """The sequence task `name` with exactly n_samples sequences of seq_len steps (fixed world)."""
    if name not in SEQUENCE_TASKS:
        raise ValueError(f"unknown sequence task {name!r}; tasks are: {', '.join(SEQUENCE_TASKS)}")
    if n_samples < 2 or seq_len < 2:
        raise ValueError(
            f"the adding problem needs at least 2 sequences of 2 steps, not {n_samples}x{seq_len}"
        )
    x, y = _adding(n_samples, seq_len, np.random.default_rng([SEQUENCE_SEED, seq_len]))
    names = tuple(f"{kind}_{t}" for t in range(seq_len) for kind in ("value", "marker"))
    return freeze(Dataset(name=name, x=x, y=y, n_classes=0, feature_names=names, class_names=()))


def _adding(n: int, seq_len: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Values, one marker per half, and the sum of the marked values."""
    half = seq_len // 2
    values = rng.uniform(0.0, 1.0, size=(n, seq_len))
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    markers = np.zeros((n, seq_len))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    x = np.stack([values, markers], axis=2).reshape(n, seq_len * FEATURES_PER_STEP)
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.float32)
