"""Regularization claims RG1-RG3.

RG3 measures wall time, so its runs are trained alone (separate) and fresh every time (fresh):
a stored run's clock is another moment's machine load, and RG2's stacked runs share one clock.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from core import measures
from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.results import ComparisonResult
from core.spec import Comparison

RG_L = 1e-3  # the Keras tutorials' penalty strength for L1 and L2
RG1_L2 = (0.0, 1e-3, 1e-2)
SPARSITY_MARGIN = 0.05  # share of weights: 5 points more near-zero weights is a visible histogram change
RG3_RUNS = 5  # per penalty, each trained alone
RG3_EPOCHS = 6
TIME_MARGIN = 5.0  # % of an L2 epoch: below this, timing noise on a shared CPU


def preset_rg1(dataset: str, fast: bool) -> list[Comparison]:
    return [runs.of(runs.overfit_exp(dataset, fast, 20), {"l2": RG1_L2})]


def rule_rg1(results: list[ComparisonResult]) -> Outcome:
    t = runs.with_gap(runs.table(results))
    strong = max(t["l2"])
    none, reg = runs.select(t, l2=0.0), runs.select(t, l2=strong)
    ev = runs.column_test(none, reg, "gap", runs.LOSS_MARGIN, "nats of gap")
    n = {
        "l2": strong,
        "gap_without": runs.mean_of(none, "gap"),
        "gap_with": runs.mean_of(reg, "gap"),
        "val_loss_without": runs.mean_of(none, "final_val_loss"),
        "val_loss_with": runs.mean_of(reg, "final_val_loss"),
        "training_examples": int(t["n_train"].max()) if "n_train" in t else None,
    }
    text = (
        f"on {n['training_examples']} training examples the gap (validation minus training loss) was "
        f"{sig3(n['gap_without'])} without L2 vs {sig3(n['gap_with'])} with L2 {sig3(strong)} (validation loss "
        f"{sig3(n['val_loss_without'])} vs {sig3(n['val_loss_with'])})"
    )
    return Outcome(ev, n, text)


def preset_rg2(dataset: str, fast: bool) -> list[Comparison]:
    return [runs.of(runs.exp(dataset, fast, 10), {"l1": (0.0, RG_L), "l2": (0.0, RG_L)})]


def rule_rg2(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    l1v, l2v = max(t["l1"]), max(t["l2"])
    l1, l2, none = (
        runs.select(t, l1=l1v, l2=0.0),
        runs.select(t, l1=0.0, l2=l2v),
        runs.select(t, l1=0.0, l2=0.0),
    )
    ev = runs.column_test(l1, l2, "weight_sparsity", SPARSITY_MARGIN, "share of weights")
    n = {
        "sparsity_l1": runs.mean_of(l1, "weight_sparsity"),
        "sparsity_l2": runs.mean_of(l2, "weight_sparsity"),
        "sparsity_none": runs.mean_of(none, "weight_sparsity"),
        "l1": l1v,
        "l2": l2v,
    }
    text = (
        f"{sig3(100 * n['sparsity_l1'])}% of the weights ended with |w| < 0.001 under L1 {sig3(l1v)} vs "
        f"{sig3(100 * n['sparsity_l2'])}% under L2 {sig3(l2v)} ({sig3(100 * n['sparsity_none'])}% with neither)"
    )
    return Outcome(ev, n, text)


def preset_rg3(dataset: str, fast: bool) -> list[Comparison]:
    """One single-run comparison per (penalty, seed), alternating L1 and L2, so that a change in
    the machine's load during the measurement hits both penalties alike."""
    base = runs.exp(dataset, fast, RG3_EPOCHS)
    return [
        runs.of(dataclasses.replace(base, seed=s, **{penalty: RG_L}), seeds=1)
        for s in range(RG3_RUNS)
        for penalty in ("l1", "l2")
    ]


def rule_rg3(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    t = t.assign(
        epoch_seconds=t["key"].map(measures.seconds_per_epoch(runs.frame(results, "epochs"))).astype(float)
    )
    a, b = (
        runs.finite(runs.by_seed(t[t["l1"] > 0], "epoch_seconds")),
        runs.finite(runs.by_seed(t[t["l2"] > 0], "epoch_seconds")),
    )
    ref = float(b.mean()) if len(b) else np.nan
    ev = stats.unpaired(100 * a.to_numpy() / ref, 100 * b.to_numpy() / ref, TIME_MARGIN, "% of an L2 epoch")
    stacked = bool((t.get("group_size", 1) > 1).any()) if len(t) else False
    n = {
        "ms_per_epoch_l1": 1000 * a.mean() if len(a) else None,
        "ms_per_epoch_l2": 1000 * ref if len(b) else None,
        "runs_l1": len(a),
        "runs_l2": len(b),
        "trained_alone": not stacked,
    }
    text = (
        f"on this machine an epoch took {sig3(n['ms_per_epoch_l1'])} ms with L1 vs {sig3(n['ms_per_epoch_l2'])} ms "
        f"with L2 ({len(a)} + {len(b)} runs, each trained alone and timed fresh, epochs after the first)"
    )
    if stacked:
        ev = stats.unpaired([], [], TIME_MARGIN, "% of an L2 epoch")
        text = "these runs were trained together, so their clocks cannot be told apart"
    return Outcome(ev, n, text)


CLAIMS = (
    Claim(
        "RG1",
        "regularization",
        "Regularization reduces overfitting.",
        "Generalization gap with and without an L2 penalty on 300 training and 300 validation examples, "
        "paired by seed.",
        preset_rg1,
        rule_rg1,
        stats.PAIRED_T,
        "nats of gap",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
    ),
    Claim(
        "RG2",
        "regularization",
        "L1 makes weights sparse; L2 keeps them dense.",
        "Fraction of weights with |w| < 0.001 under L1 vs under L2 of the same strength, paired by seed.",
        preset_rg2,
        rule_rg2,
        stats.PAIRED_T,
        "share of weights",
        SPARSITY_MARGIN,
        "5 points more near-zero weights is a visible change in the weight histogram",
    ),
    Claim(
        "RG3",
        "regularization",
        "L1 costs more computation than L2.",
        "Median wall time of an epoch (after the first, which includes compilation) of the same network with "
        "L1 vs L2, each run trained alone and fresh (never replayed), L1 and L2 alternating (Welch t).",
        preset_rg3,
        rule_rg3,
        stats.WELCH,
        "% of an L2 epoch",
        TIME_MARGIN,
        "under 5% of an epoch is within the timing noise of a shared CPU",
        separate=True,
        fresh=True,
    ),
)
