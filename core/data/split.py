"""A member's subsample and train/validation split, drawn from the pool by its seed."""

from __future__ import annotations

import numpy as np

from core.data.base import Dataset, Split


# -- the member's split ----------------------------------------------------------------------
def split_sizes(ds: Dataset, n_samples: int, val_fraction: float) -> tuple[int, int]:
    """(n_train, n_val) for this pool: a function of N, n_samples and val_fraction (and the
    dataset's class count) only, never of the seed, because members with different seeds are
    stacked into one tensor and must have equally many rows.
    """
    if not (0 < val_fraction < 1):
        raise ValueError(f"val_fraction={val_fraction!r} is not allowed: it must be between 0 and 1")
    m = min(int(n_samples), len(ds))
    if m < 2:
        raise ValueError(f"{ds.name} has too few rows to split: {m} (need at least 2)")
    k = max(ds.n_classes, 1)
    n_val = max(round(m * val_fraction), k)  # room for one validation row per class
    n_val = min(n_val, m - k) if m >= 2 * k else min(max(n_val, 1), m - 1)
    return m - n_val, n_val


def make_split(ds: Dataset, n_samples: int, val_fraction: float, seed: int) -> Split:
    """Deterministic subsample + train/val split for one member.

    Stratified (class proportions kept in both parts) so that seed-to-seed differences reflect
    training, not a lucky validation draw; it falls back to an unstratified draw of the same
    sizes when the data is too small to stratify.
    """
    n_train, n_val = split_sizes(ds, n_samples, val_fraction)
    m = n_train + n_val
    y = None if ds.is_regression else ds.y
    pool = np.arange(len(ds))
    if m < len(ds):
        pool = _draw(pool, y, seed, train_size=m)[0]
    train_idx, val_idx = _draw(pool, None if y is None else y[pool], seed, test_size=n_val)
    train_idx = np.sort(train_idx).astype(np.int32)
    val_idx = np.sort(val_idx).astype(np.int32)
    x_train = ds.x[train_idx].astype(np.float64)
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std < 1e-12] = 1.0  # constant feature (e.g. an always-black MNIST pixel)
    return Split(train_idx, val_idx, mean.astype(np.float32), std.astype(np.float32))


def _draw(idx: np.ndarray, y: np.ndarray | None, seed: int, **size: int) -> tuple[np.ndarray, np.ndarray]:
    """train_test_split, stratified when possible; same sizes either way."""
    from sklearn.model_selection import train_test_split as tts

    if y is not None:
        try:
            a, b = tts(idx, stratify=y, random_state=seed, **size)
            return np.asarray(a), np.asarray(b)
        except ValueError:  # a class too small to be in both parts
            pass
    a, b = tts(idx, random_state=seed, **size)
    return np.asarray(a), np.asarray(b)


# Mixed into the member's seed so the noisy labels are unrelated to its other random draws.
LABEL_NOISE_SALT = 15485863  # the millionth prime


def noisy_labels(ds: Dataset, split: Split, fraction: float, seed: int) -> np.ndarray:
    """The pool's labels with `fraction` of the split's TRAINING rows replaced, drawn from `seed`.

    A replaced class label becomes a different class (uniformly), so exactly that fraction of
    training labels is wrong; a replaced regression target becomes another training row's target.
    Validation rows keep their true labels, so validation measures what the net learned of the
    truth (Zhang et al. 2017). The draw depends on the member's own seed only, never on the group.
    """
    y = np.array(ds.y, copy=True)
    n = round(fraction * len(split.train_idx))
    if n == 0:
        return y
    rng = np.random.default_rng([seed, LABEL_NOISE_SALT])
    rows = rng.choice(split.train_idx, n, replace=False)
    if ds.is_regression:
        y[rows] = rng.choice(ds.y[split.train_idx], n)
    elif ds.n_classes > 1:
        y[rows] = (y[rows] + rng.integers(1, ds.n_classes, n)) % ds.n_classes
    return y
