"""Where the examples come from: toy 2-D worlds, bundled and downloaded real data, uploaded CSVs.

Everything returns one `Dataset` pool of raw features; `make_split` then draws the member's
subsample and train/validation split from it. Keeping "the data" separate from "the split" is
what lets members that differ only by seed be stacked into one tensor: they share the pool and
the split sizes, and only which rows land where depends on the seed.

Nothing here imports TensorFlow or Keras at module level: the app imports this module on every
page, and a multi-second TensorFlow import for a CSV column picker would be a bad trade.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import math
import numbers
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.spec import BUNDLED_DATASETS, CSV_PREFIX, DATASETS, DOWNLOADED_DATASETS, TOY_DATASETS

MAX_CSV_BYTES = 25 * 1024 * 1024  # what a public container can parse without trouble
MAX_CLASSES = 100  # beyond this a softmax head is the wrong tool; likely a regression target
DATA_ENV = "WHATIF_DATA_DIR"
KERAS_CACHE_ENV = "WHATIF_KERAS_CACHE"
TOY_SEED = 0  # the toy world is fixed; only the split varies with the member seed
GAUSSIAN_STD_PER_NOISE = 4.0  # noise 0.2 -> cluster_std 0.8: blobs that touch but stay apart
DOWNLOAD_PROBE_TIMEOUT_S = 10.0

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_MNIST_FILE = "mnist.npz"
_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # as in keras
_FASHION_DIR = "fashion-mnist"
_FASHION_FILES = (  # keras.datasets.fashion_mnist order: train labels/images, test labels/images
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
_FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_UPLOAD_HASH = re.compile(r"[0-9a-f]{12}")


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
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[1] / "data"


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


# -- entry point -----------------------------------------------------------------------------
def load_dataset(name: str, n_samples: int = 2000, noise: float = 0.2) -> Dataset:
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
        return _toy(name, int(n_samples), float(noise))
    if name in BUNDLED_DATASETS:
        return _bundled(name)
    if name in DOWNLOADED_DATASETS:
        return _downloaded(name, str(cache_dir()))
    if isinstance(name, str) and name.startswith(CSV_PREFIX):
        return _uploaded(name, str(data_dir()))
    raise ValueError(
        f"unknown dataset {name!r}; datasets are: {', '.join(DATASETS)} (or an uploaded CSV, '{CSV_PREFIX}...')"
    )


def _freeze(ds: Dataset) -> Dataset:
    ds.x.setflags(write=False)
    ds.y.setflags(write=False)
    return ds


# -- toy 2-D worlds --------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _toy(name: str, n: int, noise: float) -> Dataset:
    """Generate a toy world with the FIXED seed TOY_SEED.

    The dataset is "the world" being learned: if it changed with the member seed, seed-to-seed
    spread would mix model variance with data variance and every decision-boundary picture
    would show different points. The member seed only changes the split.
    """
    from sklearn.datasets import make_blobs, make_circles, make_moons

    rng = np.random.default_rng(TOY_SEED)
    if name == "moons":
        x, y = make_moons(n_samples=n, noise=noise, random_state=TOY_SEED)
    elif name == "circles":
        x, y = make_circles(n_samples=n, noise=noise, factor=0.5, random_state=TOY_SEED)
    elif name == "spiral":
        x, y = _spiral(n, noise, rng)
    elif name == "xor":
        x, y = _xor(n, noise, rng)
    elif name == "gaussians":
        centers = np.array([[0.0, 2.0], [-math.sqrt(3), -1.0], [math.sqrt(3), -1.0]])
        x, y = make_blobs(
            n_samples=n, centers=centers, cluster_std=GAUSSIAN_STD_PER_NOISE * noise, random_state=TOY_SEED
        )
    else:  # pragma: no cover - guarded by load_dataset
        raise ValueError(name)
    n_classes = 3 if name == "gaussians" else 2
    return _freeze(
        Dataset(
            name=name,
            x=np.ascontiguousarray(x, dtype=np.float32),
            y=np.asarray(y, dtype=np.int32),
            n_classes=n_classes,
            feature_names=("x1", "x2"),
            class_names=tuple(str(k) for k in range(n_classes)),
        )
    )


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved arms of 1.5 turns, radius 0..2: arms ~0.67 apart, moons-like scale, so
    the same `noise` means a comparable amount of overlap across toy datasets."""
    y = np.arange(n) % 2
    t = rng.uniform(0.05, 1.0, size=n)  # skip the centre, where both arms meet
    theta = 3 * math.pi * t + math.pi * y
    r = 2.0 * t
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    x += noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return x[order], y[order]


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrant clusters (uniform in 0.1..1 from each axis), label 1 where x1*x2 < 0.

    Labels come from the clean points, then jitter is added, so `noise` blurs the border the
    same way it does for moons and circles.
    """
    quadrant = np.arange(n) % 4
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)[quadrant]
    x = signs * rng.uniform(0.1, 1.0, size=(n, 2))
    y = (signs[:, 0] * signs[:, 1] < 0).astype(np.int32)
    x += noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return x[order], y[order]


# -- real data bundled with scikit-learn -----------------------------------------------------
@functools.lru_cache(maxsize=8)
def _bundled(name: str) -> Dataset:
    """scikit-learn ships these files, so they work offline and on a fresh container."""
    from sklearn import datasets as skd

    loader = {
        "digits": skd.load_digits,
        "breast_cancer": skd.load_breast_cancer,
        "wine": skd.load_wine,
    }[name]
    bunch = loader()
    n_classes = len(bunch.target_names)
    return _freeze(
        Dataset(
            name=name,
            x=np.ascontiguousarray(bunch.data, dtype=np.float32),
            y=np.asarray(bunch.target, dtype=np.int32),
            n_classes=n_classes,
            feature_names=tuple(str(f) for f in bunch.feature_names),
            class_names=tuple(str(c) for c in bunch.target_names),
        )
    )


# -- real data downloaded through Keras ------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _downloaded(name: str, cache: str) -> Dataset:
    """MNIST-style data: 70,000 images, train+test pooled (our own split is the hold-out).

    Keyed by the cache folder too, so pointing WHATIF_KERAS_CACHE elsewhere is honoured.
    """
    root = Path(cache)
    if name == "mnist":
        path = _fetch(name, root, [_MNIST_FILE], {_MNIST_FILE: _MNIST_SHA256})[0]
        try:
            with np.load(path, allow_pickle=False) as f:
                images = np.concatenate([f["x_train"], f["x_test"]])
                labels = np.concatenate([f["y_train"], f["y_test"]])
        except (OSError, KeyError, ValueError) as exc:
            raise _unreadable(name, path, exc) from exc
        class_names = tuple(str(k) for k in range(10))
    else:
        paths = _fetch(name, root / _FASHION_DIR, list(_FASHION_FILES), {})
        try:
            y_train, x_train = _idx_labels(paths[0]), _idx_images(paths[1])
            y_test, x_test = _idx_labels(paths[2]), _idx_images(paths[3])
            images = np.concatenate([x_train, x_test])
            labels = np.concatenate([y_train, y_test])
        except (OSError, EOFError, ValueError) as exc:
            raise _unreadable(name, root / _FASHION_DIR, exc) from exc
        class_names = _FASHION_CLASSES
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise _unreadable(name, root, ValueError(f"unexpected shapes {images.shape} / {labels.shape}"))
    x = images.reshape(len(images), 784).astype(np.float32) / np.float32(255.0)
    return _freeze(
        Dataset(
            name=name,
            x=x,
            y=labels.astype(np.int32),
            n_classes=10,
            feature_names=tuple(f"px_{r}_{c}" for r in range(28) for c in range(28)),
            class_names=class_names,
        )
    )


def _idx_labels(path: Path) -> np.ndarray:
    """IDX label file (gzip): 8-byte header, then one uint8 per example (as Keras reads it)."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=8)


def _idx_images(path: Path) -> np.ndarray:
    """IDX image file (gzip): 16-byte header, then 28x28 uint8 pixels per example."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)


def _fetch(name: str, folder: Path, files: list[str], hashes: dict[str, str]) -> list[Path]:
    """Paths of `files` in `folder`, downloading the missing ones with Keras' own downloader.

    Files already present are read directly, without Keras: `keras.datasets.*.load_data()`
    takes no cache folder (Keras fixes it at import time from KERAS_HOME) and re-downloads a
    file whose hash it does not recognise, so it could not honour WHATIF_KERAS_CACHE. A short
    reachability probe runs first because Keras' download has no timeout: behind a firewall
    that drops packets it would hang the app instead of failing.
    """
    missing = [f for f in files if not (folder / f).is_file()]
    if not missing:
        return [folder / f for f in files]
    try:
        probe = urllib.request.Request(_KERAS_ORIGIN + missing[0], method="HEAD")
        with urllib.request.urlopen(probe, timeout=DOWNLOAD_PROBE_TIMEOUT_S):
            pass
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _not_downloadable(name, folder, missing, exc) from exc
    try:
        from keras.utils import get_file  # lazy: imports TensorFlow

        folder.mkdir(parents=True, exist_ok=True)  # else Keras silently falls back to /tmp/.keras
        got = {}
        for f in missing:
            origin = _KERAS_ORIGIN + f
            # cache_subdir="" puts the file straight into `folder`, where the next run looks.
            path = get_file(f, origin=origin, file_hash=hashes.get(f), cache_dir=str(folder), cache_subdir="")
            got[f] = Path(path)
    except Exception as exc:  # Keras wraps network errors in a bare Exception
        raise _not_downloadable(name, folder, missing, exc) from exc
    return [got.get(f, folder / f) for f in files]


def _not_downloadable(name: str, folder: Path, missing: list[str], exc: BaseException) -> DataUnavailable:
    where = folder / missing[0] if len(missing) == 1 else folder
    files = " and ".join(missing) if len(missing) <= 2 else ", ".join(missing[:-1]) + " and " + missing[-1]
    return DataUnavailable(
        f"The {name} dataset could not be downloaded here ({_short(exc)}); this machine is probably "
        f"offline. To use it anyway, download {files} from {_KERAS_ORIGIN} on a connected machine "
        f"and place {'it at' if len(missing) == 1 else 'them in'} {where} "
        f"(or set {KERAS_CACHE_ENV} to the folder that holds {_MNIST_FILE} and {_FASHION_DIR}/). "
        "The bundled datasets (digits, breast_cancer, wine) and the toy datasets work offline."
    )


def _unreadable(name: str, path: Path, exc: BaseException) -> DataUnavailable:
    return DataUnavailable(
        f"The cached {name} file at {path} could not be read ({_short(exc)}); it is probably "
        "incomplete: delete it so that it is downloaded again, or replace it with a good copy."
    )


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


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


# -- uploaded CSV tables ---------------------------------------------------------------------
def csv_columns(data: bytes) -> list[str]:
    """Column names of an uploaded CSV, for the label-column picker (reads the header only)."""
    _check_size(data)
    df = _read_csv(data, nrows=0)
    return [str(c) for c in df.columns]


def register_csv(data: bytes, label_column: str) -> str:
    """Validate an uploaded table, store it under data_dir()/uploads and return its name.

    Stored on disk (not only in memory) so that the name "csv:<hash>" keeps working in any
    process: the CLI, a rerun after a restart, a shared URL. The name is content-addressed, so
    uploading the same file twice yields the same name and the same stored runs.
    Every refusal is a ValueError whose message says what to fix in the file.
    """
    import pandas as pd

    _check_size(data)
    df = _read_csv(data)
    columns = [str(c) for c in df.columns]
    df.columns = columns
    if label_column not in columns:
        raise ValueError(
            f"label column {label_column!r} is not in the CSV; its columns are: {_names(columns)}"
        )
    if len(df) < 2:
        raise ValueError(f"the CSV has {len(df)} data row(s); at least 2 are needed")
    features = [c for c in columns if c != label_column]
    if not features:
        raise ValueError(f"the CSV has no feature columns besides the label column {label_column!r}")
    missing = [c for c in columns if df[c].isna().any()]
    if missing:
        raise ValueError(f"missing values in column(s) {_names(missing)}: fill or drop those rows first")
    text = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    if text:
        raise ValueError(
            f"non-numeric feature column(s) {_names(text)}: only numbers can be fed to the network "
            "(encode them as numbers or remove them)"
        )
    x = df[features].to_numpy(dtype=np.float64)
    bad = [c for c, ok in zip(features, np.isfinite(x).all(axis=0), strict=True) if not ok]
    if bad:
        raise ValueError(f"infinite values in column(s) {_names(bad)}")
    y, class_names = _labels(df[label_column], label_column)
    if np.abs(x).max(initial=0.0) > np.finfo(np.float32).max:
        raise ValueError("some feature values are too large for 32-bit floats")

    digest = hashlib.sha256(data + label_column.encode("utf-8")).hexdigest()[:12]
    meta = {
        "label_column": label_column,
        "feature_names": features,
        "class_names": list(class_names),
        "n_classes": len(class_names),
        "rows": len(df),
    }
    folder = data_dir() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = io.BytesIO()
    np.savez(arrays, x=x.astype(np.float32), y=y)
    _atomic_write(folder / f"{digest}.npz", arrays.getvalue())
    _atomic_write(folder / f"{digest}.json", json.dumps(meta, indent=1).encode())
    return f"{CSV_PREFIX}{digest}"


def _labels(col, name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class ids by sorted unique value, or float targets for a non-integer numeric column."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(col):
        values = col.astype(int).to_numpy()
        names = {0: "False", 1: "True"}
    elif pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"infinite values in label column {name!r}")
        if not np.all(values == np.round(values)):
            return values.astype(np.float32), ()  # regression
        values = values.astype(np.int64)
        names = None
    else:
        values = col.astype(str).to_numpy()
        names = None
    uniques, ids, counts = np.unique(values, return_inverse=True, return_counts=True)
    class_names = tuple(names[int(u)] if names else str(u) for u in uniques)
    if len(uniques) < 2:
        raise ValueError(
            f"label column {name!r} has a single class ({class_names[0]!r}); at least 2 are needed"
        )
    if len(uniques) > MAX_CLASSES:
        raise ValueError(
            f"label column {name!r} has {len(uniques)} classes; at most {MAX_CLASSES} are supported "
            "(a column with non-integer numbers is treated as a regression target)"
        )
    rare = [class_names[i] for i in np.flatnonzero(counts < 2)]
    if rare:
        raise ValueError(
            f"class(es) {_names(rare)} of label column {name!r} have a single row; every class needs "
            "at least 2 (one to train on, one to validate)"
        )
    return ids.astype(np.int32).reshape(-1), class_names


@functools.lru_cache(maxsize=8)
def _uploaded(name: str, root: str) -> Dataset:
    """Load a registered upload; keyed by folder too so WHATIF_DATA_DIR changes are honoured."""
    digest = name[len(CSV_PREFIX) :]
    folder = Path(root) / "uploads"
    npz, meta_path = folder / f"{digest}.npz", folder / f"{digest}.json"
    if not _UPLOAD_HASH.fullmatch(digest) or not npz.is_file() or not meta_path.is_file():
        raise DataUnavailable(f"upload {name!r} not found here: upload the CSV again")
    try:
        meta = json.loads(meta_path.read_text())
        with np.load(npz, allow_pickle=False) as f:
            x, y = f["x"], f["y"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataUnavailable(f"upload {name!r} is unreadable ({_short(exc)}): upload the CSV again") from exc
    return _freeze(
        Dataset(
            name=name,
            x=np.ascontiguousarray(x, dtype=np.float32),
            y=y,
            n_classes=int(meta["n_classes"]),
            feature_names=tuple(meta["feature_names"]),
            class_names=tuple(meta["class_names"]),
        )
    )


def _check_size(data: bytes) -> None:
    if len(data) > MAX_CSV_BYTES:
        raise ValueError(
            f"the CSV is {len(data) / 2**20:.1f} MB; the limit is {MAX_CSV_BYTES // 2**20} MB "
            "(sample fewer rows or drop columns)"
        )


def _read_csv(data: bytes, nrows: int | None = None):
    import pandas as pd

    try:
        return pd.read_csv(io.BytesIO(data), nrows=nrows)
    except ValueError as exc:  # ParserError, EmptyDataError and UnicodeDecodeError included
        raise ValueError(f"the file could not be read as CSV ({_short(exc)})") from None


def _names(items: list[str], limit: int = 20) -> str:
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _atomic_write(path: Path, payload: bytes) -> None:
    """Write via a temp file + rename so a concurrent reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
