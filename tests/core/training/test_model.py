"""The stacked MLP's parts: initializers (against Keras' own), activations, residual connections,
dropout masks, and the per-member batch-axis helpers that keep members independent."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from core.constants import NORMAL_STD
from core.spec import INITS, Experiment
from core.training.device import tf
from core.training.model import (
    LEAKY_SLOPE,
    Shape,
    activate,
    batch_sum,
    forward,
    init_kernel,
    init_member,
    uniform_hash,
)

FAN_IN, FAN_OUT = 400, 300  # 120,000 weights: sample std within ~0.5% of the true one


def keras_initializer(name: str) -> keras.initializers.Initializer:
    if name in NORMAL_STD:
        return keras.initializers.RandomNormal(stddev=NORMAL_STD[name], seed=0)
    return keras.initializers.get({"class_name": name, "config": {"seed": 0}})


@pytest.mark.parametrize("init", INITS)
def test_init_schemes_have_keras_statistics(init: str) -> None:
    ours = init_kernel(init, FAN_IN, FAN_OUT, np.random.default_rng(0))
    theirs = keras_initializer(init)((FAN_IN, FAN_OUT)).numpy()
    assert ours.shape == (FAN_IN, FAN_OUT)
    assert abs(ours.mean()) < 0.02 * theirs.std()
    assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.1)  # same support/truncation


def test_he_normal_is_truncated_at_two_standard_deviations() -> None:
    w = init_kernel("he_normal", FAN_IN, FAN_OUT, np.random.default_rng(1))
    raw_std = np.sqrt(2.0 / FAN_IN) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * raw_std
    assert w.std() == pytest.approx(np.sqrt(2.0 / FAN_IN), rel=0.02)  # the rescale restores the variance


def test_init_depends_on_the_seed_only() -> None:
    shape = Shape(8, 3, 16, 2, "relu", "none", False)
    a = init_member(Experiment(seed=3), shape)
    b = init_member(Experiment(seed=3, learning_rate=0.5, dropout=0.3), shape)
    c = init_member(Experiment(seed=4), shape)
    for ka, kb, kc in zip(a["kernels"], b["kernels"], c["kernels"]):
        np.testing.assert_array_equal(ka, kb)
        assert not np.array_equal(ka, kc)
    assert [k.shape for k in a["kernels"]] == [(8, 16), (16, 16), (16, 3)]


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "relu", "tanh", "sigmoid"])
def test_activations_match_keras(name: str) -> None:
    z = tf.constant(np.linspace(-4, 4, 81, dtype=np.float32))
    np.testing.assert_allclose(
        activate(name, z).numpy(), keras.activations.get(name)(z).numpy(), rtol=1e-6, atol=1e-7
    )


def test_leaky_relu_slope_and_elu_saturation() -> None:
    z = tf.constant([-10.0, -1.0, 0.0, 2.0])
    np.testing.assert_allclose(activate("leaky_relu", z).numpy(), [-10 * LEAKY_SLOPE, -LEAKY_SLOPE, 0, 2])
    elu = activate("elu", z).numpy()
    assert elu[0] == pytest.approx(np.exp(-10) - 1) and elu[1] == pytest.approx(np.exp(-1) - 1)
    assert elu[3] == 2.0


def _stacked(shape: Shape, seeds: list[int]) -> tuple[list, list]:
    inits = [init_member(Experiment(seed=s), shape) for s in seeds]
    kernels = [tf.constant(np.stack([i["kernels"][j] for i in inits])) for j in range(shape.depth + 1)]
    biases = [
        tf.constant(np.stack([i["biases"][j] + 0.1 * j for i in inits])) for j in range(shape.depth + 1)
    ]
    return kernels, biases


def test_residual_forward_is_h_plus_f_of_h() -> None:
    shape = Shape(5, 3, 8, 3, "tanh", "none", True)
    kernels, biases = _stacked(shape, [0, 1])
    x = np.random.default_rng(0).normal(size=(2, 4, 5)).astype(np.float32)
    logits, _ = forward(shape, kernels, biases, [], tf.constant(x), training=False)
    for m in range(2):
        k = [t.numpy()[m] for t in kernels]
        b = [t.numpy()[m] for t in biases]
        h = np.tanh(x[m] @ k[0] + b[0])  # the first layer changes width: no skip
        for layer in (1, 2):
            h = h + np.tanh(h @ k[layer] + b[layer])
        np.testing.assert_allclose(logits.numpy()[m], h @ k[3] + b[3], rtol=1e-5, atol=1e-5)


def _dropped(rate: float, seeds: list[int], counter: int, shape=(64, 128)) -> np.ndarray:
    """Which units dropout zeroes for each member: [K, *shape] booleans."""
    u = uniform_hash(tf.constant(seeds), tf.constant(counter), shape).numpy()
    return u < rate


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_dropout_mask_rate(rate: float) -> None:
    dropped = _dropped(rate, [0, 1, 2], counter=5)
    n = dropped[0].size
    for member in dropped:  # binomial: 5 standard deviations
        assert abs(member.mean() - rate) < 5 * np.sqrt(rate * (1 - rate) / n)


def test_dropout_masks_are_deterministic_by_seed_and_step() -> None:
    np.testing.assert_array_equal(_dropped(0.3, [7], 2), _dropped(0.3, [7], 2))
    assert (_dropped(0.3, [7], 2) != _dropped(0.3, [7], 3)).any()  # a new mask every step
    assert (_dropped(0.3, [7], 2) != _dropped(0.3, [8], 2)).any()


def test_dropout_masks_are_independent_between_members() -> None:
    alone = _dropped(0.5, [11], 4)[0]
    for mates in ([11, 3], [5, 11, 9, 2], [1, 2, 3, 4, 5, 6, 7, 11]):
        in_group = _dropped(0.5, mates, 4)[mates.index(11)]
        np.testing.assert_array_equal(in_group, alone)  # its group does not change its mask
    a, b = _dropped(0.5, [0, 1], 4).reshape(2, -1).astype(float)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.03  # different seeds: unrelated masks


def test_dropout_keeps_the_expected_activation() -> None:
    """Inverted dropout: kept units are scaled by 1 / (1 - rate), so the mean over masks is the
    activation itself (the property Keras' Dropout has, whose random stream differs from ours).
    400 copies of one network with different seeds draw 400 masks in one call."""
    n = 400
    shape = Shape(6, 2, 32, 1, "relu", "none", False)
    kernels, biases = _stacked(shape, [0])
    kernels, biases = ([tf.repeat(t, n, axis=0) for t in ts] for ts in (kernels, biases))
    x = tf.repeat(tf.constant(np.random.default_rng(0).normal(size=(1, 16, 6)).astype(np.float32)), n, axis=0)
    plain = forward(shape, kernels, biases, [], x, training=False)[0].numpy()[0]
    rate, seeds = tf.fill([n], 0.4), tf.range(n)
    runs = forward(shape, kernels, biases, [], x, True, rate, seeds, tf.constant(0))[0].numpy()
    spread = runs.std(axis=0) / np.sqrt(n)
    assert (np.abs(runs.mean(axis=0) - plain) < 5 * spread + 1e-6).all()
    assert (runs.std(axis=0) > 0).all()  # the masks did differ


def test_batch_sum_is_the_sum_over_the_batch_axis_member_by_member() -> None:
    t = np.random.default_rng(0).normal(size=(3, 50, 7)).astype(np.float32)
    got = batch_sum(tf.constant(t)).numpy()
    np.testing.assert_allclose(got, t.sum(axis=1), rtol=1e-5, atol=1e-5)
    alone = batch_sum(tf.constant(t[2:3])).numpy()[0]
    np.testing.assert_array_equal(got[2], alone)  # bit for bit, whatever the stack
