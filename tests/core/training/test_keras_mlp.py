"""The Keras engine of the non-stacking families: same data, weights and optimizer as a stacked
run of the same Experiment and seed, and bit-identical numbers on a repeat."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.data import load_for
from core.spec import Experiment
from core.training import keras_mlp as km
from core.training.trainer import GroupTrainer

TINY = Experiment(n_samples=300, width=8, depth=2, epochs=2, split_seed=0)


def one_net(e: Experiment) -> tuple[km.Trace, list[np.ndarray]]:
    data = km.MemberData.of(e, load_for(e))
    shape = km.shape_of(e, data)
    fitter = km.fitter_for(shape, e, data.regression)
    fitter.load(km.initial_weights(e, shape, e.seed), e)
    return km.fit(fitter, data, data.x, e.seed, range(e.epochs)), fitter.weights()


def test_member_data_is_the_stacked_trainers() -> None:
    ds = load_for(TINY)
    data, gt = km.MemberData.of(TINY, ds), GroupTrainer([TINY], ds)
    rows = gt.splits[0].train_idx[:5]
    assert np.array_equal(data.x[rows], gt.standardized(0, rows).astype(np.float32))
    assert np.array_equal(data.order(TINY.seed, 1).ravel(), gt.epoch_order(0, 1))


def test_same_experiment_and_seed_give_bit_identical_numbers_whatever_ran_between() -> None:
    first, w_first = one_net(TINY)
    one_net(dataclasses.replace(TINY, seed=5))  # the shared compiled model trains another net
    again, w_again = one_net(TINY)
    assert all(np.array_equal(a, b) for a, b in zip(first.losses, again.losses))
    assert all(np.array_equal(a, b) for a, b in zip(w_first, w_again))
    other, _ = one_net(dataclasses.replace(TINY, seed=5))
    assert not np.array_equal(first.losses[0], other.losses[0])


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_first_epoch_matches_the_stacked_trainer(optimizer: str) -> None:
    """Same rows, order, initial weights and update rule: the first epoch's losses agree with the
    stacked trainer's to float32 rounding (they drift apart later only by summation order)."""
    e = dataclasses.replace(TINY, optimizer=optimizer, learning_rate=0.01, epochs=1)
    trace, _ = one_net(e)
    stacked = GroupTrainer([e], load_for(e)).run()[0].frame("steps")
    np.testing.assert_allclose(trace.losses[0], stacked["loss"].to_numpy()[: len(trace.losses[0])], rtol=2e-4)


def test_what_it_does_not_implement_is_refused_before_it_gets_here() -> None:
    with pytest.raises(ValueError, match="dropout"):
        dataclasses.replace(TINY, probes=True, dropout=0.2)  # core.spec's NOT_IN_FAMILY
