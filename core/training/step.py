"""The compiled functions of the stacked trainer: one training step, the epoch loop around it, and
the evaluation. State goes in and out as NamedTuples of tensors (functional, so one compiled
epoch serves every group of the same shape). An epoch is ONE call: the steps, then the evaluation
of the train subset and the validation split (`evaluate`), since each call of a compiled function
costs milliseconds of Python and executor overhead.

A step, for every member at once: gradients of the member's loss (plus its L1/L2 penalty), the
member's gradient norms, Keras clipping, a health check (a member whose loss is NaN/inf or
DIVERGENCE_FACTOR x its first loss is frozen before the bad update), decoupled weight decay and
the optimizer update, then the batch-norm moving averages. Every op is batched over the member
axis and never mixes members (see model.over_batch for the one place that took care).
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from core.constants import ADAM_BETA_2, EVAL_CHUNK, SPARSE_WEIGHT
from core.training import optim
from core.training.device import GPUS, tf
from core.training.model import BN_MOMENTUM, Shape, forward

DIVERGENCE_FACTOR = 100.0  # loss this many times its first value = blown up
# The divergence test compares with max(first loss, LOSS_FLOOR): a regression run can start
# near zero loss, and "100 x almost nothing" would call ordinary noise a blow-up.
LOSS_FLOOR = 1e-3
# Each distinct group shape keeps its traced graphs alive while cached (~15-20 MB each); a process
# that trains many shapes would otherwise grow without bound. 24 holds the 18 shapes the worker's
# warm start traces (every page's default comparison) plus a few a visitor adds; the worker itself
# restarts past WHATIF_WORKER_MAX_MB, so the bound is on what one process may keep.
COMPILED_CACHE = 24
# An evaluation of at most this many chunks per split is unrolled in the graph, not a while_loop.
MAX_UNROLLED_CHUNKS = 4
# XLA on this 2-core CPU made the stacked epoch 35x slower (batched matmuls); opt in on GPU.
XLA_STEP = os.environ.get("WHATIF_XLA", "auto") == "1" or (
    os.environ.get("WHATIF_XLA", "auto") == "auto" and bool(GPUS)
)


@dataclass(frozen=True)
class Static:
    """Everything the compiled graphs are specialised on (the cache key of the compiled epoch)."""

    shape: Shape
    optimizer: str
    k: int
    batch: int
    steps: int
    regression: bool
    use_dropout: bool
    use_clipnorm: bool
    use_clipvalue: bool
    use_l1: bool
    use_l2: bool
    use_weight_decay: bool


class Params(NamedTuple):
    """Trainable tensors, each [K, ...]; batch-norm lists are empty without batch norm."""

    kernels: list
    biases: list
    gamma: list
    beta: list

    def flat(self) -> list:
        """Kernels first, so flat[:n_layers] are the kernels (weight decay and layer norms)."""
        return [*self.kernels, *self.biases, *self.gamma, *self.beta]

    @classmethod
    def from_flat(cls, flat: list, n_layers: int) -> Params:
        n_bn = (len(flat) - 2 * n_layers) // 2
        rest = flat[2 * n_layers :]
        return cls(flat[:n_layers], flat[n_layers : 2 * n_layers], rest[:n_bn], rest[n_bn:])


class Moving(NamedTuple):
    """Batch-norm moving averages ([K, width] per BN layer), used at evaluation."""

    mean: list
    var: list


class Slots(NamedTuple):
    """Optimizer state, one tensor per flat parameter (empty when the optimizer keeps none)."""

    m: list
    v: list


class State(NamedTuple):
    """Everything that changes from step to step, [K, ...] per field."""

    params: Params
    moving: Moving
    slots: Slots
    powers: tuple  # Adam's (beta_1^t, beta_2^t), [K] each
    alive: tf.Tensor  # [K] bool: not diverged
    first_loss: tf.Tensor  # [K] the objective at step 0, the divergence yardstick
    diverged_step: tf.Tensor  # [K] int, -1 while alive


class Data(NamedTuple):
    """The pool and each member's view of it (fixed during training)."""

    x: tf.Tensor  # [N, features] the raw pool
    y: tf.Tensor  # [K, N] each member's labels (its label noise applied to its training rows)
    mean: tf.Tensor  # [K, features] standardization of each member's training split
    inv_std: tf.Tensor


class Hyper(NamedTuple):
    """Per-member hyperparameters that do not change during training, [K] each."""

    l1: tf.Tensor
    l2: tf.Tensor
    weight_decay: tf.Tensor
    clipnorm: tf.Tensor
    clipvalue: tf.Tensor
    dropout: tf.Tensor
    seed: tf.Tensor


class StepRecord(NamedTuple):
    """What one step reports per member (NaN once a member is dead)."""

    loss: tf.Tensor
    grad_norm: tf.Tensor
    update_norm: tf.Tensor
    clipped: tf.Tensor
    alive: tf.Tensor
    layer_grad: tf.Tensor  # [K, layers]
    weight_max_abs: tf.Tensor  # largest |w| over all kernels after the step (frozen: before the bad one)


RECORD_DTYPES = StepRecord(*(tf.float32,) * 3, tf.bool, tf.bool, tf.float32, tf.float32)


def bn_layers(params: Params, moving: Moving) -> list[dict]:
    return [
        {"gamma": g, "beta": b, "moving_mean": m, "moving_var": v}
        for g, b, m, v in zip(params.gamma, params.beta, moving.mean, moving.var)
    ]


def member_batch(data: Data, idx: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Standardized inputs [K, B, features] and labels [K, B] of each member's rows idx [K, B]."""
    x = (tf.gather(data.x, idx) - data.mean[:, None, :]) * data.inv_std[:, None, :]
    return x, tf.gather(data.y, idx, batch_dims=1)


def losses(static: Static, logits: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-example loss [K, B] and correctness [K, B] (zeros for regression)."""
    if static.regression:
        err = tf.square(logits[..., 0] - y)
        return err, tf.zeros_like(err)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), y), tf.float32)
    return loss, correct


def weight_stats(kernels: list[tf.Tensor]) -> dict[str, tf.Tensor]:
    """Per member and kernel: L2 norm, share of |w| < SPARSE_WEIGHT, max |w| -> three [K, L]."""
    norm = tf.stack([optim.member_norm(w) for w in kernels], axis=1)
    sparse = tf.stack(
        [tf.reduce_mean(tf.cast(tf.abs(w) < SPARSE_WEIGHT, tf.float32), axis=[1, 2]) for w in kernels], axis=1
    )
    peak = tf.stack([tf.reduce_max(tf.abs(w), axis=[1, 2]) for w in kernels], axis=1)
    return {"weight_norm": norm, "sparsity": sparse, "weight_max_abs": peak}


# -- the step, in named parts -------------------------------------------------------------------
def _penalty(static: Static, hyper: Hyper, kernels: list) -> tf.Tensor | float:
    """Each member's L1/L2 penalty on its kernels (Keras regularizers), [K] or 0."""
    total = 0.0
    if static.use_l1:
        total += hyper.l1 * tf.add_n([tf.reduce_sum(tf.abs(w), [1, 2]) for w in kernels])
    if static.use_l2:
        total += hyper.l2 * tf.add_n([tf.reduce_sum(tf.square(w), [1, 2]) for w in kernels])
    return total


def _gradients(static: Static, state: State, hyper: Hyper, x, y, step):
    """Batch loss [K], objective [K] (loss + penalty), BN batch statistics and the gradients."""
    params = state.params
    flat = params.flat()
    with tf.GradientTape() as tape:
        tape.watch(flat)
        logits, stats = forward(
            static.shape,
            params.kernels,
            params.biases,
            bn_layers(params, state.moving),
            x,
            training=True,
            dropout=hyper.dropout if static.use_dropout else None,
            seeds=hyper.seed,
            counter=step,
        )
        loss = tf.reduce_mean(losses(static, logits, y)[0], axis=1)
        objective = loss + _penalty(static, hyper, params.kernels)
        # Members are independent, so the gradient of the sum is each member's own gradient.
        total = tf.reduce_sum(tf.where(state.alive, objective, 0.0))
    return loss, objective, stats, tape.gradient(total, flat)


def _health(state: State, objective, step, active) -> tuple[tf.Tensor, tf.Tensor]:
    """(first loss, ok): ok is False where the objective is not finite or has blown up."""
    first = tf.where(tf.equal(step, 0), objective, state.first_loss)
    ok = tf.math.is_finite(objective) & (objective <= DIVERGENCE_FACTOR * tf.maximum(first, LOSS_FLOOR))
    return first, ok | ~active  # a padded step past the end of an LR test changes nothing


def _apply_updates(static: Static, state: State, grads, hyper: Hyper, lr, mom, keep, powers):
    """Weight decay and the optimizer update on every flat parameter; a member not in `keep`
    keeps its weights. Returns the new flat parameters, slots and each member's update norm."""
    flat = state.params.flat()
    n_layers = static.shape.depth + 1
    decay = hyper.weight_decay * lr
    names = optim.slot_names(static.optimizer)
    new_flat, new_slots, sq_update = [], {n: [] for n in names}, []
    for j, (w, g) in enumerate(zip(flat, grads)):
        w_dec = w - w * optim.per_member(decay, w) if static.use_weight_decay and j < n_layers else w
        slots = {n: getattr(state.slots, n)[j] for n in names}
        new_w, slots = optim.update(static.optimizer, w_dec, g, slots, lr, mom, powers)
        new_w = tf.where(optim.per_member(keep, w), new_w, w)  # frozen once diverged
        sq_update.append(tf.square(optim.member_norm(new_w - w)))
        new_flat.append(new_w)
        for n, v in slots.items():  # a dead member's slots are never read again
            new_slots[n].append(v)
    slots = Slots(new_slots.get("m", []), new_slots.get("v", []))
    return new_flat, slots, tf.sqrt(tf.add_n(sq_update))


def _update_moving(moving: Moving, stats: list, keep) -> Moving:
    """Keras' BN moving averages, only for members that took the step."""
    if not stats:
        return moving
    keep_m = keep[:, None]

    def ema(old, batch):
        return tf.where(keep_m, old * BN_MOMENTUM + batch * (1 - BN_MOMENTUM), old)

    return Moving(
        [ema(o, s[0]) for o, s in zip(moving.mean, stats)],
        [ema(o, s[1]) for o, s in zip(moving.var, stats)],
    )


def train_step(static: Static, state: State, data: Data, hyper: Hyper, idx, lr, mom, active, step):
    """One step for all members -> (new State, StepRecord)."""
    n_layers = static.shape.depth + 1
    x, y = member_batch(data, idx)
    loss, objective, stats, grads = _gradients(static, state, hyper, x, y, step)
    norms = [optim.member_norm(g) for g in grads]
    grads, fired = optim.clip(
        grads, norms, hyper.clipnorm, hyper.clipvalue, static.use_clipnorm, static.use_clipvalue
    )
    first, ok = _health(state, objective, step, active)
    alive = state.alive
    keep = alive & ok & active
    b1p, b2p = state.powers[0] * mom, state.powers[1] * ADAM_BETA_2
    new_flat, slots, update_norm = _apply_updates(static, state, grads, hyper, lr, mom, keep, (b1p, b2p))
    new_state = State(
        params=Params.from_flat(new_flat, n_layers),
        moving=_update_moving(state.moving, stats, keep),
        slots=slots,
        powers=(tf.where(keep, b1p, state.powers[0]), tf.where(keep, b2p, state.powers[1])),
        alive=alive & ok,
        first_loss=first,
        diverged_step=tf.where(alive & ~ok, step, state.diverged_step),
    )
    peak = tf.reduce_max(tf.stack([tf.reduce_max(tf.abs(w), [1, 2]) for w in new_flat[:n_layers]]), 0)

    def when_alive(t):
        return tf.where(alive if len(t.shape) == 1 else alive[:, None], t, float("nan"))

    record = StepRecord(
        loss=when_alive(loss),
        grad_norm=when_alive(tf.sqrt(tf.add_n([tf.square(n) for n in norms]))),
        update_norm=when_alive(update_norm),
        clipped=fired & alive,
        alive=alive,
        layer_grad=when_alive(tf.stack(norms[:n_layers], axis=1)),
        weight_max_abs=when_alive(peak),
    )
    return new_state, record


# -- evaluation ------------------------------------------------------------------------------------
class EvalSet(NamedTuple):
    """One split to evaluate, cut into equal chunks of at most EVAL_CHUNK rows per member, with
    one or more masks over the same rows (the validation split's halves share its forward pass)."""

    idx: tf.Tensor  # [chunks, K, chunk] int32 rows of Data.x (padding rows point at row 0)
    masks: tuple  # of [chunks, K, chunk] float32, 1 for a row that counts


class EvalSums(NamedTuple):
    """Per mask, chunk and member, float32 sums over the chunk's masked rows (a tuple of
    [chunks, K] per mask). The caller adds the chunks in float64, in order."""

    loss: tuple
    correct: tuple


def eval_set(idx: np.ndarray, masks: tuple[np.ndarray, ...]) -> EvalSet:
    """[K, n padded] index and mask arrays as [chunks, K, chunk] tensors, in equal chunks of at
    most EVAL_CHUNK rows (the activations of one chunk bound the evaluation's memory)."""
    k, n = idx.shape
    chunk = math.ceil(n / math.ceil(n / EVAL_CHUNK))

    def cut(a: np.ndarray) -> tf.Tensor:
        return tf.constant(np.ascontiguousarray(a.reshape(k, n // chunk, chunk).transpose(1, 0, 2)))

    return EvalSet(cut(idx), tuple(cut(m) for m in masks))


def add_chunks(sums: tf.Tensor) -> np.ndarray:
    """Per-member totals [K] in float64 of per-chunk float32 sums [chunks, K], chunk after chunk:
    TensorFlow sums within a chunk, the order and dtype of the additions across chunks are fixed here."""
    chunks = sums.numpy()
    total = np.zeros(chunks.shape[1])
    for c in range(len(chunks)):
        total += chunks[c]
    return total


def chunk_sums(static: Static, state: State, data: Data, idx, masks: tuple) -> tuple[tuple, tuple]:
    """Per mask, summed loss and correctness [K] of each member's rows idx [K, n] (inference)."""
    x, y = member_batch(data, idx)
    params = state.params
    logits, _ = forward(
        static.shape, params.kernels, params.biases, bn_layers(params, state.moving), x, training=False
    )
    loss, correct = losses(static, logits, y)
    return tuple(tf.reduce_sum(loss * m, 1) for m in masks), tuple(
        tf.reduce_sum(correct * m, 1) for m in masks
    )


def evaluate(
    chunk_fn: Callable, state: State, data: Data, sets: tuple[EvalSet, ...]
) -> tuple[tuple[EvalSums, ...], dict[str, tf.Tensor]]:
    """Every set's per-chunk sums and the kernels' weight_stats, inside one graph.

    Why one graph: a compiled call costs milliseconds of Python and executor overhead, several
    times a small evaluation's arithmetic. Each chunk runs the ops one call per chunk ran, and
    after the previous chunk (control dependencies), so the activations stay bounded by one
    EVAL_CHUNK as before. A few chunks are unrolled (a while_loop adds ~0.15 s to a trace), more
    run in a while_loop."""
    out, done = [], []
    for s in sets:
        with tf.control_dependencies(done):
            if s.idx.shape[0] is not None and s.idx.shape[0] <= MAX_UNROLLED_CHUNKS:
                sums = _unrolled(chunk_fn, state, data, s)
            else:
                sums = _looped(chunk_fn, state, data, s)
        out.append(sums)
        done = [*sums.loss, *sums.correct]
    return tuple(out), weight_stats(state.params.kernels)


def _unrolled(chunk_fn: Callable, state: State, data: Data, s: EvalSet) -> EvalSums:
    loss, correct, done = [], [], []
    for c in range(s.idx.shape[0]):
        with tf.control_dependencies(done):  # one chunk at a time
            chunk_loss, chunk_correct = chunk_fn(state, data, s.idx[c], tuple(m[c] for m in s.masks))
        loss.append(chunk_loss)
        correct.append(chunk_correct)
        done = [*chunk_loss, *chunk_correct]
    return EvalSums(*(tuple(tf.stack(per_mask) for per_mask in zip(*sums)) for sums in (loss, correct)))


def _looped(chunk_fn: Callable, state: State, data: Data, s: EvalSet) -> EvalSums:
    n = tf.shape(s.idx)[0]

    def body(c, loss, correct):
        chunk_loss, chunk_correct = chunk_fn(state, data, s.idx[c], tuple(m[c] for m in s.masks))
        loss = tuple(a.write(c, v) for a, v in zip(loss, chunk_loss))
        return c + 1, loss, tuple(a.write(c, v) for a, v in zip(correct, chunk_correct))

    def arrays() -> tuple:
        return tuple(tf.TensorArray(tf.float32, size=n) for _ in s.masks)

    _, loss, correct = tf.while_loop(
        lambda c, *_: c < n, body, (tf.constant(0), arrays(), arrays()), parallel_iterations=1
    )
    return EvalSums(tuple(a.stack() for a in loss), tuple(a.stack() for a in correct))


# -- compiled, cached per Static ------------------------------------------------------------------
EpochFn = Callable[..., tuple[State, StepRecord, tuple[EvalSums, ...], dict[str, tf.Tensor]]]
EvalFn = Callable[..., tuple[tuple[EvalSums, ...], dict[str, tf.Tensor]]]


@functools.lru_cache(maxsize=COMPILED_CACHE)
def compiled(static: Static) -> tuple[EpochFn, EvalFn]:
    """The compiled epoch (all steps in one while_loop, then the evaluation of `sets`: one call
    per epoch) and the evaluation alone (`evaluate`) for a shape."""
    step_fn = functools.partial(train_step, static)
    chunk_fn = functools.partial(chunk_sums, static)
    if XLA_STEP:  # XLA: 3-5 s a shape on CPU
        step_fn = tf.function(step_fn, jit_compile=True, autograph=False)
        chunk_fn = tf.function(chunk_fn, jit_compile=True, autograph=False)

    # autograph=False and an explicit while_loop: tracing is paid on every new shape, and
    # autograph's source conversion of the whole step was most of it.
    @tf.function(reduce_retracing=True, autograph=False)
    def epoch_fn(state, data, hyper, perm, lrs, moms, active, step0, sets):
        def body(s, state, arrays):
            idx = tf.reshape(perm[:, s * static.batch : (s + 1) * static.batch], (static.k, static.batch))
            state, rec = step_fn(state, data, hyper, idx, lrs[s], moms[s], active[s], step0 + s)
            return s + 1, state, StepRecord(*(a.write(s, r) for a, r in zip(arrays, rec)))

        arrays = StepRecord(*(tf.TensorArray(d, size=static.steps) for d in RECORD_DTYPES))
        _, state, arrays = tf.while_loop(
            lambda s, *_: s < static.steps, body, (tf.constant(0), state, arrays), parallel_iterations=1
        )
        return (state, StepRecord(*(a.stack() for a in arrays)), *evaluate(chunk_fn, state, data, sets))

    @tf.function(reduce_retracing=True, autograph=False)
    def eval_fn(state, data, sets):
        return evaluate(chunk_fn, state, data, sets)

    return epoch_fn, eval_fn


@functools.lru_cache(maxsize=COMPILED_CACHE)
def predict_fn(static: Static) -> Callable[[State, tf.Tensor], tf.Tensor]:
    """Logits [K, n, out] for inputs [K, n, features] (the decision-boundary grid)."""

    @tf.function(reduce_retracing=True, autograph=False)
    def predict(state, x):
        params = state.params
        return forward(
            static.shape, params.kernels, params.biases, bn_layers(params, state.moving), x, training=False
        )[0]

    return predict
