"""The batch-norm page's "epochs to a target accuracy" readout: core.measures' epochs to target
and target table, in the column names that page shows (a presentation choice, so it lives in ui)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from core import measures
from ui.cache import memoized


@memoized  # a pure function of stored runs: a revisit of the page does not recompute it
def epochs_to_accuracy(epochs: pd.DataFrame, target: float, metric: str = "val_accuracy") -> pd.DataFrame:
    """measures.epochs_to_target on an accuracy (higher is better), its epochs column named
    epochs_to_target."""
    per_run = measures.epochs_to_target(epochs, target, metric, lower_is_better=False)
    return per_run.rename(columns={"epochs": "epochs_to_target"})


@memoized
def accuracy_target_table(per_run: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """measures.target_table of epochs_to_accuracy's rows: mean_epochs, fastest and slowest per
    variant, with how many seeds reached the target."""
    table = measures.target_table(per_run.rename(columns={"epochs_to_target": "epochs"}), order=order)
    table = table.rename(columns={"epochs": "mean_epochs", "lo": "fastest", "hi": "slowest"})
    return table[["variant", "mean_epochs", "fastest", "slowest", "reached", "seeds"]]
