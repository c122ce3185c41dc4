"""Frames, metrics and the RunResult of the Keras-trained families (core.training.keras_mlp).

The same contract as the stacked trainer's core.training.records: the epochs, steps, layers,
weights and histograms frames with the same columns, and records.summary's keys, so pages and
claims read a family's run like any other. Metrics are computed in NumPy (float64) from a net's
outputs, which also lets an ensemble score the mean of its nets' probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.constants import SPARSE_WEIGHT
from core.results import RunResult
from core.spec import Experiment
from core.training import records
from core.training.device import device_name
from core.training.trainer import MAX_STEP_ROWS

if TYPE_CHECKING:
    from core.training.keras_mlp import MemberData


# -- metrics -----------------------------------------------------------------------------------
def softmax(logits: np.ndarray) -> np.ndarray:
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def metrics(
    out: np.ndarray, y: np.ndarray, regression: bool, probabilities: bool = False
) -> tuple[float, float]:
    """(loss, accuracy) of outputs on labels; `probabilities`: out already holds class
    probabilities (an ensemble's mean), else logits. Accuracy is NaN for regression."""
    if regression:
        return float(np.mean((out[:, 0] - y) ** 2)), math.nan
    p = out if probabilities else softmax(out)
    picked = np.clip(p[np.arange(len(y)), y], 1e-12, None)  # a probability of 0 would give inf
    return float(-np.mean(np.log(picked))), float(np.mean(p.argmax(axis=1) == y))


def epoch_row(
    data: MemberData, out_train, out_val, epoch: int, lr: float, seconds: float, probabilities=False
) -> dict:
    """One row of the epochs frame from the outputs on the train subset and the validation rows."""
    tl, ta = metrics(out_train, data.y[data.eval_idx], data.regression, probabilities)
    vl, va = metrics(out_val, data.y[data.val_idx], data.regression, probabilities)
    return {
        "epoch": epoch,
        "train_loss": tl,
        "val_loss": vl,
        "train_accuracy": ta,
        "val_accuracy": va,
        "lr": float(lr),
        "seconds": seconds,
    }


# -- frames and the RunResult --------------------------------------------------------------------
def step_frames(
    losses: np.ndarray, grads: np.ndarray, data: MemberData, names: Sequence[str], step0: int = 0, **extra
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The steps and layers frames of a stretch of training (every stride-th step, like the
    stacked trainer, so the frames stay bounded). `extra` columns are added to both."""
    total = data.lr.shape[0]
    stride = max(1, math.ceil(total / MAX_STEP_ROWS))
    steps = step0 + np.arange(len(losses))
    keep = steps % stride == 0
    s, g = steps[keep], grads[keep]
    steps_df = pd.DataFrame(
        {
            "step": s,
            "epoch": s // data.steps + 1,
            "loss": losses[keep],
            "grad_norm": np.sqrt((g**2).sum(axis=1)),
            "lr": data.lr[np.minimum(s, total - 1)],
            "momentum": data.momentum[np.minimum(s, total - 1)],
            **extra,
        }
    )
    n = len(names)
    layers_df = pd.DataFrame(
        {
            "step": np.repeat(s, n),
            "epoch": np.repeat(s // data.steps + 1, n),
            "layer": np.tile(np.arange(n), len(s)),
            "layer_name": np.tile(np.asarray(names), len(s)),
            "grad_norm": g.ravel(),
            **extra,
        }
    )
    return steps_df, layers_df


def weight_frames(kernels: Sequence[np.ndarray], names: Sequence[str], epoch: int) -> dict[str, pd.DataFrame]:
    """The weights (final epoch only) and histograms frames of one network's kernels."""
    weights = pd.DataFrame(
        {
            "epoch": epoch,
            "layer": np.arange(len(kernels)),
            "layer_name": list(names),
            "weight_norm": [float(np.sqrt((k.astype(np.float64) ** 2).sum())) for k in kernels],
            "sparsity": [float(np.mean(np.abs(k) < SPARSE_WEIGHT)) for k in kernels],
            "weight_max_abs": [float(np.abs(k).max()) for k in kernels],
        }
    )
    hist = records.histograms([k[None] for k in kernels], 0, list(names))
    return {"weights": weights, "histograms": hist}


def run_result(
    e: Experiment,
    data: MemberData,
    frames: dict[str, pd.DataFrame],
    diverged_step: int,
    n_params: int,
    seconds: float,
    names: Sequence[str],
    **summary_extra,
) -> RunResult:
    """A RunResult with the stacked trainer's summary keys (core.training.records.summary)."""
    facts = records.GroupFacts(
        layer_names=list(names),
        steps_per_epoch=data.steps,
        batch=data.batch,
        n_train=len(data.train_idx),
        n_val=len(data.val_idx),
        n_params=n_params,
        group_size=1,  # each member of these families trains on its own
        seconds=seconds,
        device=device_name(),
    )
    summary = records.summary(e, frames, diverged_step, facts)
    summary.update(summary_extra)
    return RunResult(e, summary, frames)
