"""The stacked trainer against its oracle (keras.Model.fit) and its own promises:
independence of members, determinism, divergence as a result."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.data import load_dataset
from core.spec import Comparison, Experiment
from core.training.device import tf  # noqa: F401  (sets TF env before keras loads)
from core.training.model import init_member
from core.training.trainer import GroupTrainer

keras = pytest.importorskip("keras")

# 600 digits -> 480 train rows = 15 batches of 32 exactly (the trainer drops partial batches).
SMALL = Experiment(dataset="digits", n_samples=600, width=32, depth=2, epochs=3, batch_size=32)


def keras_twin(e: Experiment, trainer: GroupTrainer) -> keras.Model:
    """A plain Keras model with the member's initial weights and the same optimizer."""
    shape = trainer.static.shape
    layers: list = [keras.Input((shape.n_features,))]
    for _ in range(shape.depth):
        layers.append(keras.layers.Dense(shape.width))
        if e.batch_norm == "before":
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation(e.activation))
        if e.batch_norm == "after":
            layers.append(keras.layers.BatchNormalization())
    layers.append(keras.layers.Dense(shape.n_outputs))
    model = keras.Sequential(layers)
    init = init_member(e, shape)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    for layer, k, b in zip(dense, init["kernels"], init["biases"]):
        layer.set_weights([k, b])
    optimizer = {
        "sgd": lambda: keras.optimizers.SGD(e.learning_rate),
        "momentum": lambda: keras.optimizers.SGD(e.learning_rate, momentum=e.momentum),
        "adam": lambda: keras.optimizers.Adam(e.learning_rate, beta_1=e.momentum),
    }[e.optimizer]()
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


@pytest.mark.parametrize(
    "changes",
    [
        {"optimizer": "sgd", "learning_rate": 0.1},
        {"optimizer": "momentum", "learning_rate": 0.02},
        {"optimizer": "adam", "learning_rate": 0.002},
        {"optimizer": "momentum", "learning_rate": 0.02, "batch_norm": "before"},
    ],
    ids=["sgd", "momentum", "adam", "momentum+bn"],
)
def test_single_member_matches_keras_fit(changes):
    e = dataclasses.replace(SMALL, **changes)
    ds = load_dataset(e.dataset)
    trainer = GroupTrainer([e], ds)
    ours = trainer.run()[0]
    model = keras_twin(e, trainer)
    keras_epoch_loss = []
    for epoch in range(e.epochs):
        order = trainer.epoch_order(0, epoch)
        x, y = trainer.standardized(0, order), ds.y[order]
        hist = model.fit(x, y, batch_size=e.batch_size, epochs=1, shuffle=False, verbose=0)
        keras_epoch_loss.append(hist.history["loss"][0])
    steps = ours.frames["steps"]
    our_epoch_loss = steps.groupby("epoch")["loss"].mean().to_numpy()
    np.testing.assert_allclose(our_epoch_loss, keras_epoch_loss, rtol=2e-3)
    val = trainer.splits[0].val_idx
    keras_val = model.evaluate(trainer.standardized(0, val), ds.y[val], verbose=0)
    assert ours.summary["final_val_loss"] == pytest.approx(keras_val, rel=2e-3)


def test_member_does_not_depend_on_its_group():
    e = dataclasses.replace(SMALL, dropout=0.2, epochs=2)
    ds = load_dataset(e.dataset)
    alone = GroupTrainer([e], ds).run()[0]
    group = Comparison.of(e, {"learning_rate": [0.001, 0.01, e.learning_rate, 0.2]}, seeds=2).members()
    together = GroupTrainer(group, ds).run()
    match = [r for r in together if r.experiment == e]
    assert len(match) == 1
    np.testing.assert_allclose(
        match[0].frames["steps"]["loss"].to_numpy(), alone.frames["steps"]["loss"].to_numpy(), rtol=1e-5
    )
    assert match[0].summary["final_val_loss"] == pytest.approx(alone.summary["final_val_loss"], rel=1e-5)


def test_same_experiment_same_numbers():
    e = dataclasses.replace(SMALL, dropout=0.1, epochs=2)
    ds = load_dataset(e.dataset)
    a = GroupTrainer([e], ds).run()[0]
    b = GroupTrainer([e], ds).run()[0]
    np.testing.assert_array_equal(a.frames["epochs"]["val_loss"], b.frames["epochs"]["val_loss"])
    np.testing.assert_array_equal(a.frames["steps"]["loss"], b.frames["steps"]["loss"])


def test_divergence_is_a_result_and_others_go_on():
    members = Comparison.of(SMALL, {"learning_rate": [0.05, 50.0]}).members()
    sane, wild = GroupTrainer(members, load_dataset("digits")).run()
    assert wild.summary["diverged"] and wild.summary["diverged_step"] >= 0
    assert np.isnan(wild.summary["final_val_loss"])
    assert wild.frames["steps"]["step"].max() <= wild.summary["diverged_step"]
    assert np.isfinite(wild.frames["steps"]["loss"]).all()  # rows stop where it blew up
    assert not sane.summary["diverged"]
    assert sane.summary["final_val_accuracy"] > 0.8
    assert len(sane.frames["epochs"]) == SMALL.epochs


def test_records_what_the_pages_need():
    e = dataclasses.replace(SMALL, clipnorm=0.5, epochs=2)
    r = GroupTrainer([e], load_dataset("digits")).run()[0]
    assert set(r.frames) >= {"epochs", "steps", "layers", "weights", "histograms"}
    steps = r.frames["steps"]
    assert len(steps) == 2 * r.summary["steps_per_epoch"]
    assert steps["clipped"].any()  # digits gradients exceed 0.5 early on
    layers = r.frames["layers"]
    assert sorted(layers["layer_name"].unique()) == ["dense_1", "dense_2", "output"]
    assert (r.frames["weights"]["sparsity"].between(0, 1)).all()
    assert r.frames["histograms"]["count"].sum() == r.summary["n_params"] - (
        32 + 32 + 10
    )  # kernels, not biases


def test_toy_data_gets_a_decision_boundary():
    e = Experiment(dataset="moons", n_samples=200, width=16, depth=2, epochs=2)
    r = GroupTrainer([e], load_dataset("moons", 200, 0.2)).run()[0]
    b = r.frames["boundary"]
    assert {"x0", "x1", "prob", "predicted"} <= set(b.columns)
    assert b["prob"].between(0, 1).all()
