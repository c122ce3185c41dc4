"""Weight-decay claims WD1-WD3 (decoupled, Keras style: W -= W * weight_decay * lr each step).

Why effective units for WD1: one step shrinks the weights by lr * wd, so over a run they shrink
by about lr * wd * steps. A raw grid like 1e-5..1e-3 at lr 0.05 over ~700 steps is effectively
no decay at all; a grid of lr * wd * steps in {0, 0.03, 0.1, 0.3, 1, 3} spans "none" to "strong"
on every dataset, whatever its number of steps.
Why per-seed argmins for WD2/WD3: "the best value differs" is about each run's own best; taking
the best of each seed's curve and comparing those seed by seed is a paired test on grid steps.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3, values
from core.results import ComparisonResult
from core.spec import Comparison

MAX_WEIGHT_DECAY = 1.0  # the knob's upper bound (core.spec)
WD1_EFFECTIVE = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0)  # lr * wd * steps: none ... strong
WD1_EPOCHS = 15
WD1_SEEDS = 10  # half pick the best and worst value, the other half test them (no selection bias)
WD_GRID = (0.0, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1)
WD2_GRID = (0.0, 1e-3, 1e-2, 1e-1)
WD3_LR = 0.02
WD3_PEAK = 10  # one-cycle peaks at 10x the constant rate


def wd1_grid(dataset: str, fast: bool) -> tuple[float, ...]:
    """Weight decays whose lr * wd * steps hit WD1_EFFECTIVE on this dataset (capped at the
    knob's bound, repeats dropped)."""
    base = runs.exp(dataset, fast, WD1_EPOCHS)
    total = base.learning_rate * base.epochs * runs.steps_per_epoch(base)
    grid = [min(MAX_WEIGHT_DECAY, float(f"{e / total:.2g}")) for e in WD1_EFFECTIVE]
    return tuple(dict.fromkeys(grid))


def preset_wd1(dataset: str, fast: bool) -> list[Comparison]:
    return [
        runs.of(runs.exp(dataset, fast, WD1_EPOCHS), {"weight_decay": wd1_grid(dataset, fast)}, WD1_SEEDS)
    ]


def rule_wd1(results: list[ComparisonResult]) -> Outcome:
    """Best and worst decay picked on the first half of the seeds (by mean validation loss), their
    difference tested on the other half, seed by seed."""
    t = runs.table(results)
    t = t.assign(score=runs.loss_or_start(t, "final_val_loss", results))
    seeds = sorted(t["seed"].unique())
    pick, test = seeds[: len(seeds) // 2], seeds[len(seeds) // 2 :]
    chosen = t[t["seed"].isin(pick)].groupby("weight_decay")["score"].mean().dropna()
    if chosen.empty:
        ev = stats.paired([], runs.LOSS_MARGIN, "nats of validation loss")
        return Outcome(ev, {}, "no run trained, so no weight decay can be compared")
    best, worst = float(chosen.idxmin()), float(chosen.idxmax())
    held = t[t["seed"].isin(test)]
    d = runs.paired_diff(
        runs.by_seed(runs.select(held, weight_decay=worst), "score"),
        runs.by_seed(runs.select(held, weight_decay=best), "score"),
    )
    ev = stats.paired(d, runs.LOSS_MARGIN, "nats of validation loss")
    means = t.groupby("weight_decay")["score"].mean()
    n = {
        "best_weight_decay": best,
        "worst_weight_decay": worst,
        "val_loss_best": float(means[best]),
        "val_loss_worst": float(means[worst]),
        "chosen_on_seeds": len(pick),
        "tested_on_seeds": len(test),
    }
    text = (
        f"over weight decays {'/'.join(sig3(w) for w in values(t, 'weight_decay'))} (lr·wd·steps from 0 to "
        f"{sig3(max(WD1_EFFECTIVE))}), the best on {len(pick)} seeds was {sig3(best)} and the worst {sig3(worst)}; "
        f"on the other {len(test)} seeds their validation losses were {sig3(means[best])} vs {sig3(means[worst])}"
    )
    return Outcome(ev, n, text)


def best_index(rows: pd.DataFrame, grid: list[float], results: list[ComparisonResult]) -> pd.Series:
    """Per seed: position in the log grid of the weight decay with the lowest validation loss."""
    rows = rows.assign(score=runs.loss_or_start(rows, "final_val_loss", results))
    out = {}
    for seed, g in rows.groupby("seed"):
        g = g.dropna(subset=["score"])
        if len(g):
            out[seed] = float(grid.index(float(g.loc[g["score"].idxmin(), "weight_decay"])))
    return pd.Series(out, dtype=float)


def preset_wd2(dataset: str, fast: bool) -> list[Comparison]:
    """Three cells: small/large data at width 32, and the large data at width 128 as well."""
    large = min(runs.pool_size(dataset), 400 if fast else runs.pool_size(dataset))
    base = runs.exp(dataset, fast, 10, width=32, n_samples=large)
    return [
        runs.of(base, {"n_samples": (max(60, large // 5), large), "weight_decay": WD2_GRID}),
        runs.of(dataclasses.replace(base, width=128), {"weight_decay": WD2_GRID}),
    ]


def rule_wd2(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    grid = values(t, "weight_decay")
    n_small, n_large = min(t["n_samples"]), max(t["n_samples"])
    w_small, w_large = min(t["width"]), max(t["width"])
    small_data = best_index(runs.select(t, n_samples=n_small, width=w_small), grid, results)
    large_data = best_index(runs.select(t, n_samples=n_large, width=w_small), grid, results)
    large_model = best_index(runs.select(t, n_samples=n_large, width=w_large), grid, results)
    data = runs.paired_test(
        small_data,
        large_data,
        runs.GRID_MARGIN,
        "grid steps",
        discrete=True,
        label=f"{n_small} vs {n_large} examples",
    )
    model = runs.paired_test(
        large_data,
        large_model,
        runs.GRID_MARGIN,
        "grid steps",
        discrete=True,
        label=f"width {w_small} vs {w_large}",
    )

    def typical(s: pd.Series) -> str:
        return sig3(grid[int(np.median(s))]) if len(s) else "n/a"

    n = {
        "median_best_small_data": typical(small_data),
        "median_best_large_data": typical(large_data),
        "median_best_large_model": typical(large_model),
        "grid": "/".join(sig3(g) for g in grid),
    }
    text = (
        f"the median per-seed best weight decay was {n['median_best_small_data']} with {n_small} examples vs "
        f"{n['median_best_large_data']} with {n_large}, and {n['median_best_large_data']} at width {w_small} vs "
        f"{n['median_best_large_model']} at width {w_large} (grid {n['grid']})"
    )
    return runs.combined((data, model), n, text)


def preset_wd3(dataset: str, fast: bool) -> list[Comparison]:
    base = runs.overfit_exp(dataset, fast, 15, learning_rate=WD3_LR)
    cyclic = dataclasses.replace(base, lr_schedule="one_cycle", learning_rate=WD3_PEAK * WD3_LR)
    return [runs.of(base, {"weight_decay": WD_GRID}), runs.of(cyclic, {"weight_decay": WD_GRID})]


def rule_wd3(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    grid = values(t, "weight_decay")
    const = best_index(runs.select(t, lr_schedule="constant"), grid, results)
    cyc = best_index(runs.select(t, lr_schedule="one_cycle"), grid, results)
    ev = runs.paired_test(const, cyc, runs.GRID_MARGIN, "grid steps", discrete=True)

    def typical(s: pd.Series) -> str:
        return sig3(grid[int(np.median(s))]) if len(s) else "n/a"

    n = {
        "median_best_constant": typical(const),
        "median_best_one_cycle": typical(cyc),
        "mean_grid_steps_apart": float(np.mean(runs.paired_diff(const, cyc))) if len(const) else math.nan,
    }
    text = (
        f"the median per-seed best weight decay was {n['median_best_constant']} with a constant lr "
        f"{sig3(WD3_LR)} vs {n['median_best_one_cycle']} with one-cycle peaking at {sig3(WD3_PEAK * WD3_LR)} "
        f"(grid {'/'.join(sig3(g) for g in grid)})"
    )
    return Outcome(ev, n, text)


CLAIMS = (
    Claim(
        "WD1",
        "weight_decay",
        "The weight-decay value matters, so it has to be tuned.",
        "Validation loss over a weight-decay grid in effective units (lr·wd·steps from 0 to 3): the best and "
        "worst values, picked on half the seeds, compared on the other half seed by seed.",
        preset_wd1,
        rule_wd1,
        stats.PAIRED_T,
        "nats of validation loss",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
    ),
    Claim(
        "WD2",
        "weight_decay",
        "Smaller datasets and smaller models want more weight decay.",
        "Each seed's best weight decay (lowest validation loss on a log grid) for a small vs large training "
        "set (width 32), and for width 32 vs 128 (large set), compared seed by seed in grid steps.",
        preset_wd2,
        rule_wd2,
        stats.WILCOXON,
        "grid steps",
        runs.GRID_MARGIN,
        "a best value less than one grid step away is the same value",
    ),
    Claim(
        "WD3",
        "weight_decay",
        "The best weight decay under a constant learning rate differs from the best under a learning-rate "
        "range (one-cycle); the larger rates want less weight decay.",
        "Each seed's best weight decay under a constant rate vs a one-cycle schedule peaking at 10x that "
        "rate, compared seed by seed in grid steps.",
        preset_wd3,
        rule_wd3,
        stats.WILCOXON,
        "grid steps",
        runs.GRID_MARGIN,
        "a best value less than one grid step away is the same value",
    ),
)
