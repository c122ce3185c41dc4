"""Optimizer claims MO1-MO2: decided in the quadratic sandbox (deterministic), a real network as
a check for MO1."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.measures import mean_initial_loss
from core.results import ComparisonResult
from core.sandbox import Quadratic, closed_form, oscillation, run_path, steps_to_tolerance
from core.spec import Comparison

RAVINE = Quadratic(condition=50.0)
SANDBOX_LRS = tuple(np.geomspace(0.02, 4.0, 30))
SANDBOX_STEPS = 1000
SANDBOX_TOL = 1e-6
SANDBOX_REL = 0.1  # deterministic, so "better" means better by at least 10%
BETA = 0.9
MO1_RATES = (0.01, 0.03, 0.1, 0.3)
MO1_EPOCHS = 10
MO1_TARGET_SHARE = 0.1  # "progress": the training loss down to a tenth of its start
MO2_FRACTIONS = (0.25, 0.5, 0.75, 0.9, 0.975)  # of plain GD's stability edge 2 / lam_max
MO2_RISE = 0.05  # of the start offset 1: a swing growing by less is not "raised"
SWING_STEPS = 400


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
        return stats.UNSURE
    if mom["steps"] >= gd["steps"] or mom["ratio"] >= gd["ratio"]:
        return stats.FAILS
    ok = mom["steps"] < (1 - SANDBOX_REL) * gd["steps"] and mom["ratio"] < (1 - SANDBOX_REL) * gd["ratio"]
    return stats.HOLDS if ok else stats.UNSURE


def preset_mo1(dataset: str, fast: bool) -> list[Comparison]:
    return [
        runs.of(
            runs.exp(dataset, fast, MO1_EPOCHS),
            {"optimizer": ("sgd", "momentum"), "learning_rate": MO1_RATES},
        )
    ]


def best_rate(results: list[ComparisonResult], rows: Any, target: float) -> tuple[float, Any]:
    """Among the rows' learning rates: fewest mean epochs to target (chosen on the mean, then
    compared seed by seed)."""
    scored = []
    for r in runs.values(rows, "learning_rate"):
        reach = runs.epochs_to(results, runs.select(rows, learning_rate=r), "train_loss", target, True)
        scored.append((float(reach.mean()), r, reach))
    scored.sort(key=lambda s: (s[0], s[1]))
    return scored[0][1], scored[0][2]


def rule_mo1(results: list[ComparisonResult]) -> Outcome:
    gd, mom = sandbox_best("sgd", 0.0), sandbox_best("momentum", BETA)
    saved = (gd.get("steps", math.nan) - mom.get("steps", math.nan)) / gd.get("steps", math.nan)
    sandbox = stats.exact(
        mo1_sandbox(gd, mom),
        saved,
        "share of steps saved",
        SANDBOX_REL,
        label="quadratic ravine, each optimizer at its best rate",
    )
    n: dict[str, Any] = {
        f"sandbox_{who}_{k}": v for who, d in (("gd", gd), ("momentum", mom)) for k, v in d.items()
    }
    text = (
        f"in a quadratic ravine (condition {sig3(RAVINE.condition)}), each at its own best rate, momentum {BETA} "
        f"reached tolerance in {sig3(mom.get('steps'))} steps vs {sig3(gd.get('steps'))} for plain gradient "
        f"descent, with an across/along path ratio of {sig3(mom.get('ratio'))} vs {sig3(gd.get('ratio'))}"
    )
    t = runs.table(results)
    if t.empty:
        return Outcome(sandbox, n, text, (sandbox,))
    target = MO1_TARGET_SHARE * mean_initial_loss(runs.frame(results, "steps"))
    r_sgd, e_sgd = best_rate(results, runs.select(t, optimizer="sgd"), target)
    r_mom, e_mom = best_rate(results, runs.select(t, optimizer="momentum"), target)
    net = runs.paired_test(
        e_sgd,
        e_mom,
        runs.EPOCH_MARGIN,
        "epochs",
        discrete=True,
        label="a real network, each at its best rate (a check)",
    )
    n.update(
        {
            "net_target_train_loss": target,
            "net_sgd_best_lr": r_sgd,
            "net_sgd_epochs": float(e_sgd.mean()),
            "net_momentum_best_lr": r_mom,
            "net_momentum_epochs": float(e_mom.mean()),
        }
    )
    text += (
        f"; a real network, each at its best rate, took {sig3(e_mom.mean())} epochs with momentum (lr "
        f"{sig3(r_mom)}) vs {sig3(e_sgd.mean())} with plain SGD (lr {sig3(r_sgd)}) to bring the training "
        f"loss to {sig3(target)}"
    )
    deciding = sandbox
    if (
        sandbox.verdict == stats.HOLDS and net.verdict == stats.FAILS and net.effect < 0
    ):  # slower, significantly
        deciding = stats.exact(stats.UNSURE, saved, "share of steps saved", SANDBOX_REL, label=sandbox.label)
        text += ", so the network contradicts the sandbox"
    return Outcome(deciding, n, text, (deciding, net))


@functools.lru_cache(maxsize=1)
def sandbox_swings() -> list[dict[str, float]]:
    """Largest swing across the ravine per rate: GD at lr, momentum at the same effective step
    lr*(1-beta), and momentum at the same raw lr (which swings more: the sandbox's caveat)."""
    edge = closed_form(RAVINE)["gd_max_lr"]

    def swing(opt: str, rate: float, beta: float) -> float:
        path = run_path(RAVINE, opt, rate, beta, steps=SWING_STEPS, tol=SANDBOX_TOL)
        return oscillation(path, RAVINE)["max_flip_amplitude"]

    return [
        {
            "lr": f * edge,
            "gd": swing("sgd", f * edge, 0.0),
            "momentum_same_effective_step": swing("momentum", f * edge * (1 - BETA), BETA),
            "momentum_same_lr": swing("momentum", f * edge, BETA),
        }
        for f in MO2_FRACTIONS
    ]


def mo2_verdict(gd_swings: Sequence[float]) -> str:
    """Holds if the swing never shrinks as the rate grows and grows by > MO2_RISE (offset 1)."""
    s = np.asarray(gd_swings, dtype=float)
    rise = s[-1] - s[0]
    if rise > MO2_RISE and np.all(np.diff(s) >= -1e-9):
        return stats.HOLDS
    return stats.FAILS if rise < -MO2_RISE else stats.UNSURE


def preset_mo2(dataset: str, fast: bool) -> list[Comparison]:
    return []  # geometry only: nothing to train


def rule_mo2(results: list[ComparisonResult]) -> Outcome:
    rows = sandbox_swings()
    gd = [r["gd"] for r in rows]
    ev = stats.exact(mo2_verdict(gd), gd[-1] - gd[0], "of the start offset", MO2_RISE)
    n = {f"{k}_at_{i + 1}": v for i, r in enumerate(rows) for k, v in r.items()}
    text = (
        f"in the quadratic sandbox (the same for every dataset), as plain gradient descent's rate grew from "
        f"{sig3(rows[0]['lr'])} to {sig3(rows[-1]['lr'])} (stability edge 2/λmax = "
        f"{sig3(closed_form(RAVINE)['gd_max_lr'])}), its largest swing across the ravine went "
        f"{' → '.join(sig3(g) for g in gd)} (start offset 1); momentum {BETA} at the same effective step "
        f"swung at most {sig3(max(r['momentum_same_effective_step'] for r in rows))}"
    )
    return Outcome(ev, n, text)


CLAIMS = (
    Claim(
        "MO1",
        "optimizers",
        "Momentum damps the zig-zag across a ravine and speeds up progress along it.",
        "Quadratic ravine sandbox, each optimizer at its own best learning rate: steps to tolerance and the "
        "across/along path-length ratio, both better by 10%; a real network (each at its best rate, epochs to "
        "a tenth of the starting loss, paired by seed) as a check that can only veto.",
        preset_mo1,
        rule_mo1,
        stats.EXACT,
        "share of steps saved",
        SANDBOX_REL,
        "the sandbox is deterministic: 10% is a difference no rounding produces",
    ),
    Claim(
        "MO2",
        "optimizers",
        "Without momentum, a larger learning rate makes the oscillation across the ravine bigger.",
        "Quadratic ravine sandbox: largest swing across the ravine for plain gradient descent as the rate "
        "grows, next to momentum 0.9 at the same effective step lr/(1-β).",
        preset_mo2,
        rule_mo2,
        stats.EXACT,
        "of the start offset",
        MO2_RISE,
        "the sandbox is deterministic: 5% of the start offset is far above rounding",
    ),
)
