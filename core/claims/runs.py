"""What every topic module shares: preset builders and the views rules take of finished runs.

Rules see runs only through these (and core.measures), so hand-made RunResults exercise them.
Design choices shared by every preset, with why:
- SEEDS seeds where the outcome is stochastic: members stack, so seeds are cheap, and the tests
  in core.claims.stats need 8 or more to see a 1-SD effect most of the time.
- SPLIT_SEED: every seed trains on the same train/validation split, so seeds vary only the
  initialization, dropout masks and data order, and the split's noise cannot swamp the effect.
- OVERFIT_N / OVERFIT_VAL: where overfitting is the point, a small training set with a
  validation set as large as it (300/300 on digits), so accuracy moves in steps of 1/300.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from core import measures
from core.claims import stats
from core.claims.base import Outcome
from core.claims.stats import sig3
from core.constants import TOY_DATASETS
from core.results import ComparisonResult
from core.spec import Comparison, Experiment

SEEDS = 8  # per arm where the outcome is stochastic (see the module docstring)
SPLIT_SEED = 0  # one fixed split for every seed of every preset
TOY_N = 500  # toy worlds are generated at this size
REAL_N = 2000  # a cap: digits has 1,797 examples, wine 178
OVERFIT_N = 600  # "a small training set": overfitting is visible within 20 epochs ...
OVERFIT_VAL = 0.5  # ... measured on a validation set as large as the training set
FAST_N = 400  # fast=True (smoke tests): small data, few epochs
FAST_MAX_EPOCHS = 5
LOSS_MARGIN = 0.02  # nats: below this a loss difference is noise to a practitioner (~1/10 of a
# typical digits validation loss; Keras' EarlyStopping-style min_delta values are 1e-3-1e-2)
SHARE_MARGIN = 0.2  # share of runs: one run in five either way is not a different behaviour
EPOCH_MARGIN = 1.0  # epochs: a difference of less than one epoch is not "faster"
GRID_MARGIN = 1.0  # grid steps: a best value less than one grid step away is the same value


def exp(dataset: str, fast: bool, epochs: int, **knobs: Any) -> Experiment:
    """A preset's baseline on one fixed split: toy data gets TOY_N points; fast shrinks it."""
    n = knobs.pop("n_samples", TOY_N if dataset in TOY_DATASETS else REAL_N)
    if fast:
        epochs, n = max(2, min(FAST_MAX_EPOCHS, epochs // 4)), min(n, FAST_N)
    knobs.setdefault("split_seed", SPLIT_SEED)
    return Experiment(dataset=dataset, n_samples=n, epochs=epochs, **knobs)


def overfit_exp(dataset: str, fast: bool, epochs: int, **knobs: Any) -> Experiment:
    """A small training set with an equally large validation set."""
    return exp(dataset, fast, epochs, n_samples=OVERFIT_N, val_fraction=OVERFIT_VAL, **knobs)


def of(base: Experiment, vary: dict[str, Sequence[Any]] | None = None, seeds: int = SEEDS) -> Comparison:
    return Comparison.of(base, vary or {}, seeds)


def pool_size(dataset: str) -> int:
    """Examples the dataset offers (toy data: as many as generated), TensorFlow-free."""
    if dataset in TOY_DATASETS:
        return TOY_N
    from core.data import load_dataset

    return min(REAL_N, len(load_dataset(dataset)))


def steps_per_epoch(e: Experiment) -> int:
    """Updates per epoch of a run: its training examples over the batch (the partial batch is
    dropped by the trainer)."""
    n_train = int(min(e.n_samples, pool_size(e.dataset)) * (1 - e.val_fraction))
    return max(1, n_train // min(e.batch_size, max(1, n_train)))


# -- views of finished runs ----------------------------------------------------------------------
def table(results: Iterable[ComparisonResult]) -> pd.DataFrame:
    """One row per distinct run: every knob, the summary, collapsed/did_not_train (a run in two
    presets counts once)."""
    rows, seen = [], set()
    for res in results:
        for run in res.runs:
            if run.key not in seen:
                seen.add(run.key)
                rows.append(
                    {
                        **dataclasses.asdict(run.experiment),
                        **run.summary,
                        "key": run.key,
                        "collapsed": run.collapsed,
                        "did_not_train": run.did_not_train,
                    }
                )
    return pd.DataFrame(rows)


def frame(results: Iterable[ComparisonResult], name: str) -> pd.DataFrame:
    """A per-run frame over all distinct runs, with key, variant and seed columns."""
    parts, seen = [], set()
    for res in results:
        for run in res.runs:
            f = run.frame(name)
            if run.key not in seen and not f.empty:
                seen.add(run.key)
                parts.append(f.assign(key=run.key, seed=run.experiment.seed, variant=run.key))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["key", "seed", "variant"])


def select(t: pd.DataFrame, **knobs: Any) -> pd.DataFrame:
    """Rows whose knobs equal the given values (floats compared with a relative tolerance)."""
    mask = pd.Series(True, index=t.index)
    for name, value in knobs.items():
        col = t[name]
        if isinstance(value, float):
            mask &= np.isclose(col.astype(float), value, rtol=1e-9, atol=0.0)
        else:
            mask &= col == value
    return t[mask]


def by_seed(rows: pd.DataFrame, col: str) -> pd.Series:
    """The column indexed by seed, as floats (NaN where a run diverged before measuring)."""
    values = pd.to_numeric(rows[col], errors="coerce").to_numpy(float)
    return pd.Series(values, index=rows["seed"].to_numpy())


def paired_diff(a: pd.Series, b: pd.Series) -> np.ndarray:
    """a - b over the seeds both have a finite value for (the pairing of core.claims.stats)."""
    d = (a - b).dropna()
    d = d[np.isfinite(d.to_numpy(float))]
    return d.to_numpy(float)


def paired_test(a: pd.Series, b: pd.Series, margin: float, unit: str, **options: Any) -> stats.Evidence:
    """core.claims.stats.paired on a - b per seed (positive = as predicted): the one pairing every
    topic's seed-by-seed comparison uses; `options` are paired's (discrete, label, interval)."""
    return stats.paired(paired_diff(a, b), margin, unit, **options)


def column_test(
    a: pd.DataFrame, b: pd.DataFrame, col: str, margin: float, unit: str, **options: Any
) -> stats.Evidence:
    """paired_test of one column of two arms' rows, seed by seed (a's value minus b's)."""
    return paired_test(by_seed(a, col), by_seed(b, col), margin, unit, **options)


def combined(parts: Sequence[stats.Evidence], n: dict[str, Any], text: str) -> Outcome:
    """The Outcome of a claim tested in parts: every part kept, the verdict stats.combine's."""
    return Outcome(stats.combine(parts), n, text, parts)


def finite(s: pd.Series) -> pd.Series:
    return s[np.isfinite(s.to_numpy(float))]


def mean_of(rows: pd.DataFrame, col: str) -> float:
    v = finite(by_seed(rows, col))
    return float(v.mean()) if len(v) else math.nan


def values(t: pd.DataFrame, knob: str) -> list[Any]:
    return sorted(t[knob].unique().tolist())


def failed(rows: pd.DataFrame) -> pd.Series:
    """Did each run fail to train (diverged or collapsed to chance)?"""
    col = "did_not_train" if "did_not_train" in rows else "diverged"
    return measures.flags(rows[col])


def failed_text(rows: pd.DataFrame) -> str:
    return f"{int(failed(rows).sum())}/{len(rows)}"


def with_gap(t: pd.DataFrame) -> pd.DataFrame:
    return t.assign(gap=measures.generalization_gap(t))


def start_loss(results: list[ComparisonResult]) -> pd.Series:
    """Per run key: the loss of the untrained network on its first batch."""
    return measures.initial_loss(frame(results, "steps"))


def loss_or_start(t: pd.DataFrame, col: str, results: list[ComparisonResult]) -> pd.Series:
    """`col` per row, with a run that did not train scored as its untrained loss (it ended no
    better than it began), so a blow-up counts as the worst outcome instead of being dropped."""
    start = t["key"].map(start_loss(results)).astype(float)
    loss = pd.to_numeric(t[col], errors="coerce").astype(float)
    return loss.where(~failed(t), np.fmax(start, loss.fillna(-np.inf)).where(start.notna(), np.nan))


def accuracy_or_loss(t: pd.DataFrame) -> tuple[str, bool]:
    """(column, lower is better): validation accuracy, or loss for regression data."""
    acc = pd.to_numeric(t.get("final_val_accuracy"), errors="coerce")
    return (
        ("final_val_accuracy", False) if acc is not None and acc.notna().any() else ("final_val_loss", True)
    )


def epochs_to(
    results: list[ComparisonResult], rows: pd.DataFrame, metric: str, target: float, lower: bool
) -> pd.Series:
    """Per seed: epochs until `metric` reached `target`, censored at epochs + 1 (never reached,
    or the run did not train). core.measures decides the edge cases."""
    ep = frame(results, "epochs")
    ep = ep[ep["key"].isin(rows["key"])]
    summary = rows.assign(variant=rows["key"])
    per_run = measures.epochs_to_target(ep, target, metric, lower, summary=summary)
    n_epochs = int(rows["epochs"].max())
    per_run = per_run.assign(censored=measures.censored_epochs(per_run, n_epochs))
    return pd.Series(per_run["censored"].to_numpy(float), index=per_run["seed"].to_numpy())


def listed(vals: Sequence[float]) -> str:
    return "/".join(sig3(v) for v in vals) or "n/a"
