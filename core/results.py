"""What a run produced: `RunResult` (one member) and `ComparisonResult` (all members of a Comparison).

Deliberately free of TensorFlow: replaying a stored comparison only needs pandas, so the app can
draw a seen comparison without importing TensorFlow at all.

Frames of one run (identity columns are added by ComparisonResult.frame):
- epochs:     epoch (1-based), train_loss, val_loss, train_accuracy, val_accuracy, lr, seconds
- steps:      step (0-based), epoch, loss, grad_norm, update_norm, clipped, lr, momentum
- layers:     step, epoch, layer, layer_name, grad_norm            (kernel gradient per layer)
- weights:    epoch, layer, layer_name, weight_norm, sparsity, weight_max_abs
- histograms: layer, layer_name, bin_start, bin_end, count         (kernels after training)
- boundary:   x0, x1, prob, predicted   (2-D datasets only: class-1 / top-class probability)
Train metrics are measured in inference mode on the training split at the end of each epoch,
so that val_loss - train_loss is an honest generalization gap (no dropout noise, no running mean).
Rows stop at the step/epoch where a run diverged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core.spec import Comparison, Experiment, variant_label

FRAMES = ("epochs", "steps", "layers", "weights", "histograms", "boundary")
IDENTITY = ("key", "variant", "seed")


@dataclass
class RunResult:
    """Everything recorded for one member run; what the RunStore keeps under experiment.key."""

    experiment: Experiment
    summary: dict[str, Any]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.experiment.key

    @property
    def diverged(self) -> bool:
        return bool(self.summary.get("diverged", False))

    def frame(self, name: str) -> pd.DataFrame:
        return self.frames.get(name, pd.DataFrame())


@dataclass
class ComparisonResult:
    """All member runs of a comparison, in member order, with frames ready for Altair."""

    comparison: Comparison
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
        rows = [{**self._identity(run), **run.summary} for run in self.runs]
        return pd.DataFrame(rows)

    def variant_order(self) -> list[str]:
        return [variant_label(v) for v in self.comparison.variants()]

    def aggregate(self) -> list[dict[str, Any]]:
        """One record per variant over its seeds (the CLI's --json objects)."""
        out = []
        summary = self.summary()
        for variant in self.comparison.variants():
            label = variant_label(variant)
            rows = summary[summary["variant"] == label]
            alive = rows[~rows["diverged"].astype(bool)]
            record: dict[str, Any] = {"variant": variant, "seeds": len(rows)}
            for col in (
                "final_train_loss",
                "final_val_loss",
                "final_train_accuracy",
                "final_val_accuracy",
            ):
                record[col] = _mean(alive[col]) if col in alive else None
            record["diverged"] = int(rows["diverged"].astype(bool).sum())
            for col in ("grad_norm_first_layer", "grad_norm_last_layer", "weight_sparsity", "seconds"):
                record[col] = _mean(rows[col]) if col in rows else None
            out.append(record)
        return out


def _mean(values: pd.Series) -> float | None:
    """Mean of the finite values, or None (JSON null) when there are none: never a fake number."""
    v = pd.to_numeric(values, errors="coerce")
    v = v[v.map(lambda x: math.isfinite(x))]
    return float(v.mean()) if len(v) else None
