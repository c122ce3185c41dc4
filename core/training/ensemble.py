"""An ensemble of E independently initialized networks whose predictions are averaged (VG5).

The notes suggest an ensemble of shorter networks as a stand-in for one deep network when deep
training is hard. A run with ensemble=E trains E networks of the run's width and depth, each from
its own initial weights and its own data order (net 0 draws exactly like a stacked run of the
same seed; net j > 0 from a seed derived from (seed, j)), all on the run's one split; the
ensemble predicts the mean of their softmax outputs (regression: the mean output). Its epochs
frame scores that averaged prediction after each epoch; the layers frame holds every net's own
kernel gradients (column `net`), so "first-layer gradient" is the mean over the E shallow nets;
the `nets` frame gives each net's own final scores beside the ensemble's. n_params counts all E.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.data import Dataset
from core.results import RunResult
from core.spec import Experiment
from core.training import keras_mlp as km

ENSEMBLE_SALT = 2_000_003  # the derived seeds of nets 1.. : a stream apart from every other draw
SEED_LIMIT = 2**31  # derived seeds stay valid Experiment seeds


def net_seed(seed: int, net: int) -> int:
    """Net 0 is the stacked run of this seed; the others get unrelated seeds derived from it."""
    if net == 0:
        return seed
    return int(np.random.default_rng([seed, ENSEMBLE_SALT, net]).integers(SEED_LIMIT))


def average(outputs: list[np.ndarray], regression: bool) -> np.ndarray:
    """The ensemble's prediction: mean softmax (classes) or mean output (regression)."""
    if regression:
        return np.mean(outputs, axis=0)
    return np.mean([km.softmax(o) for o in outputs], axis=0)


def train_member(e: Experiment, ds: Dataset, tick) -> RunResult:
    clock = km.timer()
    data = km.MemberData.of(e, ds)
    shape = km.shape_of(e, data)
    fitter = km.fitter_for(shape, e, data.regression)
    names = [*km.hidden_names(shape.depth), "output"]
    traces, nets, kernels = [], [], []
    for net in range(e.ensemble):
        seed = net_seed(e.seed, net)
        fitter.load(km.initial_weights(e, shape, seed), e)
        done = net * e.epochs
        trace = km.fit(
            fitter, data, data.x, seed, range(e.epochs), on_epoch=lambda ep, _, d=done: tick(d + ep + 1)
        )
        traces.append(trace)
        kernels.append(fitter.kernels())
        if trace.outputs:
            row = km.epoch_row(data, *trace.outputs[-1], len(trace.outputs), 0.0, 0.0)
            nets.append(
                {"net": net, "seed": seed, **{k: row[k] for k in row if k.startswith(("val_", "train_"))}}
            )
        if trace.diverged_step >= 0:
            break
    seconds = clock()
    frames = ensemble_frames(data, traces, names, seconds, e.ensemble)
    frames["nets"] = pd.DataFrame(nets)
    frames.update(km.weight_frames(kernels[0], names, len(frames["epochs"])))
    diverged = next((t.diverged_step for t in traces if t.diverged_step >= 0), -1)
    summary_extra = {
        "ensemble_size": e.ensemble,
        "net_params": shape.n_params,
        "member_val_accuracy": float(frames["nets"]["val_accuracy"].mean()) if nets else float("nan"),
        "member_val_loss": float(frames["nets"]["val_loss"].mean()) if nets else float("nan"),
    }
    return km.run_result(
        e, data, frames, diverged, e.ensemble * shape.n_params, seconds, names, **summary_extra
    )


def ensemble_frames(data: km.MemberData, traces: list[km.Trace], names, seconds: float, size: int) -> dict:
    """epochs (the averaged prediction, while every net has outputs), steps and layers (each net's
    own, with a `net` column)."""
    n_epochs = min(len(t.outputs) for t in traces) if len(traces) == size else 0
    epochs = []
    for i in range(n_epochs):
        train = average([t.outputs[i][0] for t in traces], data.regression)
        val = average([t.outputs[i][1] for t in traces], data.regression)
        row = km.epoch_row(
            data,
            train,
            val,
            i + 1,
            data.lr[(i + 1) * data.steps - 1],
            seconds * (i + 1) / n_epochs,
            probabilities=not data.regression,
        )
        epochs.append(row)
    steps, layers = [], []
    for net, trace in enumerate(traces):
        if trace.losses:
            s, layer = km.step_frames(
                np.concatenate(trace.losses), np.concatenate(trace.grads), data, names, net=net
            )
            steps.append(s)
            layers.append(layer)
    columns = ["epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr", "seconds"]
    return {
        "epochs": pd.DataFrame(epochs, columns=columns),
        "steps": pd.concat(steps, ignore_index=True),
        "layers": pd.concat(layers, ignore_index=True),
    }


def train_group(
    members: list[Experiment], ds: Dataset, progress: km.Progress | None = None, lr_table=None
) -> list[RunResult]:
    """Train each member's E nets and score their averaged prediction."""
    return km.for_each_member(
        members, lambda e, tick: train_member(e, ds, tick), progress, lambda m: m.epochs * m.ensemble
    )
