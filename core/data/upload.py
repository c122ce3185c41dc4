"""Uploaded CSV tables: validated once, stored by content hash, loaded by name in any process."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from core.constants import CSV_PREFIX
from core.data.base import Dataset, DataUnavailable, data_dir, freeze, short

MAX_CSV_BYTES = 25 * 1024 * 1024  # what a public container can parse without trouble
MAX_CSV_COLUMNS = 1_000  # above MNIST's 784 pixels: the first layer (columns x width x members) is
# what a wide table inflates, and the memory guard needs a shape it can afford to even estimate
MAX_CLASSES = 100  # beyond this a softmax head is the wrong tool; likely a regression target
MAX_UPLOAD_STORAGE_BYTES = 256 * 1024 * 1024  # all stored uploads together; least recently used go first
MAX_FILE_NAME = 120  # characters of the uploaded file's name kept (for labels only)
_UPLOAD_HASH = re.compile(r"[0-9a-f]{12}")
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")  # after UTF-8: what spreadsheets on Windows write


# -- uploaded CSV tables ---------------------------------------------------------------------
def csv_columns(data: bytes) -> list[str]:
    """Column names of an uploaded CSV, for the label-column picker (reads the header only)."""
    _check_size(data)
    df = _read_csv(data, nrows=0)
    columns = [str(c) for c in df.columns]
    _check_columns(len(columns))
    return columns


def register_csv(data: bytes, label_column: str, file_name: str | None = None) -> str:
    """Validate an uploaded table, store it under data_dir()/uploads and return its name.

    Stored on disk (not only in memory) so that the name "csv:<hash>" keeps working in any
    process: the CLI, a rerun after a restart, a shared URL. The name is content-addressed, so
    uploading the same file twice yields the same name and the same stored runs, and a file
    already stored is neither parsed nor written again (a rerun of the page costs a hash).
    Every refusal is a ValueError whose message says what to fix in the file.
    """
    _check_size(data)
    digest = hashlib.sha256(data + label_column.encode("utf-8")).hexdigest()[:12]
    folder = data_dir() / "uploads"
    if _touch(folder, digest):
        return f"{CSV_PREFIX}{digest}"
    _check_columns(len(_read_csv(data, nrows=0).columns))  # before parsing every row
    df = _read_csv(data)
    x, y, meta = _validated(df, label_column)
    del df  # from here only the float32 copy is held
    meta["file_name"] = _clean_name(file_name)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = io.BytesIO()
    np.savez(arrays, x=x, y=y)
    del x
    _atomic_write(folder / f"{digest}.npz", arrays.getbuffer())  # a view: no second copy
    _atomic_write(folder / f"{digest}.json", json.dumps(meta, indent=1).encode())
    _evict(folder, keep=digest)
    return f"{CSV_PREFIX}{digest}"


def _validated(df, label_column: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Features as float32 [N, F], labels, and the meta data; refuses what cannot be trained on."""
    import pandas as pd

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
    x, too_large = _features(df, features)
    y, class_names = _labels(df[label_column], label_column)
    if too_large:
        raise ValueError("some feature values are too large for 32-bit floats")
    meta = {
        "label_column": label_column,
        "feature_names": features,
        "class_names": list(class_names),
        "n_classes": len(class_names),
        "rows": len(df),
    }
    return x, y, meta


def _features(df, features: list[str]) -> tuple[np.ndarray, bool]:
    """Features as float32 [N, F], filled column by column (one float32 copy, never a float64
    one); refuses infinite values; says whether some value is too large for float32."""
    x = np.empty((len(df), len(features)), np.float32)
    bad, too_large = [], False
    for j, c in enumerate(features):
        col = df[c].to_numpy(dtype=np.float64)
        if not np.isfinite(col).all():
            bad.append(c)
        elif np.abs(col).max(initial=0.0) > np.finfo(np.float32).max:
            too_large = True  # refused below, after the label checks, as before
        else:
            x[:, j] = col
    if bad:
        raise ValueError(f"infinite values in column(s) {_names(bad)}")
    return x, too_large


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
def load_upload(name: str, root: str) -> Dataset:
    """Load a registered upload; keyed by folder too so WHATIF_DATA_DIR changes are honoured."""
    digest = name[len(CSV_PREFIX) :]
    folder = Path(root) / "uploads"
    npz, meta_path = folder / f"{digest}.npz", folder / f"{digest}.json"
    if not _UPLOAD_HASH.fullmatch(digest) or not npz.is_file() or not meta_path.is_file():
        raise DataUnavailable(f"upload {name!r} not found here: upload the CSV again")
    with contextlib.suppress(OSError):
        os.utime(npz)  # recently used: the last to be evicted
    try:
        meta = json.loads(meta_path.read_text())
        with np.load(npz, allow_pickle=False) as f:
            x, y = f["x"], f["y"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataUnavailable(f"upload {name!r} is unreadable ({short(exc)}): upload the CSV again") from exc
    return freeze(
        Dataset(
            name=name,
            x=np.ascontiguousarray(x, dtype=np.float32),
            y=y,
            n_classes=int(meta["n_classes"]),
            feature_names=tuple(meta["feature_names"]),
            class_names=tuple(meta["class_names"]),
        )
    )


def upload_meta(name: str) -> dict | None:
    """The stored facts of an upload (feature names, classes, rows, file name) without loading its
    arrays: what the memory guard and the dataset labels need. None if it is not stored here."""
    digest = name[len(CSV_PREFIX) :] if name.startswith(CSV_PREFIX) else ""
    if not _UPLOAD_HASH.fullmatch(digest):
        return None
    try:
        return json.loads((data_dir() / "uploads" / f"{digest}.json").read_text())
    except (OSError, ValueError):
        return None


def _check_size(data: bytes) -> None:
    if len(data) > MAX_CSV_BYTES:
        raise ValueError(
            f"the CSV is {len(data) / 2**20:.1f} MB; the limit is {MAX_CSV_BYTES // 2**20} MB "
            "(sample fewer rows or drop columns)"
        )


def _check_columns(n: int) -> None:
    if n > MAX_CSV_COLUMNS:
        raise ValueError(
            f"the CSV has {n:,} columns; the limit is {MAX_CSV_COLUMNS:,} (drop columns or reduce "
            "them, e.g. with PCA, before uploading)"
        )


def _read_csv(data: bytes, nrows: int | None = None):
    """Parse straight from the bytes (no decoded copy): UTF-8 (a BOM is fine), UTF-16 with its
    BOM, else the usual single-byte spreadsheet encodings; NUL bytes mean it is not a text CSV."""
    import pandas as pd

    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encodings: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in data[:65536]:
        raise ValueError("the file is not a text CSV (it contains NUL bytes): save it as CSV UTF-8")
    else:
        encodings = ("utf-8-sig", *_FALLBACK_ENCODINGS)
    for encoding in encodings:
        try:
            return pd.read_csv(io.BytesIO(data), nrows=nrows, encoding=encoding)
        except UnicodeError:
            continue
        except ValueError as exc:  # ParserError and EmptyDataError included
            raise ValueError(f"the file could not be read as CSV ({short(exc)})") from None
    raise ValueError("the file's text encoding was not recognised: save it as CSV UTF-8")


def _touch(folder: Path, digest: str) -> bool:
    """True if this upload is already stored (and mark it recently used)."""
    paths = [folder / f"{digest}.npz", folder / f"{digest}.json"]
    if not all(p.is_file() for p in paths):
        return False
    for p in paths:
        with contextlib.suppress(OSError):
            os.utime(p)
    return True


def _evict(folder: Path, keep: str) -> None:
    """Delete the least recently used uploads until all of them fit MAX_UPLOAD_STORAGE_BYTES.
    A deleted upload's name says "upload the CSV again"; its stored runs still replay."""
    entries = []
    for npz in folder.glob("*.npz"):
        with contextlib.suppress(OSError):
            meta = npz.with_suffix(".json")
            size = npz.stat().st_size + (meta.stat().st_size if meta.exists() else 0)
            entries.append((npz.stat().st_mtime, npz.stem, size))
    total = sum(size for _, _, size in entries)
    for _, stem, size in sorted(entries):
        if total <= MAX_UPLOAD_STORAGE_BYTES:
            break
        if stem == keep:
            continue
        for suffix in (".npz", ".json"):
            (folder / f"{stem}{suffix}").unlink(missing_ok=True)
        total -= size
        load_upload.cache_clear()  # an evicted upload must not stay loadable from memory


def _clean_name(file_name: str | None) -> str | None:
    """The uploaded file's name for labels: its last path part, one line, bounded."""
    if not file_name:
        return None
    name = re.split(r"[\\/]", str(file_name))[-1]
    return " ".join(name.split())[:MAX_FILE_NAME] or None


def _names(items: list[str], limit: int = 20) -> str:
    shown = ", ".join(repr(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _atomic_write(path: Path, payload: bytes | memoryview) -> None:
    """Write via a temp file + rename so a concurrent reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
