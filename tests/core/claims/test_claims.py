"""Claims engine: registry, every rule's three outcomes on hand-made runs, presets, and a real run.

The hand-made runs are RunResults whose summaries and frames are written here, built on the very
members of each claim's preset, so a rule is tested on the shape of data it will really see.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.claims import CLAIMS, VERDICTS, Claim, Verdict, claims_for, run_claim
from core.claims import rules as rules
from core.limits import MAX_MEMBERS
from core.results import ComparisonResult, RunResult
from core.spec import Comparison, Experiment

REGISTERED_IDS = [
    "LR1", "LR2", "LR3", "LR4", "MO1", "MO2", "WD1", "WD2", "WD3", "BS1", "BS2", "BS3", "BS4", "RG1",
    "RG2", "RG3", "BN1", "BN2", "BN3", "BN4", "BN5", "VG1", "VG2", "EG1", "EG2", "EG3", "WVD1", "WVD2",
]  # fmt: skip
TOPICS = {"learning_rate", "optimizers", "weight_decay", "batch_size", "regularization", "batch_norm",
          "vanishing", "exploding", "wide_deep"}  # fmt: skip
H, F, U = VERDICTS
NAN = math.nan


# --- registry --------------------------------------------------------------------------------------


def test_every_registered_claim_has_text_preset_and_rule() -> None:
    """The registry is the source of truth (no test reads a document by a machine path)."""
    assert list(CLAIMS) == REGISTERED_IDS
    for claim in CLAIMS.values():
        assert claim.topic in TOPICS
        assert claim.text.strip() and claim.measurement.strip()
        assert claim.id in rules.PRESETS and claim.id in rules.RULES


def test_claims_for_topic_and_unknown_id() -> None:
    assert [c.id for c in claims_for("exploding")] == ["EG1", "EG2", "EG3"]
    assert claims_for("nonsense") == []
    with pytest.raises(ValueError, match="LR1, LR2"):
        run_claim("XX9")


def test_run_claim_times_rg3_runs_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def fake_run(comparison, store=None, progress=None, separate=False):
        seen.append(separate)
        return fabricate([comparison], lambda e: {"sec": 0.1 + 0.1 * (e.l1 > 0)})[0]

    monkeypatch.setattr("core.claims.run_comparison", fake_run)
    verdict = run_claim("RG3", "digits")
    assert seen == [True] * 6 and verdict.verdict == H


def test_verdict_to_dict_is_strict_json() -> None:
    v = Verdict("LR1", "digits", H, {"a": NAN, "b": math.inf, "c": np.float32(1.5), "d": np.int64(3),
                                     "e": None, "f": "x", "g": True}, "holds on digits: …")  # fmt: skip
    d = json.loads(json.dumps(v.to_dict(), allow_nan=False))
    assert d["numbers"] == {"a": None, "b": None, "c": 1.5, "d": 3, "e": None, "f": "x", "g": True}
    assert set(d) == {"id", "dataset", "verdict", "numbers", "sentence"}


# --- hand-made runs ------------------------------------------------------------------------------


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
    epochs = pd.DataFrame({
        "epoch": range(1, n_ep + 1), "train_loss": curve[:n_ep], "val_loss": [val] * n_ep,
        "train_accuracy": [train_acc] * n_ep, "val_accuracy": acc_curve[:n_ep],
        "seconds": [1.0 + sec * i for i in range(n_ep)], "lr": e.learning_rate,
    })  # fmt: skip
    n_steps = 20
    loss = np.linspace(start, curve[n_ep - 1], n_steps) + vol * np.where(np.arange(n_steps) % 2, 1.0, -1.0)
    loss[0] = start
    steps = pd.DataFrame(
        {"step": range(n_steps), "epoch": 1, "loss": loss, "grad_norm": grad, "update_norm": update}
    )
    weights = pd.DataFrame(
        {"epoch": range(1, n_ep + 1), "layer": 0, "weight_max_abs": peak, "sparsity": sparsity}
    )
    layers = pd.DataFrame(
        {"step": np.repeat(range(n_steps), 2), "layer": np.tile([0, 1], n_steps), "grad_norm": grad}
    )
    final = NAN if diverged else 1.0
    summary = {
        "final_train_loss": train * final, "final_val_loss": val * final, "final_train_accuracy": train_acc * final,
        "final_val_accuracy": acc * final, "best_val_loss": val, "diverged": diverged,
        "diverged_step": 3 if diverged else -1, "grad_norm_first_layer": first, "grad_norm_last_layer": last,
        "weight_sparsity": sparsity, "steps_per_epoch": max(1, 1438 // e.batch_size), "seconds": 1.0,
        "group_size": group_size, "n_params": 1000 * e.depth * e.width, "epochs_run": n_ep,
    }  # fmt: skip
    return RunResult(e, summary, {"epochs": epochs, "steps": steps, "weights": weights, "layers": layers})


Spec = Callable[[Experiment], dict[str, Any]]


def fabricate(comparisons: list[Comparison], spec: Spec) -> list[ComparisonResult]:
    return [ComparisonResult(c, [run_of(m, **spec(m)) for m in c.members()]) for c in comparisons]


def jitter(e: Experiment, *values: float) -> float:
    """A per-seed offset: seed s gets values[s] (the seed-to-seed noise of a hand-made run)."""
    return values[e.seed % len(values)]


def step_curve(reach: int, epochs: int, hi: float = 2.3, lo: float = 0.5) -> list[float]:
    """Training loss that drops from hi to lo at epoch `reach`."""
    return [hi if ep < reach else lo for ep in range(1, epochs + 1)]


def acc_step(reach: int, epochs: int) -> list[float]:
    return [0.1 if ep < reach else 0.95 for ep in range(1, epochs + 1)]


def presets(claim_id: str) -> list[Comparison]:
    if claim_id == "LR4":  # its real preset runs a range test; the rule only needs three rates
        return [Comparison.of(Experiment(epochs=10), {"learning_rate": (0.01, 0.1, 1.0)}, 3)]
    return CLAIMS[claim_id].comparisons("digits")


WD = rules.WD_GRID


def wd2(holds: bool) -> Spec:
    """Cells: small data (width 32), large data (width 32), large data (width 128)."""

    def spec(e: Experiment) -> dict[str, Any]:
        cell = 0 if e.n_samples < 1000 else 1 if e.width == 32 else 2
        best = (0.1, 0.01, 0.0)[cell] if holds else (0.0, 0.01, 0.1)[cell]
        return {"val": (0.2 if e.weight_decay == best else 0.5) + 0.001 * e.seed, "train": 0.01}

    return spec


def wd3(const_best: float, cyc_best: float) -> Spec:
    def spec(e: Experiment) -> dict[str, Any]:
        best = const_best if e.lr_schedule == "constant" else cyc_best
        return {"val": 0.2 + 0.001 * e.seed if e.weight_decay == best else 0.5}

    return spec


def sensitivity(varying: str) -> Spec:
    loss = dict(
        zip(
            ("glorot_uniform", "he_normal", "lecun_normal", "normal_small", "normal_large"),
            (0.1, 0.2, 0.3, 0.5, 2.0),
        )
    )
    return lambda e: {"train": loss[e.init] if e.batch_norm == varying else 0.1 + 0.001 * e.seed}


def eg1(hot_signals: bool, hot_diverges: bool = True) -> Spec:
    def spec(e: Experiment) -> dict[str, Any]:
        if e.learning_rate < 1:
            return {"vol": 0.01, "peak": 1.0, "grad": 0.5}
        if not hot_signals:
            return {"diverged": hot_diverges, "vol": 0.01, "peak": 1.0, "grad": 0.5}
        return {"diverged": hot_diverges, "vol": 5.0, "peak": 100.0, "grad": 5.0}

    return spec


def blowups(base: bool, **fixes: bool) -> Spec:
    """EG2/EG3: which settings diverge. fixes: clipnorm/clipvalue/small_batch/l2 -> still diverges."""

    def spec(e: Experiment) -> dict[str, Any]:
        if e.clipnorm > 0:
            return {"diverged": fixes["clipnorm"]}
        if e.clipvalue > 0:
            return {"diverged": fixes["clipvalue"]}
        if e.batch_size < 32:
            return {"diverged": fixes.get("small_batch", True)}
        if e.l2 > 0:
            return {"diverged": fixes.get("l2", True)}
        return {"diverged": base}

    return spec


def wvd2(width_adds: float, depth_adds: float, noise: float = 0.001) -> Spec:
    """Gap grows by width_adds when widening, depth_adds when deepening; per-seed noise of the
    wide and the deep cells (the same seed in every cell would cancel out seed by seed)."""

    def spec(e: Experiment) -> dict[str, Any]:
        wide, deep = e.width > 16, e.depth > 1
        shake = jitter(e, 0, 1, -1) * wide + jitter(e, 1, -1, 0) * deep
        return {"train": 0.01, "val": 0.2 + width_adds * wide + depth_adds * deep + noise * shake}

    return spec


# claim -> {expected verdict: spec}. Each spec writes runs in which the claimed effect is there,
# reversed, or within the seed-to-seed noise.
SCENARIOS: dict[str, dict[str, Spec]] = {
    "LR1": {
        H: lambda e: {"diverged": e.learning_rate >= 10},
        F: lambda e: {"curve": [1.0] * 9 + [2.0]} if e.learning_rate == 0.01 else {},
        U: lambda e: {
            "vol": 0.05 * (1 + e.seed) + (jitter(e, 0.02, -0.02, 0.01) if e.learning_rate == 10 else 0)
        },
    },
    "LR2": {
        H: lambda e: {"curve": step_curve({0.01: 10, 0.03: 5, 0.1: 2}[e.learning_rate], e.epochs)},
        F: lambda e: {"curve": step_curve({0.01: 2, 0.03: 5, 0.1: 10}[e.learning_rate], e.epochs)},
        U: lambda e: {
            "curve": step_curve(
                {0.01: (3, 5, 7), 0.03: (4, 4, 4), 0.1: (5, 4, 3)}[e.learning_rate][e.seed], e.epochs
            )
        },
    },
    "LR3": {
        H: lambda e: {
            "diverged": e.learning_rate >= 10,
            "val": 0.1 + 0.5 / (1 + 10 * e.learning_rate) + jitter(e, 0, 0.001, 0.002),
        },
        F: lambda e: {
            "diverged": e.learning_rate >= 10,
            "val": 0.1 + 0.1 * e.learning_rate + jitter(e, 0, 0.001, 0.002),
        },
        U: lambda e: {"val": 0.1 + 0.5 / (1 + 10 * e.learning_rate)},  # the gap shrinks, but nothing diverges
    },
    "LR4": {
        H: lambda e: {
            "diverged": e.learning_rate == 1.0,
            "val": {0.01: 0.3, 0.1: 0.1}.get(e.learning_rate, 0.2) + jitter(e, 0, 0.01, 0.02),
        },
        F: lambda e: {"val": {0.01: 0.05, 0.1: 0.1, 1.0: 0.2}[e.learning_rate] + jitter(e, 0, 0.01, 0.02)},
        U: lambda e: {"val": 0.1 + jitter(e, 0, 0.05, -0.05) * (e.learning_rate != 0.1)},
    },
    "MO1": {
        H: lambda e: {"curve": step_curve(2 if e.optimizer == "momentum" else 5, e.epochs, lo=0.1)},
        # the network contradicts the sandbox (momentum decisively slower) -> inconclusive
        U: lambda e: {"curve": step_curve(8 if e.optimizer == "momentum" else 2, e.epochs, lo=0.1)},
    },
    "WD1": {
        H: lambda e: {"val": {0.0: 0.3, 0.1: 0.2}.get(e.weight_decay, 0.25) + 0.001 * e.seed},
        F: lambda e: {"val": 0.2 + 0.001 * rules.WD1_GRID.index(e.weight_decay) + 0.0001 * e.seed},
        U: lambda e: {
            "val": jitter(e, 0.2, 0.7, 0.2)
            if e.weight_decay == 0
            else 0.2 + 0.001 * rules.WD1_GRID.index(e.weight_decay)
        },
    },
    "WD2": {
        H: wd2(True),
        F: wd2(False),
        U: lambda e: {"val": 0.2 + jitter(e, 0.0, 0.1, 0.05) * (e.weight_decay * 10 % 3)},
    },
    "WD3": {
        H: wd3(0.1, 1e-3),
        F: wd3(1e-3, 0.1),
        U: lambda e: {"val": 0.2 + jitter(e, 0.0, 0.1, -0.1) * WD.index(e.weight_decay) / 5},
    },
    "BS1": {
        H: lambda e: {"update": 0.5 if e.batch_size == 512 else 0.1},
        F: lambda e: {"update": 0.1 if e.batch_size == 512 else 0.5},
        U: lambda e: {"update": 0.3 + (jitter(e, 0.05, -0.05, 0.02) if e.batch_size == 512 else 0)},
    },
    "BS2": {
        H: lambda e: {"acc": 0.9 + (0.05 * (e.seed - 2) if e.batch_size == 256 else 0.001 * e.seed)},
        F: lambda e: {"acc": 0.9 + (0.05 * (e.seed - 2) if e.batch_size == 32 else 0.001 * e.seed)},
        U: lambda e: {
            "acc": 0.9 + jitter(e, 0.01, -0.01, 0.02, 0.0, -0.02) * (1.2 if e.batch_size == 256 else 1)
        },
    },
    "BS3": {
        H: lambda e: {"train": 0.1, "val": 0.2 if e.batch_size == 32 else 0.4 + 0.001 * e.seed},
        F: lambda e: {"train": 0.1, "val": 0.4 + 0.001 * e.seed if e.batch_size == 32 else 0.2},
        U: lambda e: {
            "train": 0.1,
            "val": 0.3 + (jitter(e, 0.05, -0.05, 0.03) if e.batch_size == 256 else 0),
        },
    },
    "BS4": {
        H: lambda e: {"train": 1.0 if e.batch_size == 256 and e.seed < 4 else 0.1},
        F: lambda e: {"train": 1.0 if e.batch_size == 32 and e.seed < 4 else 0.1},
        U: lambda e: {"train": 0.1 + 0.001 * e.seed},
    },
    "RG1": {
        H: lambda e: {"train": 0.01, "val": (0.5 if e.l2 == 0 else 0.2) + 0.001 * e.seed},
        F: lambda e: {"train": 0.01, "val": (0.2 if e.l2 == 0 else 0.5) + 0.001 * e.seed},
        U: lambda e: {"train": 0.01, "val": 0.3 + (jitter(e, 0.1, -0.1, 0.05) if e.l2 else 0)},
    },
    "RG2": {
        H: lambda e: {"sparsity": 0.4 if e.l1 else 0.005},
        F: lambda e: {"sparsity": 0.4 if e.l2 and not e.l1 else 0.005},
        U: lambda e: {"sparsity": 0.01 + (jitter(e, 0.01, -0.01, 0.005) if e.l1 else 0)},
    },
    "RG3": {
        H: lambda e: {"sec": (0.2 if e.l1 else 0.1) + 0.001 * e.seed},
        F: lambda e: {"sec": (0.1 if e.l1 else 0.2) + 0.001 * e.seed},
        U: lambda e: {"sec": 0.2 if e.l1 else 0.1, "group_size": 3},  # stacked: time is shared
    },
    "BN1": {
        H: lambda e: {"acc": 0.95, "acc_curve": acc_step(6 if e.batch_norm == "none" else 3, e.epochs)},
        F: lambda e: {"acc": 0.95, "acc_curve": acc_step(3 if e.batch_norm == "none" else 6, e.epochs)},
        U: lambda e: {
            "acc": 0.95,
            "acc_curve": acc_step(jitter(e, 3, 6, 4) if e.batch_norm == "none" else 4, e.epochs),
        },
    },
    "BN2": {
        H: lambda e: {"diverged": e.learning_rate > (3.0 if e.batch_norm == "before" else 0.3)},
        F: lambda e: {"diverged": e.learning_rate > (0.3 if e.batch_norm == "before" else 3.0)},
        U: lambda e: {"diverged": e.learning_rate > 1.0 or (e.learning_rate == 1.0 and e.seed > 0)},
    },
    "BN3": {
        H: sensitivity("none"),
        F: sensitivity("before"),
        U: lambda e: {
            "train": 0.1
            + 0.4 * (e.init == "normal_large")
            + jitter(e, 0, 0.2, 0.1)
            + 0.05 * (e.batch_norm == "none")
        },
    },
    "BN4": {
        H: lambda e: {
            "val": 0.2 if (e.activation, e.batch_norm) in {("tanh", "after"), ("relu", "before")} else 0.3
        },
        F: lambda e: {
            "val": 0.3 if (e.activation, e.batch_norm) in {("tanh", "after"), ("relu", "before")} else 0.2
        },
        U: lambda e: {"val": 0.2 + jitter(e, 0, 0.05, -0.05) * (e.batch_norm == "after")},
    },
    "BN5": {
        H: lambda e: {"train": 0.01, "val": (0.4 if e.batch_norm == "none" else 0.1) + 0.001 * e.seed},
        F: lambda e: {"train": 0.01, "val": (0.1 if e.batch_norm == "none" else 0.5) + 0.001 * e.seed},
        U: lambda e: {"train": 0.01, "val": 0.3 + jitter(e, 0.1, -0.1, 0.05) * (e.batch_norm == "before")},
    },
    "VG1": {
        H: lambda e: {"first": 1e-5 * (1 + e.seed), "last": 1.0},
        F: lambda e: {"first": 1.0 + 0.1 * e.seed, "last": 1.0},
        U: lambda e: {"first": jitter(e, 0.05, 0.2, 0.1), "last": 1.0},
    },
    "VG2": {
        H: lambda e: {"first": 1e-5 if e.activation == "sigmoid" and not e.residual else 0.5, "last": 1.0},
        F: lambda e: {"first": 1e-5 if e.activation == "relu" else 0.5, "last": 1.0},
        U: lambda e: {
            "first": 1e-3 * (10 ** jitter(e, 0, 1, -1) if e.residual or e.activation == "relu" else 1),
            "last": 1.0,
        },
    },
    "EG1": {
        H: eg1(True),
        F: eg1(False),  # only the NaN loss tells the blow-up apart
        U: eg1(True, hot_diverges=False),
    },
    "EG2": {
        H: blowups(True, clipnorm=False, clipvalue=False),
        F: blowups(True, clipnorm=False, clipvalue=True),
        U: blowups(False, clipnorm=False, clipvalue=False),
    },
    "EG3": {
        H: blowups(True, small_batch=False, l2=False),
        F: blowups(True, small_batch=True, l2=False),
        U: blowups(False, small_batch=False, l2=False),
    },
    "WVD1": {
        H: lambda e: {"acc": 0.95 if e.depth > 1 else 0.85 + 0.001 * e.seed},
        F: lambda e: {"acc": 0.85 + 0.001 * e.seed if e.depth > 1 else 0.95},
        U: lambda e: {"acc": 0.9 + (jitter(e, 0.05, -0.05, 0.02) if e.depth > 1 else 0)},
    },
    "WVD2": {H: wvd2(0.2, 0.2), F: wvd2(-0.2, 0.2), U: wvd2(0.0, 0.0, noise=0.3)},
}
CASES = [(cid, expected) for cid, specs in SCENARIOS.items() for expected in specs]


@pytest.mark.parametrize(("claim_id", "expected"), CASES, ids=[f"{c}-{v}" for c, v in CASES])
def test_rule_outcome_on_hand_made_runs(claim_id: str, expected: str) -> None:
    claim: Claim = CLAIMS[claim_id]
    results = fabricate(presets(claim_id), SCENARIOS[claim_id][expected])
    verdict = claim.decide(results)
    assert verdict.verdict == expected, verdict.sentence
    assert verdict.sentence.startswith(f"{expected} on digits: ")
    json.dumps(verdict.to_dict(), allow_nan=False)


def test_every_claim_has_its_three_outcomes_tested() -> None:
    """MO1 and MO2 are decided in the sandbox; their remaining outcomes are pinned below."""
    sandbox = {"MO1": {F}, "MO2": {H, F, U}}
    for cid in CLAIMS:
        assert set(SCENARIOS.get(cid, {})) | sandbox.get(cid, set()) == set(VERDICTS), cid


def test_mo1_sandbox_rule() -> None:
    gd = {"steps": 150, "ratio": 2.0}
    assert rules.mo1_sandbox(gd, {"steps": 80, "ratio": 1.5}) == H
    assert rules.mo1_sandbox(gd, {"steps": 160, "ratio": 1.5}) == F  # slower along the ravine
    assert rules.mo1_sandbox(gd, {"steps": 140, "ratio": 1.9}) == U  # better by less than 10%
    assert rules.mo1_sandbox({}, gd) == U


def test_mo1_sandbox_numbers_show_momentum_ahead_at_each_best_rate() -> None:
    gd, mom = rules.sandbox_best("sgd", 0.0), rules.sandbox_best("momentum", rules.BETA)
    assert mom["steps"] < gd["steps"] and mom["ratio"] < gd["ratio"]


def test_mo2_rule_and_sandbox() -> None:
    assert rules.mo2_verdict([0.0, 0.5, 0.9]) == H
    assert rules.mo2_verdict([0.9, 0.5, 0.0]) == F
    assert rules.mo2_verdict([0.5, 0.53, 0.52]) == U
    verdict = CLAIMS["MO2"].decide([], "digits")
    assert verdict.verdict == H and CLAIMS["MO2"].comparisons("digits") == []


def test_fisher_exact_one_sided() -> None:
    assert rules.fisher_greater(4, 5, 0, 5) == pytest.approx(6 / 252)
    assert rules.fisher_greater(0, 5, 0, 5) == pytest.approx(1.0)


# --- presets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["digits", "moons", "wine"])
def test_presets_are_small_valid_comparisons(dataset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "suggested_lr", lambda base, seeds: 0.05)  # LR4 would train a range test
    for claim in CLAIMS.values():
        comparisons = claim.comparisons(dataset)
        assert all(isinstance(c, Comparison) for c in comparisons)
        assert all(c.n_members <= MAX_MEMBERS for c in comparisons), claim.id
        for c in comparisons:
            assert {m.dataset for m in c.members()} == {dataset}
            assert all(5 <= m.epochs <= 20 for m in c.members()), claim.id
            if dataset == "moons":
                assert {m.n_samples for m in c.members()} <= {rules.TOY_N, rules.SMALL_N, 100}, claim.id
        fast = claim.comparisons(dataset, fast=True)
        assert all(m.epochs <= 5 and m.n_samples <= rules.FAST_N for c in fast for m in c.members()), claim.id
    assert CLAIMS["LR4"].comparisons(dataset)[0].vary == (("learning_rate", (0.005, 0.05, 0.5)),)


def test_eg_presets_share_the_blowing_up_configuration() -> None:
    lrs = {
        m.learning_rate
        for cid in ("EG2", "EG3")
        for c in CLAIMS[cid].comparisons("digits")
        for m in c.members()
    }
    assert lrs == {rules.EG_LR}


def test_wide_and_deep_have_equal_budgets() -> None:
    wide, deep = (c.baseline for c in CLAIMS["WVD1"].comparisons("digits"))
    f, o = rules.data_shape("digits")
    a, b = (rules.n_weights(f, o, e.width, e.depth) for e in (wide, deep))
    assert wide.depth == 1 and deep.depth == rules.WVD_DEEP_DEPTH and abs(a - b) / b < 0.01


# --- end to end on real data -------------------------------------------------------------------


@pytest.mark.parametrize("claim_id", ["LR1", "RG2", "EG2", "BS2"])
def test_claims_run_end_to_end_on_digits(claim_id: str) -> None:
    verdict = run_claim(claim_id, "digits", fast=True)
    assert verdict.verdict in VERDICTS and verdict.dataset == "digits"
    numbers = json.loads(json.dumps(verdict.to_dict(), allow_nan=False))["numbers"]
    measured = [v for v in numbers.values() if isinstance(v, (int, float))]
    assert measured and all(math.isfinite(v) for v in measured)
    assert verdict.sentence.startswith(f"{verdict.verdict} on digits: ")
