"""What a stacked training reports, as long-form pandas frames, histograms and a summary per run.

The compiled step returns [steps, K, ...] arrays; here they become rows with a "member" column
(split off per run by `member_rows`). Pages, claims and the store read these frames, so the
column names are a contract: steps (per step), layers (per step and layer), epochs, weights (per
epoch and layer), histograms (final kernels) and the summary dict; beside them each run's initial
and final weights (`group_weights`, core.weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.spec import Experiment
from core.weights import RunWeights

HIST_BINS = 30


@dataclass(frozen=True)
class GroupFacts:
    """Numbers about the group that every run's summary repeats."""

    layer_names: list[str]
    steps_per_epoch: int
    batch: int
    n_train: int
    n_val: int
    n_params: int
    group_size: int  # real members (padding members are not counted)
    seconds: float  # wall time of the whole group
    device: str


def step_records(rec: dict, step0: int, epoch: int | np.ndarray, lrs, moms, stride: int) -> pd.DataFrame:
    """One row per member and recorded step (every `stride`-th step, to bound the frame). rec
    holds [n, K] arrays of n consecutive steps from step0; epoch is theirs (one, or one per step:
    a whole run's steps make one frame, cheaper than a frame per epoch and a concat)."""
    n, k = rec["loss"].shape
    steps = step0 + np.arange(n)
    keep = steps % stride == 0
    return pd.DataFrame(
        {
            "member": np.tile(np.arange(k), keep.sum()),
            "step": np.repeat(steps[keep], k),
            "epoch": np.repeat(_per_step(epoch, n)[keep], k),
            "loss": rec["loss"][keep].ravel(),
            "grad_norm": rec["grad_norm"][keep].ravel(),
            "update_norm": rec["update_norm"][keep].ravel(),
            "weight_max_abs": rec["weight_max_abs"][keep].ravel(),
            "clipped": rec["clipped"][keep].ravel(),
            "lr": lrs[keep].ravel(),
            "momentum": moms[keep].ravel(),
            "alive": rec["alive"][keep].ravel(),
        }
    )


def layer_records(
    rec: dict, step0: int, epoch: int | np.ndarray, stride: int, names: list[str]
) -> pd.DataFrame:
    """One row per member, layer and recorded step (epoch as in step_records)."""
    n, k, n_layers = rec["layer_grad"].shape
    steps = step0 + np.arange(n)
    keep = steps % stride == 0
    m = int(keep.sum())
    return pd.DataFrame(
        {
            "member": np.tile(np.repeat(np.arange(k), n_layers), m),
            "step": np.repeat(steps[keep], k * n_layers),
            "epoch": np.repeat(_per_step(epoch, n)[keep], k * n_layers),
            "layer": np.tile(np.arange(n_layers), m * k),
            "layer_name": np.tile(np.array(names), m * k),
            "grad_norm": rec["layer_grad"][keep].ravel(),
            "alive": np.repeat(rec["alive"][keep].ravel(), n_layers),
        }
    )


def epoch_records(metrics: dict, epoch: int | np.ndarray, lrs, seconds: float | np.ndarray) -> pd.DataFrame:
    """One row per member and epoch: metrics of one epoch ([K] arrays, epoch and seconds
    numbers) or of several ([E, K] arrays, epoch and seconds [E])."""
    alive = np.atleast_2d(metrics["alive"])
    n, k = alive.shape

    def per_member(values) -> np.ndarray:
        return np.atleast_2d(values).ravel()

    return pd.DataFrame(
        {
            "member": np.tile(np.arange(k), n),
            "epoch": np.repeat(_per_step(epoch, n), k),
            "train_loss": per_member(metrics["train_loss"]),
            "val_loss": per_member(metrics["val_loss"]),
            "train_accuracy": per_member(metrics["train_accuracy"]),
            "val_accuracy": per_member(metrics["val_accuracy"]),
            "lr": per_member(lrs),
            "seconds": np.repeat(np.broadcast_to(np.asarray(seconds, np.float64), (n,)), k),
            "alive": alive.ravel(),
        }
    )


def weight_records(metrics: dict, epoch: int | np.ndarray, names: list[str]) -> pd.DataFrame:
    """One row per member, layer and epoch: [K, L] weight statistics of one epoch or [E, K, L]."""
    norm = metrics["weight_norm"].reshape(-1, *metrics["weight_norm"].shape[-2:])
    n, k, n_layers = norm.shape
    return pd.DataFrame(
        {
            "member": np.tile(np.repeat(np.arange(k), n_layers), n),
            "epoch": np.repeat(_per_step(epoch, n), k * n_layers),
            "layer": np.tile(np.arange(n_layers), k * n),
            "layer_name": np.tile(np.array(names), k * n),
            "weight_norm": norm.ravel(),
            "sparsity": metrics["sparsity"].ravel(),
            "weight_max_abs": metrics["weight_max_abs"].ravel(),
            "alive": np.repeat(np.ravel(metrics["alive"]), n_layers),
        }
    )


def _per_step(epoch: int | np.ndarray, n: int) -> np.ndarray:
    """The epoch number of each of n rows: one number for all, or already one per row."""
    return np.broadcast_to(np.asarray(epoch, np.int64), (n,))


class RunLog:
    """What each epoch of a run reported, kept as NumPy arrays of the real members (the first
    n_members of the stack); `frames` makes the steps, layers, epochs and weights frames once, at
    the end (a frame per epoch and a concat cost more than the records themselves)."""

    def __init__(self, n_members: int) -> None:
        self.n = n_members
        self.steps: list[dict[str, np.ndarray]] = []  # [steps of the epoch, members, ...] per field
        self.epochs: list[dict[str, np.ndarray]] = []  # [members, ...] per field

    def add_steps(self, rec: dict[str, np.ndarray], lrs: np.ndarray, moms: np.ndarray, epoch: int) -> None:
        """One epoch's step records ([steps, K, ...] each) and learning rates, momenta [steps, K]."""
        n = self.n
        self.steps.append({name: a[:, :n] for name, a in rec.items()})
        self.steps[-1].update(lr=lrs[:, :n], momentum=moms[:, :n], epoch=np.full(len(lrs), epoch))

    def add_epoch(self, metrics: dict[str, np.ndarray], lrs: np.ndarray, seconds: float, epoch: int) -> None:
        """One epoch's metrics ([K, ...] each), last learning rates [K] and wall time so far."""
        self.epochs.append({name: v[: self.n] for name, v in metrics.items()})
        self.epochs[-1].update(lr=lrs[: self.n], seconds=seconds, epoch=epoch)

    def frames(self, stride: int, names: list[str]) -> dict[str, pd.DataFrame]:
        steps = {name: np.concatenate([s[name] for s in self.steps]) for name in self.steps[0]}
        epochs = {name: np.stack([np.asarray(e[name]) for e in self.epochs]) for name in self.epochs[0]}
        return {
            "steps": step_records(steps, 0, steps["epoch"], steps["lr"], steps["momentum"], stride),
            "layers": layer_records(steps, 0, steps["epoch"], stride, names),
            "epochs": epoch_records(epochs, epochs["epoch"], epochs["lr"], epochs["seconds"]),
            "weights": weight_records(epochs, epochs["epoch"], names),
        }


def member_rows(df: pd.DataFrame, i: int) -> pd.DataFrame:
    """Rows of member i while it was alive: a diverged run stops where it blew up."""
    rows = df[(df["member"] == i) & df["alive"]]
    return rows.drop(columns=["member", "alive"]).reset_index(drop=True)


def split_members(df: pd.DataFrame, n_members: int) -> list[pd.DataFrame]:
    """member_rows(df, i) for every i < n_members, with one sort of the member column instead of
    a boolean mask (and a copy of the frame) per member: the records of a big group are many."""
    member, alive = df["member"].to_numpy(), df["alive"].to_numpy()
    order = np.argsort(member, kind="stable")  # each member's rows keep their order
    bounds = np.searchsorted(member[order], np.arange(n_members + 1))
    rest = df.drop(columns=["member", "alive"])
    out = []
    for i in range(n_members):
        rows = order[bounds[i] : bounds[i + 1]]
        out.append(rest.take(rows[alive[rows]]).reset_index(drop=True))
    return out


def histograms(kernels: list[np.ndarray], i: int, names: list[str]) -> pd.DataFrame:
    """Kernel weight histograms of member i over its own range of |w|, so a run's histogram does
    not depend on its group-mates (the charts move counts onto common edges to compare runs)."""
    counts, edges = [], []
    for w in kernels:
        mine = w[i][np.isfinite(w[i])]
        edge = float(np.abs(mine).max()) if mine.size else 1.0
        layer_counts, layer_edges = np.histogram(mine, bins=HIST_BINS, range=(-edge, edge))
        counts.append(layer_counts)
        edges.append(layer_edges)
    # One frame from whole columns: a frame per layer and a concat cost more than the histograms.
    return pd.DataFrame(
        {
            "layer": np.repeat(np.arange(len(kernels), dtype=np.int64), HIST_BINS),
            "layer_name": np.repeat(np.array(names[: len(kernels)], dtype=object), HIST_BINS),
            "bin_start": np.concatenate([e[:-1] for e in edges]),
            "bin_end": np.concatenate([e[1:] for e in edges]),
            "count": np.concatenate(counts),
        }
    )


def summary(e: Experiment, frames: dict, diverged_step: int, facts: GroupFacts) -> dict:
    """The run's headline numbers (final values are NaN for a diverged run).

    Selections go through NumPy (a boolean .loc per number was most of the cost for a big group);
    the means stay pandas' Series.mean of the selected float32 values, so the numbers do not move."""
    ep, layers, weights = frames["epochs"], frames["layers"], frames["weights"]
    diverged = diverged_step >= 0
    has_last = len(ep) > 0 and not diverged

    def final(col: str) -> float:
        return float(ep[col].to_numpy()[-1]) if has_last else float("nan")

    layer_names = layers["layer_name"].to_numpy()
    grad_norms = layers["grad_norm"].to_numpy()

    def layer_grad(name: str) -> float:
        return float(pd.Series(grad_norms[layer_names == name]).mean())

    if len(weights):
        epochs = weights["epoch"].to_numpy()
        sparsity = float(pd.Series(weights["sparsity"].to_numpy()[epochs == epochs.max()]).mean())
    else:
        sparsity = float("nan")
    return {
        "final_train_loss": final("train_loss"),
        "final_val_loss": final("val_loss"),
        "final_train_accuracy": final("train_accuracy"),
        "final_val_accuracy": final("val_accuracy"),
        "best_val_loss": float(ep["val_loss"].min()) if len(ep) else float("nan"),
        "best_val_accuracy": float(ep["val_accuracy"].max()) if len(ep) else float("nan"),
        "diverged": diverged,
        "diverged_step": diverged_step,
        "diverged_epoch": diverged_step // facts.steps_per_epoch + 1 if diverged else -1,
        "epochs_run": int(ep["epoch"].max()) if len(ep) else 0,
        "grad_norm_first_layer": layer_grad(facts.layer_names[0]),
        "grad_norm_last_layer": layer_grad(facts.layer_names[-1]),
        "weight_sparsity": sparsity,
        "steps_per_epoch": facts.steps_per_epoch,
        "batch_size_used": facts.batch,
        "n_train": facts.n_train,
        "n_val": facts.n_val,
        "n_params": facts.n_params,
        "group_size": facts.group_size,
        "seconds": facts.seconds / facts.group_size,
        "group_seconds": facts.seconds,
        "device": facts.device,
    }


def group_weights(
    initial: dict[str, list[np.ndarray]], final: dict[str, list[np.ndarray]], n_members: int, names: list[str]
) -> list[RunWeights]:
    """Each real member's initial and final weights (core.weights order) from the stacked arrays.

    `initial` / `final` hold [K, ...] numpy arrays under "kernels", "biases", "gamma", "beta" (one
    per layer; gamma/beta empty without batch norm) and `final` also "moving_mean", "moving_var".
    Members past n_members are the trainer's padding copies and are dropped."""
    out = []
    for i in range(n_members):

        def ordered(params: dict[str, list[np.ndarray]], i: int = i) -> list[np.ndarray]:
            arrays: list[np.ndarray] = []
            for layer in range(len(names)):
                arrays += [params["kernels"][layer][i], params["biases"][layer][i]]
                if layer < len(params["gamma"]):
                    arrays += [params["gamma"][layer][i], params["beta"][layer][i]]
            return [np.array(a, np.float32) for a in arrays]

        extra = {
            f"{names[layer]}/{kind}": np.array(final[kind][layer][i], np.float32)
            for kind in ("moving_mean", "moving_var")
            for layer in range(len(final[kind]))
        }
        out.append(RunWeights(list(names), ordered(initial), ordered(final), extra))
    return out
