"""Learning-rate claims LR1-LR4: text, preset and rule of each, side by side."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd

from core import measures
from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.results import ComparisonResult
from core.spec import Comparison, Experiment

# -- LR1 ------------------------------------------------------------------------------------------
LR1_RATES = (0.01, 0.1, 1.0, 10.0)
VOLATILE_FACTOR = 3.0  # "oscillates": step-to-step loss changes 3x those of the small rate
DECREASE_MARGIN = 0.05  # share of the first-epoch loss: a 5% drop is the least "still lowering"


def preset_lr1(dataset: str, fast: bool) -> list[Comparison]:
    return [runs.of(runs.exp(dataset, fast, 10, optimizer="sgd"), {"learning_rate": LR1_RATES})]


def rule_lr1(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    vol = measures.volatility_by_run(runs.frame(results, "steps"), relative=True)
    t = t.assign(volatility=t["key"].map(vol).astype(float))
    ep = runs.frame(results, "epochs")
    lo, hi = min(t["learning_rate"]), max(t["learning_rate"])
    small, large = runs.select(t, learning_rate=lo), runs.select(t, learning_rate=hi)
    first = ep[ep["epoch"] == 1].set_index("key")["train_loss"]
    drop = (small["key"].map(first) - pd.to_numeric(small["final_train_loss"], errors="coerce")) / small[
        "key"
    ].map(first)
    drop = drop.where(~runs.failed(small), -1.0)  # a blow-up is the opposite of lowering the loss
    lowering = stats.paired(
        drop.to_numpy(float) - DECREASE_MARGIN,
        DECREASE_MARGIN,
        "share of the first-epoch loss",
        label=f"lr {sig3(lo)} keeps lowering the loss",
    )
    calm = float(np.nanmedian(small["volatility"])) if len(small) else np.nan
    unstable = runs.failed(large) | (large["volatility"] > VOLATILE_FACTOR * calm)
    calm_small = runs.failed(small) | (small["volatility"] > VOLATILE_FACTOR * calm)
    jumps = stats.counts(
        int(unstable.sum()),
        len(large),
        int(calm_small.sum()),
        len(small),
        runs.SHARE_MARGIN,
        label=f"lr {sig3(hi)} oscillates or diverges",
    )
    n = {
        "lr_small": lo,
        "lr_large": hi,
        "loss_drop_small_share": float(np.nanmean(drop)),
        "did_not_train_small": runs.failed_text(small),
        "did_not_train_large": runs.failed_text(large),
        "volatility_small": runs.mean_of(small, "volatility"),
        "volatility_large": runs.mean_of(large, "volatility"),
        "unstable_large": f"{int(unstable.sum())}/{len(large)}",
    }
    text = (
        f"lr {sig3(lo)} lowered the training loss by {sig3(100 * n['loss_drop_small_share'])}% after its first "
        f"epoch on average; at lr {sig3(hi)} {n['unstable_large']} runs diverged, collapsed or had a loss "
        f"{sig3(VOLATILE_FACTOR)}x as jumpy (relative volatility {sig3(n['volatility_large'])} vs "
        f"{sig3(n['volatility_small'])})"
    )
    return runs.combined((lowering, jumps), n, text)


# -- LR2 ------------------------------------------------------------------------------------------
LR2_RATES = (0.01, 0.1)


def preset_lr2(dataset: str, fast: bool) -> list[Comparison]:
    return [runs.of(runs.exp(dataset, fast, 15, optimizer="sgd"), {"learning_rate": LR2_RATES})]


def rule_lr2(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    target = measures.mean_initial_loss(runs.frame(results, "steps")) / 2
    lo, hi = min(t["learning_rate"]), max(t["learning_rate"])
    slow = runs.epochs_to(results, runs.select(t, learning_rate=lo), "train_loss", target, True)
    fast = runs.epochs_to(results, runs.select(t, learning_rate=hi), "train_loss", target, True)
    ev = runs.paired_test(slow, fast, runs.EPOCH_MARGIN, "epochs", discrete=True)
    n_epochs = int(t["epochs"].max())
    n = {
        "target_train_loss": target,
        "epochs": n_epochs,
        "mean_epochs_small_lr": float(slow.mean()),
        "mean_epochs_large_lr": float(fast.mean()),
    }
    text = (
        f"to bring the training loss to {sig3(target)} (half its start) lr {sig3(lo)} needed "
        f"{sig3(slow.mean())} epochs and lr {sig3(hi)} {sig3(fast.mean())} on average (never reaching it "
        f"within {n_epochs} epochs counts as {n_epochs + 1})"
    )
    return Outcome(ev, n, text)


# -- LR3 ------------------------------------------------------------------------------------------
LR3_RATES = (0.01, 0.1, 1.0, 10.0)
LR3_COSINE_RATES = (0.01, 1.0)
LR3_EPOCHS = 20
MATCH_SLACK = 1.05  # matched progress: the first epoch at or below 105% of the slower arm's end


def preset_lr3(dataset: str, fast: bool) -> list[Comparison]:
    """A small training set, constant rates up to one that diverges, and a cosine-annealed arm
    (the large rate decayed to zero: does the regularizing survive annealing?)."""
    base = runs.overfit_exp(dataset, fast, LR3_EPOCHS, optimizer="sgd")
    cosine = dataclasses.replace(base, lr_schedule="cosine")
    return [runs.of(base, {"learning_rate": LR3_RATES}), runs.of(cosine, {"learning_rate": LR3_COSINE_RATES})]


def gap_at_matched_loss(results: list[ComparisonResult], a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """Per seed: gap of arm a minus gap of arm b, each read at the first epoch whose training loss
    reached the same target, that seed's slower run's final loss + 5%: equal training progress,
    so a smaller gap is regularization, not under-training."""
    ep = runs.frame(results, "epochs").sort_values("epoch")
    curves = {key: g for key, g in ep.groupby("key")}
    out = {}
    for seed in sorted(set(a["seed"]) & set(b["seed"])):
        run_keys = [rows.loc[rows["seed"] == seed, "key"].iloc[0] for rows in (a, b)]
        if any(k not in curves for k in run_keys):
            continue
        target = MATCH_SLACK * max(float(curves[k]["train_loss"].iloc[-1]) for k in run_keys)
        gaps = [_gap_at(curves[k], target) for k in run_keys]
        out[seed] = gaps[0] - gaps[1]
    return pd.Series(out, dtype=float)


def _gap_at(curve: pd.DataFrame, target: float) -> float:
    """Validation minus training loss at the first epoch whose training loss is at or below target."""
    train = curve["train_loss"].to_numpy(float)
    hit = np.flatnonzero(train <= target)
    return float(curve["val_loss"].iloc[hit[0]] - train[hit[0]]) if len(hit) else np.nan


def rule_lr3(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    const = t[t["lr_schedule"] == "constant"]
    trains = [
        r
        for r in runs.values(const, "learning_rate")
        if runs.failed(runs.select(const, learning_rate=r)).mean() < 0.5
    ]
    lo = min(runs.values(const, "learning_rate"))
    hi = max(trains) if trains else lo
    top = max(runs.values(const, "learning_rate"))
    small, large = runs.select(const, learning_rate=lo), runs.select(const, learning_rate=hi)
    regular = stats.paired(
        gap_at_matched_loss(results, small, large).dropna().to_numpy(float),
        runs.LOSS_MARGIN,
        "nats of gap",
        label=f"lr {sig3(hi)} leaves a smaller gap than lr {sig3(lo)} at equal training loss",
    )
    edge = runs.select(const, learning_rate=top)
    diverges = stats.counts(
        int(runs.failed(edge).sum()),
        len(edge),
        int(runs.failed(small).sum()),
        len(small),
        runs.SHARE_MARGIN,
        label=f"lr {sig3(top)} diverges",
    )
    cos = t[t["lr_schedule"] == "cosine"]
    parts = [regular, diverges]
    if len(cos) and cos["learning_rate"].nunique() > 1:
        c_lo, c_hi = (
            runs.select(cos, learning_rate=r) for r in (min(cos["learning_rate"]), max(cos["learning_rate"]))
        )
        parts.append(
            stats.paired(
                gap_at_matched_loss(results, c_lo, c_hi).dropna().to_numpy(float),
                runs.LOSS_MARGIN,
                "nats of gap",
                label="the same with cosine annealing (reported)",
            )
        )
    n = {
        "lr_small": lo,
        "lr_large_that_trains": hi,
        "lr_top": top,
        "did_not_train_top": runs.failed_text(edge),
        "gap_small_final": float(runs.with_gap(small)["gap"].mean()),
        "gap_large_final": float(runs.with_gap(large)["gap"].mean()),
    }
    text = (
        f"at equal training loss the gap (validation minus training loss) was {sig3(regular.effect)} nats "
        f"smaller at lr {sig3(hi)} than at lr {sig3(lo)} on average; lr {sig3(top)} did not train in "
        f"{n['did_not_train_top']} runs"
    )
    return Outcome(stats.combine(parts[:2]), n, text, tuple(parts))


# -- LR4 ------------------------------------------------------------------------------------------
LR4_EPOCHS = 10
RANGE_TEST_SEEDS = 3  # the suggestion is a geometric mean over this many range tests


@functools.lru_cache(maxsize=32)
def suggested_lr(base: Experiment, seeds: int) -> float:
    """Steepest-descent suggestion of the LR range test (its default 400-step sweep), geometric
    mean over seeds (cached: the test is deterministic, and the app asks on every render)."""
    from core.lr_range import run_lr_range

    tests = run_lr_range([dataclasses.replace(base, seed=base.seed + s) for s in range(seeds)])
    lrs = [t.result.suggestions["steepest"] for t in tests]
    return measures.round_lr(float(np.exp(np.mean(np.log(lrs)))))


def preset_lr4(dataset: str, fast: bool) -> list[Comparison]:
    base = runs.exp(dataset, fast, LR4_EPOCHS)
    lr = suggested_lr(base, RANGE_TEST_SEEDS)
    rates = (measures.round_lr(lr / 10), lr, measures.round_lr(lr * 10))
    return [runs.of(base, {"learning_rate": rates})]


def rule_lr4(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    t = t.assign(score=runs.loss_or_start(t, "final_val_loss", results))
    rates = runs.values(t, "learning_rate")
    mid = rates[len(rates) // 2]
    ref = runs.by_seed(runs.select(t, learning_rate=mid), "score")
    parts = tuple(
        runs.paired_test(
            runs.by_seed(runs.select(t, learning_rate=r), "score"),
            ref,
            runs.LOSS_MARGIN,
            "nats of validation loss",
            label=f"the suggestion beats lr {sig3(r)}",
        )
        for r in rates
        if r != mid
    )
    n = {"suggested_lr": mid, "seeds": runs.SEEDS}
    for r in rates:
        rows = runs.select(t, learning_rate=r)
        n[f"val_loss_at_lr_{sig3(r)}"] = runs.mean_of(rows, "score")
        n[f"did_not_train_at_lr_{sig3(r)}"] = runs.failed_text(rows)
    ends = ", ".join(
        f"{sig3(n[f'val_loss_at_lr_{sig3(r)}'])} at lr {sig3(r)} ({n[f'did_not_train_at_lr_{sig3(r)}']} did not train)"
        for r in rates
    )
    text = (
        f"the range test's steepest point suggested lr {sig3(mid)}; final validation loss (a run that did not "
        f"train counts at its starting loss) was {ends}"
    )
    return runs.combined(parts, n, text)


CLAIMS = (
    Claim(
        "LR1",
        "learning_rate",
        "A small learning rate lowers the loss steadily until it converges; a large one makes it jump around or blow up.",
        "A learning-rate sweep (plain SGD): the smallest rate must lower the training loss after its first epoch by "
        "more than 5% in each seed; the largest must diverge, collapse or have a 3x more volatile loss in more runs.",
        preset_lr1,
        rule_lr1,
        stats.FISHER,
        "share of runs",
        runs.SHARE_MARGIN,
        "one run in five either way is within what seeds alone produce",
    ),
    Claim(
        "LR2",
        "learning_rate",
        "With a lower learning rate it takes longer (more epochs) to get the loss down to a given level.",
        "Epochs until the training loss falls to half its starting value, lr 0.01 vs 0.1, paired by seed.",
        preset_lr2,
        rule_lr2,
        stats.WILCOXON,
        "epochs",
        runs.EPOCH_MARGIN,
        "epochs are counted whole: less than one is no difference",
    ),
    Claim(
        "LR3",
        "learning_rate",
        "Larger learning rates act as a regularizer, up to the point where training diverges.",
        "Generalization gap (validation minus training loss) at equal training loss, smallest vs largest rate "
        "that still trains, on 300 training and 300 validation examples; a cosine-annealed arm beside it; and "
        "whether the largest rate in the sweep diverges.",
        preset_lr3,
        rule_lr3,
        stats.PAIRED_T,
        "nats of gap",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
    ),
    Claim(
        "LR4",
        "learning_rate",
        "An LR range test points at a good learning rate: where the loss falls fastest as the rate grows.",
        "Run the 400-step range test, then train at its steepest-descent suggestion, at a tenth of it and at "
        "ten times it: the suggestion must end with the lowest validation loss, seed by seed.",
        preset_lr4,
        rule_lr4,
        stats.PAIRED_T,
        "nats of validation loss",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
        probe=True,
    ),
)
