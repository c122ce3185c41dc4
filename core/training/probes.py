"""Linear probes on every hidden layer of a deep net, before and after training (claim WVD4).

Why probes: "deeper layers learn more abstract features" becomes measurable once "abstract"
means "the class can be read off the layer by a linear classifier" (Alain & Bengio 2016). For each
hidden layer we fit a logistic regression on that layer's activations of the training rows and
score it on the validation rows; the same probes on the same network at its initial weights are
the control: a random network's layers already carry some linearly readable information, and
only what training adds is "learned".

The network trains exactly as a stacked run of the same Experiment would (core.training.
keras_mlp: same data, order, initial weights and optimizer); the run gets the usual frames plus
`probes` (layer, layer_name, stage, accuracy), layer 0 being the scaled input itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.data import Dataset
from core.results import RunResult
from core.spec import Experiment
from core.training import keras_mlp as km

PROBE_SEED = 0  # the probes' own fixed seed: a probe's score depends on the layer, not on luck
PROBE_C = 1.0  # scikit-learn's default inverse L2 strength: the usual probe, no tuning per layer
PROBE_MAX_ITER = 300  # lbfgs converges well before this on standardized activations of <= 1,000 units
STAGES = ("untrained", "trained")


def probe_accuracy(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray) -> float:
    """Validation accuracy of a logistic-regression probe fitted on (standardized) features."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    probe = make_pipeline(
        StandardScaler(), LogisticRegression(C=PROBE_C, max_iter=PROBE_MAX_ITER, random_state=PROBE_SEED)
    )
    # One BLAS thread: on a busy 2-core machine the default pool made each fit ~20x slower.
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe.fit(train_x.astype(np.float64), train_y)
        return float(np.mean(probe.predict(val_x.astype(np.float64)) == val_y))


def probe_rows(model, shape, data: km.MemberData, stage: str) -> list[dict]:
    """Probe accuracy of the input (layer 0) and of every hidden layer, for one stage."""
    tr, va = data.train_idx, data.val_idx
    feats_tr = [data.x[tr], *km.layer_activations(model, shape, data.x[tr])]
    feats_va = [data.x[va], *km.layer_activations(model, shape, data.x[va])]
    names = ["input", *km.hidden_names(shape.depth)]
    return [
        {
            "layer": layer,
            "layer_name": names[layer],
            "stage": stage,
            "accuracy": probe_accuracy(a, data.y[tr], b, data.y[va]),
        }
        for layer, (a, b) in enumerate(zip(feats_tr, feats_va))
    ]


def probe_summary(probes: pd.DataFrame, depth: int) -> dict[str, float]:
    """Headline probe numbers: first and last hidden layer, trained and untrained."""

    def acc(layer: int, stage: str) -> float:
        v = probes.loc[(probes["layer"] == layer) & (probes["stage"] == stage), "accuracy"]
        return float(v.iloc[0]) if len(v) else float("nan")

    return {
        "probe_input": acc(0, "trained"),
        "probe_first_trained": acc(1, "trained"),
        "probe_last_trained": acc(depth, "trained"),
        "probe_first_untrained": acc(1, "untrained"),
        "probe_last_untrained": acc(depth, "untrained"),
    }


def train_member(e: Experiment, ds: Dataset, tick) -> RunResult:
    clock = km.timer()
    data = km.MemberData.of(e, ds)
    shape = km.shape_of(e, data)
    fitter = km.fitter_for(shape, e, data.regression)
    fitter.load(km.initial_weights(e, shape, e.seed), e)
    rows = probe_rows(fitter.model, shape, data, "untrained")
    trace = km.fit(fitter, data, data.x, e.seed, range(e.epochs), on_epoch=lambda ep, _: tick(ep + 1))
    diverged = trace.diverged_step >= 0
    if not diverged:
        rows += probe_rows(fitter.model, shape, data, "trained")
    return finish(e, data, shape, fitter, trace, pd.DataFrame(rows), clock())


def finish(e, data, shape, fitter, trace, probes: pd.DataFrame, seconds: float) -> RunResult:
    names = [*km.hidden_names(shape.depth), "output"]
    frames = epoch_and_step_frames(data, trace, names, seconds)
    frames.update(km.weight_frames(fitter.kernels(), names, len(trace.outputs)))
    frames["probes"] = probes
    return km.run_result(
        e,
        data,
        frames,
        trace.diverged_step,
        shape.n_params,
        seconds,
        names,
        **probe_summary(probes, shape.depth),
    )


def epoch_and_step_frames(data: km.MemberData, trace: km.Trace, names: Sequence[str], seconds: float) -> dict:
    """epochs, steps and layers frames of one network's training (seconds: spread evenly)."""
    n = max(len(trace.outputs), 1)
    epochs = pd.DataFrame(
        [
            km.epoch_row(data, tr, va, i + 1, data.lr[(i + 1) * data.steps - 1], seconds * (i + 1) / n)
            for i, (tr, va) in enumerate(trace.outputs)
        ],
        columns=["epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr", "seconds"],
    )
    steps, layers = km.step_frames(np.concatenate(trace.losses), np.concatenate(trace.grads), data, names)
    return {"epochs": epochs, "steps": steps, "layers": layers}


def train_group(
    members: list[Experiment], ds: Dataset, progress: km.Progress | None = None, lr_table=None
) -> list[RunResult]:
    """Train each member's deep net and probe its layers before and after (one compiled model
    for the whole group: members share their shape)."""
    if ds.is_regression:
        raise ValueError("linear probes need a classification dataset (they predict the class)")
    return km.for_each_member(members, lambda e, tick: train_member(e, ds, tick), progress)
