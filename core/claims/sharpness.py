"""Claim BS5: large batches end in sharper minima (Keskar et al. 2017), measured on the weights.

Why this design (chosen before any run, see ../shared/CLAIMS.md):
- at convergence and at equal updates: both arms train to a low training loss (the small batch
  for BS5_EPOCHS epochs, "enough for digits to reach ~97%"), the large batch for as many epochs
  as it needs to take the same number of updates (capped by MAX_EPOCHS), so "sharper" is not read
  off a large-batch run that simply trained less (as for BS2-BS4, whose shorter budget is not
  convergence; BS5's own budget also gives it run keys of its own, trained with weights);
- one fixed learning rate (the product default); an LR-tuned comparison is core.tuning's;
- sharpness as core.landscape measures it: the largest rise of the training loss within a
  quarter of every filter's norm along random filter-normalized directions, per run, in nats;
  paired by seed (same initial weights, same split), large minus small, paired t;
- reported beside it, not deciding: the straight line between the small- and the large-batch
  solution of each seed (Keskar et al.'s figure 3): how far the loss rises just beyond each end
  and whether a barrier separates them.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from core import landscape
from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.limits import MAX_EPOCHS
from core.results import ComparisonResult, RunResult
from core.spec import Comparison
from core.weights import RunWeights, weights_of

# The product default, and Keskar et al.'s "large batch": about 10% of the training set (128 of
# digits' 1,437 training rows). 128 rather than BS2-BS4's 256 also halves the large arm's epochs
# at equal updates (80 instead of 176), which keeps the claim's cold run near 40 s on 2 cores.
BS5_SMALL, BS5_LARGE = 32, 128
BS5_EPOCHS = 20  # of the small batch (the Experiment default: digits converges); large: equal updates
BS5_SEEDS = 10
BEYOND = 0.25  # how far past each solution the line is followed (alpha -0.25 and 1.25)


def preset_bs5(dataset: str, fast: bool) -> list[Comparison]:
    small = runs.exp(dataset, fast, BS5_EPOCHS, batch_size=BS5_SMALL)
    large = dataclasses.replace(small, batch_size=BS5_LARGE)
    ratio = runs.steps_per_epoch(small) / runs.steps_per_epoch(large)
    large = dataclasses.replace(large, epochs=min(MAX_EPOCHS, math.ceil(small.epochs * ratio)))
    return [runs.of(small, seeds=BS5_SEEDS), runs.of(large, seeds=BS5_SEEDS)]


def _runs(results: list[ComparisonResult]) -> dict[str, RunResult]:
    return {run.key: run for res in results for run in res.runs}


def _weights(run: RunResult) -> RunWeights | None:
    return None if run.did_not_train else weights_of(run)


def sharpness_column(t: pd.DataFrame, by_key: dict[str, RunResult]) -> pd.Series:
    """Per row: the run's sharpness (NaN when it did not train or has no stored weights)."""
    values = []
    for key in t["key"]:
        run = by_key[key]
        w = _weights(run)
        prob = landscape.problem(run.experiment) if w is not None else None
        values.append(landscape.sharpness(w, prob, run.experiment.seed) if w is not None else math.nan)
    return pd.Series(values, index=t.index, dtype=float)


def line_numbers(small: pd.DataFrame, large: pd.DataFrame, by_key: dict[str, RunResult]) -> dict[str, float]:
    """Means over seeds of the small -> large line (training loss on the small run's data): the
    rise just beyond the small solution (alpha -0.25) and beyond the large one (alpha 1.25) over
    their own losses, and the barrier between them (highest point inside minus the higher end)."""
    pairs = small.merge(large, on="seed", suffixes=("_s", "_l"))
    alphas = np.array([-BEYOND, *np.linspace(0, 1, 11), 1 + BEYOND])
    rise_small, rise_large, barrier = [], [], []
    for key_s, key_l in zip(pairs["key_s"], pairs["key_l"], strict=True):
        a, b = _weights(by_key[key_s]), _weights(by_key[key_l])
        if a is None or b is None:
            continue
        pts = landscape.line(a.final, b.final, a.moving("final"), b.moving("final"), alphas)
        loss = landscape.losses(landscape.problem(by_key[key_s].experiment), pts, "train")
        ends = loss[[1, -2]]
        rise_small.append(loss[0] - ends[0])
        rise_large.append(loss[-1] - ends[1])
        barrier.append(float(np.max(loss[1:-1]) - np.max(ends)))
    mean = lambda v: float(np.nanmean(v)) if v else math.nan  # noqa: E731
    return {
        "line_rise_beyond_small": mean(rise_small),
        "line_rise_beyond_large": mean(rise_large),
        "line_barrier": mean(barrier),
    }


def rule_bs5(results: list[ComparisonResult]) -> Outcome:
    by_key = _runs(results)
    t = runs.table(results)
    t = t.assign(sharpness=sharpness_column(t, by_key))
    small = runs.select(t, batch_size=min(t["batch_size"]))
    large = runs.select(t, batch_size=max(t["batch_size"]))
    ev = runs.column_test(large, small, "sharpness", runs.LOSS_MARGIN, "nats of loss rise")
    n = {
        "sharpness_small": runs.mean_of(small, "sharpness"),
        "sharpness_large": runs.mean_of(large, "sharpness"),
        "train_loss_small": runs.mean_of(small, "final_train_loss"),
        "train_loss_large": runs.mean_of(large, "final_train_loss"),
        "runs_without_weights": int(t["sharpness"].isna().sum()),
        "epsilon": landscape.SHARP_EPSILON,
        **line_numbers(small, large, by_key),
    }
    text = (
        f"within {sig3(n['epsilon'])} of every filter's norm along random filter-normalized directions, the "
        f"training loss rose by at most {sig3(n['sharpness_large'])} nats around the batch-{BS5_LARGE} solutions vs "
        f"{sig3(n['sharpness_small'])} around the batch-{BS5_SMALL} ones (final training loss "
        f"{sig3(n['train_loss_large'])} vs {sig3(n['train_loss_small'])}); on the straight line between the two "
        f"solutions of a seed the loss rose {sig3(n['line_rise_beyond_large'])} just beyond the large-batch end vs "
        f"{sig3(n['line_rise_beyond_small'])} beyond the small-batch end (barrier {sig3(n['line_barrier'])}); "
        f"{_updates_text(small, large)}"
    )
    if n["runs_without_weights"]:
        text += f"; {n['runs_without_weights']} run(s) had no weights to measure (did not train, or stored before weights were kept)"
    return Outcome(ev, n, text)


def _updates_text(small: pd.DataFrame, large: pd.DataFrame) -> str:
    if small.empty or large.empty:
        return "no runs"
    return (
        f"batch {int(large['batch_size'].iloc[0])} trained {int(large['epochs'].iloc[0])} epochs to take as many "
        f"updates as batch {int(small['batch_size'].iloc[0])} in {int(small['epochs'].iloc[0])}"
    )


CLAIMS = (
    Claim(
        "BS5",
        "batch_size",
        "Large batches end in sharper minima: the loss rises faster around where they stop.",
        "Sharpness of the final weights: the largest rise of the training loss within a quarter of every "
        "filter's norm along 16 random filter-normalized directions (Li et al. 2018; after Keskar et al. 2017), "
        f"batch {BS5_LARGE} vs {BS5_SMALL} trained to convergence at equal numbers of updates, paired by seed "
        f"({BS5_SEEDS} seeds); the straight line between the two solutions of each seed is reported beside it.",
        preset_bs5,
        rule_bs5,
        stats.PAIRED_T,
        "nats of loss rise",
        runs.LOSS_MARGIN,
        "sharpness is a rise of the training loss in nats; 0.02 nats is the practical loss margin every loss "
        "claim here uses (about a tenth of a typical digits validation loss), fixed before any run",
    ),
)
