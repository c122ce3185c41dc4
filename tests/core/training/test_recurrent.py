"""core.training.recurrent against its oracle, Keras' own SimpleRNN / LSTM layers given the member's
initial weights and data order, plus the per-time-step gradient and group independence.

Tiny on purpose (T = 8 steps, width 8, a few batches): the maths is the same at T = 50.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest

from core.data import load_for
from core.data.sequences import as_sequences
from core.spec import Experiment
from core.training import recurrent
from core.training.device import tf

# 200 sequences -> 160 train = 5 batches of 32 exactly, 40 validation.
TINY = Experiment(
    dataset="adding",
    model="lstm",
    seq_len=8,
    n_samples=200,
    width=8,
    epochs=2,
    optimizer="adam",
    learning_rate=0.01,
    momentum=0.9,
    clipnorm=1.0,
    batch_size=32,
    split_seed=0,
)
RTOL = 2e-3  # float32 sums in another order over 10 steps; a wrong rule is off by far more
KERAS_LAYERS = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM}
KERAS_CELLS = {"rnn": keras.layers.SimpleRNNCell, "lstm": keras.layers.LSTMCell}


def keras_twin(e: Experiment, trainer: recurrent.RecurrentTrainer) -> keras.Model:
    model = keras.Sequential(
        [keras.Input((trainer.static.seq_len, 2)), KERAS_LAYERS[e.model](e.width), keras.layers.Dense(1)]
    )
    model.set_weights(trainer.initial_params(0))
    opt = keras.optimizers.Adam(e.learning_rate, beta_1=e.momentum, clipnorm=e.clipnorm or None)
    model.compile(optimizer=opt, loss="mse")
    return model


@pytest.mark.parametrize("model", ["rnn", "lstm"])
def test_member_matches_keras_layers(model):
    e = dataclasses.replace(TINY, model=model)
    ds = load_for(e)
    trainer = recurrent.RecurrentTrainer([e], ds)
    ours = trainer.run()[0]
    twin = keras_twin(e, trainer)
    x, y = as_sequences(ds.x), trainer.labels(0)
    keras_loss = []
    for epoch in range(e.epochs):
        order = trainer.epoch_order(0, epoch)
        hist = twin.fit(x[order], y[order], batch_size=e.batch_size, epochs=1, shuffle=False, verbose=0)
        keras_loss.append(hist.history["loss"][0])
    our_loss = ours.frames["steps"].groupby("epoch")["loss"].mean().to_numpy()
    np.testing.assert_allclose(our_loss, keras_loss, rtol=RTOL)
    val = trainer.splits[0].val_idx
    keras_val = float(np.mean((twin.predict(x[val], verbose=0)[:, 0] - y[val]) ** 2))
    assert ours.summary["final_val_loss"] == pytest.approx(keras_val, rel=RTOL)


@pytest.mark.parametrize("model", ["rnn", "lstm"])
def test_time_step_gradients_match_a_keras_cell_unrolled(model):
    """One step of one batch: ||dL/dh_t|| of ours against Keras' cell unrolled by hand, the tape
    reading the gradient of every hidden state (what backprop through time delivers to step t)."""
    e = dataclasses.replace(TINY, model=model, n_samples=40, epochs=1)  # 32 train rows: one step
    ds = load_for(e)
    trainer = recurrent.RecurrentTrainer([e], ds)
    ours = trainer.run()[0].frames["timesteps"]
    cell = KERAS_CELLS[model](e.width)
    dense = keras.layers.Dense(1)
    rows = trainer.epoch_order(0, 0)
    x = tf.constant(as_sequences(ds.x)[rows])
    y = tf.constant(trainer.labels(0)[rows])
    cell.build((None, 2))
    dense.build((None, e.width))
    kernel, rec, bias, out_k, out_b = trainer.initial_params(0)
    cell.set_weights([kernel, rec, bias])
    dense.set_weights([out_k, out_b])
    with tf.GradientTape() as tape:
        state = [tf.zeros((len(rows), e.width))] * (2 if model == "lstm" else 1)
        hs = []
        for t in range(trainer.static.seq_len):
            h, state = cell(x[:, t], state)
            state = state if isinstance(state, (list, tuple)) else [state]
            hs.append(h)
        loss = tf.reduce_mean(tf.square(dense(hs[-1])[:, 0] - y))
    grads = tape.gradient(loss, hs)
    keras_norms = np.array([float(tf.norm(g)) for g in grads])
    np.testing.assert_allclose(ours["grad_norm"].to_numpy(), keras_norms, rtol=RTOL)
    assert keras_norms[0] < keras_norms[-1]  # the gradient fades on its way back in time


def _frames(run) -> dict[str, pd.DataFrame]:
    return {name: f.drop(columns=[c for c in ("seconds",) if c in f]) for name, f in run.frames.items()}


def test_member_is_bit_identical_alone_or_in_any_group():
    e = dataclasses.replace(TINY, epochs=2)
    ds = load_for(e)
    alone = recurrent.RecurrentTrainer([e], ds).run()[0]
    for size in (3,):  # in the middle of a stack (each size is a new trace: ~5 s)
        mates = [dataclasses.replace(e, seed=10 + i, learning_rate=0.003 * (i + 1)) for i in range(size - 1)]
        at = size // 2
        ours = recurrent.RecurrentTrainer([*mates[:at], e, *mates[at:]], ds).run()[at]
        for name, frame in _frames(alone).items():
            pd.testing.assert_frame_equal(_frames(ours)[name], frame, check_exact=True, obj=f"{name}@{size}")
    again = recurrent.RecurrentTrainer([e], ds).run()[0]
    for name, frame in _frames(alone).items():
        pd.testing.assert_frame_equal(_frames(again)[name], frame, check_exact=True, obj=name)


def test_records_what_the_pages_and_the_claim_read():
    e = dataclasses.replace(TINY, model="rnn")
    run = recurrent.train_group([e], load_for(e))[0]
    ts = run.frames["timesteps"]
    assert list(ts.columns) == ["epoch", "t", "grad_norm"]
    assert len(ts) == e.epochs * e.seq_len and (ts["grad_norm"] > 0).all()
    assert set(run.frames) >= {"epochs", "steps", "layers", "weights", "histograms"}
    s = run.summary
    assert s["grad_norm_first_step"] == ts.query("epoch == 2 and t == 0")["grad_norm"].iloc[0]
    assert 0.05 < s["baseline_val_loss"] < 0.4  # the constant predictor's MSE, near 1/6
    assert np.isnan(s["final_val_accuracy"]) and not s["diverged"]
