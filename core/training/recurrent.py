"""The recurrent family (claim VG3): a SimpleRNN (tanh) or an LSTM over a sequence dataset, then a
Dense output, K members stacked like the MLP trainer's, with the gradient reaching every time step.

Model, as Keras builds it (keras.layers.SimpleRNN / LSTM, then Dense(1)): width hidden units;
kernel by the `init` knob (glorot_uniform, Keras' default), recurrent kernel orthogonal, biases
zero, and the LSTM's forget-gate bias 1 (Keras' unit_forget_bias); LSTM gates in Keras' order
i, f, c, o with sigmoid gates. The loss is the MSE of the last hidden state's prediction.
Optimizers, schedules, clipnorm/clipvalue and decoupled weight decay are the MLP's
(core.training.optim / schedules); depth, batch norm, dropout, L1/L2, residual and input scaling
do not apply (inputs are fed raw: see core.data.sequences).

The measurement: ||dL/dh_t||, the norm of the gradient of the batch loss with respect to the
hidden states at step t — what backpropagation through time delivers to step t along every path.
It is read off a zero "probe" added to each h_t inside the scan (dL/dprobe_t = dL/dh_t), so one
backward pass gives the parameter gradients and every step's norm. Averaged over each epoch's
steps it is the `timesteps` frame (epoch, t, grad_norm); the summary keeps the final epoch's
first and last steps (grad_norm_first_step, grad_norm_last_step).

Stacked vs one member at a time: measured on this 2-core CPU (under load from other sessions),
4 seeds of T=50, width 32, batch 32: see the module's `bench` and the VG3 report. Stacking
shares every op over the member axis, the same trick as the MLP trainer, and the same
group-independence precautions apply (padding members, member-local bias gradients), so a
member's numbers are bit-identical alone or in any group (tests/core/training/test_recurrent.py).
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from core.constants import ADAM_BETA_2, SPARSE_WEIGHT
from core.data import Dataset, make_split, noisy_labels
from core.data.sequences import FEATURES_PER_STEP, steps_of
from core.results import RunResult
from core.spec import Experiment
from core.training import optim, records
from core.training.device import device_name, tf
from core.training.draws import INIT_SALT, epoch_order, eval_subset, init_kernel
from core.training.model import over_batch
from core.training.schedules import schedule
from core.training.step import DIVERGENCE_FACTOR, LOSS_FLOOR
from core.training.trainer import padding_members

GATES = {"rnn": 1, "lstm": 4}  # blocks of `width` columns in the kernels (LSTM: i, f, c, o)
LAYER_NAMES = ["kernel", "recurrent_kernel", "output"]  # the kernels, input side first
FORGET_BIAS = 1.0  # Keras LSTM unit_forget_bias=True: the forget gate starts mostly open
EVAL_ROWS = 256  # sequences per member per evaluation call (bounds the [K, n, T, 4H] activations)
MAX_STEP_ROWS = 2000  # per member, for the steps/layers frames (as the MLP trainer)

Progress = Callable[[int, int], None]


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
    if UNROLL:
        for xw_t, probe_t in zip(tf.unstack(xw), tf.unstack(probe)):
            carry = cell(carry, (xw_t, probe_t))
        last = carry[0]
    else:
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


UNROLL = os.environ.get("WHATIF_RNN_UNROLL", "0") == "1"
XLA = os.environ.get("WHATIF_RNN_XLA", "0") == "1"


@functools.lru_cache(maxsize=8)
def compiled(static: Static):
    """The compiled epoch (a while_loop of steps, each a scan over time) and the evaluation."""

    @tf.function(autograph=False, jit_compile=XLA)
    def epoch_fn(state, data, hyper, perm, lrs, moms, active, step0):
        def body(s, state, arrays):
            idx = tf.slice(perm, [0, s * static.batch], [static.k, static.batch])  # static size (XLA)
            state, rec = train_step(static, state, data, hyper, idx, lrs[s], moms[s], active[s], step0 + s)
            return s + 1, state, StepRecord(*(a.write(s, r) for a, r in zip(arrays, rec)))

        arrays = StepRecord(*(tf.TensorArray(d, size=static.steps) for d in RECORD_DTYPES))
        _, state, arrays = tf.while_loop(
            lambda s, *_: s < static.steps, body, (tf.constant(0), state, arrays), parallel_iterations=1
        )
        return state, StepRecord(*(a.stack() for a in arrays))

    @tf.function(autograph=False, jit_compile=XLA)
    def eval_fn(params, data, idx, mask):
        probe = tf.zeros([static.seq_len, static.k, idx.shape[1], static.width])
        return tf.reduce_sum(_loss(static, params, data, idx, probe) * mask, axis=1)

    return epoch_fn, eval_fn


# -- the loop -----------------------------------------------------------------------------------
class RecurrentTrainer:
    """Trains one group of recurrent members (equal group knobs) stacked on a member axis."""

    def __init__(self, members: list[Experiment], ds: Dataset) -> None:
        if len({m.group_key for m in members}) != 1:
            raise ValueError("a stacked group needs members of one network shape and data")
        e = members[0]
        self.members, self.ds = members, ds
        self.splits = [make_split(ds, m.n_samples, m.val_fraction, m.effective_split_seed) for m in members]
        n_train, n_val = len(self.splits[0].train_idx), len(self.splits[0].val_idx)
        self.batch = min(e.batch_size, n_train)
        self.steps = n_train // self.batch
        self.stack = [*members, *[members[-1]] * padding_members(self.batch, n_val, e.width, 1)]
        self.static = Static(
            model=e.model,
            k=len(self.stack),
            batch=self.batch,
            steps=self.steps,
            seq_len=steps_of(ds),
            width=e.width,
            optimizer=e.optimizer,
            use_clipnorm=any(m.clipnorm > 0 for m in members),
            use_clipvalue=any(m.clipvalue > 0 for m in members),
            use_weight_decay=any(m.weight_decay > 0 for m in members),
        )
        tables = [schedule(m, self.steps) for m in self.stack]
        self.lr_table = np.stack([t[0] for t in tables], axis=1)
        self.mom_table = np.stack([t[1] for t in tables], axis=1)

    @property
    def n_members(self) -> int:
        return len(self.members)

    def _split(self, member: int):
        return self.splits[min(member, self.n_members - 1)]

    def epoch_order(self, member: int, epoch: int) -> np.ndarray:
        """Training rows of one member's epoch, from its own seed (as the MLP trainer's)."""
        return epoch_order(
            self.stack[member].seed, epoch, self._split(member).train_idx, self.steps * self.batch
        )

    def labels(self, member: int) -> np.ndarray:
        m = self.stack[member]
        return noisy_labels(self.ds, self._split(member), m.label_noise, m.seed)

    def initial_params(self, member: int) -> list[np.ndarray]:
        return init_member(self.stack[member], self.static.model, FEATURES_PER_STEP)

    def run(self, progress: Progress | None = None, lr_table: np.ndarray | None = None) -> list[RunResult]:
        lr_table, mom_table = self._tables(lr_table)
        total_steps = lr_table.shape[0]
        epochs = math.ceil(total_steps / self.steps)
        stride = max(1, math.ceil(total_steps / MAX_STEP_ROWS))
        state, data, hyper = self._initial_state(), self._data(), self._hyper()
        epoch_fn, eval_fn = compiled(self.static)
        rows: dict[str, list[pd.DataFrame]] = {
            k: [] for k in ("steps", "layers", "epochs", "weights", "timesteps")
        }
        start = time.perf_counter()
        for epoch in range(epochs):
            lo, hi = epoch * self.steps, min((epoch + 1) * self.steps, total_steps)
            perm, lrs, moms, active = self._epoch_inputs(epoch, lr_table[lo:hi], mom_table[lo:hi])
            state, rec = epoch_fn(state, data, hyper, perm, lrs, moms, active, tf.constant(lo))
            rec = {name: t.numpy()[: hi - lo] for name, t in rec._asdict().items()}
            rec["step_grad"] = rec["step_grad"].transpose(0, 2, 1)  # [steps, K, T]
            rows["steps"].append(
                records.step_records(rec, lo, epoch + 1, lrs[: hi - lo], moms[: hi - lo], stride)
            )
            rows["layers"].append(records.layer_records(rec, lo, epoch + 1, stride, LAYER_NAMES))
            rows["timesteps"].append(timestep_records(rec, epoch + 1))
            metrics = self._evaluate(eval_fn, state, data)
            rows["epochs"].append(
                records.epoch_records(metrics, epoch + 1, lr_table[hi - 1], time.perf_counter() - start)
            )
            rows["weights"].append(records.weight_records(metrics, epoch + 1, LAYER_NAMES))
            if progress is not None:
                progress(epoch + 1, epochs)
            if not state.alive.numpy()[: self.n_members].any():
                break
        return self._results(state, rows, time.perf_counter() - start)

    def _tables(self, lr_table: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if lr_table is None:
            return self.lr_table, self.mom_table
        lr_table = np.asarray(lr_table, np.float32)
        pad = len(self.stack) - self.n_members
        lr_table = np.concatenate([lr_table, np.repeat(lr_table[:, -1:], pad, 1)], 1)
        momenta = np.array([m.resolved().momentum for m in self.stack], np.float32)
        return lr_table, np.broadcast_to(momenta, lr_table.shape)

    def _epoch_inputs(self, epoch: int, lr_rows: np.ndarray, mom_rows: np.ndarray):
        k, n = self.static.k, len(lr_rows)
        perm = np.stack([self.epoch_order(i, epoch) for i in range(k)]).astype(np.int32)
        lrs = np.zeros((self.steps, k), np.float32)
        moms = np.zeros((self.steps, k), np.float32)
        lrs[:n], moms[:n] = lr_rows, mom_rows
        return perm, lrs, moms, tf.constant(np.arange(self.steps) < n)

    def _initial_state(self) -> State:
        inits = [self.initial_params(i) for i in range(self.static.k)]
        params = [tf.constant(np.stack([p[j] for p in inits])) for j in range(len(inits[0]))]
        names = optim.slot_names(self.static.optimizer)
        k = self.static.k
        return State(
            params=params,
            m=[tf.zeros_like(p) for p in params] if "m" in names else [],
            v=[tf.zeros_like(p) for p in params] if "v" in names else [],
            powers=(tf.ones(k), tf.ones(k)),
            alive=tf.ones(k, tf.bool),
            first_loss=tf.zeros(k),
            diverged_step=tf.fill([k], -1),
        )

    def _data(self) -> Data:
        y = np.stack([self.labels(i) for i in range(self.static.k)]).astype(np.float32)
        return Data(tf.constant(self.ds.x.astype(np.float32)), tf.constant(y))

    def _hyper(self) -> Hyper:
        def vec(name: str) -> tf.Tensor:
            return tf.constant(np.array([getattr(m, name) for m in self.stack], np.float32))

        return Hyper(vec("weight_decay"), vec("clipnorm"), vec("clipvalue"))

    @functools.cached_property
    def eval_sets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """[K, n padded to whole chunks] row indices and masks of the train subset and validation."""
        out = {}
        for name in ("train", "val"):
            idx = [self._eval_rows(i, name) for i in range(self.static.k)]
            n = len(idx[0])
            padded = math.ceil(n / EVAL_ROWS) * EVAL_ROWS if n > EVAL_ROWS else n
            arr, mask = np.zeros((len(idx), padded), np.int32), np.zeros((len(idx), padded), np.float32)
            for i, ix in enumerate(idx):
                arr[i, :n], mask[i, :n] = ix, 1.0
            out[name] = (arr, mask)
        return out

    def _eval_rows(self, member: int, name: str) -> np.ndarray:
        split = self._split(member)
        return split.val_idx if name == "val" else eval_subset(self.stack[member].seed, split.train_idx)

    def _evaluate(self, eval_fn, state: State, data: Data) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        k = self.static.k
        for name, (idx, mask) in self.eval_sets.items():
            chunk = min(EVAL_ROWS, idx.shape[1])
            loss = np.zeros(k)
            for c in range(0, idx.shape[1], chunk):
                loss += eval_fn(state.params, data, idx[:, c : c + chunk], mask[:, c : c + chunk]).numpy()
            out[f"{name}_loss"] = loss / mask.sum(axis=1)
            out[f"{name}_accuracy"] = np.full(k, np.nan)
        kernels = [state.params[j].numpy() for j in (0, 1, 3)]
        out["weight_norm"] = np.stack([np.sqrt((w**2).sum(axis=(1, 2))) for w in kernels], 1)
        out["sparsity"] = np.stack([(np.abs(w) < SPARSE_WEIGHT).mean(axis=(1, 2)) for w in kernels], 1)
        out["weight_max_abs"] = np.stack([np.abs(w).max(axis=(1, 2)) for w in kernels], 1)
        bad = ~np.isfinite(out["train_loss"]) | ~np.isfinite(out["val_loss"])
        out["alive"] = state.alive.numpy() & ~bad
        return out

    def _results(self, state: State, rows: dict, seconds: float) -> list[RunResult]:
        frames_all = {name: pd.concat(parts, ignore_index=True) for name, parts in rows.items()}
        kernels = [state.params[j].numpy() for j in (0, 1, 3)]
        diverged_step = state.diverged_step.numpy()
        facts = records.GroupFacts(
            layer_names=LAYER_NAMES,
            steps_per_epoch=self.steps,
            batch=self.batch,
            n_train=len(self.splits[0].train_idx),
            n_val=len(self.splits[0].val_idx),
            n_params=sum(int(np.prod(p.shape[1:])) for p in state.params),
            group_size=self.n_members,
            seconds=seconds,
            device=device_name(),
        )
        out = []
        for i, e in enumerate(self.members):
            frames = {name: records.member_rows(df, i) for name, df in frames_all.items()}
            frames["histograms"] = records.histograms(kernels, i, LAYER_NAMES)
            summary = records.summary(e, frames, int(diverged_step[i]), facts)
            summary.update(self._sequence_summary(i, frames["timesteps"]))
            out.append(RunResult(e, summary, frames))
        return out

    def _sequence_summary(self, member: int, timesteps: pd.DataFrame) -> dict:
        """The final epoch's gradient at the first and last time step, and the constant
        predictor's validation MSE (the training mean for every sequence: the chance level)."""
        split, y = self._split(member), self.labels(member)
        baseline = float(np.mean((y[split.val_idx] - y[split.train_idx].mean()) ** 2))
        last = timesteps[timesteps["epoch"] == timesteps["epoch"].max()] if len(timesteps) else timesteps

        def at(t: int) -> float:
            v = last.loc[last["t"] == t, "grad_norm"]
            return float(v.iloc[0]) if len(v) else float("nan")

        return {
            "grad_norm_first_step": at(0),
            "grad_norm_last_step": at(self.static.seq_len - 1),
            "baseline_val_loss": baseline,
            "seq_len": self.static.seq_len,
        }


def timestep_records(rec: dict, epoch: int) -> pd.DataFrame:
    """Per member and time step: ||dL/dh_t|| averaged over the epoch's steps while alive."""
    grads = rec["step_grad"]  # [steps, K, T]
    alive = rec["alive"]  # [steps, K]
    n_alive = alive.sum(axis=0)  # [K]
    mean = np.where(alive[:, :, None], grads, 0.0).sum(axis=0) / np.maximum(n_alive, 1)[:, None]
    k, t = mean.shape
    return pd.DataFrame(
        {
            "member": np.repeat(np.arange(k), t),
            "epoch": epoch,
            "t": np.tile(np.arange(t), k),
            "grad_norm": mean.ravel(),
            "alive": np.repeat(n_alive > 0, t),
        }
    )


def train_group(
    members: list[Experiment],
    ds: Dataset,
    progress: Progress | None = None,
    lr_table: np.ndarray | None = None,
) -> list[RunResult]:
    """The family entry point (core.training.families)."""
    return RecurrentTrainer(list(members), ds).run(progress=progress, lr_table=lr_table)
