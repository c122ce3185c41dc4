"""Uploaded CSV tables: validated once, stored by content hash, loaded by name in any process."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from core.data.base import Dataset, DataUnavailable, data_dir, freeze, short
from core.spec import CSV_PREFIX

MAX_CSV_BYTES = 25 * 1024 * 1024  # what a public container can parse without trouble
MAX_CLASSES = 100  # beyond this a softmax head is the wrong tool; likely a regression target
_UPLOAD_HASH = re.compile(r"[0-9a-f]{12}")


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
def load_upload(name: str, root: str) -> Dataset:
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
        raise ValueError(f"the file could not be read as CSV ({short(exc)})") from None


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
