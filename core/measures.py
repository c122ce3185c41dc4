"""Every derived measurement of a run, written once: pages, topics and claims all read these.

Why one module: the same number used to be computed in two or three places with different edge
cases (a one-epoch run's time per epoch was its first epoch on one page and NaN in a claim; a
diverged run reached a target on one page and never in a claim), so a page and the claim on the
same topic could disagree. Everything here is pure pandas/NumPy on core.results' long-form frames
(no TensorFlow, no Streamlit), unit-tested on hand-made frames in tests/core/test_measures.py.

Edge cases, decided once for all callers:
- A run that did not train (the trainer flagged it diverged, or it collapsed to chance level:
  see `collapsed`) never reaches a target, even if its curve touched the target before it blew
  up: its "speed" is not a speed of training. Runs without any epoch rows (blew up in epoch 1)
  are not reached either.
- Censoring: "never reached within n epochs" is reported as NaN (with `reached` False) per run;
  where a number is needed for differences between variants, `censored_epochs` puts it at
  n_epochs + 1, the smallest value it could truly have, so a censored difference understates.
- Time per epoch is the median epoch-to-epoch difference after the first epoch (the first carries
  graph tracing and compilation; the median shrugs off a moment when another process took the
  CPU). A one-epoch run has no such difference: NaN, never its first epoch.
- Volatility needs at least two step-to-step changes (three finite losses), else NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

# -- shared helpers ------------------------------------------------------------------------------
EPOCHS_COLUMNS = ["key", "variant", "seed", "epochs", "reached"]
TARGET_COLUMNS = ["variant", "value", "epochs", "lo", "hi", "reached", "seeds", "note"]
TIME_COLUMNS = ["key", "variant", "seed", "time_per_epoch", "first_epoch", "overhead", "epochs"]


def flags(values: pd.Series) -> pd.Series:
    """A yes/no column (diverged, collapsed, ...) as booleans; missing values count as False."""
    return values.map(lambda v: bool(v) if pd.notna(v) else False).astype(bool)


def did_not_train(summary: pd.DataFrame) -> pd.Series:
    """Per summary row: did this run fail to train? `did_not_train` when the summary has it
    (diverged or collapsed, core.results), else the trainer's `diverged` flag, else all False."""
    for column in ("did_not_train", "diverged"):
        if column in summary:
            return flags(summary[column])
    return pd.Series(False, index=summary.index)


def variant_order(present: Iterable[str], order: Sequence[str] | None = None) -> list[str]:
    """The page's order first (only labels that are present), then unlisted labels as they come."""
    seen = list(dict.fromkeys(present))
    listed = [v for v in (order or []) if v in seen]
    return listed + [v for v in seen if v not in listed]


def ordered(df: pd.DataFrame, order: Sequence[str] | None, column: str = "variant") -> pd.DataFrame:
    """Rows in the page's variant order (unlisted variants last, in their own order), index reset."""
    if not order or df.empty:
        return df.reset_index(drop=True)
    rank = {v: i for i, v in enumerate(order)}
    return df.sort_values(
        column, key=lambda s: s.map(lambda v: rank.get(v, len(rank))), kind="stable"
    ).reset_index(drop=True)


def _numeric(values: Any) -> pd.Series:
    return pd.to_numeric(pd.Series(values), errors="coerce").astype(float)


# -- generalization gap --------------------------------------------------------------------------
def generalization_gap(summary: pd.DataFrame) -> pd.Series:
    """Final validation loss minus final training loss per run (NaN where either is missing).

    Train loss is measured in inference mode at the epoch end (core.results), so dropout noise
    does not inflate the gap. A diverged run has NaN finals and so a NaN gap."""
    return _numeric(summary["final_val_loss"]).set_axis(summary.index) - _numeric(
        summary["final_train_loss"]
    ).set_axis(summary.index)


def accuracy_gap(summary: pd.DataFrame) -> pd.Series:
    """Final training accuracy minus final validation accuracy per run (memorization shows here)."""
    return _numeric(summary["final_train_accuracy"]).set_axis(summary.index) - _numeric(
        summary["final_val_accuracy"]
    ).set_axis(summary.index)


def with_gaps(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary plus `generalization_gap` and `accuracy_gap`, each when its columns exist."""
    out = summary.copy()
    if {"final_val_loss", "final_train_loss"} <= set(out.columns):
        out["generalization_gap"] = generalization_gap(out)
    if {"final_train_accuracy", "final_val_accuracy"} <= set(out.columns):
        out["accuracy_gap"] = accuracy_gap(out)
    return out


# -- epochs to a target --------------------------------------------------------------------------
def first_reaching(values: Sequence[float], target: float, lower_is_better: bool = True) -> int | None:
    """1-based position of the first value at or past the target (<= for losses, >= for
    accuracies), None if none is. NaN never reaches anything."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        hit = np.flatnonzero(v <= target if lower_is_better else v >= target)
    return int(hit[0]) + 1 if len(hit) else None


def _failed_keys(summary: pd.DataFrame | None) -> set[str]:
    if summary is None or summary.empty or "key" not in summary:
        return set()
    return set(summary.loc[did_not_train(summary), "key"])


def epochs_to_target(
    epochs: pd.DataFrame,
    target: float,
    metric: str = "train_loss",
    lower_is_better: bool = True,
    summary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per run: the first epoch whose `metric` reached `target`; NaN and reached=False when it
    never did within the epochs trained. Columns key, variant, seed, epochs, reached.

    With `summary` (ComparisonResult.summary()), runs that did not train count as not reached and
    runs with no epoch rows at all are listed (not reached) instead of silently missing."""
    if epochs is None or epochs.empty or metric not in epochs:
        rows: list[dict[str, Any]] = []
    else:
        failed = _failed_keys(summary)
        rows = []
        for key, g in epochs.sort_values(["key", "epoch"]).groupby("key", sort=False):
            at = first_reaching(_numeric(g[metric]).to_numpy(), target, lower_is_better)
            first = math.nan if at is None or key in failed else float(g["epoch"].iloc[at - 1])
            rows.append(
                {
                    "key": key,
                    "variant": g["variant"].iloc[0],
                    "seed": g["seed"].iloc[0],
                    "epochs": first,
                    "reached": not math.isnan(first),
                }
            )
    if summary is not None and not summary.empty:
        listed = {r["key"] for r in rows}
        rows += [
            {"key": r.key, "variant": r.variant, "seed": r.seed, "epochs": math.nan, "reached": False}
            for r in summary[["key", "variant", "seed"]].itertuples(index=False)
            if r.key not in listed
        ]
    return pd.DataFrame(rows, columns=EPOCHS_COLUMNS)


def censored_epochs(per_run: pd.DataFrame, n_epochs: int) -> pd.Series:
    """Epochs to target with "never reached" put at n_epochs + 1: the smallest value it could
    have had, so a difference built on it understates the effect rather than invents one."""
    e = _numeric(per_run["epochs"]).set_axis(per_run.index)
    return e.where(flags(per_run["reached"]), float(n_epochs + 1))


def target_table(
    per_run: pd.DataFrame,
    summary: pd.DataFrame | None = None,
    order: Sequence[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Per variant: mean, min (lo) and max (hi) epochs to target over the seeds that reached it,
    how many did (`reached`) out of `seeds`, the variant's knob `value` and a note when some did not.

    Seeds are counted from `summary` when given (so runs missing from per_run count as not
    reached), else from per_run. Means are over reaching seeds only: use censored_epochs for a
    number that includes the others."""
    source = summary if summary is not None and not summary.empty else per_run
    if source is None or source.empty:
        return pd.DataFrame(columns=TARGET_COLUMNS)
    out = []
    for variant in variant_order(source["variant"], order):
        seeds = int((source["variant"] == variant).sum())
        mine = per_run[(per_run["variant"] == variant) & flags(per_run["reached"])]
        e = _numeric(mine["epochs"])
        out.append(
            {
                "variant": variant,
                "value": (values or {}).get(variant),
                "epochs": float(e.mean()) if len(e) else math.nan,
                "lo": float(e.min()) if len(e) else math.nan,
                "hi": float(e.max()) if len(e) else math.nan,
                "reached": len(mine),
                "seeds": seeds,
                "note": f"{len(mine)} of {seeds} seeds reached it" if len(mine) < seeds else "",
            }
        )
    return pd.DataFrame(out, columns=TARGET_COLUMNS)


def epochs_to_target_over_seeds(
    epochs: pd.DataFrame,
    target: float,
    metric: str,
    lower_is_better: bool,
    n_epochs: int,
    keys: Iterable[str] | None = None,
    summary: pd.DataFrame | None = None,
) -> tuple[int | None, dict[int, int | None]]:
    """First epoch at which the mean curve over seeds reaches `target`, and the same per seed.

    Epochs a run did not record (after it diverged) and every epoch of a run that did not train
    (per `summary`) count as the worst value, so one failed seed keeps the mean from arriving:
    the same "a run that did not train never reaches a target" rule as epochs_to_target."""
    rows = epochs if keys is None else epochs[epochs["key"].isin(list(keys))]
    if rows.empty or metric not in rows:
        return None, {}
    worst = math.inf if lower_is_better else -math.inf
    rows = rows.assign(_v=_numeric(rows[metric]).to_numpy())
    failed = _failed_keys(summary)
    if failed:
        rows.loc[rows["key"].isin(failed), "_v"] = worst
    wide = rows.pivot_table(index="seed", columns="epoch", values="_v", aggfunc="first")
    wide = wide.reindex(columns=range(1, n_epochs + 1)).astype(float).fillna(worst)
    mean = wide.to_numpy().mean(axis=0)
    per_seed = {int(s): first_reaching(wide.loc[s].to_numpy(), target, lower_is_better) for s in wide.index}
    return first_reaching(mean, target, lower_is_better), per_seed


# -- time per epoch ------------------------------------------------------------------------------
def epoch_times(epochs: pd.DataFrame) -> pd.DataFrame:
    """Per run: `time_per_epoch` (median epoch-to-epoch difference of the cumulative `seconds`,
    i.e. after the first epoch; NaN for a one-epoch run), `first_epoch` (its seconds), `overhead`
    (first epoch minus a normal one: tracing and compilation; 0 when unknown) and `epochs`.

    The trainer's clock starts before tracing, so epoch 1 carries the compile; counting it as
    training would make every structural variant look slow for a reason unrelated to it."""
    if epochs is None or epochs.empty or "seconds" not in epochs:
        return pd.DataFrame(columns=TIME_COLUMNS)
    rows = []
    for key, g in epochs.sort_values(["key", "epoch"]).groupby("key", sort=False):
        s = _numeric(g["seconds"]).to_numpy()
        per = float(np.median(np.diff(s))) if len(s) > 1 else math.nan
        first = float(s[0]) if len(s) else math.nan
        overhead = max(0.0, first - per) if math.isfinite(per) and math.isfinite(first) else 0.0
        rows.append(
            {
                "key": key,
                "variant": g["variant"].iloc[0] if "variant" in g else None,
                "seed": g["seed"].iloc[0] if "seed" in g else None,
                "time_per_epoch": per,
                "first_epoch": first,
                "overhead": overhead,
                "epochs": len(s),
            }
        )
    return pd.DataFrame(rows, columns=TIME_COLUMNS)


def seconds_per_epoch(epochs: pd.DataFrame) -> pd.Series:
    """epoch_times' time_per_epoch as a Series by run key (NaN for one-epoch runs)."""
    t = epoch_times(epochs)
    return pd.Series(t["time_per_epoch"].to_numpy(float), index=t["key"], dtype=float)


# -- parameter count -----------------------------------------------------------------------------
def n_params(
    n_features: int,
    n_outputs: int,
    width: int,
    depth: int,
    batch_norm: bool | str = False,
    residual: bool = False,
) -> int:
    """Trainable parameters of our MLP: kernels and biases of every dense layer, plus gamma and
    beta (2 x width) per batch-norm layer (the moving statistics are not trained).

    batch_norm is a bool or the knob's value ("none" / "before" / "after"). `residual` is accepted
    so a whole Shape can be passed, and changes nothing: the skips are identities without
    weights. TensorFlow-free so a page can size networks without loading it; the model's
    Shape.n_params calls this."""
    has_bn = batch_norm not in (False, None, "none", "")
    del residual  # identity skips: no parameters of their own
    sizes = [n_features] + [width] * depth + [n_outputs]
    dense = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return dense + (2 * width * depth if has_bn else 0)


# -- loss shape: initial loss, volatility --------------------------------------------------------
def initial_loss(steps: pd.DataFrame) -> pd.Series:
    """Per run key: the loss of its first recorded batch (before any update: the untrained
    network); NaN when that loss is not finite (the run blew up on its first batch)."""
    if steps is None or steps.empty or "loss" not in steps:
        return pd.Series(dtype=float)
    first = (
        steps.sort_values("step", kind="stable").groupby("key", sort=False)["loss"].agg(lambda s: s.iloc[0])
    )
    first = pd.to_numeric(first, errors="coerce").astype(float)
    return first.where(np.isfinite(first))


def mean_initial_loss(steps: pd.DataFrame) -> float:
    """Mean initial loss over runs (finite ones): where every curve starts, e.g. for targets
    stated as "half the initial loss"."""
    first = initial_loss(steps).dropna()
    return float(first.mean()) if len(first) else math.nan


MIN_CHANGES = 2  # a spread of step-to-step changes needs at least two of them


def volatility(losses: Sequence[float]) -> float:
    """Std of the step-to-step change of the minibatch loss (finite losses, in step order): how
    much the loss jumps around. NaN with fewer than MIN_CHANGES changes."""
    v = np.asarray(losses, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.std(np.diff(v))) if len(v) > MIN_CHANGES else math.nan


def relative_volatility(losses: Sequence[float]) -> float:
    """volatility divided by the first finite loss, so one threshold works for any loss scale."""
    v = np.asarray(losses, dtype=float)
    v = v[np.isfinite(v)]
    return volatility(v) / float(v[0]) if len(v) and v[0] > 0 else math.nan


def volatility_by_run(steps: pd.DataFrame, relative: bool = False) -> pd.Series:
    """volatility (or relative_volatility) per run key of a steps frame."""
    if steps is None or steps.empty or "loss" not in steps:
        return pd.Series(dtype=float)
    measure = relative_volatility if relative else volatility
    return (
        steps.sort_values("step", kind="stable")
        .groupby("key", sort=False)["loss"]
        .agg(lambda s: measure(_numeric(s).to_numpy()))
    )


# -- learning rates ------------------------------------------------------------------------------
def round_lr(lr: float, digits: int = 2) -> float:
    """A learning rate rounded to `digits` significant figures: a stable, readable run key (a
    suggestion computed as 0.0231847 and 0.0231849 must name the same run)."""
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"a learning rate must be a positive finite number, got {lr!r}")
    return float(f"{lr:.{digits}g}")


# -- chance level and collapse -------------------------------------------------------------------
COLLAPSE_TOLERANCE = 0.10  # "within 10% of chance": a net that learned something is well below
COLLAPSE_TAIL = 0.25  # judged over the last quarter of its epochs: where it ended up, not a dip
# A run still creeping down from chance (a small learning rate early on) is slow, not collapsed:
# its tail's last loss is below everything before the tail by more than noise. 1% of ln C
# (0.023 nats on 10 classes) is above the epoch-to-epoch jitter of a net sitting at chance.
COLLAPSE_PROGRESS = 0.01


def chance_loss(n_classes: int) -> float:
    """ln C: the cross-entropy of predicting 1/C for every class, what a network that learned
    nothing (and is not confidently wrong) sits at. NaN for regression (n_classes < 2)."""
    return math.log(n_classes) if n_classes >= 2 else math.nan


def prior_loss(class_shares: Sequence[float] | None) -> float | None:
    """Cross-entropy of predicting the class shares themselves (<= ln C; equal for balanced
    classes): the best a model can do without looking at the inputs. None when unknown."""
    if not class_shares:
        return None
    p = np.asarray([s for s in class_shares if s > 0], float)
    p = p / p.sum()
    return float(-(p * np.log(p)).sum())


def is_collapsed(train_losses: Sequence[float], n_classes: int) -> bool:
    """Did a classification run end stuck at chance? True when every train loss of its last
    quarter of epochs (at least one) is finite and within COLLAPSE_TOLERANCE of ln C, and the
    tail made no progress: its last loss is not below every earlier epoch's by more than
    COLLAPSE_PROGRESS x ln C.

    Not collapsed: regression, fewer than two epochs (no earlier epoch to show whether it is
    stuck or just starting), a non-finite loss in the tail (that is divergence, which the trainer
    flags on its own), or a run still creeping down from chance (slow is not collapsed)."""
    chance = chance_loss(n_classes)
    v = np.asarray(train_losses, dtype=float)
    if not math.isfinite(chance) or len(v) < 2:
        return False
    n_tail = min(len(v) - 1, max(1, math.ceil(len(v) * COLLAPSE_TAIL)))
    before, tail = v[:-n_tail], v[-n_tail:]
    at_chance = np.isfinite(tail).all() and (np.abs(tail - chance) <= COLLAPSE_TOLERANCE * chance).all()
    earlier = before[np.isfinite(before)]
    progressing = len(earlier) and tail[-1] < earlier.min() - COLLAPSE_PROGRESS * chance
    return bool(at_chance and not progressing)


def collapsed(epochs: pd.DataFrame, n_classes: int) -> pd.Series:
    """is_collapsed per run key of an epochs frame (train_loss in epoch order)."""
    if epochs is None or epochs.empty or "train_loss" not in epochs:
        return pd.Series(dtype=bool)
    by_key = epochs.sort_values("epoch", kind="stable").groupby("key", sort=False)["train_loss"]
    return by_key.agg(lambda s: is_collapsed(_numeric(s).to_numpy(), n_classes)).astype(bool)
