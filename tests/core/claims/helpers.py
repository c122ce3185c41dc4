"""Hand-made runs for the claims' rules: RunResults whose summaries and frames are written here,
built on the very members of each claim's preset, so a rule is tested on the shape of data it
will really see (8-10 seeds, the preset's knobs), without training anything."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.claims import CLAIMS, VERDICTS
from core.results import ComparisonResult, RunResult
from core.spec import Comparison, Experiment

H, F, U = VERDICTS
NAN = math.nan
Spec = Callable[[Experiment], dict[str, Any]]
VERDICT_WORDS = ("holds", "does not hold", "inconclusive")


def z(e: Experiment) -> float:
    """Seed-to-seed noise with mean exactly 0 over any even number of seeds from 0: 1, -1, 2, -2, ..."""
    return (1.0, -1.0, 2.0, -2.0)[e.seed % 4]


def run_of(
    e: Experiment,
    *,
    train: float = 0.1,
    val: float = 0.2,
    acc: float = 0.9,
    train_acc: float = 0.95,
    diverged: bool = False,
    curve: list[float] | None = None,
    acc_curve: list[float] | None = None,
    start: float = 2.3,
    vol: float = 0.01,
    update: float = 0.1,
    grad: float = 0.5,
    first: float = 0.5,
    last: float = 0.5,
    sparsity: float = 0.01,
    peak: float = 1.0,
    sec: float = 0.1,
    group_size: int = 1,
) -> RunResult:
    """One run's summary and frames, consistent with each other (a diverged run stops in epoch 1)."""
    n_ep = 1 if diverged else e.epochs
    curve = list(curve) if curve is not None else list(np.linspace(0.8 * start, train, e.epochs))
    acc_curve = list(acc_curve) if acc_curve is not None else [acc] * e.epochs
    val_curve = [val + (c - curve[-1]) for c in curve]  # the gap stays val - train along the way
    epochs = pd.DataFrame({
        "epoch": range(1, n_ep + 1), "train_loss": curve[:n_ep], "val_loss": val_curve[:n_ep],
        "train_accuracy": [train_acc] * n_ep, "val_accuracy": acc_curve[:n_ep],
        "seconds": [1.0 + sec * i for i in range(n_ep)], "lr": e.learning_rate,
    })  # fmt: skip
    n_steps = 20
    loss = np.linspace(start, curve[n_ep - 1], n_steps) + vol * np.where(np.arange(n_steps) % 2, 1.0, -1.0)
    loss[0] = start
    steps = pd.DataFrame({
        "step": range(n_steps), "epoch": 1, "loss": loss, "grad_norm": grad, "update_norm": update,
        "weight_max_abs": peak,
    })  # fmt: skip
    weights = pd.DataFrame(
        {"epoch": range(1, n_ep + 1), "layer": 0, "weight_max_abs": peak, "sparsity": sparsity}
    )
    layers = pd.DataFrame(
        {"step": np.repeat(range(n_steps), 2), "layer": np.tile([0, 1], n_steps), "grad_norm": grad}
    )
    final = NAN if diverged else 1.0
    summary = {
        "final_train_loss": train * final, "final_val_loss": val * final,
        "final_train_accuracy": train_acc * final, "final_val_accuracy": acc * final, "best_val_loss": val,
        "diverged": diverged, "diverged_step": 3 if diverged else -1, "grad_norm_first_layer": first,
        "grad_norm_last_layer": last, "weight_sparsity": sparsity, "steps_per_epoch": max(1, 1438 // e.batch_size),
        "seconds": 1.0, "group_size": group_size, "n_params": 1000 * e.depth * e.width, "epochs_run": n_ep,
        "n_classes": 10, "n_train": 1438,
    }  # fmt: skip
    return RunResult(e, summary, {"epochs": epochs, "steps": steps, "weights": weights, "layers": layers})


def fabricate(comparisons: list[Comparison], spec: Spec) -> list[ComparisonResult]:
    return [ComparisonResult(c, [run_of(m, **spec(m)) for m in c.members()]) for c in comparisons]


def step_curve(reach: int, epochs: int, hi: float = 2.3, lo: float = 0.5) -> list[float]:
    """Training loss that drops from hi to lo at epoch `reach`."""
    return [hi if ep < reach else lo for ep in range(1, epochs + 1)]


def acc_step(reach: int, epochs: int) -> list[float]:
    return [0.1 if ep < reach else 0.95 for ep in range(1, epochs + 1)]


def presets(claim_id: str) -> list[Comparison]:
    if claim_id == "LR4":  # its real preset runs a range test; the rule only needs three rates
        return [Comparison.of(Experiment(epochs=10, split_seed=0), {"learning_rate": (0.01, 0.1, 1.0)}, 8)]
    return CLAIMS[claim_id].comparisons("digits")


def check(claim_id: str, spec: Spec, expected: str) -> None:
    """The rule's verdict on these hand-made runs, and what every verdict must carry."""
    verdict = CLAIMS[claim_id].decide(fabricate(presets(claim_id), spec), "digits")
    assert verdict.verdict == expected, verdict.sentence
    d = verdict.to_dict()
    assert {"test", "effect", "unit", "ci", "p_value", "seeds", "margin"} <= set(d)
    assert d["test"] and d["unit"] and d["margin"] is not None and len(d["ci"]) == 2
    if d["test"] != "deterministic":
        assert d["p_value"] is not None and d["seeds"] >= 2, d
    words = verdict.sentence.lower()
    assert not any(w in words for w in VERDICT_WORDS), verdict.sentence  # the badge says it, once
    assert verdict.sentence.startswith("On digits, ")
    if expected == U:
        assert "decide this" in verdict.sentence, verdict.sentence


def scenario_test(scenarios: dict[str, dict[str, Spec]]) -> Callable[[str, str], None]:
    """The test of a topic's rules on its hand-made scenarios ({claim id: {expected verdict: spec}}),
    one case per (claim, verdict): a module binds it to a test_ name for pytest to collect."""
    cases = [(cid, v) for cid, specs in scenarios.items() for v in specs]

    @pytest.mark.parametrize(("claim_id", "expected"), cases, ids=[f"{c}-{v}" for c, v in cases])
    def test_rule_outcome_on_hand_made_runs(claim_id: str, expected: str) -> None:
        check(claim_id, scenarios[claim_id][expected], expected)

    return test_rule_outcome_on_hand_made_runs
