"""Batch-size claims BS1-BS4.

Why equal updates for BS2-BS4: at equal epochs a batch of 256 takes 8x fewer steps than one of
32, so "large batches generalize worse / get stuck" would be read off runs that simply trained
less. The large batch gets as many epochs as it needs to take the small batch's number of
updates (capped by MAX_EPOCHS), so both arms end at a comparable amount of training.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.limits import MAX_EPOCHS
from core.results import ComparisonResult
from core.spec import Comparison

BS1_SIZES = (32, 512)
BS1_EPOCHS = 5
STEP_MARGIN = math.log10(1.25)  # decades: a step 25% larger is the least a practitioner notices
BS_SMALL, BS_LARGE = 32, 256  # 32 is the product default
BS_EPOCHS = 10  # of the small batch; the large one gets equal updates
BS_SEEDS = 10
ACC_SPREAD_MARGIN = 0.005  # accuracy: half a point of typical deviation between seeds
POOR_FACTOR = 2.0  # "stuck in a poor solution": final training loss above 2x the median run


def preset_bs1(dataset: str, fast: bool) -> list[Comparison]:
    """Small vs large batch at the same rate, plus the large batch at a linearly scaled rate
    (Goyal et al. 2017: lr x batch/32), the practice under which "larger steps" is usually said."""
    base = runs.exp(dataset, fast, BS1_EPOCHS)
    scaled = dataclasses.replace(
        base, batch_size=max(BS1_SIZES), learning_rate=base.learning_rate * max(BS1_SIZES) / min(BS1_SIZES)
    )
    return [runs.of(base, {"batch_size": BS1_SIZES}), runs.of(scaled)]


def update_sizes(results: list[ComparisonResult], t: pd.DataFrame) -> pd.Series:
    """Per run: mean update norm over the first S steps, S = the fewest steps any run took, so
    every run is compared from the same start over the same number of updates."""
    steps = runs.frame(results, "steps")
    if steps.empty:
        return pd.Series(np.nan, index=t.index)
    n_steps = int(steps.groupby("key")["step"].count().min())
    early = steps[steps["step"] < steps.groupby("key")["step"].transform("min") + n_steps]
    return t["key"].map(early.groupby("key")["update_norm"].mean()).astype(float)


def rule_bs1(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    t = t.assign(log_update=np.log10(update_sizes(results, t)))
    lr0 = min(t["learning_rate"])
    fixed = runs.select(t, learning_rate=lr0)
    small, large = (
        runs.select(fixed, batch_size=min(BS1_SIZES)),
        runs.select(fixed, batch_size=max(BS1_SIZES)),
    )
    scaled = t[t["learning_rate"] > lr0]
    same_lr = runs.column_test(
        large, small, "log_update", STEP_MARGIN, "decades of update size", label="same learning rate"
    )
    parts = [same_lr]
    if len(scaled):
        parts.append(
            runs.column_test(
                scaled,
                small,
                "log_update",
                STEP_MARGIN,
                "decades of update size",
                label="linearly scaled learning rate (reported)",
            )
        )
    n = {
        "batch_small": min(BS1_SIZES),
        "batch_large": max(BS1_SIZES),
        "update_small": 10 ** runs.mean_of(small, "log_update"),
        "update_large": 10 ** runs.mean_of(large, "log_update"),
        "update_large_scaled_lr": 10 ** runs.mean_of(scaled, "log_update") if len(scaled) else None,
        "steps_per_epoch_small": runs.mean_of(small, "steps_per_epoch"),
        "steps_per_epoch_large": runs.mean_of(large, "steps_per_epoch"),
    }
    text = (
        f"from the same start, one update moved the weights by {sig3(n['update_large'])} with batch "
        f"{n['batch_large']} vs {sig3(n['update_small'])} with batch {n['batch_small']} at lr {sig3(lr0)} "
        f"(geometric means), and by {sig3(n['update_large_scaled_lr'])} with the rate scaled linearly; an epoch "
        f"had {sig3(n['steps_per_epoch_large'])} vs {sig3(n['steps_per_epoch_small'])} updates"
    )
    return Outcome(same_lr, n, text, tuple(parts))


def preset_bs(dataset: str, fast: bool) -> list[Comparison]:
    """Shared by BS2-BS4 (a store trains it once): batch 32, and batch 256 with equal updates."""
    small = runs.exp(dataset, fast, BS_EPOCHS, batch_size=BS_SMALL)
    large = dataclasses.replace(small, batch_size=BS_LARGE)
    ratio = runs.steps_per_epoch(small) / runs.steps_per_epoch(large)
    large = dataclasses.replace(large, epochs=min(MAX_EPOCHS, math.ceil(small.epochs * ratio)))
    return [runs.of(small, seeds=BS_SEEDS), runs.of(large, seeds=BS_SEEDS)]


def arms(results: list[ComparisonResult]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    t = runs.with_gap(runs.table(results))
    return t, runs.select(t, batch_size=min(t["batch_size"])), runs.select(t, batch_size=max(t["batch_size"]))


def equal_updates_text(small: pd.DataFrame, large: pd.DataFrame) -> str:
    return (
        f"batch {int(large['batch_size'].iloc[0])} trained {int(large['epochs'].iloc[0])} epochs to take as many "
        f"updates as batch {int(small['batch_size'].iloc[0])} in {int(small['epochs'].iloc[0])}"
    )


def rule_bs2(results: list[ComparisonResult]) -> Outcome:
    t, small, large = arms(results)
    col, _ = runs.accuracy_or_loss(t)
    a, b = runs.finite(runs.by_seed(large, col)), runs.finite(runs.by_seed(small, col))
    unit = "accuracy" if col.endswith("accuracy") else "nats"
    ev = stats.spread(a.to_numpy(), b.to_numpy(), ACC_SPREAD_MARGIN, f"{unit} of mean absolute deviation")
    n = {
        "std_large": float(a.std(ddof=1)) if len(a) > 1 else None,
        "std_small": float(b.std(ddof=1)) if len(b) > 1 else None,
        "mean_large": float(a.mean()) if len(a) else None,
        "mean_small": float(b.mean()) if len(b) else None,
        "metric": col,
    }
    text = (
        f"{col.replace('final_', 'final ').replace('_', ' ')} varied from seed to seed with a std of "
        f"{sig3(n['std_large'])} at batch {BS_LARGE} vs {sig3(n['std_small'])} at batch {BS_SMALL} on one fixed "
        f"split (means {sig3(n['mean_large'])} vs {sig3(n['mean_small'])}); {equal_updates_text(small, large)}"
    )
    return Outcome(ev, n, text)


def rule_bs3(results: list[ComparisonResult]) -> Outcome:
    _, small, large = arms(results)
    ev = runs.column_test(large, small, "gap", runs.LOSS_MARGIN, "nats of gap")
    n = {
        "gap_small": runs.mean_of(small, "gap"),
        "gap_large": runs.mean_of(large, "gap"),
        "train_loss_small": runs.mean_of(small, "final_train_loss"),
        "train_loss_large": runs.mean_of(large, "final_train_loss"),
    }
    text = (
        f"the gap (validation minus training loss) was {sig3(n['gap_small'])} with batch {BS_SMALL} vs "
        f"{sig3(n['gap_large'])} with batch {BS_LARGE} (training loss {sig3(n['train_loss_small'])} vs "
        f"{sig3(n['train_loss_large'])}); {equal_updates_text(small, large)}"
    )
    return Outcome(ev, n, text)


def rule_bs4(results: list[ComparisonResult]) -> Outcome:
    t, small, large = arms(results)
    loss = pd.to_numeric(t["final_train_loss"], errors="coerce")
    threshold = POOR_FACTOR * float(np.nanmedian(loss)) if loss.notna().any() else math.nan

    def poor(rows: pd.DataFrame) -> int:  # a run that did not train ended nowhere good either
        return int(
            (runs.failed(rows) | (pd.to_numeric(rows["final_train_loss"], errors="coerce") > threshold)).sum()
        )

    k_s, k_l = poor(small), poor(large)
    ev = stats.counts(k_l, len(large), k_s, len(small), runs.SHARE_MARGIN)
    n = {
        "threshold_train_loss": threshold,
        "poor_small": k_s,
        "poor_large": k_l,
        "runs_small": len(small),
        "runs_large": len(large),
    }
    text = (
        f"{k_l}/{len(large)} runs with batch {BS_LARGE} vs {k_s}/{len(small)} with batch {BS_SMALL} ended with "
        f"training loss above {sig3(threshold)} (twice the median run) or did not train; "
        f"{equal_updates_text(small, large)}"
    )
    return Outcome(ev, n, text)


CLAIMS = (
    Claim(
        "BS1",
        "batch_size",
        "Larger batches take bigger, fewer and less noisy steps per epoch.",
        "Mean size of one update over the same number of first steps from the same start, batch 32 vs 512 at "
        "the same learning rate (paired by seed, in decades); the large batch at a linearly scaled rate beside.",
        preset_bs1,
        rule_bs1,
        stats.PAIRED_T,
        "decades of update size",
        STEP_MARGIN,
        "a step 25% larger (0.097 decades) is the least a practitioner would notice",
    ),
    Claim(
        "BS2",
        "batch_size",
        "Large batches give less consistent results from run to run.",
        "Seed-to-seed spread of final validation accuracy on one fixed split, batch 256 vs 32 at equal numbers "
        "of updates (Brown-Forsythe, 10 seeds each).",
        preset_bs,
        rule_bs2,
        stats.BROWN_FORSYTHE,
        "accuracy of mean absolute deviation",
        ACC_SPREAD_MARGIN,
        "half a point of accuracy between seeds is below what anyone would call inconsistent",
    ),
    Claim(
        "BS3",
        "batch_size",
        "Small batches regularize more: a smaller generalization gap.",
        "Validation minus training loss, batch 256 vs 32 at equal numbers of updates, paired by seed.",
        preset_bs,
        rule_bs3,
        stats.PAIRED_T,
        "nats of gap",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
    ),
    Claim(
        "BS4",
        "batch_size",
        "Small batches get stuck in poor solutions less often than large ones.",
        "Share of runs whose final training loss is above twice the median run (or that did not train), batch "
        "256 vs 32 at equal numbers of updates (one-sided Fisher exact test).",
        preset_bs,
        rule_bs4,
        stats.FISHER,
        "share of runs",
        runs.SHARE_MARGIN,
        "one run in five either way is within what seeds alone produce",
    ),
)
