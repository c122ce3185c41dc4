"""core.data.sequences: the adding problem is what its docstring says, fixed, and fits the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from core import limits
from core.data import load_dataset, load_for, make_split
from core.data.sequences import CONSTANT_MSE, as_sequences, load_sequences, marker_positions, steps_of
from core.spec import Experiment


def test_two_markers_one_per_half_and_the_target_is_their_sum():
    ds = load_sequences("adding", 500, 20)
    seq = as_sequences(ds.x)
    assert ds.x.shape == (500, 40) and seq.shape == (500, 20, 2) and steps_of(ds) == 20
    markers = seq[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers.sum(axis=1) == 2).all()
    assert (markers[:, :10].sum(axis=1) == 1).all() and (markers[:, 10:].sum(axis=1) == 1).all()
    np.testing.assert_allclose(ds.y, (seq[:, :, 0] * markers).sum(axis=1), rtol=1e-6)
    first, second = marker_positions(ds).T
    assert (first < 10).all() and (second >= 10).all()
    assert ((seq[:, :, 0] >= 0) & (seq[:, :, 0] < 1)).all()
    assert ds.is_regression and ds.feature_names[:2] == ("value_0", "marker_0")


def test_the_constant_predictor_costs_about_one_sixth():
    y = load_sequences("adding", 20_000, 50).y
    assert float(np.mean((y - y.mean()) ** 2)) == pytest.approx(CONSTANT_MSE, rel=0.03)
    assert float(y.mean()) == pytest.approx(1.0, abs=0.01)


def test_the_world_is_fixed_and_each_length_its_own():
    a = load_sequences("adding", 100, 30)
    load_sequences.cache_clear()
    b = load_sequences("adding", 100, 30)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert load_sequences("adding", 100, 31).x.shape == (100, 62)
    with pytest.raises(ValueError, match="unknown sequence task"):
        load_sequences("recall", 100, 30)


def test_fits_the_pipeline_split_spec_and_memory_estimate():
    e = Experiment(dataset="adding", model="lstm", seq_len=25, n_samples=300, width=16)
    ds = load_for(e)
    assert ds.x.shape == (300, 50) and load_dataset("adding", 300, seq_len=25).x is ds.x
    split = make_split(ds, e.n_samples, e.val_fraction, 3)
    assert len(split.train_idx) + len(split.val_idx) == 300
    assert limits.data_shape(e) == (300, 50, 1)  # the real shape, not the unknown-dataset guess
    longer = Experiment(dataset="adding", model="lstm", seq_len=200, n_samples=300, width=16)
    assert limits.estimate_memory_mb([longer]) > limits.estimate_memory_mb([e])  # BPTT grows with T
    with pytest.raises(ValueError, match="sequence"):
        Experiment(dataset="digits", model="lstm")
