"""The recurrent family's network and compiled step: K stacked SimpleRNN or LSTM members.

Model, as Keras builds it (keras.layers.SimpleRNN / LSTM, then Dense(1)): width hidden units;
kernel by the `init` knob (glorot_uniform, Keras' default), recurrent kernel orthogonal, biases
zero and the LSTM's forget-gate bias 1 (Keras' unit_forget_bias); LSTM gates in Keras' order
i, f, c, o with sigmoid gates. The loss is the MSE of the last hidden state's prediction.

Per-time-step gradients: a zero "probe" is added to each hidden state h_t inside the scan, so
dL/dprobe_t = dL/dh_t, the gradient backpropagation through time delivers to step t along every
path, and one backward pass gives the parameter gradients and every step's norm.

Engineering choices, measured on this 2-core CPU under load from other sessions (LSTM, 4 seeds,
T=50, width 32, 20 steps an epoch): tf.scan over time inside a while_loop over steps. Unrolling
the 50 steps in Python traced for ~35 s and ran no faster; XLA (jit_compile) compiled for ~50 s
and ran no faster either (the step is compute-bound, not op-overhead-bound), so neither is used.
Every op is batched over the member axis with the MLP trainer's group-independence precautions
(padding members, member-local bias gradients via model.over_batch).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from core.constants import ADAM_BETA_2
from core.data.sequences import FEATURES_PER_STEP
from core.spec import Experiment
from core.training import optim
from core.training.device import tf
from core.training.draws import INIT_SALT, init_kernel
from core.training.model import over_batch
from core.training.step import DIVERGENCE_FACTOR, LOSS_FLOOR

GATES = {"rnn": 1, "lstm": 4}  # blocks of `width` columns in the kernels (LSTM: i, f, c, o)
FORGET_BIAS = 1.0  # Keras LSTM unit_forget_bias=True: the forget gate starts mostly open


@dataclass(frozen=True)
class Static:
    """What the compiled graphs are specialised on."""

    model: str
    k: int
    batch: int
    steps: int
    seq_len: int
    width: int
    optimizer: str
    use_clipnorm: bool
    use_clipvalue: bool
    use_weight_decay: bool

    @property
    def gates(self) -> int:
        return GATES[self.model]


class State(NamedTuple):
    params: list  # kernel [K,F,G*H], recurrent [K,H,G*H], bias [K,G*H], out_kernel [K,H,1], out_bias [K,1]
    m: list
    v: list
    powers: tuple
    alive: tf.Tensor
    first_loss: tf.Tensor
    diverged_step: tf.Tensor


class Data(NamedTuple):
    x: tf.Tensor  # [N, T*F] the raw pool
    y: tf.Tensor  # [K, N] each member's targets


class Hyper(NamedTuple):
    weight_decay: tf.Tensor
    clipnorm: tf.Tensor
    clipvalue: tf.Tensor


class StepRecord(NamedTuple):
    loss: tf.Tensor
    grad_norm: tf.Tensor
    update_norm: tf.Tensor
    clipped: tf.Tensor
    alive: tf.Tensor
    layer_grad: tf.Tensor  # [K, 3]
    weight_max_abs: tf.Tensor
    step_grad: tf.Tensor  # [T, K] ||dL/dh_t||


RECORD_DTYPES = StepRecord(*(tf.float32,) * 3, tf.bool, tf.bool, *(tf.float32,) * 3)


# -- initialization ---------------------------------------------------------------------------
def orthogonal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Keras' Orthogonal initializer (gain 1): QR of a normal matrix, signs fixed by diag(R)."""
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    return (q.T if rows < cols else q)[:rows, :cols]


def init_member(e: Experiment, model: str, n_inputs: int) -> list[np.ndarray]:
    """Initial parameters of one member, from its seed alone (float32), in State.params order."""
    rng = np.random.default_rng([e.seed, INIT_SALT])
    h, g = e.width, GATES[model]
    bias = np.zeros(g * h)
    if model == "lstm":
        bias[h : 2 * h] = FORGET_BIAS
    params = [
        init_kernel(e.init, n_inputs, g * h, rng),
        orthogonal(h, g * h, rng),
        bias,
        init_kernel(e.init, h, 1, rng),
        np.zeros(1),
    ]
    return [p.astype(np.float32) for p in params]


# -- the network --------------------------------------------------------------------------------
def forward(static: Static, params: list, x: tf.Tensor, probe: tf.Tensor) -> tf.Tensor:
    """Predictions [K, n] for flattened sequences x [K, n, T*F]; probe [T, K, n, H] is added to
    each hidden state (zeros: its gradient is dL/dh_t)."""
    kernel, recurrent, bias, out_kernel, out_bias = params
    k, n, t, h = static.k, x.shape[1], static.seq_len, static.width
    xw = tf.matmul(tf.reshape(x, [k, -1, FEATURES_PER_STEP]), kernel)  # [K, n*T, G*H]
    xw = xw + over_batch(bias, xw)  # member-local bias gradient (see core.training.model)
    xw = tf.transpose(tf.reshape(xw, [k, n, t, static.gates * h]), [2, 0, 1, 3])  # [T, K, n, G*H]

    def cell(carry, elems):
        h_prev, c_prev = carry
        xw_t, probe_t = elems
        z = xw_t + tf.matmul(h_prev, recurrent)
        if static.model == "rnn":
            return tf.tanh(z) + probe_t, c_prev
        i, f, c_hat, o = tf.split(z, 4, axis=-1)
        c = tf.sigmoid(f) * c_prev + tf.sigmoid(i) * tf.tanh(c_hat)
        return tf.sigmoid(o) * tf.tanh(c) + probe_t, c

    carry = (tf.zeros([k, n, h]), tf.zeros([k, n, h]))
    last = tf.scan(cell, (xw, probe), initializer=carry)[0][-1]
    out = tf.matmul(last, out_kernel)  # [K, n, 1]
    return (out + over_batch(out_bias, out))[..., 0]


def _loss(static: Static, params: list, data: Data, idx: tf.Tensor, probe: tf.Tensor) -> tf.Tensor:
    pred = forward(static, params, tf.gather(data.x, idx), probe)
    return tf.square(pred - tf.gather(data.y, idx, batch_dims=1))  # [K, n]


def train_step(static: Static, state: State, data: Data, hyper: Hyper, idx, lr, mom, active, step):
    """One step for all members -> (new State, StepRecord); the update rules are the MLP's."""
    probe = tf.zeros([static.seq_len, static.k, static.batch, static.width])
    with tf.GradientTape() as tape:
        tape.watch(state.params)
        tape.watch(probe)
        loss = tf.reduce_mean(_loss(static, state.params, data, idx, probe), axis=1)
        total = tf.reduce_sum(tf.where(state.alive, loss, 0.0))  # members are independent
    *grads, g_probe = tape.gradient(total, [*state.params, probe])
    step_grad = tf.sqrt(tf.reduce_sum(tf.square(g_probe), axis=[2, 3]))  # [T, K]
    norms = [optim.member_norm(g) for g in grads]
    grads, fired = optim.clip(
        grads, norms, hyper.clipnorm, hyper.clipvalue, static.use_clipnorm, static.use_clipvalue
    )
    first = tf.where(tf.equal(step, 0), loss, state.first_loss)
    ok = tf.math.is_finite(loss) & (loss <= DIVERGENCE_FACTOR * tf.maximum(first, LOSS_FLOOR))
    ok = ok | ~active
    alive = state.alive
    keep = alive & ok & active
    b1p, b2p = state.powers[0] * mom, state.powers[1] * ADAM_BETA_2
    names = optim.slot_names(static.optimizer)
    new_params, new_m, new_v, sq_update = [], [], [], []
    for j, (w, g) in enumerate(zip(state.params, grads)):
        is_kernel = j in (0, 1, 3)
        if static.use_weight_decay and is_kernel:
            w_dec = w - w * optim.per_member(hyper.weight_decay * lr, w)
        else:
            w_dec = w
        slots = {n: getattr(state, n)[j] for n in names}
        new_w, slots = optim.update(static.optimizer, w_dec, g, slots, lr, mom, (b1p, b2p))
        new_w = tf.where(optim.per_member(keep, w), new_w, w)  # frozen once diverged
        sq_update.append(tf.square(optim.member_norm(new_w - w)))
        new_params.append(new_w)
        new_m += [slots["m"]] if "m" in names else []
        new_v += [slots["v"]] if "v" in names else []
    new_state = State(
        params=new_params,
        m=new_m,
        v=new_v,
        powers=(tf.where(keep, b1p, state.powers[0]), tf.where(keep, b2p, state.powers[1])),
        alive=alive & ok,
        first_loss=first,
        diverged_step=tf.where(alive & ~ok, step, state.diverged_step),
    )
    peak = tf.reduce_max(tf.stack([_max_abs(new_params[j]) for j in (0, 1, 3)]), 0)

    def when_alive(t, mask=alive):
        return tf.where(mask if len(t.shape) == 1 else mask[:, None], t, float("nan"))

    record = StepRecord(
        loss=when_alive(loss),
        grad_norm=when_alive(tf.sqrt(tf.add_n([tf.square(n) for n in norms]))),
        update_norm=when_alive(tf.sqrt(tf.add_n(sq_update))),
        clipped=fired & alive,
        alive=alive,
        layer_grad=when_alive(tf.stack([norms[0], norms[1], norms[3]], axis=1)),
        weight_max_abs=when_alive(peak),
        step_grad=tf.transpose(when_alive(tf.transpose(step_grad))),
    )
    return new_state, record


def _max_abs(w: tf.Tensor) -> tf.Tensor:
    return tf.reduce_max(tf.abs(w), axis=list(range(1, len(w.shape))))


@functools.lru_cache(maxsize=8)
def compiled(static: Static):
    """The compiled epoch (a while_loop of steps, each a scan over time) and the evaluation."""

    @tf.function(autograph=False)
    def epoch_fn(state, data, hyper, perm, lrs, moms, active, step0):
        def body(s, state, arrays):
            idx = tf.slice(perm, [0, s * static.batch], [static.k, static.batch])  # a static size
            state, rec = train_step(static, state, data, hyper, idx, lrs[s], moms[s], active[s], step0 + s)
            return s + 1, state, StepRecord(*(a.write(s, r) for a, r in zip(arrays, rec)))

        arrays = StepRecord(*(tf.TensorArray(d, size=static.steps) for d in RECORD_DTYPES))
        _, state, arrays = tf.while_loop(
            lambda s, *_: s < static.steps, body, (tf.constant(0), state, arrays), parallel_iterations=1
        )
        return state, StepRecord(*(a.stack() for a in arrays))

    @tf.function(autograph=False)
    def eval_fn(params, data, idx, mask):
        probe = tf.zeros([static.seq_len, static.k, idx.shape[1], static.width])
        return tf.reduce_sum(_loss(static, params, data, idx, probe) * mask, axis=1)

    return epoch_fn, eval_fn
