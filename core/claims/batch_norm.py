"""Batch-norm claims BN1-BN5.

BN1/BN2 use a deep network (BN_DEPTH hidden layers): batch norm is a remedy for training deep
networks, and in a 2-4 layer MLP on standardized inputs plain SGD already trains in an epoch or
two, which leaves BN nothing to speed up (every arm hits the target in epoch 1: a ceiling).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.results import ComparisonResult
from core.spec import INITS, Comparison

BN_DEPTH = 6
BN1_EPOCHS = 10
BN1_LR = 0.05
BN1_ARMS = ("none", "before")  # before the activation: the common placement (BN4 compares placements)
BN1_TARGET_SHARE = 0.9  # "trained": 90% of the best arm's final accuracy
BN2_RATES = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BN2_EPOCHS = 6
BN3_SEEDS = 6  # 5 initializers x 2 x 6 seeds stays within one comparison's member limit
BN3_DEPTH = 3


def preset_bn1(dataset: str, fast: bool) -> list[Comparison]:
    base = runs.exp(dataset, fast, BN1_EPOCHS, depth=BN_DEPTH, optimizer="sgd", learning_rate=BN1_LR)
    return [runs.of(base, {"batch_norm": BN1_ARMS})]


def rule_bn1(results: list[ComparisonResult]) -> Outcome:
    """Epochs to 90% of the best arm's final accuracy, without BN vs BN before the activation."""
    t = runs.table(results)
    col, lower = runs.accuracy_or_loss(t)
    metric = col.replace("final_", "")
    finals = {b: runs.mean_of(runs.select(t, batch_norm=b), col) for b in BN1_ARMS}
    good = [m for m in finals.values() if math.isfinite(m)]
    target = (
        (min(good) * (2 - BN1_TARGET_SHARE) if lower else BN1_TARGET_SHARE * max(good)) if good else math.nan
    )
    reach = {
        b: runs.epochs_to(results, runs.select(t, batch_norm=b), metric, target, lower) for b in BN1_ARMS
    }
    ev = runs.paired_test(reach["none"], reach["before"], runs.EPOCH_MARGIN, "epochs", discrete=True)
    mean = {b: float(s.mean()) if len(s) else math.nan for b, s in reach.items()}
    n = {
        "target": target,
        "metric": metric,
        "epochs_none": mean["none"],
        "epochs_before": mean["before"],
        "ratio": mean["before"] / mean["none"],
        "depth": BN_DEPTH,
    }
    n_epochs = int(t["epochs"].max()) if len(t) else 0
    text = (
        f"in a {BN_DEPTH}-layer network with plain SGD, reaching {metric.replace('_', ' ')} {sig3(target)} "
        f"(90% of the best final) took {sig3(mean['before'])} epochs with BN before the activation and "
        f"{sig3(mean['none'])} without (ratio {sig3(n['ratio'])}, the notes say about half; never reaching it "
        f"counts as {n_epochs + 1})"
    )
    return Outcome(ev, n, text)


def preset_bn2(dataset: str, fast: bool) -> list[Comparison]:
    base = runs.exp(dataset, fast, BN2_EPOCHS, depth=BN_DEPTH)
    return [
        runs.of(dataclasses.replace(base, batch_norm=bn), {"learning_rate": BN2_RATES})
        for bn in ("none", "before")
    ]


def largest_trainable(rows: pd.DataFrame, start: pd.Series) -> pd.Series:
    """Per seed: position in the sweep of the largest rate that trained (did not diverge or
    collapse, and ended below half its starting loss); -1 when none did."""
    rates = sorted(rows["learning_rate"].unique())
    ok = ~runs.failed(rows) & (
        pd.to_numeric(rows["final_train_loss"], errors="coerce") < rows["key"].map(start) / 2
    )
    rows = rows.assign(ok=ok.to_numpy(), pos=[rates.index(r) for r in rows["learning_rate"]])
    return rows.groupby("seed").apply(
        lambda g: float(g.loc[g["ok"], "pos"].max()) if g["ok"].any() else -1.0, include_groups=False
    )


def rule_bn2(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    start = runs.start_loss(results)
    bn, none = (
        largest_trainable(runs.select(t, batch_norm="before"), start),
        largest_trainable(runs.select(t, batch_norm="none"), start),
    )
    ev = runs.paired_test(bn, none, runs.GRID_MARGIN, "sweep steps (×3 in lr)", discrete=True)
    rates = sorted(t["learning_rate"].unique())

    def rate(pos: float) -> float | None:
        return rates[int(pos)] if pos >= 0 else None

    n = {
        "median_largest_lr_bn": rate(float(np.median(bn))) if len(bn) else None,
        "median_largest_lr_none": rate(float(np.median(none))) if len(none) else None,
        "sweep": "/".join(sig3(r) for r in rates),
        "depth": BN_DEPTH,
    }
    text = (
        f"in a {BN_DEPTH}-layer network the largest rate that still trained (no blow-up or collapse, loss below "
        f"half its start) was {sig3(n['median_largest_lr_bn'])} with BN vs {sig3(n['median_largest_lr_none'])} "
        f"without (median over seeds; sweep {n['sweep']})"
    )
    return Outcome(ev, n, text)


def preset_bn3(dataset: str, fast: bool) -> list[Comparison]:
    return [
        runs.of(
            runs.exp(dataset, fast, 10, depth=BN3_DEPTH),
            {"batch_norm": ("none", "before"), "init": INITS},
            BN3_SEEDS,
        )
    ]


def init_range(rows: pd.DataFrame) -> pd.Series:
    """Per seed: max - min over initializers of the final training loss (a run that did not
    train scored at its starting loss)."""
    return rows.groupby("seed")["score"].agg(
        lambda s: float(s.max() - s.min()) if s.notna().all() else np.nan
    )


def rule_bn3(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    t = t.assign(score=runs.loss_or_start(t, "final_train_loss", results))
    r_none, r_bn = (
        init_range(runs.select(t, batch_norm="none")),
        init_range(runs.select(t, batch_norm="before")),
    )
    ev = runs.paired_test(r_none, r_bn, runs.LOSS_MARGIN, "nats of loss range")

    def worst(bn: str) -> str:
        means = runs.select(t, batch_norm=bn).groupby("init")["score"].mean()
        return str(means.idxmax()) if means.notna().any() else "n/a"

    n = {
        "loss_range_none": float(r_none.mean()),
        "loss_range_bn": float(r_bn.mean()),
        "worst_init_none": worst("none"),
        "worst_init_bn": worst("before"),
    }
    text = (
        f"across the {len(INITS)} initializers the final training loss spanned {sig3(n['loss_range_none'])} without BN "
        f"(worst: {n['worst_init_none']}) vs {sig3(n['loss_range_bn'])} with BN (worst: {n['worst_init_bn']}), "
        f"mean over seeds"
    )
    return Outcome(ev, n, text)


def preset_bn4(dataset: str, fast: bool) -> list[Comparison]:
    return [
        runs.of(
            runs.exp(dataset, fast, 6), {"activation": ("tanh", "relu"), "batch_norm": ("before", "after")}
        )
    ]


def rule_bn4(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    t = t.assign(score=runs.loss_or_start(t, "final_val_loss", results))

    def val(act: str, bn: str) -> pd.Series:
        return runs.by_seed(runs.select(t, activation=act, batch_norm=bn), "score")

    tanh = runs.paired_test(
        val("tanh", "before"),
        val("tanh", "after"),
        runs.LOSS_MARGIN,
        "nats of validation loss",
        label="tanh: after beats before",
    )
    relu = runs.paired_test(
        val("relu", "after"),
        val("relu", "before"),
        runs.LOSS_MARGIN,
        "nats of validation loss",
        label="ReLU: before beats after",
    )
    n = {f"val_loss_{a}_{b}": float(val(a, b).mean()) for a in ("tanh", "relu") for b in ("before", "after")}
    text = (
        f"validation loss for tanh was {sig3(n['val_loss_tanh_after'])} with BN after vs "
        f"{sig3(n['val_loss_tanh_before'])} before; for ReLU {sig3(n['val_loss_relu_before'])} before vs "
        f"{sig3(n['val_loss_relu_after'])} after"
    )
    return runs.combined((tanh, relu), n, text)


BN5_DROPOUT = 0.3


def preset_bn5(dataset: str, fast: bool) -> list[Comparison]:
    return [
        runs.of(
            runs.overfit_exp(dataset, fast, 20),
            {"batch_norm": ("none", "before"), "dropout": (0.0, BN5_DROPOUT)},
        )
    ]


def rule_bn5(results: list[ComparisonResult]) -> Outcome:
    """Two parts: BN shrinks the gap; and with BN on, dropout's gain in validation loss stays
    under the margin (tested as margin - gain > 0: a non-inferiority test)."""
    t = runs.with_gap(runs.table(results))
    drop = max(t["dropout"])

    def cell(bn: str, d: float, col: str) -> pd.Series:
        return runs.by_seed(runs.select(t, batch_norm=bn, dropout=d), col)

    regularizes = runs.paired_test(
        cell("none", 0.0, "gap"),
        cell("before", 0.0, "gap"),
        runs.LOSS_MARGIN,
        "nats of gap",
        label="BN shrinks the gap",
    )
    gain = runs.paired_diff(cell("before", 0.0, "final_val_loss"), cell("before", drop, "final_val_loss"))
    unneeded = stats.paired(
        runs.LOSS_MARGIN - gain,
        runs.LOSS_MARGIN,
        "nats below the margin",
        label="with BN, dropout gains less than the margin",
    )
    n = {
        f"gap_{bn}_dropout_{sig3(d)}": float(cell(bn, d, "gap").mean())
        for bn in ("none", "before")
        for d in (0.0, drop)
    }
    n["val_loss_gain_from_dropout_with_bn"] = float(np.mean(gain)) if len(gain) else None
    text = (
        f"on 300 training examples the gap (validation minus training loss) was {sig3(n['gap_none_dropout_0'])} "
        f"without BN vs {sig3(n['gap_before_dropout_0'])} with BN; with BN on, dropout {sig3(drop)} lowered the "
        f"validation loss by {sig3(n['val_loss_gain_from_dropout_with_bn'])} on average"
    )
    return runs.combined((regularizes, unneeded), n, text)


CLAIMS = (
    Claim(
        "BN1",
        "batch_norm",
        "Batch normalization cuts the epochs needed, roughly by half.",
        f"Epochs until validation accuracy reaches 90% of the best arm's final accuracy, without BN vs BN "
        f"before the activation, in a {BN_DEPTH}-layer network with plain SGD, paired by seed.",
        preset_bn1,
        rule_bn1,
        stats.WILCOXON,
        "epochs",
        runs.EPOCH_MARGIN,
        "epochs are counted whole: less than one is no difference",
    ),
    Claim(
        "BN2",
        "batch_norm",
        "Batch normalization allows much larger learning rates.",
        f"Per seed, the largest learning rate in a sweep (×3 apart) at which a {BN_DEPTH}-layer network still "
        "trains (no blow-up or collapse, loss below half its start), with vs without BN.",
        preset_bn2,
        rule_bn2,
        stats.WILCOXON,
        "sweep steps (×3 in lr)",
        runs.GRID_MARGIN,
        "one sweep step (about ×3 in rate) is the resolution of the sweep",
    ),
    Claim(
        "BN3",
        "batch_norm",
        "Batch normalization makes training less sensitive to how the weights are initialized.",
        f"Per seed, the range of the final training loss across the {len(INITS)} initializers ({', '.join(INITS)}), with vs without BN.",
        preset_bn3,
        rule_bn3,
        stats.PAIRED_T,
        "nats of loss range",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical loss here",
    ),
    Claim(
        "BN4",
        "batch_norm",
        "For tanh/sigmoid, BN after the activation may suit better; for ReLU, before it.",
        "Final validation loss with BN before vs after the activation, for tanh and for ReLU, paired by seed.",
        preset_bn4,
        rule_bn4,
        stats.PAIRED_T,
        "nats of validation loss",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
    ),
    Claim(
        "BN5",
        "batch_norm",
        "Batch normalization regularizes, so with BN dropout may be unnecessary.",
        "Generalization gap with and without BN (300 training and 300 validation examples), and whether "
        "dropout's gain in validation loss stays under the margin once BN is on.",
        preset_bn5,
        rule_bn5,
        stats.PAIRED_T,
        "nats of gap",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
    ),
)
