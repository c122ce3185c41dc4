"""Where the examples come from: toy 2-D worlds, bundled and downloaded real data, uploaded CSVs.

Everything returns one `Dataset` pool of raw features; `make_split` then draws the member's
subsample and train/validation split from it. Keeping "the data" separate from "the split" is
what lets members that differ only by seed be stacked into one tensor: they share the pool and
the split sizes, and only which rows land where depends on the seed.

Nothing here imports TensorFlow or Keras at module level: the app imports this module on every
page, and a multi-second TensorFlow import for a CSV column picker would be a bad trade.
"""

from __future__ import annotations

import math
import numbers

from core.constants import (
    BUNDLED_DATASETS,
    CSV_PREFIX,
    DATASETS,
    DOWNLOADED_DATASETS,
    SEQUENCE_DATASETS,
    TOY_DATASETS,
)
from core.data.base import (
    DATA_ENV,
    KERAS_CACHE_ENV,
    Dataset,
    DataUnavailable,
    Split,
    cache_dir,
    data_dir,
)
from core.data.bundled import load_bundled
from core.data.downloaded import load_downloaded
from core.data.split import make_split, noisy_labels, split_sizes
from core.data.toy import GAUSSIAN_STD_PER_NOISE, TOY_SEED, load_toy
from core.data.upload import MAX_CLASSES, MAX_CSV_BYTES, csv_columns, load_upload, register_csv

__all__ = [
    "DATA_ENV",
    "GAUSSIAN_STD_PER_NOISE",
    "KERAS_CACHE_ENV",
    "MAX_CLASSES",
    "MAX_CSV_BYTES",
    "TOY_SEED",
    "DataUnavailable",
    "Dataset",
    "Split",
    "cache_dir",
    "csv_columns",
    "data_dir",
    "load_dataset",
    "load_for",
    "make_split",
    "noisy_labels",
    "register_csv",
    "split_sizes",
]


# -- entry point -----------------------------------------------------------------------------
def load_for(e) -> Dataset:
    """The pool an Experiment trains on (duck-typed: core.data never imports the spec). Every
    knob that shapes the data is read here, so no caller forgets one."""
    return load_dataset(e.dataset, e.n_samples, e.noise, seq_len=getattr(e, "seq_len", 50))


def load_dataset(name: str, n_samples: int = 2000, noise: float = 0.2, seq_len: int = 50) -> Dataset:
    """The whole pool for `name`. Toy data is generated with exactly `n_samples` points and the
    given `noise`; real data ignores both (subsampling happens in `make_split`).

    Results are memoized in-process (the app reloads the same data on every rerun); the arrays
    are read-only so a caller cannot corrupt the shared copy.
    """
    if name in TOY_DATASETS:
        if not (isinstance(n_samples, numbers.Integral) and n_samples >= 2):
            raise ValueError(f"n_samples={n_samples!r} is not allowed: it must be an integer >= 2")
        if not (math.isfinite(noise) and noise >= 0):
            raise ValueError(f"noise={noise!r} is not allowed: it must be a finite number >= 0")
        return load_toy(name, int(n_samples), float(noise))
    if name in SEQUENCE_DATASETS:
        from core.data.sequences import load_sequences

        return load_sequences(name, int(n_samples), int(seq_len))
    if name in BUNDLED_DATASETS:
        return load_bundled(name)
    if name in DOWNLOADED_DATASETS:
        return load_downloaded(name, str(cache_dir()))
    if isinstance(name, str) and name.startswith(CSV_PREFIX):
        return load_upload(name, str(data_dir()))
    raise ValueError(
        f"unknown dataset {name!r}; datasets are: {', '.join(DATASETS)} (or an uploaded CSV, '{CSV_PREFIX}...')"
    )
