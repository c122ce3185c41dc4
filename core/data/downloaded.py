"""MNIST and Fashion-MNIST through Keras' downloader, with an offline message that says what to do."""

from __future__ import annotations

import functools
import gzip
import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from core.data.base import KERAS_CACHE_ENV, Dataset, DataUnavailable, freeze, short

DOWNLOAD_PROBE_TIMEOUT_S = 10.0  # Keras' own download has no timeout; a dropped packet would hang the app
DOWNLOAD_CHUNK_BYTES = 1 << 20  # stream the 11-30 MB files instead of holding them twice

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
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


# -- real data downloaded through Keras ------------------------------------------------------
@functools.lru_cache(maxsize=4)
def load_downloaded(name: str, cache: str) -> Dataset:
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
    return freeze(
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
    """Paths of `files` in `folder`, downloading the missing ones from Keras' own dataset origin.

    Files already present are read directly: `keras.datasets.*.load_data()` takes no cache folder
    (Keras fixes it at import time from KERAS_HOME), so it could not honour WHATIF_KERAS_CACHE.
    The download is plain urllib with a timeout (Keras' has none: behind a firewall that drops
    packets it would hang the app) and checks the same SHA-256 Keras checks; it also keeps
    TensorFlow out of the server process, which only core.training may import.
    """
    missing = [f for f in files if not (folder / f).is_file()]
    if not missing:
        return [folder / f for f in files]
    try:
        for f in missing:
            _download(_KERAS_ORIGIN + f, folder / f, hashes.get(f))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _not_downloadable(name, folder, missing, exc) from exc
    return [folder / f for f in files]


def _download(url: str, path: Path, sha256: str | None) -> None:
    """Fetch `url` into `path` via a temporary file (a reader never sees half a file); refuse a
    file whose SHA-256 differs from the one given."""
    tmp = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_PROBE_TIMEOUT_S) as response:
            path.parent.mkdir(parents=True, exist_ok=True)  # only once the server answered
            with tmp.open("wb") as out:
                while chunk := response.read(DOWNLOAD_CHUNK_BYTES):
                    digest.update(chunk)
                    out.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ValueError(f"{path.name} arrived damaged (its checksum does not match)")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _not_downloadable(name: str, folder: Path, missing: list[str], exc: BaseException) -> DataUnavailable:
    where = folder / missing[0] if len(missing) == 1 else folder
    files = " and ".join(missing) if len(missing) <= 2 else ", ".join(missing[:-1]) + " and " + missing[-1]
    return DataUnavailable(
        f"The {name} dataset could not be downloaded here ({short(exc)}); this machine is probably "
        f"offline. To use it anyway, download {files} from {_KERAS_ORIGIN} on a connected machine "
        f"and place {'it at' if len(missing) == 1 else 'them in'} {where} "
        f"(or set {KERAS_CACHE_ENV} to the folder that holds {_MNIST_FILE} and {_FASHION_DIR}/). "
        "The bundled datasets (digits, breast_cancer, wine) and the toy datasets work offline."
    )


def _unreadable(name: str, path: Path, exc: BaseException) -> DataUnavailable:
    return DataUnavailable(
        f"The cached {name} file at {path} could not be read ({short(exc)}); it is probably "
        "incomplete: delete it so that it is downloaded again, or replace it with a good copy."
    )
