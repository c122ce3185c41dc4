"""Input transforms (a heavy-tailed or outlier-laden copy of the pool) and input scalings.

Two knobs of core.spec, both group knobs (every member of a stacked group shares them):
- `input_transform` changes the WORLD: a skewed, heavy-tailed ("lognormal") or outlier-laden
  ("outliers") copy of every feature, drawn from the fixed TRANSFORM_SEED, so every member and
  every seed sees the same data (as the toy worlds do, core.data.toy); the member seed only
  changes the split. It is applied to the whole pool before any split: it is the data, not a
  preprocessing step.
- `scaling` is the PREPROCESSING the network sees, fitted on each member's training rows only
  (validation must not leak into it): "standard" (z-score, the split's own mean/std: the
  explorer's numbers before this knob existed), "robust" (median and interquartile range, as
  scikit-learn's RobustScaler), "quantile" (each feature mapped through its empirical CDF to a
  standard normal: scikit-learn's QuantileTransformer) or "none" (the raw values).

The affine scalings (standard, robust, none) are a centre and a scale per feature, which the
stacked trainer applies on the fly; quantile is not affine, so the trainer feeds it a transformed
copy of the pool per distinct training split (see core.training.trainer).
Nothing here imports TensorFlow.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data.base import Dataset, Split, freeze

TRANSFORM_SEED = 0  # the transformed world is fixed, like the toy worlds (core.data.toy.TOY_SEED)
LOGNORMAL_SALT, OUTLIER_SALT = 1, 2  # separate random streams for the two transforms
LOGNORMAL_SIGMA = 1.0  # exp(sigma * z): a lognormal with sigma 1 has skewness ~6, a long right tail
Z_CLIP = 5.0  # z capped at 5 SD before exp: tails of up to e^5 ~ 150x the median, no float32 overflow
SCALE_DECADES = 1.0  # each feature also gets a unit drawn from 10^U(-1, 1): real columns differ in units
OUTLIER_FRACTION = 0.01  # 1% of the entries ...
OUTLIER_SD = 10.0  # ... pushed 10 SD out (either side): far beyond anything a Gaussian produces
QUANTILES_MAX = 1000  # scikit-learn's default n_quantiles (capped by the training rows)
QUANTILE_SEED = 0  # QuantileTransformer subsamples above 10k rows: fixed, so results are deterministic
TINY = 1e-12  # a spread below this is a constant feature: it is scaled by 1 (no divide by zero)
# A quantile map is not affine, so the trainer holds one scaled copy of the pool per distinct
# training split: 250M float32 = 1 GB, the most a group may spend on them (one MNIST copy is 55M).
MAX_COPY_FLOATS = 250_000_000


def _pool_z(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool-wide z-scores and the per-feature SD (constant features get SD 1)."""
    x64 = x.astype(np.float64)
    sd = x64.std(axis=0)
    sd[sd < TINY] = 1.0
    return (x64 - x64.mean(axis=0)) / sd, sd


def lognormal(x: np.ndarray) -> np.ndarray:
    """A skewed, heavy-tailed copy of each feature: unit_f * exp(sigma * clip(z)). Monotone per
    feature, so it keeps every bit of information (a rank-based scaling can undo it), but its
    scale and skew make the raw values a poor input."""
    z, _ = _pool_z(x)
    rng = np.random.default_rng([TRANSFORM_SEED, LOGNORMAL_SALT])
    units = 10.0 ** rng.uniform(-SCALE_DECADES, SCALE_DECADES, size=x.shape[1])
    return units * np.exp(LOGNORMAL_SIGMA * np.clip(z, -Z_CLIP, Z_CLIP))


def outliers(x: np.ndarray) -> np.ndarray:
    """The features with OUTLIER_FRACTION of their entries pushed OUTLIER_SD pool SDs out, on a
    random side (the entries and sides drawn from the fixed seed)."""
    _, sd = _pool_z(x)
    rng = np.random.default_rng([TRANSFORM_SEED, OUTLIER_SALT])
    hit = rng.random(x.shape) < OUTLIER_FRACTION
    side = rng.choice([-1.0, 1.0], size=x.shape)
    return x.astype(np.float64) + hit * side * OUTLIER_SD * sd


TRANSFORMS = {"lognormal": lognormal, "outliers": outliers}


@functools.lru_cache(maxsize=16)
def transformed(ds: Dataset, kind: str) -> Dataset:
    """The pool with `kind` applied to its features ("none": the pool itself). Memoized per pool
    object (the loaders memoize pools too) and read-only, like every pool."""
    if kind == "none":
        return ds
    if kind not in TRANSFORMS:
        raise ValueError(f"unknown input_transform {kind!r}; choose none, {', '.join(TRANSFORMS)}")
    x = np.ascontiguousarray(TRANSFORMS[kind](ds.x), dtype=np.float32)
    y = np.array(ds.y, copy=True)
    return freeze(Dataset(ds.name, x, y, ds.n_classes, ds.feature_names, ds.class_names))


# -- scalings --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Scaler:
    """One member's input scaling, fitted on its training rows: x -> (f(x) - center) / scale,
    where f is the quantile map for "quantile" and the identity otherwise."""

    kind: str
    center: np.ndarray  # float32 [F]
    scale: np.ndarray  # float32 [F], never 0
    quantile: Any = None  # the fitted sklearn QuantileTransformer ("quantile" only)

    @property
    def affine(self) -> bool:
        return self.quantile is None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Scaled inputs, float32."""
        if self.quantile is not None:
            x = self.quantile.transform(np.asarray(x, np.float64))
        return ((np.asarray(x, np.float32) - self.center) / self.scale).astype(np.float32)


def _safe(scale: np.ndarray) -> np.ndarray:
    scale = np.array(scale, dtype=np.float64)
    scale[scale < TINY] = 1.0
    return scale.astype(np.float32)


def fit_scaler(ds: Dataset, split: Split, kind: str) -> Scaler:
    """The scaling `kind` fitted on `split`'s training rows of `ds`. "standard" reuses the
    split's own mean/std, so it is exactly what the trainer did before this knob existed."""
    f = ds.n_features
    if kind == "standard":
        return Scaler(kind, split.mean, split.std)
    if kind == "none":
        return Scaler(kind, np.zeros(f, np.float32), np.ones(f, np.float32))
    rows = ds.x[split.train_idx].astype(np.float64)
    if kind == "robust":  # scikit-learn's RobustScaler: a zero IQR scales by 1
        q25, median, q75 = np.percentile(rows, [25, 50, 75], axis=0)
        return Scaler(kind, median.astype(np.float32), _safe(q75 - q25))
    if kind == "quantile":
        from sklearn.preprocessing import QuantileTransformer

        qt = QuantileTransformer(
            n_quantiles=min(QUANTILES_MAX, len(rows)),
            output_distribution="normal",
            random_state=QUANTILE_SEED,
        ).fit(rows)
        return Scaler(kind, np.zeros(f, np.float32), np.ones(f, np.float32), qt)
    raise ValueError(f"unknown scaling {kind!r}; choose standard, robust, quantile or none")


def fit_scalers(ds: Dataset, splits: list[Split], kind: str) -> list[Scaler]:
    """One scaler per split; splits with the same training rows share one fitted scaler (the
    members of a claim share one split, so a quantile map is fitted once, not once per seed)."""
    fitted: dict[bytes, Scaler] = {}
    out = []
    for s in splits:
        token = s.train_idx.tobytes()
        if token not in fitted:
            fitted[token] = fit_scaler(ds, s, kind)
        out.append(fitted[token])
    return out


def check_copies(n_copies: int, ds: Dataset) -> None:
    """Refuse a quantile-scaled group whose per-split copies of the pool would not fit."""
    floats = n_copies * len(ds) * ds.n_features
    if floats > MAX_COPY_FLOATS:
        raise ValueError(
            f"quantile scaling needs one scaled copy of {ds.name} per train/validation split: {n_copies} "
            f"copies are about {4 * floats / 1e9:.1f} GB; fix the split (split_seed >= 0) so seeds share one"
        )
