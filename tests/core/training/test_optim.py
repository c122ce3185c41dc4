"""Stacked optimizer updates against Keras 3's own optimizers, and schedules against their formulas."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from core.spec import Experiment
from core.training import optim
from core.training.device import tf
from core.training.schedules import schedule

KERAS = {
    "sgd": lambda lr, b, **kw: keras.optimizers.SGD(lr, **kw),
    "momentum": lambda lr, b, **kw: keras.optimizers.SGD(lr, momentum=b, **kw),
    "nesterov": lambda lr, b, **kw: keras.optimizers.SGD(lr, momentum=b, nesterov=True, **kw),
    "rmsprop": lambda lr, b, **kw: keras.optimizers.RMSprop(lr, **kw),
    "adam": lambda lr, b, **kw: keras.optimizers.Adam(lr, beta_1=b, **kw),
    "adamw": lambda lr, b, **kw: keras.optimizers.AdamW(lr, beta_1=b, **kw),
}


def ours(name, w0, grads, lr, beta, clipnorm=0.0, clipvalue=0.0, wd=0.0):
    """Three steps of our update on a [1, ...] stacked variable, Keras' order of operations."""
    w = tf.constant(w0[None])
    slots = {s: tf.zeros_like(w) for s in optim.slot_names(name)}
    powers = (tf.ones(1), tf.ones(1))
    lr_v, beta_v = tf.constant([lr]), tf.constant([beta])
    for g in grads:
        g = tf.constant(g[None])
        norms = [optim.member_norm(g)]
        (g,), _ = optim.clip(
            [g], norms, tf.constant([clipnorm]), tf.constant([clipvalue]), clipnorm > 0, clipvalue > 0
        )
        w = w - w * wd * lr
        powers = (powers[0] * beta_v, powers[1] * optim.ADAM_BETA_2)
        w, slots = optim.update(name, w, g, slots, lr_v, beta_v, powers)
    return w.numpy()[0]


def theirs(name, w0, grads, lr, beta, **kw):
    var = keras.Variable(w0)
    opt = KERAS[name](lr, beta, **kw)
    for g in grads:
        opt.apply_gradients([(tf.constant(g), var)])
    return var.numpy()


@pytest.mark.parametrize("name", list(KERAS))
@pytest.mark.parametrize(
    "extra",
    [{}, {"clipnorm": 0.5}, {"clipvalue": 0.05}, {"weight_decay": 0.1}],
    ids=["plain", "clipnorm", "clipvalue", "wd"],
)
def test_three_steps_match_keras(name, extra):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3)).astype(np.float32)
    grads = [rng.normal(size=(4, 3)).astype(np.float32) for _ in range(3)]
    kw = dict(extra)
    if name == "adamw" and "weight_decay" not in kw:
        kw["weight_decay"] = 0.0  # AdamW's default is 0.004; our knob says exactly what it is
    expected = theirs(name, w0, grads, 0.1, 0.9, **kw)
    clips = {"clipnorm": kw.get("clipnorm", 0.0), "clipvalue": kw.get("clipvalue", 0.0)}
    got = ours(name, w0, grads, 0.1, 0.9, wd=kw.get("weight_decay", 0.0), **clips)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_clipping_reports_when_it_fired():
    g = tf.constant([[[3.0, 4.0]], [[0.3, 0.4]]])  # member norms 5 and 0.5
    (clipped,), fired = optim.clip(
        [g], [optim.member_norm(g)], tf.constant([1.0, 1.0]), tf.constant([0.0, 0.0]), True, False
    )
    assert fired.numpy().tolist() == [True, False]
    np.testing.assert_allclose(optim.member_norm(clipped).numpy(), [1.0, 0.5], rtol=1e-6)


def test_cosine_matches_keras_cosine_decay():
    e = Experiment(lr_schedule="cosine", learning_rate=0.1, epochs=4)
    lr, _ = schedule(e, steps_per_epoch=10)
    decay = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=40)
    np.testing.assert_allclose(lr, [float(decay(s)) for s in range(40)], rtol=1e-5, atol=1e-7)


def test_exponential_matches_keras_exponential_decay_with_a_half_life():
    e = Experiment(lr_schedule="exponential", learning_rate=0.1, epochs=6, lr_half_life=2.0)
    lr, mom = schedule(e, steps_per_epoch=10)
    decay = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=20, decay_rate=0.5)
    np.testing.assert_allclose(lr, [float(decay(s)) for s in range(60)], rtol=1e-5, atol=1e-8)
    assert (lr[0], lr[20], lr[40]) == pytest.approx((0.1, 0.05, 0.025))  # halves every 2 epochs
    assert (mom == e.momentum).all()
    faster, _ = schedule(
        Experiment(lr_schedule="exponential", learning_rate=0.1, epochs=6, lr_half_life=1.0), 10
    )
    assert faster[0] == lr[0] and (faster[1:] < lr[1:]).all()


def test_step_decay_one_cycle_and_cyclic_shapes():
    lr, mom = schedule(Experiment(lr_schedule="step", learning_rate=1.0, epochs=4), 10)
    assert (lr[0], lr[20], lr[30]) == pytest.approx((1.0, 0.1, 0.01))
    lr, mom = schedule(Experiment(lr_schedule="one_cycle", learning_rate=1.0, epochs=10), 10)
    peak = int(np.argmax(lr))
    assert lr[0] == pytest.approx(1 / 25) and lr[peak] == pytest.approx(1.0) and lr[-1] < 1e-3
    assert mom[0] == pytest.approx(0.95) and mom[peak] == pytest.approx(0.85)  # momentum cycles inversely
    lr, _ = schedule(Experiment(lr_schedule="cyclic", learning_rate=1.0, epochs=8), 10)
    assert lr[0] == pytest.approx(0.1) and lr[20] == pytest.approx(1.0) and lr[40] == pytest.approx(0.1)
    lr, mom = schedule(Experiment(optimizer="sgd", lr_schedule="one_cycle", epochs=2), 10)
    assert (mom == 0).all()  # plain SGD has no momentum to cycle
