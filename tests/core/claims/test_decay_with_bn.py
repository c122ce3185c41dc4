"""BN7: the rule's three outcomes on hand-made runs, and a fast preset trained for real."""

from __future__ import annotations

import json

from core.claims import CLAIMS, VERDICTS, decay_with_bn, run_claim
from tests.core.claims.helpers import F, H, U, check, scenario_test, z


def bn7(cost_bn: float, cost_none: float, noise: float = 0.001):
    """Validation accuracy 0.9 with the slow decay; the fast decay loses `cost` (per BN arm)."""

    def spec(e):
        fast = e.lr_half_life == decay_with_bn.BN7_FAST
        cost = cost_bn if e.batch_norm == "before" else cost_none
        return {"acc": 0.9 - fast * (cost + noise * z(e))}

    return spec


SCENARIOS = {"BN7": {H: bn7(0.0, 0.2), F: bn7(0.2, 0.0), U: bn7(0.1, 0.1, noise=0.1)}}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_a_fast_decay_that_helps_with_bn_counts_for_the_claim() -> None:
    check("BN7", bn7(-0.05, 0.05), H)


def test_a_run_that_did_not_train_scores_chance_not_missing() -> None:
    """Without BN the fast-decay runs blow up: scored at chance, they count as the worst."""
    check("BN7", lambda e: {"diverged": e.batch_norm == "none" and e.lr_half_life == 1.0, "acc": 0.9}, H)


def test_preset_shares_the_peak_rate_and_varies_only_half_life_and_bn() -> None:
    members = [m for c in CLAIMS["BN7"].comparisons("digits") for m in c.members()]
    assert {m.lr_schedule for m in members} == {"exponential"}
    assert len({m.learning_rate for m in members}) == 1
    assert {(m.batch_norm, m.lr_half_life) for m in members} == {
        (bn, h) for bn in ("none", "before") for h in (decay_with_bn.BN7_FAST, decay_with_bn.BN7_SLOW)
    }


def test_fast_preset_trains_for_real_and_gives_a_verdict() -> None:
    verdict = run_claim("BN7", "digits", fast=True)
    d = json.loads(json.dumps(verdict.to_dict(), allow_nan=False))
    assert d["verdict"] in VERDICTS and d["seeds"] >= 6
    assert d["numbers"]["val_accuracy_before_fast"] is not None
