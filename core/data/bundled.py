"""Real data that scikit-learn ships (digits, breast_cancer, wine): works offline, on any container."""

from __future__ import annotations

import functools

import numpy as np

from core.data.base import Dataset, freeze


@functools.lru_cache(maxsize=8)
def load_bundled(name: str) -> Dataset:
    """scikit-learn ships these files, so they work offline and on a fresh container."""
    from sklearn import datasets as skd

    loader = {
        "digits": skd.load_digits,
        "breast_cancer": skd.load_breast_cancer,
        "wine": skd.load_wine,
    }[name]
    bunch = loader()
    n_classes = len(bunch.target_names)
    return freeze(
        Dataset(
            name=name,
            x=np.ascontiguousarray(bunch.data, dtype=np.float32),
            y=np.asarray(bunch.target, dtype=np.int32),
            n_classes=n_classes,
            feature_names=tuple(str(f) for f in bunch.feature_names),
            class_names=tuple(str(c) for c in bunch.target_names),
        )
    )
