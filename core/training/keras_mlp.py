"""Keras MLPs trained one network at a time: the engine of the families that do not stack.

Level-by-level training, averaged ensembles and linear probes each need something the stacked
trainer does not give (sub-networks of a net, several nets per run, hidden activations), so they
train plain Keras models here. What keeps their numbers comparable with a stacked run of the
same Experiment and seed:
- the data: the split, the input scaling, the labels and the epoch order come from the stacked
  trainer's own helpers (core.training.trainer.GroupTrainer of the one member), so both see the
  very same rows in the very same order;
- the initial weights: core.training.model.init_member (NumPy, from the seed), copied into Keras;
- the optimizer: core.training.optim.update (Keras 3 semantics) with the schedule of
  core.training.schedules, step by step.
Determinism: one compiled epoch per network shape (`Fitter`) is reused for every network of that
shape by loading its weights and zeroing the optimizer's slots, so nothing depends on what was
trained before; same Experiment + seed -> bit-identical numbers.

Not supported here: dropout, gradient clipping and residual connections — none of this round's
family claims needs them. core.spec refuses them by name for these families (NOT_IN_FAMILY), so an
Experiment that reaches this module never asks for them.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.constants import ADAM_BETA_2
from core.data import Dataset
from core.results import RunResult
from core.spec import Experiment
from core.training import draws, optim
from core.training.device import tf
from core.training.family_records import (  # noqa: F401  (the families read them from here)
    epoch_row,
    metrics,
    run_result,
    softmax,
    step_frames,
    weight_frames,
)
from core.training.model import BN_EPSILON, BN_MOMENTUM, LEAKY_SLOPE, Shape, init_member
from core.training.schedules import schedule
from core.training.step import DIVERGENCE_FACTOR, LOSS_FLOOR
from core.training.trainer import GroupTrainer

Progress = Callable[[int, int], None]


# -- data ----------------------------------------------------------------------------------------
@dataclass
class MemberData:
    """One member's data exactly as the stacked trainer would see it: the scaled pool, labels,
    split rows, the train-metric subset, steps per epoch and the LR/momentum tables."""

    x: np.ndarray  # [pool, features] float32, scaled with the split's training statistics
    y: np.ndarray  # [pool] labels (training rows carry the member's label noise)
    train_idx: np.ndarray
    val_idx: np.ndarray
    eval_idx: np.ndarray  # the training rows the end-of-epoch train metrics use
    batch: int
    steps: int
    lr: np.ndarray  # [epochs * steps] float32
    momentum: np.ndarray
    regression: bool
    n_outputs: int

    @classmethod
    def of(cls, e: Experiment, ds: Dataset) -> MemberData:
        gt = GroupTrainer([e], ds)
        split = gt.splits[0]
        lr, mom = schedule(e, gt.steps)
        y_dtype = np.float32 if ds.is_regression else np.int32
        return cls(
            x=gt.standardized(0, np.arange(len(ds))).astype(np.float32),
            y=gt.labels(0).astype(y_dtype),
            train_idx=split.train_idx,
            val_idx=split.val_idx,
            eval_idx=gt._eval_subset(0),
            batch=gt.batch,
            steps=gt.steps,
            lr=lr.astype(np.float32),
            momentum=mom.astype(np.float32),
            regression=ds.is_regression,
            n_outputs=1 if ds.is_regression else ds.n_classes,
        )

    def order(self, seed: int, epoch: int) -> np.ndarray:
        """[steps, batch] pool rows of one epoch: the stacked trainer's epoch_order formula."""
        rows = draws.epoch_order(seed, epoch, self.train_idx, self.steps * self.batch)
        return rows.reshape(self.steps, self.batch)


# -- the Keras network ---------------------------------------------------------------------------
def hidden_names(depth: int) -> list[str]:
    return [f"dense_{i + 1}" for i in range(depth)]


def build_mlp(shape: Shape, name: str = "mlp"):
    """A keras.Sequential of `shape` (Dense layers named dense_1.. and output, BatchNormalization
    with Keras' defaults before or after the activation). Weights are set by `set_weights`."""
    import keras

    layers = [keras.Input((shape.n_features,))]
    for i, layer_name in enumerate(hidden_names(shape.depth), start=1):
        layers.append(keras.layers.Dense(shape.width, name=layer_name))
        if shape.batch_norm == "before":
            layers.append(bn_layer(f"bn_{i}"))
        if shape.activation == "leaky_relu":
            layers.append(keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=f"act_{i}"))
        else:
            layers.append(keras.layers.Activation(shape.activation, name=f"act_{i}"))
        if shape.batch_norm == "after":
            layers.append(bn_layer(f"bn_{i}"))
    layers.append(keras.layers.Dense(shape.n_outputs, name="output"))
    return keras.Sequential(layers, name=name)


def bn_layer(name: str):
    import keras

    return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)


def level_outputs(shape: Shape) -> list[str]:
    """Names of the layers whose outputs are the hidden levels' representations."""
    last = "bn" if shape.batch_norm == "after" else "act"
    return [f"{last}_{i}" for i in range(1, shape.depth + 1)]


def layer_activations(model, shape, x: np.ndarray) -> list[np.ndarray]:
    """Each hidden level's output (after its activation, and BN when BN comes after), in order."""
    import keras

    outputs = [model.get_layer(name).output for name in level_outputs(shape)]
    acts = keras.Model(model.inputs[0], outputs)(x, training=False)
    return [np.asarray(a) for a in (acts if isinstance(acts, (list, tuple)) else [acts])]


def shape_of(
    e: Experiment, data: MemberData, n_features: int | None = None, depth: int | None = None
) -> Shape:
    """The member's network shape (optionally another input size or depth: a level's sub-net)."""
    s = Shape.of(e, data.x.shape[1], data.n_outputs)
    return dataclasses.replace(
        s, n_features=n_features or s.n_features, depth=s.depth if depth is None else depth
    )


def initial_weights(e: Experiment, shape: Shape, seed: int) -> list[np.ndarray]:
    """Keras get_weights() order for `shape`, drawn like a stacked member of this seed."""
    init = init_member(dataclasses.replace(e, seed=seed), shape)
    return interleave(shape, init["kernels"], init["biases"])


def interleave(shape: Shape, kernels: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Kernels and biases (and fresh BN parameters) in the order keras' get_weights uses."""
    out: list[np.ndarray] = []
    bn = shape.batch_norm != "none"
    for k, b in zip(kernels[:-1], biases[:-1]):
        out += [k, b]
        if bn:  # gamma, beta, moving mean, moving variance
            w = k.shape[1]
            out += [
                np.ones(w, np.float32),
                np.zeros(w, np.float32),
                np.zeros(w, np.float32),
                np.ones(w, np.float32),
            ]
    return [*out, kernels[-1], biases[-1]]


MAX_FITTERS = 16  # compiled shapes kept per process (a few MB each); the oldest is dropped beyond
_FITTERS: dict[tuple, Fitter] = {}


def fitter_for(shape: Shape, e: Experiment, regression: bool) -> Fitter:
    """The compiled Fitter of this shape and optimizer, built once per process: compiling costs
    seconds, training a small net an epoch a tenth of one, so every member reuses it."""
    key = (shape, e.optimizer, regression)
    if key not in _FITTERS:
        if len(_FITTERS) >= MAX_FITTERS:
            _FITTERS.pop(next(iter(_FITTERS)))
        _FITTERS[key] = Fitter(build_mlp(shape), e, regression)
    return _FITTERS[key]


class Fitter:
    """One compiled epoch (and prediction) for one Keras model; reused for every network of that
    shape: `load` puts a network's weights in and zeroes the optimizer state."""

    def __init__(self, model, e: Experiment, regression: bool) -> None:
        self.model, self.regression = model, regression
        self.optimizer = e.optimizer
        self.vars = list(model.trainable_variables)
        self.kernel_ids = [i for i, v in enumerate(self.vars) if len(v.shape) == 2]
        self.slots = {
            n: [tf.Variable(tf.zeros(v.shape), trainable=False) for v in self.vars]
            for n in optim.slot_names(e.optimizer)
        }
        self.powers = tf.Variable(tf.ones((2, 1)), trainable=False)
        self.l1, self.l2, self.decay = (tf.Variable(0.0, trainable=False) for _ in range(3))
        self._epoch = tf.function(self._epoch_graph)
        self._predict = tf.function(lambda x: model(x, training=False))

    def load(self, weights: list[np.ndarray], e: Experiment) -> None:
        """Start a network: its weights, zeroed optimizer state, its penalties."""
        self.model.set_weights(weights)
        for var, value in zip((self.l1, self.l2, self.decay), (e.l1, e.l2, e.weight_decay)):
            var.assign(float(value))
        for slot in self.slots.values():
            for s in slot:
                s.assign(tf.zeros(s.shape))
        self.powers.assign(tf.ones((2, 1)))

    def weights(self) -> list[np.ndarray]:
        return [np.array(w) for w in self.model.get_weights()]

    def kernels(self) -> list[np.ndarray]:
        return [np.array(self.vars[i]) for i in self.kernel_ids]

    def _objective(self, x, y):
        out = self.model(x, training=True)
        if self.regression:
            loss = tf.reduce_mean(tf.square(out[:, 0] - y))
        else:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=out))
        kernels = [self.vars[i] for i in self.kernel_ids]
        penalty = self.l1 * tf.add_n([tf.reduce_sum(tf.abs(k)) for k in kernels])
        penalty += self.l2 * tf.add_n([tf.reduce_sum(tf.square(k)) for k in kernels])
        return loss, loss + penalty

    def _step(self, x, y, lr, mom):
        with tf.GradientTape() as tape:
            loss, objective = self._objective(x, y)
        grads = tape.gradient(objective, self.vars)
        lr_v, mom_v = tf.reshape(lr, [1]), tf.reshape(mom, [1])
        powers = (self.powers[0] * mom_v, self.powers[1] * ADAM_BETA_2)
        for j, (w, g) in enumerate(zip(self.vars, grads)):
            value = tf.convert_to_tensor(w)
            if j in self.kernel_ids:
                value = value - value * self.decay * lr
            slots = {n: tf.convert_to_tensor(s[j]) for n, s in self.slots.items()}
            new, slots = optim.update(self.optimizer, value, g, slots, lr_v, mom_v, powers)
            w.assign(new)
            for n, v in slots.items():
                self.slots[n][j].assign(v)
        self.powers.assign(tf.stack(powers))
        norms = tf.stack([tf.norm(grads[i]) for i in self.kernel_ids])
        return loss, norms

    def _epoch_graph(self, xb, yb, lrs, moms):
        n = tf.shape(xb)[0]
        losses = tf.TensorArray(tf.float32, size=n)
        grads = tf.TensorArray(tf.float32, size=n)
        for s in tf.range(n):
            loss, norms = self._step(xb[s], yb[s], lrs[s], moms[s])
            losses = losses.write(s, loss)
            grads = grads.write(s, norms)
        return losses.stack(), grads.stack()

    def epoch(
        self, xb: np.ndarray, yb: np.ndarray, lrs: np.ndarray, moms: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Train one epoch of batches [steps, batch, ...]: per-step loss [steps] and kernel-gradient
        norms [steps, kernels]."""
        loss, grads = self._epoch(tf.constant(xb), tf.constant(yb), tf.constant(lrs), tf.constant(moms))
        return loss.numpy(), grads.numpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Outputs (logits) in inference mode, float64."""
        return self._predict(tf.constant(x)).numpy().astype(np.float64)


def blew_up(losses: np.ndarray, first: float) -> int:
    """Index of the first step whose loss is not finite or exceeds the trainer's blow-up factor
    times the first loss (-1: none), the stacked trainer's divergence rule."""
    bad = ~np.isfinite(losses) | (losses > DIVERGENCE_FACTOR * max(first, LOSS_FLOOR))
    return int(np.argmax(bad)) if bad.any() else -1


# -- one network trained for some epochs -------------------------------------------------------------
@dataclass
class Trace:
    """What training one network recorded: per-step loss and per-kernel gradient norms, and the
    per-epoch outputs on the train subset and validation rows (for metrics or ensembling)."""

    losses: list[np.ndarray]
    grads: list[np.ndarray]
    outputs: list[tuple[np.ndarray, np.ndarray]]
    diverged_step: int = -1


def fit(
    fitter: Fitter,
    data: MemberData,
    x: np.ndarray,
    order_seed: int,
    epochs: range,
    on_epoch: Callable[[int, Trace], None] | None = None,
) -> Trace:
    """Train the loaded network on inputs `x` ([pool, ...]: the scaled data, or a level's frozen
    features) over the given (0-based) epochs of the run's schedule; stops where it blows up."""
    trace = Trace([], [], [])
    first = math.nan
    for epoch in epochs:
        rows = data.order(order_seed, epoch)
        lo = epoch * data.steps
        lrs, moms = data.lr[lo : lo + data.steps], data.momentum[lo : lo + data.steps]
        losses, grads = fitter.epoch(x[rows], data.y[rows], lrs, moms)
        first = losses[0] if math.isnan(first) else first
        trace.losses.append(losses)
        trace.grads.append(grads)
        bad = blew_up(losses, first)
        if bad >= 0:
            trace.diverged_step = lo + bad
            break
        trace.outputs.append((fitter.predict(x[data.eval_idx]), fitter.predict(x[data.val_idx])))
        if on_epoch is not None:
            on_epoch(epoch, trace)
    return trace


def for_each_member(
    members: Sequence[Experiment],
    one: Callable[[Experiment, Callable[[int], None]], RunResult],
    progress: Progress | None,
    epochs_of: Callable[[Experiment], int] = lambda m: m.epochs,
) -> list[RunResult]:
    """Train members one after another, reporting progress in epochs (`epochs_of` a member:
    an ensemble trains several nets per member) over the whole group."""
    total = sum(epochs_of(m) for m in members)
    out: list[RunResult] = []
    for e in members:
        done = sum(epochs_of(m) for m in members[: len(out)])

        def tick(epoch: int, done: int = done) -> None:
            if progress is not None:
                progress(done + epoch, total)

        out.append(one(e, tick))
    return out


def timer() -> Callable[[], float]:
    start = time.perf_counter()
    return lambda: time.perf_counter() - start
