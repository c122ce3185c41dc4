"""The types every data source returns, and where the app keeps files: no loader lives here.

Kept apart from the loaders so each source module (toy, bundled, downloaded, upload) can import
the same `Dataset` without importing the others, and the package root can import them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.constants import TOY_DATASETS

DATA_ENV = "WHATIF_DATA_DIR"
KERAS_CACHE_ENV = "WHATIF_KERAS_CACHE"


class DataUnavailable(ValueError):
    """The dataset cannot be had here (offline download, missing upload).

    A ValueError subclass so that callers that already refuse bad input with ValueError show it
    the same way; the message is written for the user, not for a developer.
    """


@dataclass(frozen=True, eq=False)  # eq=False: ndarray fields make field-wise == ambiguous
class Dataset:
    """One pool of examples: raw float32 features and integer (or float, regression) targets."""

    name: str
    x: np.ndarray  # float32 [N, F], raw: standardization belongs to the split (train rows only)
    y: np.ndarray  # int32 [N] class ids, or float32 [N] for regression
    n_classes: int  # 0 = regression
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]  # () for regression

    @property
    def is_regression(self) -> bool:
        return self.n_classes == 0

    @property
    def is_2d(self) -> bool:
        """Only the toy worlds get decision-boundary pictures: their two axes mean something."""
        return self.name in TOY_DATASETS

    @property
    def n_features(self) -> int:
        return int(self.x.shape[1])

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True, eq=False)
class Split:
    """Which pool rows a member trains and validates on, and the train-only standardization."""

    train_idx: np.ndarray  # int32, sorted
    val_idx: np.ndarray  # int32, sorted
    mean: np.ndarray  # float32 [F] over train rows only: validation must not leak into inputs
    std: np.ndarray  # float32 [F] over train rows; constant features get 1 (no divide by zero)


# -- locations -------------------------------------------------------------------------------
def data_dir() -> Path:
    """Root for files the app writes (uploads); env WHATIF_DATA_DIR, default <repo>/data."""
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[2] / "data"


def cache_dir() -> Path:
    """Where Keras-downloaded datasets live: env WHATIF_KERAS_CACHE, else Keras' own default.

    Keras' default is $KERAS_HOME/datasets or ~/.keras/datasets; mirroring it means a file the
    user already downloaded with plain Keras is found without a second download.
    """
    env = os.environ.get(KERAS_CACHE_ENV)
    if env:
        return Path(env).expanduser()
    home = os.environ.get("KERAS_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".keras") / "datasets"


def freeze(ds: Dataset) -> Dataset:
    ds.x.setflags(write=False)
    ds.y.setflags(write=False)
    return ds


def short(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
