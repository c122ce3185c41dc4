"""core.data.transforms: the heavy-tailed / outlier copies of a pool and the four input scalings.

TensorFlow-free and small (digits' pool, a few splits): the trainer side is tested in
tests/core/training/test_trainer.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from core.data import load_dataset, make_split
from core.data.transforms import OUTLIER_FRACTION, fit_scaler, fit_scalers, transformed


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_none_is_the_pool_itself(digits) -> None:
    assert transformed(digits, "none") is digits


def test_lognormal_is_a_skewed_heavy_tailed_monotone_copy(digits) -> None:
    heavy = transformed(digits, "lognormal")
    assert heavy.x.shape == digits.x.shape and heavy.x.dtype == np.float32 and not heavy.x.flags.writeable
    np.testing.assert_array_equal(heavy.y, digits.y)
    assert (heavy.x > 0).all()
    varying = digits.x.std(axis=0) > 0
    skew_before = stats.skew(digits.x[:, varying], axis=0)
    skew_after = stats.skew(heavy.x[:, varying], axis=0)
    assert np.median(skew_after) > np.median(skew_before) + 1  # much more skewed to the right
    ratio = heavy.x.max(axis=0) / np.median(heavy.x, axis=0)
    assert np.median(ratio[varying]) > 10  # a long tail over the typical value
    # monotone per feature: the order of the rows within every feature is unchanged
    j = int(np.argmax(digits.x.std(axis=0)))
    order = np.argsort(digits.x[:, j], kind="stable")
    assert (np.diff(heavy.x[order, j]) >= 0).all()


def test_outliers_move_about_the_stated_share_of_entries_far_out(digits) -> None:
    noisy = transformed(digits, "outliers")
    moved = noisy.x != digits.x
    assert moved.mean() == pytest.approx(OUTLIER_FRACTION, rel=0.2)
    sd = digits.x.std(axis=0)
    sd[sd == 0] = 1.0
    assert (np.abs(noisy.x - digits.x)[moved] / np.broadcast_to(sd, moved.shape)[moved]).min() > 5


@pytest.mark.parametrize("kind", ["lognormal", "outliers"])
def test_transforms_are_fixed_worlds(digits, kind: str) -> None:
    transformed.cache_clear()
    a = transformed(digits, kind)
    transformed.cache_clear()
    np.testing.assert_array_equal(transformed(digits, kind).x, a.x)


def test_standard_scaling_is_the_splits_own_z_score(digits) -> None:
    split = make_split(digits, 500, 0.2, seed=1)
    scaler = fit_scaler(digits, split, "standard")
    np.testing.assert_array_equal(scaler(digits.x[:7]), (digits.x[:7] - split.mean) / split.std)


def test_robust_uses_median_and_iqr_of_training_rows_only(digits) -> None:
    heavy = transformed(digits, "lognormal")
    split = make_split(heavy, 500, 0.2, seed=1)
    scaled = fit_scaler(heavy, split, "robust")(heavy.x[split.train_idx])
    q25, median, q75 = np.percentile(scaled, [25, 50, 75], axis=0)
    spread = np.percentile(heavy.x[split.train_idx], 75, axis=0) > np.percentile(
        heavy.x[split.train_idx], 25, axis=0
    )
    np.testing.assert_allclose(median, 0, atol=1e-5)
    np.testing.assert_allclose((q75 - q25)[spread], 1, rtol=1e-4)


def test_quantile_maps_a_heavy_tail_to_a_normal(digits) -> None:
    heavy = transformed(digits, "lognormal")
    split = make_split(heavy, 2000, 0.2, seed=0)
    scaled = fit_scaler(heavy, split, "quantile")(heavy.x[split.val_idx])
    j = int(np.argmax(digits.x.std(axis=0)))  # a feature with many distinct values
    assert abs(stats.skew(scaled[:, j])) < 0.5 < stats.skew(heavy.x[split.val_idx, j])
    assert np.abs(scaled).max() < 6  # bounded: no heavy tail left


def test_none_leaves_raw_values(digits) -> None:
    split = make_split(digits, 300, 0.2, seed=0)
    np.testing.assert_array_equal(fit_scaler(digits, split, "none")(digits.x[:5]), digits.x[:5])


def test_equal_splits_share_one_fitted_scaler(digits) -> None:
    a, b = make_split(digits, 300, 0.2, seed=0), make_split(digits, 300, 0.2, seed=0)
    c = make_split(digits, 300, 0.2, seed=1)
    sa, sb, sc = fit_scalers(digits, [a, b, c], "quantile")
    assert sa is sb and sa is not sc


def test_unknown_kinds_are_refused(digits) -> None:
    with pytest.raises(ValueError, match="input_transform"):
        transformed(digits, "square")
    with pytest.raises(ValueError, match="scaling"):
        fit_scaler(digits, make_split(digits, 300, 0.2, seed=0), "minmax")


def test_too_many_quantile_copies_are_refused_with_the_way_out(digits) -> None:
    from core.data import transforms

    transforms.check_copies(8, digits)  # digits: 8 copies are ~3.7 MB
    with pytest.raises(ValueError, match="split_seed"):
        transforms.check_copies(transforms.MAX_COPY_FLOATS // (len(digits) * digits.n_features) + 1, digits)
