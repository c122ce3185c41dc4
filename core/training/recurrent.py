"""The recurrent family (claim VG3): a SimpleRNN (tanh) or an LSTM over a sequence dataset, then a
Dense output, K members stacked like the MLP trainer's, with the gradient reaching every time step.

The network and its compiled step are in core.training.recurrent_step; this module is the loop:
splits, epoch order, evaluation and the frames. Optimizers, schedules, clipnorm/clipvalue and
decoupled weight decay are the MLP's (core.training.optim / schedules); activation (the RNN is
tanh, as Keras' SimpleRNN), depth, batch norm, dropout, L1/L2, residual and input scaling do not
apply (inputs are fed raw: core.data.sequences).

The measurement: ||dL/dh_t||, the norm of the gradient of the batch loss with respect to the
hidden states at step t. Averaged over each epoch's steps it is the `timesteps` frame (epoch, t,
grad_norm); the summary keeps the final epoch's first and last steps (grad_norm_first_step,
grad_norm_last_step) and log10_step_ratio, the geometric mean over the steps of the last quarter
of training of first/last (what claim VG3 reads).

Stacked vs one member at a time (train_group on VG3's preset members, 5 seeds x 100 steps, traces
warm, on this 2-core CPU under load from other sessions): LSTM stacked 17.6 s wall /
8.8 s CPU vs one at a time 36.3 s / 19.3 s (2.1x); SimpleRNN 4.3 s / 3.1 s vs 15.7 s / 8.9 s
(3.7x). So members stack, as in the MLP trainer: every op is batched over the member axis, with
its group-independence precautions (padding members, member-local bias gradients), and a
member's numbers are bit-identical alone or in any group and equal to Keras' own SimpleRNN/LSTM
layers given the same weights and batches (tests/core/training/test_recurrent.py).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.constants import SPARSE_WEIGHT
from core.data import Dataset, make_split, noisy_labels
from core.data.sequences import FEATURES_PER_STEP, steps_of
from core.results import RunResult
from core.spec import Experiment
from core.training import optim, records
from core.training.device import device_name, tf
from core.training.draws import EVAL_SUBSET_SALT, epoch_order
from core.training.recurrent_step import Data, Hyper, State, Static, compiled, init_member
from core.training.schedules import schedule
from core.training.stacking import padding_members

LAYER_NAMES = ["kernel", "recurrent_kernel", "output"]  # the kernels, input side first
EVAL_ROWS = 512  # sequences per member per evaluation call (bounds the [K, n, T, 4H] activations)
# Train metrics on a fixed random subset of this many training sequences: a recurrent forward pass
# costs T times an MLP's, and 400 rows give the train MSE to ~5% (as many as the validation set).
TRAIN_EVAL_ROWS = 400
# The end state: the first/last gradient ratio is averaged over the last quarter of the epochs
# (at least one), so one epoch's luck does not decide a trained net's ratio.
FINAL_SHARE = 0.25
# A gradient that underflowed to exactly 0 (tanh saturated all along the way) counts as the smallest
# float32 above 0, not as missing: dropping it would hide the most complete vanishing of all.
FLOAT32_TINY = float(np.finfo(np.float32).tiny)
MAX_STEP_ROWS = 2000  # per member, for the steps/layers frames (as the MLP trainer)

Progress = Callable[[int, int], None]


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
        self.log_ratios: list[np.ndarray] = []  # per epoch, [K]: see step_log_ratio
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
            self.log_ratios.append(step_log_ratio(rec))
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
        if name == "val":
            return split.val_idx
        if len(split.train_idx) <= TRAIN_EVAL_ROWS:
            return split.train_idx
        rng = np.random.default_rng([self.stack[member].seed, EVAL_SUBSET_SALT])
        return np.sort(rng.permutation(split.train_idx)[:TRAIN_EVAL_ROWS])

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

        ratios = np.array([r[member] for r in self.log_ratios])
        ratios = ratios[np.isfinite(ratios)]
        final = ratios[-max(1, math.ceil(len(ratios) * FINAL_SHARE)) :]
        return {
            "log10_step_ratio": float(final.mean()) if len(final) else float("nan"),
            "grad_norm_first_step": at(0),
            "grad_norm_last_step": at(self.static.seq_len - 1),
            "baseline_val_loss": baseline,
            "seq_len": self.static.seq_len,
        }


def step_log_ratio(rec: dict) -> np.ndarray:
    """[K] mean over the epoch's steps (while alive) of log10(||dL/dh_first|| / ||dL/dh_last||).

    A geometric mean over steps: the ratio is multiplicative, and one exploding batch would
    dominate a ratio of arithmetic means (the timesteps frame's) however typical the rest."""
    grads = np.maximum(rec["step_grad"], FLOAT32_TINY)  # [steps, K, T]; NaN (dead) stays NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(grads[:, :, 0]) - np.log10(grads[:, :, -1])
    logs = np.where(rec["alive"] & np.isfinite(logs), logs, np.nan)
    n = np.isfinite(logs).sum(axis=0)
    return np.where(n > 0, np.nansum(logs, axis=0) / np.maximum(n, 1), np.nan)


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
