"""Presets and decision rules for each claim (the registry and shared statistics are in core.claims).

A preset is `preset(dataset, fast) -> list[Comparison]`: small on purpose (a claim trains cold in
seconds on 2 CPU cores) and adapted only through the dataset. A rule is
`rule(results) -> Outcome`: it reads knobs, summaries and frames of the finished runs and nothing
else, so a stored run decides like a fresh one and a hand-made run (the tests) like a trained one.
Numbers that define "the setting" (learning rates, grids, targets) are chosen so the effect the
notes describe *can* show up on a small network; whether it does is left to the runs.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from core.claims import (
    FAILS,
    HOLDS,
    UNSURE,
    both,
    by_seed,
    censored,
    contrast,
    epochs_text,
    epochs_to,
    finite,
    fmt,
    frame,
    initial_loss,
    judge,
    select,
    span,
    table,
    volatility,
)
from core.limits import MAX_WIDTH
from core.results import ComparisonResult
from core.sandbox import Quadratic, closed_form, oscillation, run_path, steps_to_tolerance
from core.spec import INITS, TOY_DATASETS, Comparison, Experiment

SEEDS = 3
TOY_N = 500  # toy worlds are generated at this size
REAL_N = 2000  # a cap: digits has 1,797 examples, wine 178
SMALL_N = 300  # "a small training subset": where overfitting is visible within 20 epochs
FAST_N = 400
ALPHA = 0.1  # significance for the count and variance tests (3-5 seeds cannot do better)


class Outcome(NamedTuple):
    verdict: str
    numbers: dict[str, Any]
    text: str  # the sentence after "holds on digits: "


Preset = Callable[[str, bool], list[Comparison]]
Rule = Callable[[list[ComparisonResult]], Outcome]


def exp(dataset: str, fast: bool, epochs: int, **knobs: Any) -> Experiment:
    """A preset's baseline: toy data gets 500 points; fast=True shrinks epochs and samples."""
    n = knobs.pop("n_samples", TOY_N if dataset in TOY_DATASETS else REAL_N)
    if fast:
        epochs, n = max(2, epochs // 4), min(n, FAST_N)
    return Experiment(dataset=dataset, n_samples=n, epochs=epochs, **knobs)


def of(base: Experiment, vary: dict[str, Sequence[Any]] | None = None, seeds: int = SEEDS) -> Comparison:
    return Comparison.of(base, vary or {}, seeds)


def values(t: pd.DataFrame, knob: str) -> list[Any]:
    return sorted(t[knob].unique().tolist())


def mean_of(rows: pd.DataFrame, col: str) -> float:
    v = finite(by_seed(rows, col))
    return float(v.mean()) if len(v) else math.nan


def diverged(rows: pd.DataFrame) -> str:
    return f"{int(rows['diverged'].astype(bool).sum())}/{len(rows)}"


def with_gap(t: pd.DataFrame) -> pd.DataFrame:
    return t.assign(gap=t["final_val_loss"] - t["final_train_loss"])


def with_volatility(t: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    vol = {k: volatility(g) for k, g in steps.groupby("key")} if len(steps) else {}
    return t.assign(volatility=t["key"].map(vol).astype(float))


def accuracy_or_loss(t: pd.DataFrame) -> tuple[str, bool]:
    """(column, lower is better): validation accuracy, or loss for regression data."""
    acc = pd.to_numeric(t["final_val_accuracy"], errors="coerce")
    return ("final_val_accuracy", False) if acc.notna().any() else ("final_val_loss", True)


def fisher_greater(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """One-sided Fisher exact p-value that group a has the larger share of events."""
    total, events = n_a + n_b, k_a + k_b
    hits = range(k_a, min(events, n_a) + 1)
    return sum(math.comb(events, x) * math.comb(total - events, n_a - x) for x in hits) / math.comb(
        total, n_a
    )


def tied_best(t: pd.DataFrame, knob: str, col: str = "final_val_loss") -> list[float]:
    """Values of `knob` whose `col` is not decisively worse than the best one's (seed by seed)."""
    means = {v: mean_of(select(t, **{knob: v}), col) for v in values(t, knob)}
    means = {v: m for v, m in means.items() if math.isfinite(m)}
    if not means:
        return []
    best = min(means, key=means.__getitem__)
    ref = by_seed(select(t, **{knob: best}), col)
    return [
        v for v in means if v == best or judge(*contrast(by_seed(select(t, **{knob: v}), col), ref)) != HOLDS
    ]


def prefers_more(wants_more: list[float], wants_less: list[float]) -> str:
    """Is the first setting's best value above the second's? Ties (within spread) are kept as sets."""
    if not wants_more or not wants_less:
        return UNSURE
    if min(wants_more) > max(wants_less):
        return HOLDS
    if max(wants_more) < min(wants_less) or (len(wants_more) == len(wants_less) == 1):
        return FAILS
    return UNSURE


def training_examples(t: pd.DataFrame) -> int:
    """What the runs trained on: the trainer's count, or the n_samples cap if it is not recorded."""
    if "n_train" in t and t["n_train"].notna().any():
        return int(t["n_train"].max())
    return int(t["n_samples"].max())


def listed(vals: list[float]) -> str:
    return "/".join(fmt(v) for v in vals) or "n/a"


# ============================================================================================
# Learning rate

LR1_RATES = (0.01, 0.1, 1.0, 10.0)
LR2_RATES = (0.01, 0.03, 0.1)
LR3_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def preset_lr1(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 10, optimizer="sgd"), {"learning_rate": LR1_RATES})]


def rule_lr1(results: list[ComparisonResult]) -> Outcome:
    t = with_volatility(table(results), frame(results, "steps"))
    ep = frame(results, "epochs")
    lo, hi = min(t["learning_rate"]), max(t["learning_rate"])
    small, large = select(t, learning_rate=lo), select(t, learning_rate=hi)
    curve = ep[ep["key"].isin(small["key"])].groupby("epoch")["train_loss"].mean()
    lowered = not small["diverged"].any() and len(curve) >= 2 and curve.iloc[-1] < curve.iloc[0]
    effect, spread = contrast(by_seed(large, "volatility"), by_seed(small, "volatility"))
    n = {
        "lr_small": lo, "lr_large": hi,
        "train_loss_small_first_epoch": float(curve.iloc[0]) if len(curve) else None,
        "train_loss_small_final": mean_of(small, "final_train_loss"),
        "diverged_small": int(small["diverged"].sum()), "diverged_large": int(large["diverged"].sum()),
        "volatility_small": mean_of(small, "volatility"), "volatility_large": mean_of(large, "volatility"),
        "volatility_spread": spread, "seeds": len(small),
    }  # fmt: skip
    if not lowered:
        return Outcome(FAILS, n, f"lr {fmt(lo)} did not steadily lower the training loss "
                       f"(diverged in {diverged(small)} seeds, or ended above its first epoch)")  # fmt: skip
    head = (f"lr {fmt(lo)} lowered the training loss from {fmt(n['train_loss_small_first_epoch'])} after "
            f"epoch 1 to {fmt(n['train_loss_small_final'])} without diverging")  # fmt: skip
    if large["diverged"].mean() >= 0.5:
        return Outcome(HOLDS, n, f"{head}, while lr {fmt(hi)} diverged in {diverged(large)} seeds")
    verdict = judge(effect, spread)
    return Outcome(verdict, n, f"{head}; lr {fmt(hi)} diverged in {diverged(large)} seeds and its loss "
                   f"volatility was {fmt(n['volatility_large'])} vs {fmt(n['volatility_small'])} "
                   f"(seed spread {fmt(spread)})")  # fmt: skip


def preset_lr2(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 15, optimizer="sgd"), {"learning_rate": LR2_RATES})]


def rule_lr2(results: list[ComparisonResult]) -> Outcome:
    t, ep = table(results), frame(results, "epochs")
    target = initial_loss(frame(results, "steps")) / 2
    n_epochs = int(t["epochs"].max())
    rates = [r for r in values(t, "learning_rate") if select(t, learning_rate=r)["diverged"].mean() < 0.5]
    reach = {
        r: epochs_to(ep, select(t, learning_rate=r)["key"], "train_loss", target, True, n_epochs)
        for r in rates
    }
    n: dict[str, Any] = {"target_train_loss": target, "epochs": n_epochs}
    n.update({f"epochs_at_lr_{fmt(r)}": reach[r][0] for r in rates})
    if len(rates) < 2 or not math.isfinite(target):
        return Outcome(UNSURE, n, "too many runs diverged to compare learning rates")
    lo, hi = rates[0], rates[-1]
    if reach[lo][0] is None and reach[hi][0] is None:
        return Outcome(UNSURE, n, f"no learning rate got the training loss down to {fmt(target)} "
                       f"(half its start) in {n_epochs} epochs")  # fmt: skip
    seeds = sorted(set(reach[lo][1]) & set(reach[hi][1]))
    d = [censored(reach[lo][1][s], n_epochs) - censored(reach[hi][1][s], n_epochs) for s in seeds]
    effect = censored(reach[lo][0], n_epochs) - censored(reach[hi][0], n_epochs)
    n["seed_spread_epochs"] = spread = span(d)
    took = ", ".join(f"lr {fmt(r)} {epochs_text(reach[r][0], n_epochs)}" for r in rates)
    return Outcome(judge(effect, spread), n, f"to get the training loss down to {fmt(target)} (half its "
                   f"start) {took} ({len(seeds)} seeds, spread {fmt(spread)} epochs)")  # fmt: skip


def preset_lr3(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 20, optimizer="sgd", n_samples=SMALL_N), {"learning_rate": LR3_RATES})]


def rule_lr3(results: list[ComparisonResult]) -> Outcome:
    t = with_gap(table(results))
    start = initial_loss(frame(results, "steps"))
    rates = values(t, "learning_rate")

    def trains(r: float) -> bool:
        rows = select(t, learning_rate=r)
        return rows["diverged"].mean() < 0.5 and mean_of(rows, "final_train_loss") < start / 2

    usable = [r for r in rates if trains(r)]
    n: dict[str, Any] = {"rates_that_train": listed(usable)}
    if len(usable) < 2:
        return Outcome(UNSURE, n, f"fewer than two learning rates trained (loss below half its start "
                       f"{fmt(start / 2)}), so there is no gap to compare")  # fmt: skip
    lo, hi = usable[0], usable[-1]
    gap_lo, gap_hi = select(t, learning_rate=lo), select(t, learning_rate=hi)
    effect, spread = contrast(by_seed(gap_lo, "gap"), by_seed(gap_hi, "gap"))
    edge = next((r for r in rates if r > hi and select(t, learning_rate=r)["diverged"].mean() >= 0.5), None)
    n.update({"lr_small": lo, "lr_large": hi, "gap_small": mean_of(gap_lo, "gap"),
              "gap_large": mean_of(gap_hi, "gap"), "gap_difference": effect, "seed_spread": spread,
              "first_diverging_lr": edge})  # fmt: skip
    verdict = judge(effect, spread)
    text = (f"the gap (validation minus training loss) was {fmt(n['gap_small'])} at lr {fmt(lo)} and "
            f"{fmt(n['gap_large'])} at lr {fmt(hi)}, the largest rate that still trains (per-seed "
            f"difference {fmt(effect)}, spread {fmt(spread)})")  # fmt: skip
    if edge is None:
        text += "; no larger rate in the sweep diverged"
        verdict = UNSURE if verdict == HOLDS else verdict
    else:
        text += f"; lr {fmt(edge)} diverged"
    return Outcome(verdict, n, text)


def round_lr(x: float) -> float:
    return float(f"{x:.2g}")


@functools.lru_cache(maxsize=32)
def suggested_lr(base: Experiment, seeds: int) -> float:
    """Steepest-descent suggestion of the LR range test, geometric mean over seeds (cached: the
    test is deterministic, and the app asks for the preset on every page render)."""
    from core.lr_range import run_lr_range

    tests = run_lr_range([dataclasses.replace(base, seed=base.seed + s) for s in range(seeds)])
    lrs = [t.result.suggestions["steepest"] for t in tests]
    return round_lr(float(np.exp(np.mean(np.log(lrs)))))


def preset_lr4(dataset: str, fast: bool) -> list[Comparison]:
    base = exp(dataset, fast, 10)
    lr = suggested_lr(base, SEEDS)
    return [of(base, {"learning_rate": (round_lr(lr / 10), lr, round_lr(lr * 10))})]


def rule_lr4(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    rates = values(t, "learning_rate")
    mid = rates[len(rates) // 2]
    ref = select(t, learning_rate=mid)

    def beats(other: float) -> str:
        rows = select(t, learning_rate=other)
        if ref["diverged"].mean() >= 0.5:
            return FAILS if rows["diverged"].mean() < 0.5 else UNSURE
        if rows["diverged"].mean() >= 0.5:
            return HOLDS
        return judge(*contrast(by_seed(rows, "final_val_loss"), by_seed(ref, "final_val_loss")))

    others = [r for r in rates if r != mid]
    verdict = both(*(beats(r) for r in others)) if others else UNSURE
    n: dict[str, Any] = {"suggested_lr": mid}
    for r in rates:
        rows = select(t, learning_rate=r)
        n[f"val_loss_at_lr_{fmt(r)}"] = mean_of(rows, "final_val_loss")
        n[f"diverged_at_lr_{fmt(r)}"] = int(rows["diverged"].sum())
    ends = ", ".join(
        f"{fmt(n[f'val_loss_at_lr_{fmt(r)}'])} at lr {fmt(r)}"
        + (f" ({n[f'diverged_at_lr_{fmt(r)}']} seeds diverged)" if n[f"diverged_at_lr_{fmt(r)}"] else "")
        for r in rates
    )
    return Outcome(verdict, n, f"the range test's steepest point suggested lr {fmt(mid)}; final "
                   f"validation loss was {ends} ({len(ref)} seeds, compared seed by seed)")  # fmt: skip


# ============================================================================================
# Optimizers: decided in the quadratic sandbox, with a real network as a check (MO1)

RAVINE = Quadratic(condition=50.0)
SANDBOX_LRS = tuple(np.geomspace(0.02, 4.0, 30))
SANDBOX_STEPS = 1000
SANDBOX_TOL = 1e-6
SANDBOX_REL = 0.1  # deterministic, so "within noise" means within 10%
BETA = 0.9
MO1_RATES = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
MO2_FRACTIONS = (0.25, 0.5, 0.75, 0.9, 0.975)  # of plain GD's stability edge 2 / lam_max


@functools.lru_cache(maxsize=4)
def sandbox_best(optimizer: str, beta: float) -> dict[str, float]:
    """The rate (from SANDBOX_LRS) that reaches tolerance in the fewest steps, and its zig-zag."""
    best: dict[str, float] = {}
    for lr in reversed(SANDBOX_LRS):  # fast rates first: later paths stop once they cannot win
        cap = int(best["steps"]) if best else SANDBOX_STEPS
        path = run_path(RAVINE, optimizer, float(lr), beta, steps=cap, tol=SANDBOX_TOL)
        steps = steps_to_tolerance(path, SANDBOX_TOL)
        if steps is not None and (not best or steps < best["steps"]):
            o = oscillation(path, RAVINE)
            best = {"lr": float(lr), "steps": steps, "ratio": o["ratio"], "flips": o["sign_flips"]}
    return best


def mo1_sandbox(gd: dict[str, float], mom: dict[str, float]) -> str:
    """Faster along (fewer steps) and less motion across (lower across/along ratio), by 10%."""
    if not gd or not mom:
        return UNSURE
    if mom["steps"] >= gd["steps"] or mom["ratio"] >= gd["ratio"]:
        return FAILS
    ok = mom["steps"] < (1 - SANDBOX_REL) * gd["steps"] and mom["ratio"] < (1 - SANDBOX_REL) * gd["ratio"]
    return HOLDS if ok else UNSURE


def preset_mo1(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 10), {"optimizer": ("sgd", "momentum"), "learning_rate": MO1_RATES})]


def best_rate(t: pd.DataFrame, ep: pd.DataFrame, target: float, n_epochs: int) -> tuple[float, Any]:
    """Among t's learning rates: fewest epochs to target, ties broken by final training loss."""
    scored = []
    for r in values(t, "learning_rate"):
        rows = select(t, learning_rate=r)
        reach = epochs_to(ep, rows["key"], "train_loss", target, True, n_epochs)
        scored.append((censored(reach[0], n_epochs), mean_of(rows, "final_train_loss"), r, reach))
    scored.sort(key=lambda s: (s[0], s[1] if math.isfinite(s[1]) else math.inf))
    return scored[0][2], scored[0][3]


def rule_mo1(results: list[ComparisonResult]) -> Outcome:
    gd, mom = sandbox_best("sgd", 0.0), sandbox_best("momentum", BETA)
    verdict = mo1_sandbox(gd, mom)
    n: dict[str, Any] = {
        f"sandbox_{who}_{k}": v for who, d in (("gd", gd), ("momentum", mom)) for k, v in d.items()
    }
    text = (f"in a quadratic ravine (condition {fmt(RAVINE.condition)}), each at its own best rate, momentum "
            f"{BETA} reached tolerance in {fmt(mom.get('steps'))} steps vs {fmt(gd.get('steps'))} for plain "
            f"gradient descent, with an across/along path ratio of {fmt(mom.get('ratio'))} vs "
            f"{fmt(gd.get('ratio'))} ({fmt(mom.get('flips'))} vs {fmt(gd.get('flips'))} ravine crossings); "
            "at the same raw rate momentum zig-zags more, hence each at its best")  # fmt: skip
    t = table(results)
    if t.empty:
        return Outcome(verdict, n, text)
    ep, n_epochs = frame(results, "epochs"), int(t["epochs"].max())
    target = initial_loss(frame(results, "steps")) / 10
    (r_sgd, (e_sgd, s_sgd)), (r_mom, (e_mom, s_mom)) = (
        best_rate(select(t, optimizer=o), ep, target, n_epochs) for o in ("sgd", "momentum")
    )
    d = [censored(s_sgd[s], n_epochs) - censored(s_mom[s], n_epochs) for s in sorted(set(s_sgd) & set(s_mom))]
    effect, spread = censored(e_sgd, n_epochs) - censored(e_mom, n_epochs), span(d)
    n.update({"net_target_train_loss": target, "net_sgd_best_lr": r_sgd, "net_sgd_epochs": e_sgd,
              "net_momentum_best_lr": r_mom, "net_momentum_epochs": e_mom, "net_seed_spread_epochs": spread})  # fmt: skip
    text += (f". Real network, each at its best rate, to bring the training loss to {fmt(target)}: momentum "
             f"(lr {fmt(r_mom)}) {epochs_text(e_mom, n_epochs)}, plain SGD (lr {fmt(r_sgd)}) "
             f"{epochs_text(e_sgd, n_epochs)} (seed spread {fmt(spread)} epochs)")  # fmt: skip
    if verdict == HOLDS and effect < -spread:
        verdict = UNSURE
        text += ", so the network contradicts the sandbox"
    return Outcome(verdict, n, text)


@functools.lru_cache(maxsize=1)
def sandbox_swings() -> list[dict[str, float]]:
    """Largest swing across the ravine per rate: GD at lr, momentum at the same effective step
    lr*(1-beta), and momentum at the same raw lr (which swings more: the sandbox's caveat)."""
    edge = closed_form(RAVINE)["gd_max_lr"]
    rows = []
    for f in MO2_FRACTIONS:
        lr = f * edge

        def swing(opt: str, rate: float, beta: float) -> float:
            path = run_path(RAVINE, opt, rate, beta, steps=400, tol=SANDBOX_TOL)
            return oscillation(path, RAVINE)["max_flip_amplitude"]

        rows.append({"lr": lr, "gd": swing("sgd", lr, 0.0), "momentum_same_effective_step":
                     swing("momentum", lr * (1 - BETA), BETA), "momentum_same_lr": swing("momentum", lr, BETA)})  # fmt: skip
    return rows


def mo2_verdict(gd_swings: Sequence[float]) -> str:
    """Holds if the swing never shrinks as the rate grows and grows by > 0.05 (start offset = 1)."""
    s = np.asarray(gd_swings, dtype=float)
    rise = s[-1] - s[0]
    if rise > 0.05 and np.all(np.diff(s) >= -1e-9):
        return HOLDS
    return FAILS if rise < -0.05 else UNSURE


def preset_mo2(dataset: str, fast: bool) -> list[Comparison]:
    return []  # geometry only: nothing to train


def rule_mo2(results: list[ComparisonResult]) -> Outcome:
    rows = sandbox_swings()
    gd = [r["gd"] for r in rows]
    n = {f"{k}_at_{i + 1}": v for i, r in enumerate(rows) for k, v in r.items()}
    first, last = rows[0], rows[-1]
    return Outcome(mo2_verdict(gd), n, (
        f"(quadratic sandbox, the same for every dataset) as plain gradient descent's rate grew from "
        f"{fmt(first['lr'])} to {fmt(last['lr'])} (stability edge 2/λmax = {fmt(closed_form(RAVINE)['gd_max_lr'])}), "
        f"its largest swing across the ravine went {' → '.join(fmt(g) for g in gd)} (start offset 1); "
        f"momentum {BETA} at the same effective step lr·(1-β) swung at most "
        f"{fmt(max(r['momentum_same_effective_step'] for r in rows))}, at the same raw rate up to "
        f"{fmt(max(r['momentum_same_lr'] for r in rows))}"))  # fmt: skip


# ============================================================================================
# Weight decay (decoupled, Keras style: W -= W * weight_decay * lr each step)

WD1_GRID = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
WD_GRID = (0.0, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1)
WD2_GRID = (0.0, 1e-3, 1e-2, 1e-1)
WD_PRACTICAL = 0.05  # a best-vs-worst difference under 5% of the loss does not "matter"


def preset_wd1(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 15), {"weight_decay": WD1_GRID})]


def rule_wd1(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    means = {w: mean_of(select(t, weight_decay=w), "final_val_loss") for w in values(t, "weight_decay")}
    means = {w: m for w, m in means.items() if math.isfinite(m)}
    if len(means) < 2:
        return Outcome(UNSURE, {}, "too many runs diverged to compare weight decays")
    best, worst = min(means, key=means.__getitem__), max(means, key=means.__getitem__)
    effect, spread = contrast(
        by_seed(select(t, weight_decay=worst), "final_val_loss"),
        by_seed(select(t, weight_decay=best), "final_val_loss"),
    )
    threshold = WD_PRACTICAL * means[best]
    if effect >= threshold and effect > spread:
        verdict = HOLDS
    elif effect < threshold and spread < threshold:
        verdict = FAILS
    else:
        verdict = UNSURE
    n = {"best_weight_decay": best, "best_val_loss": means[best], "worst_weight_decay": worst,
         "worst_val_loss": means[worst], "difference": effect, "seed_spread": spread, "threshold_5pct": threshold}  # fmt: skip
    return Outcome(verdict, n, (
        f"validation loss ranged from {fmt(means[best])} at weight decay {fmt(best)} to {fmt(means[worst])} at "
        f"{fmt(worst)}: a per-seed difference of {fmt(effect)} ({fmt(100 * effect / means[best])}% of the best; "
        f"seed spread {fmt(spread)}, 'matters' needs ≥ 5%)"))  # fmt: skip


def pool_size(dataset: str) -> int:
    if dataset in TOY_DATASETS:
        return TOY_N
    from core.data import load_dataset

    return min(REAL_N, len(load_dataset(dataset)))


def preset_wd2(dataset: str, fast: bool) -> list[Comparison]:
    """Three cells: small/large data at width 32, and the large data at width 128 as well."""
    large = min(pool_size(dataset), FAST_N if fast else REAL_N)
    base = exp(dataset, fast, 10, width=32, n_samples=large)
    return [
        of(base, {"n_samples": (max(60, large // 5), large), "weight_decay": WD2_GRID}),
        of(dataclasses.replace(base, width=128), {"weight_decay": WD2_GRID}),
    ]


def rule_wd2(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    n_small, n_large = min(t["n_samples"]), max(t["n_samples"])
    w_small, w_large = min(t["width"]), max(t["width"])
    sets = {
        "small_data": tied_best(select(t, n_samples=n_small, width=w_small), "weight_decay"),
        "large_data": tied_best(select(t, n_samples=n_large, width=w_small), "weight_decay"),
        "large_model": tied_best(select(t, n_samples=n_large, width=w_large), "weight_decay"),
    }
    data = prefers_more(sets["small_data"], sets["large_data"])
    model = prefers_more(sets["large_data"], sets["large_model"])  # the width-32 net is the small model
    n = {f"best_weight_decay_{k}": listed(v) for k, v in sets.items()}
    return Outcome(both(data, model), n, (
        f"best weight decay (ties within seed spread listed) was {listed(sets['small_data'])} with {n_small} "
        f"examples vs {listed(sets['large_data'])} with {n_large} ({data}), and {listed(sets['large_data'])} at "
        f"width {w_small} vs {listed(sets['large_model'])} at width {w_large} ({model})"))  # fmt: skip


WD3_LR = 0.02


def preset_wd3(dataset: str, fast: bool) -> list[Comparison]:
    base = exp(dataset, fast, 15, n_samples=SMALL_N, learning_rate=WD3_LR)
    cyclic = dataclasses.replace(base, lr_schedule="one_cycle", learning_rate=10 * WD3_LR)
    return [of(base, {"weight_decay": WD_GRID}), of(cyclic, {"weight_decay": WD_GRID})]


def rule_wd3(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    const = tied_best(select(t, lr_schedule="constant"), "weight_decay")
    cyc = tied_best(select(t, lr_schedule="one_cycle"), "weight_decay")
    n = {"best_weight_decay_constant": listed(const), "best_weight_decay_one_cycle": listed(cyc)}
    return Outcome(prefers_more(const, cyc), n, (
        f"best weight decay (ties within seed spread listed) was {listed(const)} with a constant lr "
        f"{fmt(WD3_LR)} vs {listed(cyc)} with one-cycle peaking at {fmt(10 * WD3_LR)}"))  # fmt: skip


# ============================================================================================
# Batch size (same learning rate and epochs for every batch size, as a Keras user would)

BS1_SIZES = (32, 128, 512)
BS_SIZES = (32, 256)  # 32 is the product default; at lr 0.05 batch 16 is near instability
BS_SEEDS = 5


def preset_bs1(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 5), {"batch_size": BS1_SIZES})]


def rule_bs1(results: list[ComparisonResult]) -> Outcome:
    """Update size over the first S steps of every run, S = the fewest steps any run took: the
    same start and the same number of updates, so only the batch differs (a mean over all steps
    would compare the large batch's early, big steps with the small batch's late, small ones)."""
    steps = frame(results, "steps")
    t = with_volatility(table(results), steps)
    n_steps = int(steps.groupby("key")["step"].count().min()) if len(steps) else 0
    early = (
        steps[steps["step"] < steps.groupby("key")["step"].transform("min") + n_steps] if n_steps else steps
    )
    t = t.assign(
        update=t["key"].map(early.groupby("key")["update_norm"].mean() if n_steps else {}).astype(float)
    )
    lo, hi = min(t["batch_size"]), max(t["batch_size"])
    small, large = select(t, batch_size=lo), select(t, batch_size=hi)
    effect, spread = contrast(by_seed(large, "update"), by_seed(small, "update"))
    n = {"batch_small": lo, "batch_large": hi, "compared_steps": n_steps, "update_small": mean_of(small, "update"),
         "update_large": mean_of(large, "update"), "update_spread": spread,
         "steps_per_epoch_small": mean_of(small, "steps_per_epoch"), "steps_per_epoch_large": mean_of(large, "steps_per_epoch"),
         "volatility_small": mean_of(small, "volatility"), "volatility_large": mean_of(large, "volatility")}  # fmt: skip
    return Outcome(judge(effect, spread), n, (
        f"over the first {n_steps} updates from the same start, one update moved the weights by "
        f"{fmt(n['update_large'])} with batch {hi} vs {fmt(n['update_small'])} with batch {lo} (seed spread "
        f"{fmt(spread)}); an epoch had {fmt(n['steps_per_epoch_large'])} vs {fmt(n['steps_per_epoch_small'])} "
        f"steps and the loss volatility was {fmt(n['volatility_large'])} vs {fmt(n['volatility_small'])}"))  # fmt: skip


def preset_bs(dataset: str, fast: bool) -> list[Comparison]:
    """Shared by BS2-BS4: one set of runs answers all three (and a store trains it once)."""
    return [of(exp(dataset, fast, 10), {"batch_size": BS_SIZES}, BS_SEEDS)]


def rule_bs2(results: list[ComparisonResult]) -> Outcome:
    from scipy import stats

    t = table(results)
    col, _ = accuracy_or_loss(t)
    lo, hi = min(t["batch_size"]), max(t["batch_size"])
    a_small, a_large = (
        finite(by_seed(select(t, batch_size=lo), col)),
        finite(by_seed(select(t, batch_size=hi), col)),
    )
    n: dict[str, Any] = {"batch_small": lo, "batch_large": hi, "metric": col}
    if len(a_small) < 3 or len(a_large) < 3:
        return Outcome(UNSURE, n, "too many runs diverged to measure the seed-to-seed spread")
    v_small, v_large = float(a_small.var(ddof=1)), float(a_large.var(ddof=1))
    crit = float(stats.f.ppf(1 - ALPHA, len(a_large) - 1, len(a_small) - 1))
    crit_rev = float(stats.f.ppf(1 - ALPHA, len(a_small) - 1, len(a_large) - 1))
    n.update({"std_small": math.sqrt(v_small), "std_large": math.sqrt(v_large), "mean_small": float(a_small.mean()),
              "mean_large": float(a_large.mean()), "f_critical": crit})  # fmt: skip
    if v_small == 0 and v_large == 0:
        verdict, ratio = FAILS, 1.0
    elif v_small == 0:
        verdict, ratio = HOLDS, math.inf
    else:
        ratio = v_large / v_small
        verdict = HOLDS if ratio > crit else FAILS if ratio < 1 / crit_rev else UNSURE
    n["variance_ratio"] = ratio
    what = col.replace("final_", "final ").replace("_", " ")
    return Outcome(verdict, n, (
        f"{what} had a seed-to-seed std of {fmt(n['std_large'])} with batch {hi} vs {fmt(n['std_small'])} with "
        f"batch {lo} ({len(a_large)} vs {len(a_small)} seeds; variance ratio {fmt(ratio)}, decisive beyond "
        f"{fmt(crit)} or below {fmt(1 / crit_rev)}; means {fmt(n['mean_large'])} vs {fmt(n['mean_small'])})"))  # fmt: skip


def rule_bs3(results: list[ComparisonResult]) -> Outcome:
    t = with_gap(table(results))
    lo, hi = min(t["batch_size"]), max(t["batch_size"])
    small, large = select(t, batch_size=lo), select(t, batch_size=hi)
    effect, spread = contrast(by_seed(large, "gap"), by_seed(small, "gap"))
    n = {"batch_small": lo, "batch_large": hi, "gap_small": mean_of(small, "gap"), "gap_large": mean_of(large, "gap"),
         "gap_difference": effect, "seed_spread": spread,
         "train_loss_small": mean_of(small, "final_train_loss"), "train_loss_large": mean_of(large, "final_train_loss")}  # fmt: skip
    return Outcome(judge(effect, spread), n, (
        f"the gap (validation minus training loss) was {fmt(n['gap_small'])} with batch {lo} vs {fmt(n['gap_large'])} "
        f"with batch {hi} (per-seed difference {fmt(effect)}, spread {fmt(spread)}; training loss "
        f"{fmt(n['train_loss_small'])} vs {fmt(n['train_loss_large'])} after the same epochs)"))  # fmt: skip


def rule_bs4(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    threshold = 2 * float(np.nanmedian(pd.to_numeric(t["final_train_loss"], errors="coerce")))
    lo, hi = min(t["batch_size"]), max(t["batch_size"])

    def poor(rows: pd.DataFrame) -> int:  # a diverged run ended nowhere good either
        loss = pd.to_numeric(rows["final_train_loss"], errors="coerce")
        return int((rows["diverged"].astype(bool) | (loss > threshold)).sum())

    small, large = select(t, batch_size=lo), select(t, batch_size=hi)
    k_s, k_l = poor(small), poor(large)
    p_claim, p_rev = (
        fisher_greater(k_l, len(large), k_s, len(small)),
        fisher_greater(k_s, len(small), k_l, len(large)),
    )
    n = {"threshold_train_loss": threshold, "poor_small": k_s, "poor_large": k_l, "seeds_small": len(small),
         "seeds_large": len(large), "p_value": p_claim}  # fmt: skip
    verdict = HOLDS if p_claim < ALPHA else FAILS if p_rev < ALPHA else UNSURE
    if k_s == k_l == 0:
        verdict = UNSURE
    return Outcome(verdict, n, (
        f"{k_l}/{len(large)} seeds with batch {hi} vs {k_s}/{len(small)} with batch {lo} ended with training loss "
        f"above {fmt(threshold)} (twice the median of all runs) or diverged (one-sided Fisher p = {fmt(p_claim)}, "
        f"decisive below {ALPHA})"))  # fmt: skip


# ============================================================================================
# Regularization

RG_L = 1e-3


def preset_rg1(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 20, n_samples=SMALL_N), {"l2": (0.0, 1e-3, 1e-2)})]


def rule_rg1(results: list[ComparisonResult]) -> Outcome:
    t = with_gap(table(results))
    strong = max(t["l2"])
    none, reg = select(t, l2=0.0), select(t, l2=strong)
    effect, spread = contrast(by_seed(none, "gap"), by_seed(reg, "gap"))
    n = {"l2": strong, "gap_without": mean_of(none, "gap"), "gap_with": mean_of(reg, "gap"), "gap_difference": effect,
         "seed_spread": spread, "val_loss_without": mean_of(none, "final_val_loss"),
         "val_loss_with": mean_of(reg, "final_val_loss")}  # fmt: skip
    return Outcome(judge(effect, spread), n, (
        f"on {training_examples(t)} training examples the gap (validation minus training loss) was "
        f"{fmt(n['gap_without'])} without L2 vs {fmt(n['gap_with'])} with L2 {fmt(strong)} (per-seed difference "
        f"{fmt(effect)}, spread {fmt(spread)}; validation loss {fmt(n['val_loss_without'])} vs {fmt(n['val_loss_with'])})"))  # fmt: skip


def preset_rg2(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 10), {"l1": (0.0, RG_L), "l2": (0.0, RG_L)})]


def rule_rg2(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    l1v, l2v = max(t["l1"]), max(t["l2"])
    l1, l2, none = select(t, l1=l1v, l2=0.0), select(t, l1=0.0, l2=l2v), select(t, l1=0.0, l2=0.0)
    effect, spread = contrast(by_seed(l1, "weight_sparsity"), by_seed(l2, "weight_sparsity"))
    n = {"sparsity_l1": mean_of(l1, "weight_sparsity"), "sparsity_l2": mean_of(l2, "weight_sparsity"),
         "sparsity_none": mean_of(none, "weight_sparsity"), "seed_spread": spread, "l1": l1v, "l2": l2v}  # fmt: skip

    def pct(x: float) -> str:
        return f"{fmt(100 * x)}%"

    return Outcome(judge(effect, spread), n, (
        f"{pct(n['sparsity_l1'])} of the weights ended with |w| < 0.001 under L1 {fmt(l1v)} vs "
        f"{pct(n['sparsity_l2'])} under L2 {fmt(l2v)} ({pct(n['sparsity_none'])} with neither; seed spread "
        f"{pct(spread)})"))  # fmt: skip


def preset_rg3(dataset: str, fast: bool) -> list[Comparison]:
    """One single-run comparison per (penalty, seed), alternating L1 and L2, so that a change in
    the machine's load during the measurement hits both penalties alike."""
    base = exp(dataset, fast, 10)
    return [
        of(dataclasses.replace(base, seed=s, **{penalty: RG_L}), seeds=1)
        for s in range(SEEDS)
        for penalty in ("l1", "l2")
    ]


def epoch_seconds(ep: pd.DataFrame) -> pd.Series:
    """Per run: median wall seconds of an epoch after the first (the first includes graph
    compilation; the median shrugs off a moment when another process took the CPU)."""

    def per_epoch(g: pd.DataFrame) -> float:
        s = g.sort_values("epoch")["seconds"].to_numpy(float)
        return float(np.median(np.diff(s))) if len(s) > 1 else math.nan

    return ep.groupby("key").apply(per_epoch, include_groups=False) if len(ep) else pd.Series(dtype=float)


def rule_rg3(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    t = t.assign(epoch_seconds=t["key"].map(epoch_seconds(frame(results, "epochs"))).astype(float))
    l1, l2 = t[t["l1"] > 0], t[t["l2"] > 0]
    a, b = finite(by_seed(l1, "epoch_seconds")), finite(by_seed(l2, "epoch_seconds"))
    n: dict[str, Any] = {"ms_per_epoch_l1": 1000 * a.mean() if len(a) else None,
                         "ms_per_epoch_l2": 1000 * b.mean() if len(b) else None}  # fmt: skip
    if (t["group_size"] > 1).any():
        return Outcome(UNSURE, n, "the runs were trained stacked, so their wall time is shared; time them with "
                       "separate=True (run_claim does)")  # fmt: skip
    if len(a) < 2 or len(b) < 2:
        return Outcome(UNSURE, n, "too few timed runs (each needs at least two epochs)")
    effect, spread = float(a.mean() - b.mean()), max(span(a), span(b))  # timing is not paired by seed
    n.update({"difference_ms": 1000 * effect, "run_spread_ms": 1000 * spread})
    return Outcome(judge(effect, spread), n, (
        f"on this machine an epoch took {fmt(n['ms_per_epoch_l1'])} ms with L1 vs {fmt(n['ms_per_epoch_l2'])} ms "
        f"with L2 ({fmt(100 * effect / b.mean())}% difference; run-to-run spread {fmt(1000 * spread)} ms, "
        f"{len(a)} + {len(b)} runs trained one at a time)"))  # fmt: skip


# ============================================================================================
# Batch normalization

BN1_DEPTH = 4  # deep enough for plain SGD to start slowly without BN
BN2_RATES = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def preset_bn1(dataset: str, fast: bool) -> list[Comparison]:
    base = exp(dataset, fast, 8, depth=BN1_DEPTH, optimizer="sgd", learning_rate=0.05)
    return [of(base, {"batch_norm": ("none", "before", "after")})]


def rule_bn1(results: list[ComparisonResult]) -> Outcome:
    t, ep = table(results), frame(results, "epochs")
    col, lower = accuracy_or_loss(t)
    metric = col.replace("final_", "")
    n_epochs = int(t["epochs"].max())
    finals = {b: mean_of(select(t, batch_norm=b), col) for b in ("none", "before", "after")}
    good = [m for m in finals.values() if math.isfinite(m)]
    if not good:
        return Outcome(UNSURE, {}, "every run diverged")
    target = min(good) * 1.1 if lower else 0.9 * max(good)
    reach = {
        b: epochs_to(ep, select(t, batch_norm=b)["key"], metric, target, lower, n_epochs) for b in finals
    }
    bn = min(("before", "after"), key=lambda b: censored(reach[b][0], n_epochs))
    d = [censored(reach["none"][1][s], n_epochs) - censored(reach[bn][1][s], n_epochs)
         for s in sorted(set(reach["none"][1]) & set(reach[bn][1]))]  # fmt: skip
    e_none, e_bn = censored(reach["none"][0], n_epochs), censored(reach[bn][0], n_epochs)
    ratio = e_bn / e_none
    n = {"target": target, "metric": metric, "epochs_none": reach["none"][0], "epochs_before": reach["before"][0],
         "epochs_after": reach["after"][0], "best_placement": bn, "ratio": ratio, "seed_spread_epochs": span(d)}  # fmt: skip
    verdict = judge(e_none - e_bn, span(d))
    halving = "about half" if ratio <= 0.6 else "less than the notes' halving"
    return Outcome(verdict, n, (
        f"to reach {metric.replace('_', ' ')} {fmt(target)} ({'110% of the best' if lower else '90% of the best'} final) "
        f"BN {bn} the activation {epochs_text(reach[bn][0], n_epochs)}; without BN it "
        f"{epochs_text(reach['none'][0], n_epochs)} (ratio {fmt(ratio)}, {halving}; seed spread "
        f"{fmt(span(d))} epochs)"))  # fmt: skip


def preset_bn2(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 10), {"batch_norm": ("none", "before"), "learning_rate": BN2_RATES})]


def rule_bn2(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    start = initial_loss(frame(results, "steps"))
    ok = ~t["diverged"].astype(bool) & (pd.to_numeric(t["final_train_loss"], errors="coerce") < start / 2)
    t = t.assign(ok=ok)

    def edges(bn: str) -> tuple[float | None, float | None]:
        rows = select(t, batch_norm=bn)
        per_rate = rows.groupby("learning_rate")["ok"]
        every = [r for r, g in per_rate if g.all()]
        some = [r for r, g in per_rate if g.any()]
        return (max(every) if every else None), (max(some) if some else None)

    (bn_all, bn_any), (no_all, no_any) = edges("before"), edges("none")
    n = {"largest_lr_all_seeds_bn": bn_all, "largest_lr_all_seeds_none": no_all,
         "largest_lr_any_seed_bn": bn_any, "largest_lr_any_seed_none": no_any, "trains_below_loss": start / 2}  # fmt: skip
    if bn_any is None and no_any is None:
        verdict = UNSURE
    elif bn_all is not None and (no_any is None or bn_all > no_any):
        verdict = HOLDS
    elif bn_any is None or (no_all is not None and bn_any <= no_all):
        verdict = FAILS
    else:
        verdict = UNSURE
    return Outcome(verdict, n, (
        f"every seed still trained (no divergence, loss below {fmt(start / 2)}) up to lr {fmt(bn_all)} with BN vs "
        f"{fmt(no_all)} without (some seed trained up to {fmt(bn_any)} vs {fmt(no_any)}; sweep "
        f"{listed(list(BN2_RATES))})"))  # fmt: skip


def preset_bn3(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 10, depth=3), {"batch_norm": ("none", "before"), "init": INITS})]


def rule_bn3(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    t = t.assign(
        loss=pd.to_numeric(t["final_train_loss"], errors="coerce").where(
            ~t["diverged"].astype(bool), math.inf
        )
    )

    def sensitivity(bn: str) -> tuple[float, float, str]:
        rows = select(t, batch_norm=bn)
        means = rows.groupby("init")["loss"].mean()
        noise = max(span(g.to_numpy(float)) for _, g in rows.groupby("init")["loss"])
        rng = float(means.max() - means.min()) if np.isfinite(means.min()) else math.nan
        return rng, noise, str(means.idxmax())

    (r_none, noise_none, worst_none), (r_bn, noise_bn, worst_bn) = sensitivity("none"), sensitivity("before")
    noise = max(noise_none, noise_bn)
    n = {"loss_range_none": r_none, "loss_range_bn": r_bn, "worst_init_none": worst_none,
         "worst_init_bn": worst_bn, "seed_spread": noise}  # fmt: skip
    if (math.isinf(r_none) and math.isinf(r_bn)) or math.isnan(r_none) or math.isnan(r_bn):
        verdict = UNSURE
    elif math.isinf(r_none) or math.isinf(r_bn):
        verdict = HOLDS if math.isinf(r_none) else FAILS
    else:
        verdict = judge(r_none - r_bn, noise)
    return Outcome(verdict, n, (
        f"the final training loss ranged over {fmt(r_none)} across the five initializers without BN (worst: "
        f"{worst_none}) vs {fmt(r_bn)} with BN (worst: {worst_bn}); largest seed spread within one setting "
        f"{fmt(noise)} (inf = some seed diverged)"))  # fmt: skip


def preset_bn4(dataset: str, fast: bool) -> list[Comparison]:
    return [of(exp(dataset, fast, 6), {"activation": ("tanh", "relu"), "batch_norm": ("before", "after")})]


def rule_bn4(results: list[ComparisonResult]) -> Outcome:
    t = table(results)

    def val(act: str, bn: str) -> pd.Series:
        return by_seed(select(t, activation=act, batch_norm=bn), "final_val_loss")

    e_t, s_t = contrast(val("tanh", "before"), val("tanh", "after"))  # > 0: after is better for tanh
    e_r, s_r = contrast(val("relu", "after"), val("relu", "before"))  # > 0: before is better for relu
    v_t, v_r = judge(e_t, s_t), judge(e_r, s_r)
    n = {
        f"val_loss_{a}_{b}": float(finite(val(a, b)).mean())
        for a in ("tanh", "relu")
        for b in ("before", "after")
    }
    n |= {"tanh_after_advantage": e_t, "tanh_spread": s_t, "relu_before_advantage": e_r, "relu_spread": s_r}
    return Outcome(both(v_t, v_r), n, (
        f"validation loss for tanh was {fmt(n['val_loss_tanh_after'])} with BN after vs "
        f"{fmt(n['val_loss_tanh_before'])} before ({v_t}; spread {fmt(s_t)}); for ReLU "
        f"{fmt(n['val_loss_relu_before'])} before vs {fmt(n['val_loss_relu_after'])} after ({v_r}; spread {fmt(s_r)})"))  # fmt: skip


def preset_bn5(dataset: str, fast: bool) -> list[Comparison]:
    base = exp(dataset, fast, 20, n_samples=SMALL_N)
    return [of(base, {"batch_norm": ("none", "before"), "dropout": (0.0, 0.3)})]


def rule_bn5(results: list[ComparisonResult]) -> Outcome:
    t = with_gap(table(results))
    drop = max(t["dropout"])

    def cell(bn: str, d: float, col: str) -> pd.Series:
        return by_seed(select(t, batch_norm=bn, dropout=d), col)

    e_a, s_a = contrast(cell("none", 0.0, "gap"), cell("before", 0.0, "gap"))  # BN shrinks the gap
    e_b, s_b = contrast(cell("before", 0.0, "final_val_loss"), cell("before", drop, "final_val_loss"))
    regularizes = judge(e_a, s_a)
    dropout_helps = judge(e_b, s_b) == HOLDS
    n = {f"gap_{bn}_dropout_{fmt(d)}": float(finite(cell(bn, d, "gap")).mean())
         for bn in ("none", "before") for d in (0.0, drop)}  # fmt: skip
    n |= {
        "gap_reduction_by_bn": e_a,
        "gap_spread": s_a,
        "val_loss_gain_from_dropout_with_bn": e_b,
        "val_spread": s_b,
    }
    return Outcome(both(regularizes, FAILS if dropout_helps else HOLDS), n, (
        f"the gap (validation minus training loss) was {fmt(n['gap_none_dropout_0'])} without BN vs "
        f"{fmt(n['gap_before_dropout_0'])} with BN (spread {fmt(s_a)}); with BN on, dropout {fmt(drop)} changed the "
        f"validation loss by {fmt(-e_b)} (spread {fmt(s_b)}: {'a real gain' if dropout_helps else 'no clear gain'}); "
        f"dropout alone left a gap of {fmt(n[f'gap_none_dropout_{fmt(drop)}'])}"))  # fmt: skip


# ============================================================================================
# Vanishing gradients: mean kernel-gradient norm of the first vs the last layer over training

VG_DEPTH = 8


def vg_base(dataset: str, fast: bool) -> Experiment:
    return exp(dataset, fast, 5, depth=VG_DEPTH, width=32)


def preset_vg1(dataset: str, fast: bool) -> list[Comparison]:
    return [of(dataclasses.replace(vg_base(dataset, fast), activation="sigmoid"))]


def preset_vg2(dataset: str, fast: bool) -> list[Comparison]:
    """VG1's sigmoid runs (the same keys: a store replays them), ReLU, sigmoid + residual."""
    residual = dataclasses.replace(vg_base(dataset, fast), activation="sigmoid", residual=True)
    return [*preset_vg1(dataset, fast), of(vg_base(dataset, fast)), of(residual)]


def log_ratio(rows: pd.DataFrame) -> pd.Series:
    r = by_seed(rows, "grad_norm_first_layer") / by_seed(rows, "grad_norm_last_layer")
    return np.log10(r.where(r > 0))


def rule_vg1(results: list[ComparisonResult]) -> Outcome:
    lr = finite(log_ratio(select(table(results), activation="sigmoid", residual=False)))
    n = {
        "first_over_last": 10 ** lr.mean() if len(lr) else None,
        "log10_ratio_spread": span(lr),
        "depth": VG_DEPTH,
    }
    if len(lr) < 2:
        return Outcome(UNSURE, n, "too many runs diverged to measure gradients")
    return Outcome(judge(-1 - float(lr.mean()), span(lr)), n, (
        f"in a {VG_DEPTH}-layer sigmoid network the first layer's gradient norm was {fmt(n['first_over_last'])}x "
        f"the last layer's (seeds {fmt(10 ** lr.min())}–{fmt(10 ** lr.max())}; vanishing means below 0.1)"))  # fmt: skip


def rule_vg2(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    sig = log_ratio(select(t, activation="sigmoid", residual=False))
    relu = log_ratio(select(t, activation="relu", residual=False))
    res = log_ratio(select(t, activation="sigmoid", residual=True))
    (e_relu, s_relu), (e_res, s_res) = contrast(relu, sig), contrast(res, sig)

    def ratio(s: pd.Series) -> float | None:
        s = finite(s)
        return 10 ** float(s.mean()) if len(s) else None

    n = {"ratio_sigmoid": ratio(sig), "ratio_relu": ratio(relu), "ratio_sigmoid_residual": ratio(res),
         "log10_gain_relu": e_relu, "log10_gain_residual": e_res, "spread_relu": s_relu, "spread_residual": s_res}  # fmt: skip
    return Outcome(both(judge(e_relu, s_relu), judge(e_res, s_res)), n, (
        f"first/last-layer gradient ratio in {VG_DEPTH} layers: sigmoid {fmt(n['ratio_sigmoid'])}, ReLU "
        f"{fmt(n['ratio_relu'])}, sigmoid with residual connections {fmt(n['ratio_sigmoid_residual'])} "
        f"(log10 gains {fmt(e_relu)} and {fmt(e_res)}, seed spreads {fmt(s_relu)} and {fmt(s_res)})"))  # fmt: skip


# ============================================================================================
# Exploding gradients: plain SGD at lr 1.5 on a 4-layer ReLU net blows up (checked on digits)

EG_LR, EG_HEALTHY_LR = 1.5, 0.05
EG_SIGNALS = ("nan_loss", "volatile_loss", "huge_weights", "every_layer_gradient_above_1")
EG_FACTOR = 10.0  # "volatile" / "huge" = 10x the healthy runs' median


def eg_base(dataset: str, fast: bool) -> Experiment:
    return exp(dataset, fast, 8, depth=4, optimizer="sgd", learning_rate=EG_LR)


def preset_eg1(dataset: str, fast: bool) -> list[Comparison]:
    return [of(eg_base(dataset, fast), {"learning_rate": (EG_HEALTHY_LR, EG_LR)})]


def layer_grads(layers: pd.DataFrame) -> pd.Series:
    """Per run, the smallest over layers of the median kernel-gradient norm: above 1 means every
    layer's gradient was consistently above 1, the notes' wording."""
    if layers.empty:
        return pd.Series(dtype=float)
    return layers.groupby(["key", "layer"])["grad_norm"].median().groupby("key").min()


def signals(t: pd.DataFrame, results: list[ComparisonResult], healthy: pd.DataFrame) -> pd.DataFrame:
    """Per run, which symptom fired (True/False, or NaN if it could not be measured)."""
    steps, weights = frame(results, "steps"), frame(results, "weights")
    peak = weights.groupby("key")["weight_max_abs"].max() if len(weights) else pd.Series(dtype=float)
    grad = layer_grads(frame(results, "layers"))
    t = with_volatility(t, steps).assign(
        peak=t["key"].map(peak).astype(float), grad=t["key"].map(grad).astype(float)
    )
    ref = t[t["key"].isin(healthy["key"])]
    vol_ref, peak_ref = np.nanmedian(ref["volatility"]), np.nanmedian(ref["peak"])

    def test(x: pd.Series, ref: float) -> pd.Series:
        return (x > EG_FACTOR * ref).astype(object).where(x.notna() & np.isfinite(ref), np.nan)

    return pd.DataFrame({
        "key": t["key"], "nan_loss": t["diverged"].astype(bool).astype(object),
        "volatile_loss": test(t["volatility"], vol_ref), "huge_weights": test(t["peak"], peak_ref),
        "every_layer_gradient_above_1": (t["grad"] > 1).astype(object).where(t["grad"].notna(), np.nan),
    })  # fmt: skip


def rule_eg1(results: list[ComparisonResult]) -> Outcome:
    """A signal "works" if it fired in most measurable blowing-up runs and in few healthy ones;
    the claim holds if every measurable signal works, fails if at most half of them do."""
    t = table(results)
    healthy, hot = (
        select(t, learning_rate=min(t["learning_rate"])),
        select(t, learning_rate=max(t["learning_rate"])),
    )
    sig = signals(t, results, healthy).set_index("key")

    def share(rows: pd.DataFrame, name: str) -> tuple[float, str]:
        s = sig.loc[rows["key"], name].dropna()
        k = int((s == True).sum())  # noqa: E712 (object column of True/False)
        return (k / len(s) if len(s) else math.nan), f"{k}/{len(s)}"

    n: dict[str, Any] = {"lr_exploding": max(t["learning_rate"]), "lr_healthy": min(t["learning_rate"]),
                         "diverged_exploding": diverged(hot)}  # fmt: skip
    works = {}
    for name in EG_SIGNALS:
        (s_hot, c_hot), (s_ok, c_ok) = share(hot, name), share(healthy, name)
        n[f"{name}_exploding"], n[f"{name}_healthy"] = c_hot, c_ok
        if math.isfinite(s_hot):
            works[name] = s_hot > 0.5 and not s_ok >= 0.5
    steps = hot.loc[hot["diverged"].astype(bool), "diverged_step"]
    n["median_blow_up_step"] = float(steps.median()) if len(steps) else None
    blown = hot["diverged"].mean() >= 0.5
    good = sum(works.values())
    if not blown or not works:
        verdict = UNSURE
    else:
        verdict = HOLDS if good == len(works) else FAILS if good <= len(works) / 2 else UNSURE
    listing = ", ".join(
        f"{k.replace('_', ' ')} {n[f'{k}_exploding']} vs {n[f'{k}_healthy']}" for k in EG_SIGNALS
    )
    missed = [k.replace("_", " ") for k, ok in works.items() if not ok]
    text = (f"at lr {fmt(n['lr_exploding'])} {diverged(hot)} seeds blew up (median step "
            f"{fmt(n['median_blow_up_step'])}); signals fired, blowing-up vs healthy lr {fmt(n['lr_healthy'])} "
            f"runs (fired/measurable): {listing}")  # fmt: skip
    if missed and blown:
        text += f"; not a usable sign here: {', '.join(missed)}"
    if not blown:
        text += f"; lr {fmt(n['lr_exploding'])} did not blow up here, so there is nothing to detect"
    return Outcome(verdict, n, text)


def preset_eg2(dataset: str, fast: bool) -> list[Comparison]:
    base = eg_base(dataset, fast)
    return [of(base, {"clipnorm": (0.0, 1.0)}), of(dataclasses.replace(base, clipvalue=0.5))]


def rule_eg2(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    start = initial_loss(frame(results, "steps"))
    base = t[(t["clipnorm"] == 0) & (t["clipvalue"] == 0)]
    parts = {"clipnorm": t[t["clipnorm"] > 0], "clipvalue": t[t["clipvalue"] > 0]}
    d0 = base["diverged"].mean()

    def prevents(rows: pd.DataFrame) -> str:
        d = rows["diverged"].mean()
        return HOLDS if d == 0 else FAILS if d >= d0 else UNSURE

    n: dict[str, Any] = {"diverged_unclipped": diverged(base), "start_loss": start}
    for k, rows in parts.items():
        n[f"diverged_{k}"], n[f"final_train_loss_{k}"] = diverged(rows), mean_of(rows, "final_train_loss")
    verdict = UNSURE if d0 < 0.5 else both(*(prevents(r) for r in parts.values()))
    text = (f"without clipping {diverged(base)} seeds blew up; with clipnorm 1.0 {n['diverged_clipnorm']} (final "
            f"training loss {fmt(n['final_train_loss_clipnorm'])}), with clipvalue 0.5 {n['diverged_clipvalue']} "
            f"(final loss {fmt(n['final_train_loss_clipvalue'])}); starting loss {fmt(start)}")  # fmt: skip
    return Outcome(
        verdict, n, text + ("" if d0 >= 0.5 else "; the unclipped configuration did not blow up here")
    )


EG3_BATCHES = (8, 32)


def preset_eg3(dataset: str, fast: bool) -> list[Comparison]:
    return [of(eg_base(dataset, fast), {"batch_size": EG3_BATCHES, "l2": (0.0, RG_L)})]


def rule_eg3(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    big, small_b = max(t["batch_size"]), min(t["batch_size"])
    strong = max(t["l2"])
    base = select(t, batch_size=big, l2=0.0)
    fixes = {
        "smaller batch": select(t, batch_size=small_b, l2=0.0),
        "L2": select(t, batch_size=big, l2=strong),
    }
    k0 = int(base["diverged"].sum())

    def helps(rows: pd.DataFrame) -> str:
        k = int(rows["diverged"].sum())
        if fisher_greater(k0, len(base), k, len(rows)) < ALPHA:
            return HOLDS
        return FAILS if k >= k0 else UNSURE

    parts = {name: helps(rows) for name, rows in fixes.items()}
    n: dict[str, Any] = {
        "diverged_base": diverged(base),
        "batch_base": big,
        "batch_small": small_b,
        "l2": strong,
    }
    n |= {f"diverged_{k.replace(' ', '_')}": diverged(r) for k, r in fixes.items()}
    verdict = UNSURE if base["diverged"].mean() < 0.5 else both(*parts.values())
    return Outcome(verdict, n, (
        f"at lr {fmt(EG_LR)} with batch {big} {diverged(base)} seeds blew up; with batch {small_b} "
        f"{diverged(fixes['smaller batch'])} ({parts['smaller batch']}), with L2 {fmt(strong)} {diverged(fixes['L2'])} "
        f"({parts['L2']}; final training loss {fmt(mean_of(fixes['L2'], 'final_train_loss'))})"
        + ("" if base["diverged"].mean() >= 0.5 else "; the base configuration did not blow up here")))  # fmt: skip


# ============================================================================================
# Wide vs deep (small training subset, so memorizing is possible)

WVD_DEEP_DEPTH = 4


def data_shape(dataset: str) -> tuple[int, int]:
    """(features, outputs) without TensorFlow: the data pool is cached by core.data."""
    from core.data import load_dataset

    ds = load_dataset(dataset, TOY_N if dataset in TOY_DATASETS else REAL_N)
    return ds.n_features, 1 if ds.is_regression else ds.n_classes


def n_weights(features: int, outputs: int, width: int, depth: int) -> int:
    sizes = [features] + [width] * depth + [outputs]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def wide_width(features: int, outputs: int, budget: int) -> int:
    return max(1, round((budget - outputs) / (features + 1 + outputs)))


def preset_wvd1(dataset: str, fast: bool) -> list[Comparison]:
    f, o = data_shape(dataset)
    for w in (64, 48, 32, 16):  # the widest deep net whose equal-budget twin fits MAX_WIDTH
        budget = n_weights(f, o, w, WVD_DEEP_DEPTH)
        if wide_width(f, o, budget) <= MAX_WIDTH:
            break
    base = exp(dataset, fast, 20, n_samples=SMALL_N)
    deep = dataclasses.replace(base, depth=WVD_DEEP_DEPTH, width=w)
    wide = dataclasses.replace(base, depth=1, width=min(MAX_WIDTH, wide_width(f, o, budget)))
    return [of(wide), of(deep)]


def rule_wvd1(results: list[ComparisonResult]) -> Outcome:
    t = table(results)
    col, lower = accuracy_or_loss(t)
    wide, deep = t[t["depth"] == 1], t[t["depth"] > 1]
    a, b = (by_seed(deep, col), by_seed(wide, col)) if not lower else (by_seed(wide, col), by_seed(deep, col))
    effect, spread = contrast(a, b)  # > 0: the deep net generalizes better
    train_col = col.replace("val", "train")
    n = {"wide_units": int(wide["width"].iloc[0]), "deep_shape": f"{WVD_DEEP_DEPTH}x{int(deep['width'].iloc[0])}",
         "params_wide": int(wide["n_params"].iloc[0]), "params_deep": int(deep["n_params"].iloc[0]),
         "train_wide": mean_of(wide, train_col), "val_wide": mean_of(wide, col),
         "train_deep": mean_of(deep, train_col), "val_deep": mean_of(deep, col), "difference": effect,
         "seed_spread": spread, "metric": col.replace("final_val_", "")}  # fmt: skip
    return Outcome(judge(effect, spread), n, (
        f"with {n['params_wide']} vs {n['params_deep']} weights, 1x{n['wide_units']} reached training "
        f"{n['metric']} {fmt(n['train_wide'])} and validation {fmt(n['val_wide'])}, {n['deep_shape']} reached "
        f"{fmt(n['train_deep'])} and {fmt(n['val_deep'])} (per-seed validation advantage of the deep net "
        f"{fmt(effect)}, spread {fmt(spread)})"))  # fmt: skip


WVD2_WIDTHS, WVD2_DEPTHS = (16, 256), (1, 6)


def preset_wvd2(dataset: str, fast: bool) -> list[Comparison]:
    base = exp(dataset, fast, 15, n_samples=SMALL_N)
    return [of(base, {"width": WVD2_WIDTHS, "depth": WVD2_DEPTHS})]


def rule_wvd2(results: list[ComparisonResult]) -> Outcome:
    t = with_gap(table(results))
    (w0, w1), (d0, d1) = values(t, "width"), values(t, "depth")

    def gap(w: int, d: int) -> pd.Series:
        return by_seed(select(t, width=w, depth=d), "gap")

    def effect(pairs: list[tuple[pd.Series, pd.Series]]) -> tuple[float, float]:
        diffs = pd.concat([finite(a - b) for a, b in pairs])
        return (float(diffs.mean()), span(diffs)) if len(diffs) >= 2 else (math.nan, math.nan)

    e_w, s_w = effect([(gap(w1, d), gap(w0, d)) for d in (d0, d1)])
    e_d, s_d = effect([(gap(w, d1), gap(w, d0)) for w in (w0, w1)])
    n = {f"gap_{w}x{d}": float(finite(gap(w, d)).mean()) for w in (w0, w1) for d in (d0, d1)}
    n |= {"gap_increase_width": e_w, "spread_width": s_w, "gap_increase_depth": e_d, "spread_depth": s_d}
    cells = ", ".join(
        f"{w} units x {d} layer{'s' if d > 1 else ''} {fmt(n[f'gap_{w}x{d}'])}"
        for w in (w0, w1)
        for d in (d0, d1)
    )
    return Outcome(both(judge(e_w, s_w), judge(e_d, s_d)), n, (
        f"the gap (validation minus training loss) was {cells}: widening added {fmt(e_w)} (spread {fmt(s_w)}), "
        f"deepening {fmt(e_d)} (spread {fmt(s_d)})"))  # fmt: skip


# ============================================================================================

PRESETS: dict[str, Preset] = {
    "LR1": preset_lr1, "LR2": preset_lr2, "LR3": preset_lr3, "LR4": preset_lr4,
    "MO1": preset_mo1, "MO2": preset_mo2,
    "WD1": preset_wd1, "WD2": preset_wd2, "WD3": preset_wd3,
    "BS1": preset_bs1, "BS2": preset_bs, "BS3": preset_bs, "BS4": preset_bs,
    "RG1": preset_rg1, "RG2": preset_rg2, "RG3": preset_rg3,
    "BN1": preset_bn1, "BN2": preset_bn2, "BN3": preset_bn3, "BN4": preset_bn4, "BN5": preset_bn5,
    "VG1": preset_vg1, "VG2": preset_vg2,
    "EG1": preset_eg1, "EG2": preset_eg2, "EG3": preset_eg3,
    "WVD1": preset_wvd1, "WVD2": preset_wvd2,
}  # fmt: skip
RULES: dict[str, Rule] = {
    "LR1": rule_lr1, "LR2": rule_lr2, "LR3": rule_lr3, "LR4": rule_lr4,
    "MO1": rule_mo1, "MO2": rule_mo2,
    "WD1": rule_wd1, "WD2": rule_wd2, "WD3": rule_wd3,
    "BS1": rule_bs1, "BS2": rule_bs2, "BS3": rule_bs3, "BS4": rule_bs4,
    "RG1": rule_rg1, "RG2": rule_rg2, "RG3": rule_rg3,
    "BN1": rule_bn1, "BN2": rule_bn2, "BN3": rule_bn3, "BN4": rule_bn4, "BN5": rule_bn5,
    "VG1": rule_vg1, "VG2": rule_vg2,
    "EG1": rule_eg1, "EG2": rule_eg2, "EG3": rule_eg3,
    "WVD1": rule_wvd1, "WVD2": rule_wvd2,
}  # fmt: skip
