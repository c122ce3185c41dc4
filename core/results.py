"""What a run produced: `RunResult` (one member) and `ComparisonResult` (all members of a Comparison).

Deliberately free of TensorFlow: replaying a stored comparison only needs pandas, so the app can
draw a seen comparison without importing TensorFlow at all.

Frames of one run (identity columns are added by ComparisonResult.frame):
- epochs:     epoch (1-based), train_loss, val_loss, train_accuracy, val_accuracy, lr, seconds
- steps:      step (0-based), epoch, loss, grad_norm, update_norm, weight_max_abs, clipped, lr, momentum
- layers:     step, epoch, layer, layer_name, grad_norm            (kernel gradient per layer)
- weights:    epoch, layer, layer_name, weight_norm, sparsity, weight_max_abs
- histograms: layer, layer_name, bin_start, bin_end, count         (kernels after training)
- boundary:   x0, x1, prob, predicted   (2-D datasets only: class-1 / top-class probability;
              for 2-D regression (bumps): x0, x1, value, the fitted value on the grid)
- probes:     layer (0 = input), layer_name, stage (untrained/trained), accuracy  (probes=True:
              validation accuracy of a linear probe on that layer's activations; core.training.probes)
- nets:       net, seed, train_loss, val_loss, train_accuracy, val_accuracy  (ensemble > 1: each
              averaged net's own final scores; core.training.ensemble)
- timesteps:  epoch, t, grad_norm  (model rnn/lstm: ||dL/dh_t|| at time step t (0-based), mean
              over the epoch's steps; core.training.recurrent)
Train metrics are measured in inference mode on the training split at the end of each epoch,
so that val_loss - train_loss is an honest generalization gap (no dropout noise, no running mean).
Rows stop at the step/epoch where a run diverged.

A run that *did not train* either diverged (the trainer's flag: NaN/inf or a 100x blow-up) or
collapsed (a classifier whose train loss sat at chance level, ln C, over its last quarter of
epochs: core.measures.collapsed). Pages and the CLI count `did_not_train` wherever they count
divergence, with `collapsed` beside it, so a net stuck at chance is never reported as healthy.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core import measures
from core.data import DataUnavailable, load_dataset
from core.spec import Experiment, variant_label
from core.variants import RunPlan, VariantSet

FRAMES = ("epochs", "steps", "layers", "weights", "histograms", "boundary", "probes", "nets", "timesteps")
IDENTITY = ("key", "variant", "seed")


@dataclass
class RunResult:
    """Everything recorded for one member run; what the RunStore keeps under experiment.key."""

    experiment: Experiment
    summary: dict[str, Any]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    # core.weights.RunWeights (a fresh run), StoredWeights (a replay: read on demand) or None;
    # read it through core.weights.weights_of. Pickled with the run by the worker/Ray backends.
    weights: Any = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        return self.experiment.key

    @property
    def diverged(self) -> bool:
        return bool(self.summary.get("diverged", False))

    @property
    def n_classes(self) -> int:
        """Classes of the run's dataset (0 = regression or unknown): the summary's when recorded,
        else read from the dataset (memoized, TensorFlow-free)."""
        if "n_classes" in self.summary:
            return int(self.summary["n_classes"])
        return _dataset_classes(self.experiment.dataset, self.experiment.n_samples, self.experiment.noise)

    @functools.cached_property
    def collapsed(self) -> bool:
        """Ended stuck at chance level without diverging (core.measures.is_collapsed)."""
        if self.diverged:
            return False
        epochs = self.frame("epochs")
        if epochs.empty or "train_loss" not in epochs:
            return False
        losses = pd.to_numeric(epochs.sort_values("epoch")["train_loss"], errors="coerce")
        return measures.is_collapsed(losses.to_numpy(float), self.n_classes)

    @property
    def did_not_train(self) -> bool:
        return self.diverged or self.collapsed

    def frame(self, name: str) -> pd.DataFrame:
        return self.frames.get(name, pd.DataFrame())


@dataclass
class ComparisonResult:
    """All member runs of a comparison, in member order, with frames ready for Altair."""

    comparison: RunPlan
    runs: list[RunResult]
    replayed: int = 0  # how many runs came from the store instead of training

    def _identity(self, run: RunResult) -> dict[str, Any]:
        variant = {name: getattr(run.experiment, name) for name in self.comparison.varied}
        return {"key": run.key, "variant": variant_label(variant), "seed": run.experiment.seed, **variant}

    def frame(self, name: str) -> pd.DataFrame:
        """Long-form frame over all members: the run's rows plus key, variant, seed, varied knobs."""
        parts = []
        for run in self.runs:
            f = run.frame(name)
            if f.empty:
                continue
            f = f.copy()
            for col, value in reversed(list(self._identity(run).items())):
                if col not in f:  # e.g. the steps frame's own (scheduled) momentum column wins
                    f.insert(0, col, value)
            parts.append(f)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def summary(self) -> pd.DataFrame:
        """One row per run: identity, the trainer's summary, and `collapsed` / `did_not_train`."""
        rows = [
            {
                **self._identity(run),
                **run.summary,
                "collapsed": run.collapsed,
                "did_not_train": run.did_not_train,
            }
            for run in self.runs
        ]
        return pd.DataFrame(rows)

    def variant_order(self) -> list[str]:
        return [variant_label(v) for v in self.comparison.variants()]

    def export_epochs(self) -> pd.DataFrame:
        """The epochs frame for a CSV export, where no run goes missing.

        A diverged run keeps its epoch rows up to where it stopped, plus one row for the epoch in
        which it stopped (metrics NaN: the trainer records no epoch it did not finish alive), so
        a run that blew up in epoch 1 still appears. Every row carries the run's `diverged`,
        `collapsed` and `did_not_train`, so a spreadsheet can filter on them. Rows per run:
        epochs_run for a run that finished, diverged_epoch for one that diverged."""
        parts = []
        for run in self.runs:
            rows = run.frame("epochs")
            stop = int(run.summary.get("diverged_epoch", -1) or -1)
            if run.diverged and stop >= 1 and ("epoch" not in rows or stop not in set(rows["epoch"])):
                rows = pd.concat([rows, pd.DataFrame({"epoch": [stop]})], ignore_index=True)
            if rows.empty:
                continue
            status = {
                "diverged": run.diverged,
                "collapsed": run.collapsed,
                "did_not_train": run.did_not_train,
            }
            parts.append(rows.assign(**self._identity(run), **status))
        if not parts:
            return pd.DataFrame()
        out = pd.concat(parts, ignore_index=True)
        ident = [c for c in out.columns if c in IDENTITY or c in self.comparison.varied]
        return out[ident + [c for c in out.columns if c not in ident]]

    def aggregate(self) -> list[dict[str, Any]]:
        """One record per variant over its seeds (the CLI's --json objects).

        `diverged` counts the seeds that did not train (diverged or collapsed), `collapsed` the
        latter alone; final metrics are means over the seeds that trained (None if none did)."""
        out = []
        summary = self.summary()
        for variant, label in zip(self.comparison.variants(), self.variant_order()):
            rows = summary[summary["variant"] == label]
            alive = rows[~rows["did_not_train"].astype(bool)]
            record: dict[str, Any] = {"variant": variant, "seeds": len(rows)}
            for col in (
                "final_train_loss",
                "final_val_loss",
                "final_train_accuracy",
                "final_val_accuracy",
            ):
                record[col] = _mean(alive[col]) if col in alive else None
            record["diverged"] = int(rows["did_not_train"].astype(bool).sum())
            record["collapsed"] = int(rows["collapsed"].astype(bool).sum())
            for col in ("grad_norm_first_layer", "grad_norm_last_layer", "weight_sparsity", "seconds"):
                record[col] = _mean(rows[col]) if col in rows else None
            out.append(record)
        return out


def _mean(values: pd.Series) -> float | None:
    """Mean of the finite values, or None (JSON null) when there are none: never a fake number."""
    v = pd.to_numeric(values, errors="coerce")
    v = v[v.map(lambda x: math.isfinite(x))]
    return float(v.mean()) if len(v) else None


@dataclass
class LabelledResult(ComparisonResult):
    """A ComparisonResult whose variant column holds a VariantSet's labels."""

    comparison: VariantSet

    def _identity(self, run: RunResult) -> dict[str, Any]:
        c = self.comparison
        knobs = {name: getattr(run.experiment, name) for name in c.varied}
        return {"key": run.key, "variant": c.label_of(run.experiment), "seed": run.experiment.seed, **knobs}

    def variant_order(self) -> list[str]:
        return list(self.comparison.labels)


def labelled(result: ComparisonResult | None) -> ComparisonResult | None:
    """The runner returns a plain ComparisonResult; give a VariantSet's result its labels."""
    if result is None or isinstance(result, LabelledResult) or not isinstance(result.comparison, VariantSet):
        return result
    return LabelledResult(result.comparison, result.runs, result.replayed)


@functools.lru_cache(maxsize=64)
def _dataset_classes(name: str, n_samples: int, noise: float) -> int:
    """n_classes of a dataset, 0 when it cannot be read here (then nothing counts as collapsed:
    without a chance level there is no "stuck at chance")."""
    try:
        return int(load_dataset(name, n_samples, noise).n_classes)
    except (DataUnavailable, ValueError, OSError):
        return 0
