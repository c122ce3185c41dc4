"""More of the stacked trainer against its oracle, a plain Keras model given the member's initial
weights and data order: nesterov, rmsprop, adamw, residual connections, L1/L2, the regression
(MSE) path, and dropout.

Dropout: Keras draws its masks from its own random stream, so the Keras twin is given OUR masks
(an extra input per hidden layer, multiplied in where Keras' Dropout would be) and must then make
the same updates; the expected-value property of the masks is tested in test_model.py.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from core.data import Dataset, load_dataset
from core.spec import Experiment
from core.training.device import tf
from core.training.model import init_member, uniform_hash
from core.training.trainer import GroupTrainer

# 600 digits -> 480 train rows = 15 batches of 32 exactly (the trainer drops partial batches).
SMALL = Experiment(dataset="digits", n_samples=600, width=32, depth=2, epochs=3, batch_size=32)
RTOL = 2e-3  # float32 sums in another order over 45 steps; a wrong rule is off by far more


def regression_data() -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5)).astype(np.float32)
    y = (x @ rng.normal(size=5) + np.sin(2 * x[:, 0]) + 0.1 * rng.normal(size=400)).astype(np.float32)
    return Dataset("csv:parity", x, y, 0, tuple("abcde"), ())


def keras_optimizer(e: Experiment) -> keras.optimizers.Optimizer:
    wd = {"weight_decay": e.weight_decay} if e.weight_decay > 0 else {}
    opt = {
        "sgd": lambda: keras.optimizers.SGD(e.learning_rate, **wd),
        "momentum": lambda: keras.optimizers.SGD(e.learning_rate, momentum=e.momentum, **wd),
        "nesterov": lambda: keras.optimizers.SGD(e.learning_rate, momentum=e.momentum, nesterov=True, **wd),
        "rmsprop": lambda: keras.optimizers.RMSprop(e.learning_rate, **wd),
        "adam": lambda: keras.optimizers.Adam(e.learning_rate, beta_1=e.momentum, **wd),
        "adamw": lambda: keras.optimizers.AdamW(
            e.learning_rate, beta_1=e.momentum, weight_decay=e.weight_decay
        ),
    }[e.optimizer]()
    opt.exclude_from_weight_decay(var_names=["bias"])  # the explorer decays kernels only
    return opt


def keras_twin(e: Experiment, trainer: GroupTrainer) -> keras.Model:
    """Functional Keras model with the member's initial weights; with dropout, one mask input
    per hidden layer (ones at evaluation)."""
    shape = trainer.static.shape
    reg = keras.regularizers.L1L2(e.l1, e.l2) if e.l1 > 0 or e.l2 > 0 else None
    inputs = [keras.Input((shape.n_features,))]
    h = inputs[0]
    for layer in range(shape.depth):
        a = keras.layers.Activation(e.activation)(keras.layers.Dense(shape.width, kernel_regularizer=reg)(h))
        if e.dropout > 0:
            inputs.append(keras.Input((shape.width,)))
            a = keras.layers.Multiply()([a, inputs[-1]])
        h = keras.layers.Add()([h, a]) if e.residual and layer > 0 else a
    model = keras.Model(inputs, keras.layers.Dense(shape.n_outputs, kernel_regularizer=reg)(h))
    init = init_member(e, shape)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    for layer, k, b in zip(dense, init["kernels"], init["biases"]):
        layer.set_weights([k, b])
    loss = (
        keras.losses.MeanSquaredError()
        if trainer.static.regression
        else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.compile(optimizer=keras_optimizer(e), loss=loss)
    return model


def our_masks(e: Experiment, trainer: GroupTrainer, epoch: int) -> list[np.ndarray]:
    """The trainer's dropout multipliers for one epoch: per hidden layer [steps*batch, width]."""
    shape, b = trainer.static.shape, trainer.batch
    out = []
    for layer in range(shape.depth):
        rows = []
        for s in range(trainer.steps):
            counter = (epoch * trainer.steps + s) * shape.depth + layer
            u = uniform_hash(tf.constant([e.seed]), tf.constant(counter), (b, shape.width)).numpy()[0]
            rows.append(np.where(u >= e.dropout, 1.0 / (1.0 - e.dropout), 0.0).astype(np.float32))
        out.append(np.concatenate(rows))
    return out


def val_data_loss(model: keras.Model, trainer: GroupTrainer, e: Experiment, y: np.ndarray) -> float:
    """Keras' validation loss without the L1/L2 penalty (the explorer reports the data loss)."""
    val = trainer.splits[0].val_idx
    inputs = [trainer.standardized(0, val)]
    inputs += [np.ones((len(val), trainer.static.shape.width), np.float32)] * (
        trainer.static.shape.depth if e.dropout > 0 else 0
    )
    pred = model.predict(inputs, verbose=0, batch_size=len(val))
    if trainer.static.regression:
        return float(np.mean((pred[:, 0] - y[val]) ** 2))
    return float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y[val], pred))


def train_both(e: Experiment, ds: Dataset):
    trainer = GroupTrainer([e], ds)
    ours = trainer.run()[0]
    model = keras_twin(e, trainer)
    y = trainer.labels(0)
    keras_epoch_loss = []
    for epoch in range(e.epochs):
        order = trainer.epoch_order(0, epoch)
        inputs = [trainer.standardized(0, order), *(our_masks(e, trainer, epoch) if e.dropout > 0 else [])]
        target = y[order][:, None] if trainer.static.regression else y[order]
        hist = model.fit(inputs, target, batch_size=e.batch_size, epochs=1, shuffle=False, verbose=0)
        keras_epoch_loss.append(hist.history["loss"][0])
    return ours, keras_epoch_loss, val_data_loss(model, trainer, e, y)


@pytest.mark.parametrize(
    "changes",
    [
        {"optimizer": "nesterov", "learning_rate": 0.02},
        {"optimizer": "rmsprop", "learning_rate": 0.001},
        {"optimizer": "adamw", "learning_rate": 0.002, "weight_decay": 0.05},
        {"optimizer": "momentum", "learning_rate": 0.02, "residual": True, "depth": 3, "activation": "tanh"},
        {"optimizer": "momentum", "learning_rate": 0.02, "dropout": 0.3},
        {"optimizer": "sgd", "learning_rate": 0.1, "l1": 1e-4, "l2": 1e-3},
    ],
    ids=["nesterov", "rmsprop", "adamw", "residual", "dropout", "l1_l2"],
)
def test_member_matches_keras(changes):
    e = dataclasses.replace(SMALL, **changes)
    ours, keras_epoch_loss, keras_val = train_both(e, load_dataset(e.dataset))
    if e.l1 == 0 and e.l2 == 0:  # Keras' training loss includes the penalty; ours is the data loss
        our_epoch_loss = ours.frames["steps"].groupby("epoch")["loss"].mean().to_numpy()
        np.testing.assert_allclose(our_epoch_loss, keras_epoch_loss, rtol=RTOL)
    assert ours.summary["final_val_loss"] == pytest.approx(keras_val, rel=RTOL)


def test_regression_mse_matches_keras():
    e = Experiment(dataset="csv:parity", n_samples=400, width=16, epochs=3, learning_rate=0.01)
    ours, keras_epoch_loss, keras_val = train_both(e, regression_data())
    our_epoch_loss = ours.frames["steps"].groupby("epoch")["loss"].mean().to_numpy()
    np.testing.assert_allclose(our_epoch_loss, keras_epoch_loss, rtol=RTOL)
    assert ours.summary["final_val_loss"] == pytest.approx(keras_val, rel=RTOL)
    assert np.isnan(ours.summary["final_val_accuracy"])  # no accuracy for a regression
