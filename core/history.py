"""Run history as tables: filter stored runs, find the knobs that differ, and overlay any runs.

The history page shows runs that were never one Comparison (different pages, days, people), so
the variant labels a ComparisonResult derives from its varied knobs do not exist here. These
helpers derive them from the runs themselves instead: whatever differs among the chosen runs is
what names them. Pure pandas on `RunStore.list_runs()` rows and `RunResult`s, no Streamlit and
no TensorFlow, so the page replays without importing either the trainer or the framework.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from core.results import RunResult
from core.spec import KNOBS, knob_type, value_text, variant_label

SHORT_KEY = 8  # characters of a run key shown to people: unique enough among thousands of runs
# The numbers most people come for, first in the table and the metric pickers.
MAIN_METRICS = (
    "final_val_loss",
    "final_val_accuracy",
    "final_train_loss",
    "final_train_accuracy",
    "best_val_loss",
    "best_val_accuracy",
)
NOT_METRICS = {"key", "created", "device", "code_version", "diverged", "diverged_step", "diverged_epoch"}
# Fields of a run's epochs frame that identify it on an overlay chart (ui.charts.curves needs them).
DIVERGED_FIELDS = ("diverged", "diverged_step", "diverged_epoch")


def varying(runs: pd.DataFrame, columns: Sequence[str] = KNOBS, exclude: Sequence[str] = ()) -> list[str]:
    """The columns (knob order) whose values differ among these runs: what tells them apart."""
    return [
        c
        for c in columns
        if c in runs and c not in exclude and runs[c].map(value_text).nunique(dropna=False) > 1
    ]


def value_options(runs: pd.DataFrame, column: str) -> list[str]:
    """Distinct values of a column as text, in numeric order when the column is numeric."""
    if column not in runs or runs.empty:
        return []
    values = runs[column].drop_duplicates()
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and not pd.api.types.is_bool_dtype(values):
        values = values.iloc[numeric.argsort(kind="stable").to_numpy()]
    else:
        values = values.iloc[values.map(value_text).argsort(kind="stable").to_numpy()]
    return list(dict.fromkeys(values.map(value_text)))


def apply_filters(runs: pd.DataFrame, chosen: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Rows whose value (as text) is among the chosen ones, per column; an empty choice = all."""
    keep = pd.Series(True, index=runs.index)
    for column, values in chosen.items():
        if values and column in runs:
            keep &= runs[column].map(value_text).isin(set(values))
    return runs[keep]


def numeric_knobs(runs: pd.DataFrame) -> list[str]:
    """Knobs that can be an x axis: int or float, varying ones first."""
    numeric = [k for k in KNOBS if k in runs and knob_type(k) in (int, float)]
    moving = varying(runs, numeric)
    return moving + [k for k in numeric if k not in moving]


def metric_columns(runs: pd.DataFrame) -> list[str]:
    """Numeric summary columns (final losses, gradient norms, seconds, ...), main ones first."""
    found = [
        c
        for c in runs.columns
        if c not in KNOBS
        and c not in NOT_METRICS
        and not pd.api.types.is_bool_dtype(runs[c])
        and pd.to_numeric(runs[c], errors="coerce").notna().any()
    ]
    return [m for m in MAIN_METRICS if m in found] + [c for c in found if c not in MAIN_METRICS]


def spans_decades(values: pd.Series, decades: float = 2.0) -> bool:
    """True when positive values span at least `decades` powers of ten: a log axis reads better."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(v) and (v > 0).all() and v.max() / v.min() >= 10**decades)


def table_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """The history table: newest first; the run, its dataset, the knobs that differ, the main
    metrics and the divergence flag up front, then every other knob and field."""
    if runs.empty:
        return runs.copy()
    df = runs.iloc[::-1].reset_index(drop=True)
    df.insert(0, "run", df["key"].astype(str).str[:SHORT_KEY])
    df["created"] = pd.to_datetime(df["created"], unit="s")
    moving = varying(df, exclude=("dataset",))
    first = ["run", "created", "dataset", *moving, *[m for m in MAIN_METRICS if m in df]]
    first += [c for c in ("diverged", "seconds") if c in df]
    rest = [k for k in KNOBS if k in df and k not in first]
    others = [c for c in df.columns if c not in first and c not in rest]
    return df[first + rest + others]


def run_labels(runs: Sequence[RunResult], pool_seeds: bool = False) -> list[str]:
    """One label per run from the knobs that differ among them (seed included unless pooled).

    Per run: "1a2b3c4d · learning_rate=0.1, seed=1". Pooled: "learning_rate=0.1", so runs that
    differ only in their seed share a label and a chart draws them as one band.
    """
    table = pd.DataFrame([r.experiment.to_dict() for r in runs], columns=list(KNOBS))
    names = varying(table, exclude=("seed",) if pool_seeds else ())
    labels = []
    for run, (_, row) in zip(runs, table.iterrows(), strict=True):
        text = variant_label({n: row[n] for n in names})
        if pool_seeds:
            labels.append(text if names else run.experiment.dataset)
        else:
            labels.append(f"{run.key[:SHORT_KEY]} · {text if names else run.experiment.dataset}")
    return labels


@dataclass(frozen=True)
class Overlay:
    """Frames for ui.charts.curves over arbitrary runs: `variant` is the label of each run."""

    epochs: pd.DataFrame
    summary: pd.DataFrame
    order: list[str]


def overlay(runs: Sequence[RunResult], pool_seeds: bool = False) -> Overlay:
    """Long-form epoch frame of these runs with key, variant (label) and seed columns, the
    matching summary (divergence fields plus collapsed / did_not_train, for the marks) and the
    label order (for stable colours)."""
    labels = run_labels(runs, pool_seeds)
    parts, rows = [], []
    for run, label in zip(runs, labels, strict=True):
        ident = {"key": run.key, "variant": label, "seed": run.experiment.seed}
        fields = {f: run.summary.get(f) for f in DIVERGED_FIELDS if f in run.summary}
        rows.append({**ident, **fields, "collapsed": run.collapsed, "did_not_train": run.did_not_train})
        frame = run.frame("epochs")
        if not frame.empty:
            parts.append(frame.assign(**ident)[list(dict.fromkeys([*ident, *frame.columns]))])
    epochs = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["key", "variant", "seed"])
    )
    return Overlay(epochs, pd.DataFrame(rows), list(dict.fromkeys(labels)))
