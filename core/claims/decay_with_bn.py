"""Claim BN7: with batch norm the learning rate can decay faster.

Same peak rate, an exponential decay with a short or a long half-life, with and without BN, in
BN1's deep plain-SGD network (where BN has something to do: see core.claims.batch_norm). The
claim is about an interaction: the accuracy a fast decay costs (slow minus fast) should be
smaller with BN than without, seed by seed. A fast decay that helps with BN (a negative cost)
counts for the claim too.
"""

from __future__ import annotations

import math

import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.batch_norm import BN1_LR, BN_DEPTH
from core.claims.runs import sig3
from core.claims.wide_deep import ACC_MARGIN
from core.results import ComparisonResult
from core.spec import Comparison

BN7_EPOCHS = 10
# Half-lives in epochs: fast = the rate is 1/1024 of its peak by the end of 10 epochs (annealed
# after ~3); slow = a quarter of the peak at the end (still learning).
BN7_FAST, BN7_SLOW = 1.0, 5.0
BN7_ARMS = ("none", "before")


def preset_bn7(dataset: str, fast: bool) -> list[Comparison]:
    base = runs.exp(
        dataset,
        fast,
        BN7_EPOCHS,
        depth=BN_DEPTH,
        optimizer="sgd",
        learning_rate=BN1_LR,
        lr_schedule="exponential",
    )
    return [runs.of(base, {"batch_norm": BN7_ARMS, "lr_half_life": (BN7_FAST, BN7_SLOW)})]


def scored(t: pd.DataFrame, results: list[ComparisonResult]) -> tuple[pd.Series, bool]:
    """(score per row, higher is better): validation accuracy with a run that did not train at
    chance (1/classes); for regression, minus the validation loss (a failed run at its start)."""
    col, lower = runs.accuracy_or_loss(t)
    if lower:
        return -runs.loss_or_start(t, col, results), True
    classes = {run.key: run.n_classes for res in results for run in res.runs}
    chance = 1.0 / t["key"].map(classes).astype(float).clip(lower=2).fillna(2)
    acc = pd.to_numeric(t[col], errors="coerce")
    return acc.where(~runs.failed(t), chance), False


def rule_bn7(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    score, regression = scored(t, results)
    t = t.assign(score=score)

    def cell(bn: str, half_life: float) -> pd.Series:
        return runs.by_seed(runs.select(t, batch_norm=bn, lr_half_life=half_life), "score")

    cost = {bn: cell(bn, BN7_SLOW) - cell(bn, BN7_FAST) for bn in BN7_ARMS}  # what the fast decay costs
    unit = "nats of validation loss" if regression else "validation accuracy"
    margin = runs.LOSS_MARGIN if regression else ACC_MARGIN
    ev = runs.paired_test(cost["none"], cost["before"], margin, unit)
    sign = -1.0 if regression else 1.0  # numbers in the measurement's own sense

    def mean(s: pd.Series) -> float:
        v = runs.finite(s)
        return sign * float(v.mean()) if len(v) else math.nan

    n = {
        f"{'val_loss' if regression else 'val_accuracy'}_{bn}_{name}": mean(cell(bn, h))
        for bn in BN7_ARMS
        for name, h in (("fast", BN7_FAST), ("slow", BN7_SLOW))
    }
    n |= {f"fast_decay_cost_{bn}": sign * mean(cost[bn]) for bn in BN7_ARMS}
    n |= {f"did_not_train_{bn}": runs.failed_text(runs.select(t, batch_norm=bn)) for bn in BN7_ARMS}
    text = (
        f"in a {BN_DEPTH}-layer plain-SGD network at peak rate {sig3(BN1_LR)}, halving the rate every "
        f"{sig3(BN7_FAST)} instead of every {sig3(BN7_SLOW)} epochs changed the final {unit} by "
        f"{sig3(-sign * n['fast_decay_cost_before'])} with BN and by {sig3(-sign * n['fast_decay_cost_none'])} "
        f"without (runs that did not train: {n['did_not_train_before']} with BN, {n['did_not_train_none']} "
        "without, scored at chance)"
    )
    return Outcome(ev, n, text)


CLAIMS = (
    Claim(
        "BN7",
        "batch_norm",
        "With batch normalization the learning rate can be decayed faster.",
        f"Same peak rate, the rate halved every {BN7_FAST:g} vs every {BN7_SLOW:g} epochs (exponential decay) "
        f"in a {BN_DEPTH}-layer network with plain SGD, with and without BN: per seed, the validation accuracy "
        "the fast decay costs without BN minus what it costs with BN (positive: BN makes the fast decay cheaper).",
        preset_bn7,
        rule_bn7,
        stats.PAIRED_T,
        "validation accuracy",
        ACC_MARGIN,
        "one point of accuracy is the least difference a practitioner would act on",
    ),
)
