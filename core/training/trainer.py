"""The stacked trainer: K members of one shape trained as one model, one compiled step for all.

Why: a comparison is many small networks that differ in a few numbers. Trained one by one, each
pays TensorFlow's per-step overhead; stacked, the overhead is paid once per step for the whole
group (8 members cost about 1.4x one). Per-member hyperparameters are [K] tensors.

Shape of a run: Python loops over epochs (cheap: a shuffle, a progress callback, an evaluation);
inside an epoch the step loop runs in TensorFlow under XLA. State is passed functionally (tensors
in, tensors out), so the compiled epoch is cached and reused by every group of the same shape.

Divergence is a result: a member whose loss turns NaN/inf or exceeds DIVERGENCE_FACTOR x its first
loss is marked at that step and frozen; the others go on.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.constants import EVAL_CHUNK
from core.data import Dataset, make_split
from core.results import RunResult
from core.spec import Experiment
from core.training import optim
from core.training.device import GPUS, device_name, tf
from core.training.model import BN_MOMENTUM, Shape, forward, init_member
from core.training.schedules import schedule

DIVERGENCE_FACTOR = 100.0  # loss this many times its first value = blown up
MAX_STEP_ROWS = 2000  # per member, for the steps/layers frames
TRAIN_EVAL_CAP = 1024  # train metrics on a fixed subset of at most this many training examples
GRID = 50  # decision-boundary grid resolution per axis
HIST_BINS = 30
# XLA on this 2-core CPU made the stacked epoch 35x slower (batched matmuls); opt in on GPU.
XLA_STEP = os.environ.get("WHATIF_XLA", "auto") == "1" or (
    os.environ.get("WHATIF_XLA", "auto") == "auto" and bool(GPUS)
)

Progress = Callable[[int, int], None]  # (epochs done, epochs total)


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


class GroupTrainer:
    """Trains members that share a group key; `run()` returns one RunResult per member."""

    def __init__(self, members: list[Experiment], ds: Dataset) -> None:
        keys = {m.group_key for m in members}
        if len(keys) != 1:
            raise ValueError("a stacked group needs members of one network shape and data")
        self.members, self.ds = members, ds
        e = members[0]
        self.splits = [make_split(ds, m.n_samples, m.val_fraction, m.seed) for m in members]
        n_train = len(self.splits[0].train_idx)
        self.batch = min(e.batch_size, n_train)
        self.steps = n_train // self.batch  # the partial last batch is dropped (fixed shapes)
        n_out = 1 if ds.is_regression else ds.n_classes
        self.static = Static(
            shape=Shape.of(e, ds.n_features, n_out),
            optimizer=e.optimizer,
            k=len(members),
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
        tables = [schedule(m, self.steps) for m in members]
        self.lr_table = np.stack([t[0] for t in tables], axis=1)  # [steps total, K]
        self.mom_table = np.stack([t[1] for t in tables], axis=1)

    # -- data ---------------------------------------------------------------------------------
    def epoch_order(self, member: int, epoch: int) -> np.ndarray:
        """Training indices of one member's epoch, from its own seed (also used by parity tests)."""
        rng = np.random.default_rng([self.members[member].seed, epoch, 104729])
        return rng.permutation(self.splits[member].train_idx)[: self.steps * self.batch]

    def standardized(self, member: int, idx: np.ndarray) -> np.ndarray:
        s = self.splits[member]
        return (self.ds.x[idx] - s.mean) / s.std

    # -- training -----------------------------------------------------------------------------
    def run(self, progress: Progress | None = None, lr_table: np.ndarray | None = None) -> list[RunResult]:
        """Train all members. lr_table ([steps, K]) overrides the schedules (LR range test) and
        sets the number of steps; otherwise the members' epochs and schedules apply."""
        st, k = self.static, self.static.k
        if lr_table is None:
            lr_table, mom_table = self.lr_table, self.mom_table
        else:  # an LR sweep: each member keeps its constant momentum
            lr_table = np.asarray(lr_table, np.float32)
            momenta = np.array([m.resolved().momentum for m in self.members], np.float32)
            mom_table = np.broadcast_to(momenta, lr_table.shape)
        total_steps = lr_table.shape[0]
        epochs = math.ceil(total_steps / self.steps)
        state = self._initial_state()
        data = self._data_tensors()
        hyper = self._hyper_tensors()
        stride = max(1, math.ceil(total_steps / MAX_STEP_ROWS))
        step_rows, layer_rows, epoch_rows, weight_rows = [], [], [], []
        epoch_fn, eval_fn = compiled(st)
        start = time.perf_counter()
        for epoch in range(epochs):
            lo, hi = epoch * self.steps, min((epoch + 1) * self.steps, total_steps)
            perm = np.stack([self.epoch_order(i, epoch) for i in range(k)]).astype(np.int32)
            lrs = np.zeros((self.steps, k), np.float32)
            moms = np.zeros((self.steps, k), np.float32)
            lrs[: hi - lo], moms[: hi - lo] = lr_table[lo:hi], mom_table[lo:hi]
            active = np.arange(self.steps) < hi - lo  # a partial last epoch in an LR test
            state, rec = epoch_fn(state, data, hyper, perm, lrs, moms, tf.constant(active), tf.constant(lo))
            rec = {name: t.numpy()[: hi - lo] for name, t in rec.items()}
            step_rows.append(_step_records(rec, lo, epoch + 1, lrs[: hi - lo], moms[: hi - lo], stride))
            layer_rows.append(_layer_records(rec, lo, epoch + 1, stride, st.shape.layer_names))
            metrics = self._evaluate(eval_fn, state, data)
            seconds = time.perf_counter() - start
            epoch_rows.append(_epoch_records(metrics, epoch + 1, lr_table[hi - 1], seconds))
            weight_rows.append(_weight_records(metrics, epoch + 1, st.shape.layer_names))
            state = _mark_eval_divergence(state, metrics, hi - 1)
            if progress is not None:
                progress(epoch + 1, epochs)
            if not state["alive"].numpy().any():
                break
        seconds = time.perf_counter() - start
        return self._results(state, step_rows, layer_rows, epoch_rows, weight_rows, seconds, data)

    def _initial_state(self) -> dict:
        st = self.static
        inits = [init_member(m, st.shape) for m in self.members]
        kernels = [tf.constant(np.stack([i["kernels"][j] for i in inits])) for j in range(st.shape.depth + 1)]
        biases = [tf.constant(np.stack([i["biases"][j] for i in inits])) for j in range(st.shape.depth + 1)]
        k, w = st.k, st.shape.width
        n_bn = st.shape.depth if st.shape.batch_norm != "none" else 0
        bn = [
            {"gamma": tf.ones((k, w)), "beta": tf.zeros((k, w)), "moving_mean": tf.zeros((k, w)),
             "moving_var": tf.ones((k, w))}
            for _ in range(n_bn)
        ]  # fmt: skip
        params = {
            "kernels": kernels,
            "biases": biases,
            "gamma": [b["gamma"] for b in bn],
            "beta": [b["beta"] for b in bn],
        }
        flat = _flatten(params)
        slots = {name: [tf.zeros_like(p) for p in flat] for name in optim.slot_names(st.optimizer)}
        return {
            "params": params,
            "moving": {"mean": [b["moving_mean"] for b in bn], "var": [b["moving_var"] for b in bn]},
            "slots": slots,
            "powers": (tf.ones(k), tf.ones(k)),
            "alive": tf.ones(k, tf.bool),
            "first_loss": tf.zeros(k),
            "diverged_step": tf.fill([k], -1),
        }

    def _data_tensors(self) -> dict:
        y_dtype = np.float32 if self.ds.is_regression else np.int32
        return {
            "x": tf.constant(self.ds.x.astype(np.float32)),
            "y": tf.constant(self.ds.y.astype(y_dtype)),
            "mean": tf.constant(np.stack([s.mean for s in self.splits]).astype(np.float32)),
            "inv_std": tf.constant(np.stack([1.0 / s.std for s in self.splits]).astype(np.float32)),
        }

    def _hyper_tensors(self) -> dict:
        def vec(name: str, dtype=np.float32) -> tf.Tensor:
            return tf.constant(np.array([getattr(m, name) for m in self.members], dtype))

        hyper = {n: vec(n) for n in ("l1", "l2", "weight_decay", "clipnorm", "clipvalue", "dropout")}
        hyper["seed"] = vec("seed", np.int32)
        return hyper

    def _eval_sets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Index and mask arrays [K, n padded to equal chunks] for the train and validation splits."""
        out = {}
        train = [self._eval_subset(i) for i in range(self.static.k)]
        for name, idx in (("train", train), ("val", [s.val_idx for s in self.splits])):
            n = len(idx[0])
            chunk = math.ceil(n / math.ceil(n / EVAL_CHUNK))  # equal chunks: little padding
            padded = math.ceil(n / chunk) * chunk
            arr = np.zeros((len(idx), padded), np.int32)
            mask = np.zeros((len(idx), padded), np.float32)
            for i, ix in enumerate(idx):
                arr[i, :n], mask[i, :n] = ix, 1.0
            out[name] = (arr, mask)
        return out

    def _eval_subset(self, member: int) -> np.ndarray:
        """A fixed random subset of the member's training rows for the end-of-epoch train metrics
        (a random draw, because a file sorted by class would bias the first rows)."""
        idx = self.splits[member].train_idx
        if len(idx) <= TRAIN_EVAL_CAP:
            return idx
        return np.random.default_rng([self.members[member].seed, 1]).permutation(idx)[:TRAIN_EVAL_CAP]

    @functools.cached_property
    def eval_sets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return self._eval_sets()

    def _evaluate(self, eval_fn, state: dict, data: dict) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, (idx, mask) in self.eval_sets.items():
            chunk = math.ceil(idx.shape[1] / math.ceil(idx.shape[1] / EVAL_CHUNK))
            loss = np.zeros(self.static.k)
            correct = np.zeros(self.static.k)
            for c in range(0, idx.shape[1], chunk):
                res = eval_fn(state, data, idx[:, c : c + chunk], mask[:, c : c + chunk])
                loss += res["loss_sum"].numpy()
                correct += res["correct"].numpy()
            n = mask.sum(axis=1)
            out[f"{name}_loss"] = loss / n
            out[f"{name}_accuracy"] = (
                np.full(self.static.k, np.nan) if self.static.regression else correct / n
            )
        stats = weight_stats(state["params"]["kernels"])
        out.update({name: v.numpy() for name, v in stats.items()})
        out["alive"] = state["alive"].numpy()
        return out

    def _results(
        self, state, step_rows, layer_rows, epoch_rows, weight_rows, seconds, data
    ) -> list[RunResult]:
        st = self.static
        steps_df = pd.concat(step_rows, ignore_index=True)
        layers_df = pd.concat(layer_rows, ignore_index=True)
        epochs_df = pd.concat(epoch_rows, ignore_index=True)
        weights_df = pd.concat(weight_rows, ignore_index=True)
        kernels = [t.numpy() for t in state["params"]["kernels"]]
        boundary = self._boundary(state, data) if self.ds.is_2d else None
        diverged_step = state["diverged_step"].numpy()
        device = device_name()
        out = []
        for i, e in enumerate(self.members):
            div = int(diverged_step[i])
            frames = {
                "steps": _member(steps_df, i),
                "layers": _member(layers_df, i),
                "epochs": _member(epochs_df, i),
                "weights": _member(weights_df, i),
                "histograms": _histograms(kernels, i, st.shape.layer_names),
            }
            if boundary is not None:
                frames["boundary"] = boundary[i]
            summary = _summary(e, frames, div, self, seconds, device)
            out.append(RunResult(e, summary, frames))
        return out

    def _boundary(self, state: dict, data: dict) -> list[pd.DataFrame]:
        """Class probabilities on a grid over the raw feature range (same grid for all members)."""
        lo, hi = self.ds.x.min(axis=0), self.ds.x.max(axis=0)
        pad = 0.1 * (hi - lo)
        g0, g1 = (np.linspace(lo[j] - pad[j], hi[j] + pad[j], GRID) for j in (0, 1))
        grid = np.stack(np.meshgrid(g0, g1), -1).reshape(-1, 2).astype(np.float32)
        x = np.stack([(grid - s.mean) / s.std for s in self.splits]).astype(np.float32)
        logits = predict_fn(self.static)(state, tf.constant(x)).numpy()
        p = tf.nn.softmax(logits).numpy()
        frames = []
        for i in range(self.static.k):
            prob = p[i, :, 1] if p.shape[-1] == 2 else p[i].max(axis=1)
            frames.append(
                pd.DataFrame({"x0": grid[:, 0], "x1": grid[:, 1], "prob": prob, "predicted": p[i].argmax(1)})
            )
        return frames


# --------------------------------------------------------------------------------------------
# Compiled graphs, cached per Static so every group of one shape reuses them.


def weight_stats(kernels: list[tf.Tensor]) -> dict[str, tf.Tensor]:
    """Per member and kernel: L2 norm, fraction |w| < 1e-3, max |w| -> three [K, L] tensors."""
    norm = tf.stack([optim.member_norm(w) for w in kernels], axis=1)
    sparse = tf.stack(
        [tf.reduce_mean(tf.cast(tf.abs(w) < 1e-3, tf.float32), axis=[1, 2]) for w in kernels], axis=1
    )
    peak = tf.stack([tf.reduce_max(tf.abs(w), axis=[1, 2]) for w in kernels], axis=1)
    return {"weight_norm": norm, "sparsity": sparse, "weight_max_abs": peak}


def _losses(st: Static, logits: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Per-example loss [K, B] and correctness [K, B] (zeros for regression)."""
    if st.regression:
        err = tf.square(logits[..., 0] - y)
        return err, tf.zeros_like(err)
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    correct = tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), y), tf.float32)
    return loss, correct


def _flatten(params: dict) -> list[tf.Tensor]:
    return [*params["kernels"], *params["biases"], *params["gamma"], *params["beta"]]


def _unflatten(flat: list[tf.Tensor], n_layers: int) -> dict:
    n_bn = (len(flat) - 2 * n_layers) // 2
    k, b = flat[:n_layers], flat[n_layers : 2 * n_layers]
    rest = flat[2 * n_layers :]
    return {"kernels": k, "biases": b, "gamma": rest[:n_bn], "beta": rest[n_bn:]}


def _bn_list(params: dict, moving: dict) -> list[dict]:
    return [
        {"gamma": g, "beta": b, "moving_mean": m, "moving_var": v}
        for g, b, m, v in zip(params["gamma"], params["beta"], moving["mean"], moving["var"])
    ]


@functools.cache
def compiled(st: Static):
    """The XLA-compiled epoch (all steps) and the evaluation function for a group shape."""

    n_layers = st.shape.depth + 1

    def train_step(state, data, hyper, idx, lr, mom, active, step):
        params, alive = state["params"], state["alive"]
        x = (tf.gather(data["x"], idx) - data["mean"][:, None, :]) * data["inv_std"][:, None, :]
        y = tf.gather(data["y"], idx)
        flat = _flatten(params)  # kernels first, so flat[:n_layers] are the kernels
        with tf.GradientTape() as tape:
            tape.watch(flat)
            logits, stats = forward(
                st.shape, params["kernels"], params["biases"], _bn_list(params, state["moving"]), x,
                training=True, dropout=hyper["dropout"] if st.use_dropout else None,
                seeds=hyper["seed"], counter=step,
            )  # fmt: skip
            loss = tf.reduce_mean(_losses(st, logits, y)[0], axis=1)
            objective = loss
            if st.use_l1:
                objective += hyper["l1"] * tf.add_n(
                    [tf.reduce_sum(tf.abs(w), [1, 2]) for w in params["kernels"]]
                )
            if st.use_l2:
                objective += hyper["l2"] * tf.add_n(
                    [tf.reduce_sum(tf.square(w), [1, 2]) for w in params["kernels"]]
                )
            total = tf.reduce_sum(tf.where(alive, objective, 0.0))
        grads = tape.gradient(total, flat)
        norms = [optim.member_norm(g) for g in grads]
        grad_norm = tf.sqrt(tf.add_n([tf.square(n) for n in norms]))
        layer_grad = tf.stack(norms[:n_layers], axis=1)
        grads, fired = optim.clip(
            grads, norms, hyper["clipnorm"], hyper["clipvalue"], st.use_clipnorm, st.use_clipvalue
        )

        first = tf.where(tf.equal(step, 0), objective, state["first_loss"])
        ok = tf.math.is_finite(objective) & (objective <= DIVERGENCE_FACTOR * tf.maximum(first, 1e-3))
        ok = ok | ~active  # a padded step past the end of an LR test changes nothing
        keep = alive & ok & active
        b1p, b2p = state["powers"]
        b1p, b2p = b1p * mom, b2p * optim.ADAM_BETA_2
        decay = hyper["weight_decay"] * lr
        new_flat, new_slots, sq_update = [], {n: [] for n in state["slots"]}, []
        for j, (w, g) in enumerate(zip(flat, grads)):
            w_dec = w - w * optim.per_member(decay, w) if st.use_weight_decay and j < n_layers else w
            slots = {n: state["slots"][n][j] for n in state["slots"]}
            new_w, slots = optim.update(st.optimizer, w_dec, g, slots, lr, mom, (b1p, b2p))
            new_w = tf.where(optim.per_member(keep, w), new_w, w)  # frozen once diverged
            sq_update.append(tf.square(optim.member_norm(new_w - w)))
            new_flat.append(new_w)
            for n, v in slots.items():  # a dead member's slots are never read again
                new_slots[n].append(v)
        new_moving = state["moving"]
        if stats:
            keep_m = keep[:, None]

            def ema(old, batch):
                return tf.where(keep_m, old * BN_MOMENTUM + batch * (1 - BN_MOMENTUM), old)

            new_moving = {
                "mean": [ema(o, s[0]) for o, s in zip(state["moving"]["mean"], stats)],
                "var": [ema(o, s[1]) for o, s in zip(state["moving"]["var"], stats)],
            }
        new_state = {
            "params": _unflatten(new_flat, n_layers),
            "moving": new_moving,
            "slots": new_slots,
            "powers": (tf.where(keep, b1p, state["powers"][0]), tf.where(keep, b2p, state["powers"][1])),
            "alive": alive & ok,
            "first_loss": first,
            "diverged_step": tf.where(alive & ~ok, step, state["diverged_step"]),
        }
        nan = tf.fill(tf.shape(loss), float("nan"))
        record = {
            "loss": tf.where(alive, loss, nan),
            "grad_norm": tf.where(alive, grad_norm, nan),
            "update_norm": tf.where(alive, tf.sqrt(tf.add_n(sq_update)), nan),
            "clipped": fired & alive,
            "alive": alive,
            "layer_grad": tf.where(alive[:, None], layer_grad, float("nan")),
        }
        return new_state, record

    if XLA_STEP:
        train_step = tf.function(train_step, jit_compile=True, autograph=False)

    names = ("loss", "grad_norm", "update_norm", "clipped", "alive", "layer_grad")
    dtypes = (tf.float32, tf.float32, tf.float32, tf.bool, tf.bool, tf.float32)

    # autograph=False and an explicit while_loop: tracing is paid on every new shape, and
    # autograph's source conversion of the whole step was most of it.
    @tf.function(reduce_retracing=True, autograph=False)
    def epoch_fn(state, data, hyper, perm, lrs, moms, active, step0):
        def body(s, state, arrays):
            idx = tf.reshape(perm[:, s * st.batch : (s + 1) * st.batch], (st.k, st.batch))  # static shape
            state, rec = train_step(state, data, hyper, idx, lrs[s], moms[s], active[s], step0 + s)
            return s + 1, state, tuple(a.write(s, rec[n]) for n, a in zip(names, arrays))

        arrays = tuple(tf.TensorArray(d, size=st.steps) for d in dtypes)
        _, state, arrays = tf.while_loop(
            lambda s, *_: s < st.steps, body, (tf.constant(0), state, arrays), parallel_iterations=1
        )
        return state, {n: a.stack() for n, a in zip(names, arrays)}

    @tf.function(jit_compile=XLA_STEP, reduce_retracing=True, autograph=False)  # XLA: 3-5 s a shape on CPU
    def eval_fn(state, data, idx, mask):
        x = (tf.gather(data["x"], idx) - data["mean"][:, None, :]) * data["inv_std"][:, None, :]
        y = tf.gather(data["y"], idx)
        params = state["params"]
        logits, _ = forward(
            st.shape,
            params["kernels"],
            params["biases"],
            _bn_list(params, state["moving"]),
            x,
            training=False,
        )
        loss, correct = _losses(st, logits, y)
        return {"loss_sum": tf.reduce_sum(loss * mask, 1), "correct": tf.reduce_sum(correct * mask, 1)}

    return epoch_fn, eval_fn


@functools.cache
def predict_fn(st: Static):
    @tf.function(reduce_retracing=True, autograph=False)
    def predict(state, x):
        params = state["params"]
        return forward(
            st.shape,
            params["kernels"],
            params["biases"],
            _bn_list(params, state["moving"]),
            x,
            training=False,
        )[0]

    return predict


def _mark_eval_divergence(state: dict, metrics: dict, last_step: int) -> dict:
    """A member whose evaluation is no longer finite has diverged even if its batch losses were."""
    bad = ~np.isfinite(metrics["train_loss"]) | ~np.isfinite(metrics["val_loss"])
    alive = state["alive"].numpy()
    newly = alive & bad
    if not newly.any():
        return state
    div = state["diverged_step"].numpy().copy()
    div[newly] = last_step
    return {**state, "alive": tf.constant(alive & ~bad), "diverged_step": tf.constant(div)}


# --------------------------------------------------------------------------------------------
# Records -> long-form frames (a "member" column, split off per run in GroupTrainer._results).


def _step_records(rec, step0, epoch, lrs, moms, stride) -> pd.DataFrame:
    n, k = rec["loss"].shape
    steps = step0 + np.arange(n)
    keep = steps % stride == 0
    return pd.DataFrame(
        {
            "member": np.tile(np.arange(k), keep.sum()),
            "step": np.repeat(steps[keep], k),
            "epoch": epoch,
            "loss": rec["loss"][keep].ravel(),
            "grad_norm": rec["grad_norm"][keep].ravel(),
            "update_norm": rec["update_norm"][keep].ravel(),
            "clipped": rec["clipped"][keep].ravel(),
            "lr": lrs[keep].ravel(),
            "momentum": moms[keep].ravel(),
            "alive": rec["alive"][keep].ravel(),
        }
    )


def _layer_records(rec, step0, epoch, stride, names) -> pd.DataFrame:
    n, k, n_layers = rec["layer_grad"].shape
    steps = step0 + np.arange(n)
    keep = steps % stride == 0
    m = int(keep.sum())
    return pd.DataFrame(
        {
            "member": np.tile(np.repeat(np.arange(k), n_layers), m),
            "step": np.repeat(steps[keep], k * n_layers),
            "epoch": epoch,
            "layer": np.tile(np.arange(n_layers), m * k),
            "layer_name": np.tile(np.array(names), m * k),
            "grad_norm": rec["layer_grad"][keep].ravel(),
            "alive": np.repeat(rec["alive"][keep].ravel(), n_layers),
        }
    )


def _epoch_records(metrics, epoch, lrs, seconds) -> pd.DataFrame:
    k = len(metrics["alive"])
    return pd.DataFrame(
        {
            "member": np.arange(k),
            "epoch": epoch,
            "train_loss": metrics["train_loss"],
            "val_loss": metrics["val_loss"],
            "train_accuracy": metrics["train_accuracy"],
            "val_accuracy": metrics["val_accuracy"],
            "lr": lrs,
            "seconds": seconds,
            "alive": metrics["alive"],
        }
    )


def _weight_records(metrics, epoch, names) -> pd.DataFrame:
    k, n_layers = metrics["weight_norm"].shape
    return pd.DataFrame(
        {
            "member": np.repeat(np.arange(k), n_layers),
            "epoch": epoch,
            "layer": np.tile(np.arange(n_layers), k),
            "layer_name": np.tile(np.array(names), k),
            "weight_norm": metrics["weight_norm"].ravel(),
            "sparsity": metrics["sparsity"].ravel(),
            "weight_max_abs": metrics["weight_max_abs"].ravel(),
            "alive": np.repeat(metrics["alive"], n_layers),
        }
    )


def _member(df: pd.DataFrame, i: int) -> pd.DataFrame:
    """Rows of member i while it was alive: a diverged run stops where it blew up."""
    rows = df[(df["member"] == i) & df["alive"]]
    return rows.drop(columns=["member", "alive"]).reset_index(drop=True)


def _histograms(kernels: list[np.ndarray], i: int, names: list[str]) -> pd.DataFrame:
    """Kernel weight histograms; bins shared across members so variants compare bin for bin."""
    parts = []
    for layer, (w, name) in enumerate(zip(kernels, names)):
        finite = w[np.isfinite(w)]
        edge = float(np.abs(finite).max()) if finite.size else 1.0
        counts, edges = np.histogram(w[i][np.isfinite(w[i])], bins=HIST_BINS, range=(-edge, edge))
        parts.append(pd.DataFrame({"layer": layer, "layer_name": name, "bin_start": edges[:-1],
                                   "bin_end": edges[1:], "count": counts}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _summary(
    e: Experiment, frames: dict, diverged_step: int, trainer: GroupTrainer, seconds: float, device: str
) -> dict:
    ep, layers = frames["epochs"], frames["layers"]
    diverged = diverged_step >= 0
    last = ep.iloc[-1] if len(ep) and not diverged else None

    def final(col: str) -> float:
        return float(last[col]) if last is not None else float("nan")

    first_name, last_name = trainer.static.shape.layer_names[0], trainer.static.shape.layer_names[-1]
    weights = frames["weights"]
    final_w = weights[weights["epoch"] == weights["epoch"].max()] if len(weights) else weights
    return {
        "final_train_loss": final("train_loss"),
        "final_val_loss": final("val_loss"),
        "final_train_accuracy": final("train_accuracy"),
        "final_val_accuracy": final("val_accuracy"),
        "best_val_loss": float(ep["val_loss"].min()) if len(ep) else float("nan"),
        "best_val_accuracy": float(ep["val_accuracy"].max()) if len(ep) else float("nan"),
        "diverged": diverged,
        "diverged_step": diverged_step,
        "diverged_epoch": diverged_step // trainer.steps + 1 if diverged else -1,
        "epochs_run": int(ep["epoch"].max()) if len(ep) else 0,
        "grad_norm_first_layer": float(layers.loc[layers["layer_name"] == first_name, "grad_norm"].mean()),
        "grad_norm_last_layer": float(layers.loc[layers["layer_name"] == last_name, "grad_norm"].mean()),
        "weight_sparsity": float(final_w["sparsity"].mean()) if len(final_w) else float("nan"),
        "steps_per_epoch": trainer.steps,
        "batch_size_used": trainer.batch,
        "n_train": len(trainer.splits[0].train_idx),
        "n_val": len(trainer.splits[0].val_idx),
        "n_params": trainer.static.shape.n_params,
        "group_size": trainer.static.k,
        "seconds": seconds / trainer.static.k,
        "group_seconds": seconds,
        "device": device,
    }
