"""The stacked trainer: K members of one shape trained as one model, one compiled step for all.

Why: a comparison is many small networks that differ in a few numbers. Trained one by one, each
pays TensorFlow's per-step overhead; stacked, the overhead is paid once per step for the whole
group (8 members cost about 1.4x one). Per-member hyperparameters are [K] tensors.

Shape of a run (`GroupTrainer.run`): Python loops over epochs (a shuffle, the compiled epoch, an
evaluation, a progress callback); inside an epoch the step loop runs in TensorFlow (core.training.
step). The frames are built in core.training.records.

Divergence is a result: a member whose loss turns NaN/inf or exceeds DIVERGENCE_FACTOR x its first
loss is marked at that step and frozen; the others go on.

Group independence: a member's numbers are bit-identical whichever group it trains in (same
frames alone, or at any place in a group of any size). Every op is per member, yet TensorFlow's
CPU kernels looked at the whole stack in four places, each now handled:
- the gradient of a broadcast over the batch axis (biases, batch norm) is a middle-axis sum whose
  order depended on the member's offset in the stack -> model.over_batch / batch_sum sum each
  member's rows on their own;
- Grappler rewrites x / sqrt(y) into x * rsqrt(y), and the vectorized rsqrt is approximate while
  the last elements that do not fill a SIMD register take an exact scalar path -> optim.div_by_sqrt;
- a batched matmul of ONE member takes another kernel than one of several, and exp/log/sigmoid
  also differ between the vector and the scalar tail -> every group is padded with trailing copies
  of its last member (core.training.stacking.padding_members), whose results are dropped: K is never 1 and the scalar
  tail always falls on padding. This canonicalizes the layout; it costs one extra member per group;
- the decision-boundary softmax of the whole stack -> computed in NumPy per member.

Stack size buckets: each distinct K traces new graphs (~1 s and 15-20 MB), so core.training.stacking.stack_size rounds
K up with more trailing padding copies, as far as a padding member is cheap: a comparison that
gains or loses a value then reuses the compiled graphs. Padding never changes a real member's
numbers (the independence above).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.constants import EVAL_CHUNK
from core.data import Dataset, Split, make_split, noisy_labels
from core.data.transforms import Scaler, check_copies, fit_scalers, transformed
from core.results import RunResult
from core.spec import Experiment
from core.training import draws, optim, records
from core.training.device import device_name, tf
from core.training.model import Shape, init_member
from core.training.schedules import schedule
from core.training.stacking import member_macs, padding_members, stack_size
from core.training.step import (
    Data,
    EvalSet,
    EvalSums,
    Hyper,
    Moving,
    Params,
    Slots,
    State,
    Static,
    add_chunks,
    compiled,
    eval_set,
    predict_fn,
)

MAX_STEP_ROWS = 2000  # per member, for the steps/layers frames
GRID = 50  # decision-boundary grid resolution per axis
Progress = Callable[[int, int], None]  # (epochs done, epochs total)


class GroupTrainer:
    """Trains members that share a group key; `run()` returns one RunResult per member."""

    def __init__(self, members: list[Experiment], ds: Dataset) -> None:
        if len({m.group_key for m in members}) != 1:
            raise ValueError("a stacked group needs members of one network shape and data")
        e = members[0]
        ds = transformed(ds, e.input_transform)  # a group knob: the heavy-tailed copy, if asked for
        self.members, self.ds = members, ds
        self.splits = _splits(ds, members)
        self.scalers = fit_scalers(ds, self.splits, e.scaling)  # on each split's training rows
        n_train, n_val = len(self.splits[0].train_idx), len(self.splits[0].val_idx)
        self.batch = min(e.batch_size, n_train)
        self.steps = n_train // self.batch  # the partial last batch is dropped (fixed shapes)
        shape = Shape.of(e, ds.n_features, 1 if ds.is_regression else ds.n_classes)
        pad = padding_members(self.batch, n_val, shape.width, shape.n_outputs)
        n_eval = min(n_train, draws.TRAIN_EVAL_CAP) + n_val
        k = stack_size(len(members), pad, member_macs(shape, e.epochs, self.steps, self.batch, n_eval))
        self.stack = [*members, *[members[-1]] * (k - len(members))]  # real members, then padding
        self.static = Static(
            shape=shape,
            optimizer=e.optimizer,
            k=k,
            batch=self.batch,
            steps=self.steps,
            regression=ds.is_regression,
            use_dropout=any(m.dropout > 0 for m in members),
            use_clipnorm=any(m.clipnorm > 0 for m in members),
            use_clipvalue=any(m.clipvalue > 0 for m in members),
            use_l1=any(m.l1 > 0 for m in members),
            use_l2=any(m.l2 > 0 for m in members),
            use_weight_decay=any(m.weight_decay > 0 for m in members),
        )
        tables = [schedule(m, self.steps) for m in self.stack]
        self.lr_table = np.stack([t[0] for t in tables], axis=1)  # [steps total, K]
        self.mom_table = np.stack([t[1] for t in tables], axis=1)

    @property
    def n_members(self) -> int:
        """Real members (the stack also holds padding members)."""
        return len(self.members)

    def _split(self, member: int) -> Split:
        return self.splits[min(member, self.n_members - 1)]  # padding copies the last member

    # -- data ---------------------------------------------------------------------------------
    def epoch_order(self, member: int, epoch: int) -> np.ndarray:
        """Training indices of one member's epoch, from its own seed (also used by parity tests)."""
        seed = self.stack[member].seed
        return draws.epoch_order(seed, epoch, self._split(member).train_idx, self.steps * self.batch)

    def standardized(self, member: int, idx: np.ndarray) -> np.ndarray:
        """The member's network inputs for pool rows idx (its scaling; z-score by default)."""
        return self.scalers[min(member, self.n_members - 1)](self.ds.x[idx])

    @functools.cached_property
    def copies(self) -> tuple[np.ndarray, list[Scaler]]:
        """([K] where each stacked member's copy of the pool starts in Data.x, the scalers whose
        copies Data.x holds). The affine scalings share the raw pool, scaled on the fly (offsets
        0, no copy); a quantile map is not affine, so Data.x holds one scaled copy of the pool per
        distinct fitted map, side by side, and each member indexes its own."""
        stacked = [self.scalers[min(i, self.n_members - 1)] for i in range(self.static.k)]
        if all(s.affine for s in stacked):
            return np.zeros(len(stacked), np.int32), []
        distinct = list({id(s): s for s in stacked}.values())
        check_copies(len(distinct), self.ds)
        slots = [next(j for j, d in enumerate(distinct) if d is s) for s in stacked]
        return np.array(slots, np.int32) * len(self.ds), distinct

    @property
    def row_offsets(self) -> np.ndarray:
        return self.copies[0]

    def standardized_grid(self, member: int, points: np.ndarray) -> np.ndarray:
        """The member's network inputs for arbitrary points (the boundary grid)."""
        return self.scalers[min(member, self.n_members - 1)](points)

    def labels(self, member: int) -> np.ndarray:
        """The member's labels for the whole pool: its label noise changes training rows only."""
        m = self.stack[member]
        return noisy_labels(self.ds, self._split(member), m.label_noise, m.seed)

    # -- training -----------------------------------------------------------------------------
    def run(self, progress: Progress | None = None, lr_table: np.ndarray | None = None) -> list[RunResult]:
        """Train all members. lr_table ([steps, members]) overrides the schedules (LR range test)
        and sets the number of steps; otherwise the members' epochs and schedules apply."""
        lr_table, mom_table = self._tables(lr_table)
        total_steps = lr_table.shape[0]
        epochs = math.ceil(total_steps / self.steps)
        stride = max(1, math.ceil(total_steps / MAX_STEP_ROWS))
        names = self.static.shape.layer_names
        state, data, hyper = self._initial_state(), self._data_tensors(), self._hyper_tensors()
        epoch_fn, sets = compiled(self.static)[0], self.eval_tensors
        log = records.RunLog(self.n_members)  # the real members' records; padding is dropped
        start = time.perf_counter()
        for epoch in range(epochs):
            lo, hi = epoch * self.steps, min((epoch + 1) * self.steps, total_steps)
            perm, lrs, moms, active = self._epoch_inputs(epoch, lr_table[lo:hi], mom_table[lo:hi])
            state, rec, sums, stats = epoch_fn(
                state, data, hyper, perm, lrs, moms, active, tf.constant(lo), sets
            )
            rec = {name: t.numpy()[: hi - lo] for name, t in rec._asdict().items()}
            log.add_steps(rec, lrs[: hi - lo], moms[: hi - lo], epoch + 1)
            metrics = self._metrics(sums, stats, state)
            log.add_epoch(metrics, lr_table[hi - 1], time.perf_counter() - start, epoch + 1)
            state = _mark_eval_divergence(state, metrics, hi - 1)
            if progress is not None:
                progress(epoch + 1, epochs)
            if not state.alive.numpy()[: self.n_members].any():
                break
        results = self._results(state, log.frames(stride, names), time.perf_counter() - start)
        halves = self._val_halves(sums)  # core.tuning's selection / report slices, final weights
        for i, run in enumerate(results):
            run.summary.update({k: float("nan") if run.diverged else float(v[i]) for k, v in halves.items()})
        return results

    def _tables(self, lr_table: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Learning rate and momentum per step and stacked member ([steps, K])."""
        if lr_table is None:
            return self.lr_table, self.mom_table
        # An LR sweep: each member keeps its constant momentum; padding repeats the last column.
        lr_table = np.asarray(lr_table, np.float32)
        lr_table = np.concatenate(
            [lr_table, np.repeat(lr_table[:, -1:], len(self.stack) - self.n_members, 1)], 1
        )
        momenta = np.array([m.resolved().momentum for m in self.stack], np.float32)
        return lr_table, np.broadcast_to(momenta, lr_table.shape)

    def _epoch_inputs(self, epoch: int, lr_rows: np.ndarray, mom_rows: np.ndarray):
        """Each member's shuffled rows [K, steps*batch], and this epoch's learning rates, momenta
        and active-step mask padded to a full epoch (a partial last epoch in an LR test)."""
        k, n = self.static.k, len(lr_rows)
        orders = [self.epoch_order(i, epoch) for i in range(self.n_members)]
        orders += orders[-1:] * (k - self.n_members)  # padding copies the last member's order
        perm = np.stack(orders).astype(np.int32)
        perm += self.row_offsets[:, None]  # 0 unless each member reads its own scaled copy
        lrs = np.zeros((self.steps, k), np.float32)
        moms = np.zeros((self.steps, k), np.float32)
        lrs[:n], moms[:n] = lr_rows, mom_rows
        return perm, lrs, moms, tf.constant(np.arange(self.steps) < n)

    def _initial_state(self) -> State:
        static = self.static
        inits = [init_member(m, static.shape) for m in self.stack]
        n_layers = static.shape.depth + 1
        kernels = [tf.constant(np.stack([i["kernels"][j] for i in inits])) for j in range(n_layers)]
        biases = [tf.constant(np.stack([i["biases"][j] for i in inits])) for j in range(n_layers)]
        k, w = static.k, static.shape.width
        n_bn = static.shape.depth if static.shape.batch_norm != "none" else 0
        params = Params(kernels, biases, [tf.ones((k, w))] * n_bn, [tf.zeros((k, w))] * n_bn)
        self.initial_params = params  # each run's stored initial weights (core.weights)
        names = optim.slot_names(static.optimizer)
        flat = params.flat()

        def zeros(name: str) -> list:
            return [tf.zeros_like(p) for p in flat] if name in names else []

        return State(
            params=params,
            moving=Moving([tf.zeros((k, w))] * n_bn, [tf.ones((k, w))] * n_bn),
            slots=Slots(zeros("m"), zeros("v")),
            powers=(tf.ones(k), tf.ones(k)),
            alive=tf.ones(k, tf.bool),
            first_loss=tf.zeros(k),
            diverged_step=tf.fill([k], -1),
        )

    def _data_tensors(self) -> Data:
        y_dtype = np.float32 if self.ds.is_regression else np.int32
        scalers = [self.scalers[min(i, self.n_members - 1)] for i in range(self.static.k)]
        x, y = self.ds.x.astype(np.float32), np.stack([self.labels(i) for i in range(self.static.k)])
        if copied := self.copies[1]:  # quantile: the scaled copies side by side, labels repeated
            x, y = np.concatenate([s(self.ds.x) for s in copied]), np.tile(y, (1, len(copied)))
        return Data(
            x=tf.constant(x),
            y=tf.constant(y.astype(y_dtype)),
            mean=tf.constant(np.stack([s.center for s in scalers]).astype(np.float32)),
            inv_std=tf.constant(np.stack([1.0 / s.scale for s in scalers]).astype(np.float32)),
        )

    def _hyper_tensors(self) -> Hyper:
        def vec(name: str, dtype=np.float32) -> tf.Tensor:
            return tf.constant(np.array([getattr(m, name) for m in self.stack], dtype))

        names = ("l1", "l2", "weight_decay", "clipnorm", "clipvalue", "dropout")
        return Hyper(*(vec(n) for n in names), seed=vec("seed", np.int32))

    # -- evaluation -----------------------------------------------------------------------------
    @functools.cached_property
    def eval_sets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Index and mask arrays [K, n padded to equal chunks] for the train and validation splits."""
        out = {}
        k = self.static.k
        train = [self._eval_subset(i) for i in range(k)]
        for name, idx in (("train", train), ("val", [self._split(i).val_idx for i in range(k)])):
            n = len(idx[0])
            chunk = math.ceil(n / math.ceil(n / EVAL_CHUNK))  # equal chunks: little padding
            padded = math.ceil(n / chunk) * chunk
            arr = np.zeros((len(idx), padded), np.int32)
            mask = np.zeros((len(idx), padded), np.float32)
            for i, ix in enumerate(idx):
                arr[i, :n], mask[i, :n] = ix + self.row_offsets[i], 1.0
            out[name] = (arr, mask)
        return out

    def _eval_subset(self, member: int) -> np.ndarray:
        """The training rows of the end-of-epoch train metrics (core.training.draws)."""
        return draws.eval_subset(self.stack[member].seed, self._split(member).train_idx)

    @functools.cached_property
    def val_halves(self) -> tuple[np.ndarray, np.ndarray]:
        """Masks of two disjoint halves of each member's validation split (even and odd positions
        of its sorted val_idx), see _val_halves."""
        idx, mask = self.eval_sets["val"]
        return tuple((mask * (np.arange(idx.shape[1]) % 2 == parity)).astype(np.float32) for parity in (0, 1))

    @functools.cached_property
    def eval_tensors(self) -> tuple[EvalSet, EvalSet]:
        """eval_sets as the compiled evaluation takes them, in chunks: the train subset, and the
        validation split under its own mask and the masks of its two halves (one forward pass)."""
        (train, train_mask), (val, val_mask) = self.eval_sets.values()
        return eval_set(train, (train_mask,)), eval_set(val, (val_mask, *self.val_halves))

    def _evaluate(self, eval_fn: Callable, state: State, data: Data) -> dict[str, np.ndarray]:
        """`_metrics` of any state, through eval_fn = compiled(static)[1]."""
        sums, stats = eval_fn(state, data, self.eval_tensors)
        return self._metrics(sums, stats, state)

    def _metrics(self, sums: tuple[EvalSums, ...], stats: dict, state: State) -> dict[str, np.ndarray]:
        """Loss and accuracy on the train subset and the validation split, weight statistics."""
        out: dict[str, np.ndarray] = {}
        for (name, (_, mask)), s in zip(self.eval_sets.items(), sums):
            out[f"{name}_loss"], out[f"{name}_accuracy"] = self._means(s, 0, mask.sum(axis=1))
        out.update({name: v.numpy() for name, v in stats.items()})
        out["alive"] = state.alive.numpy()
        return out

    def _val_halves(self, sums: tuple[EvalSums, ...]) -> dict[str, np.ndarray]:
        """Final loss and accuracy on two disjoint halves of each member's validation split, from
        the last epoch's evaluation (its sums under the half masks). core.tuning picks a learning
        rate on the `select` half and reports the `report` half, so picking the best does not
        flatter the number shown. Extra masks over the same rows: every other number is unchanged."""
        out: dict[str, np.ndarray] = {}
        for j, (half, half_mask) in enumerate(zip(("select", "report"), self.val_halves), start=1):
            n = np.maximum(half_mask.sum(axis=1), 1.0)
            out[f"final_val_loss_{half}"], out[f"final_val_accuracy_{half}"] = self._means(sums[1], j, n)
        return out

    def _means(self, sums: EvalSums, mask: int, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean loss and accuracy [K] under one mask of a set, over its n rows per member (the
        accuracy is NaN for regression)."""
        loss, correct = add_chunks(sums.loss[mask]), add_chunks(sums.correct[mask])
        return loss / n, np.full(len(n), np.nan) if self.static.regression else correct / n

    # -- results --------------------------------------------------------------------------------
    def _results(self, state: State, frames_all: dict[str, pd.DataFrame], seconds: float) -> list[RunResult]:
        kernels = [t.numpy() for t in state.params.kernels]
        boundary = self._boundary(state) if self.ds.is_2d else None
        diverged_step = state.diverged_step.numpy()
        names = self.static.shape.layer_names
        facts = records.GroupFacts(
            layer_names=names,
            steps_per_epoch=self.steps,
            batch=self.batch,
            n_train=len(self.splits[0].train_idx),
            n_val=len(self.splits[0].val_idx),
            n_params=self.static.shape.n_params,
            group_size=self.n_members,
            seconds=seconds,
            device=device_name(),
        )
        weights = records.group_weights(
            _as_numpy(self.initial_params), _as_numpy(state.params, state.moving), self.n_members, names
        )
        per_member = {name: records.split_members(df, self.n_members) for name, df in frames_all.items()}
        out = []
        for i, e in enumerate(self.members):
            frames = {name: parts[i] for name, parts in per_member.items()}
            frames["histograms"] = records.histograms(kernels, i, names)
            if boundary is not None:
                frames["boundary"] = boundary[i]
            summary = records.summary(e, frames, int(diverged_step[i]), facts)
            out.append(RunResult(e, summary, frames, weights[i]))
        return out

    def _boundary(self, state: State) -> list[pd.DataFrame]:
        """Class probabilities on a grid over the raw feature range (same grid for all members);
        for regression, the fitted value there instead (columns x0, x1, value)."""
        lo, hi = self.ds.x.min(axis=0), self.ds.x.max(axis=0)
        pad = 0.1 * (hi - lo)
        g0, g1 = (np.linspace(lo[j] - pad[j], hi[j] + pad[j], GRID) for j in (0, 1))
        grid = np.stack(np.meshgrid(g0, g1), -1).reshape(-1, 2).astype(np.float32)
        x = np.stack([self.standardized_grid(i, grid) for i in range(self.static.k)]).astype(np.float32)
        logits = predict_fn(self.static)(state, tf.constant(x)).numpy().astype(np.float64)
        if self.static.regression:
            return [
                pd.DataFrame({"x0": grid[:, 0], "x1": grid[:, 1], "value": logits[i, :, 0]})
                for i in range(self.n_members)
            ]
        # Softmax in NumPy, member by member: TensorFlow's CPU softmax of the whole stack rounds a
        # member's rows differently depending on where they sit in it.
        p = np.exp(logits - logits.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        frames = []
        for i in range(self.n_members):
            prob = p[i, :, 1] if p.shape[-1] == 2 else p[i].max(axis=1)
            frames.append(
                pd.DataFrame({"x0": grid[:, 0], "x1": grid[:, 1], "prob": prob, "predicted": p[i].argmax(1)})
            )
        return frames


def _splits(ds: Dataset, members: list[Experiment]) -> list[Split]:
    """Each member's split, drawn once per distinct (n_samples, val_fraction, split seed): the
    seeds of a comparison repeat across its values, and a stratified draw costs milliseconds."""
    drawn: dict[tuple, Split] = {}
    for m in members:
        key = (m.n_samples, m.val_fraction, m.effective_split_seed)
        if key not in drawn:
            drawn[key] = make_split(ds, *key)
    return [drawn[(m.n_samples, m.val_fraction, m.effective_split_seed)] for m in members]


def _as_numpy(params: Params, moving: Moving | None = None) -> dict[str, list[np.ndarray]]:
    """Stacked parameters (and BN moving statistics) as numpy, for records.group_weights."""
    out = {name: [t.numpy() for t in getattr(params, name)] for name in Params._fields}
    if moving is not None:
        out.update(moving_mean=[t.numpy() for t in moving.mean], moving_var=[t.numpy() for t in moving.var])
    return out


def _mark_eval_divergence(state: State, metrics: dict, last_step: int) -> State:
    """A member whose evaluation is no longer finite has diverged even if its batch losses were."""
    bad = ~np.isfinite(metrics["train_loss"]) | ~np.isfinite(metrics["val_loss"])
    alive = state.alive.numpy()
    newly = alive & bad
    if not newly.any():
        return state
    div = state.diverged_step.numpy().copy()
    div[newly] = last_step
    return state._replace(alive=tf.constant(alive & ~bad), diverged_step=tf.constant(div))
