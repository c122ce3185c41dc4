"""VG5: equal budgets, the rule's outcomes on hand-made runs, and the fast preset for real."""

from __future__ import annotations

from core.claims import CLAIMS, VERDICTS, run_claim
from core.claims.wide_deep import data_shape
from core.measures import n_params
from core.topics.wide_deep import BUDGET_TOLERANCE
from tests.core.claims.helpers import F, H, U, scenario_test, z


def test_the_ensemble_and_the_deep_net_have_about_equal_parameter_budgets() -> None:
    deep, ens = (c.baseline for c in CLAIMS["VG5"].comparisons("digits"))
    f, o = data_shape("digits")
    total = ens.ensemble * n_params(f, o, ens.width, ens.depth)
    assert ens.depth < deep.depth
    assert abs(total / n_params(f, o, deep.width, deep.depth) - 1) <= BUDGET_TOLERANCE


SCENARIOS = {
    "VG5": {
        H: lambda e: (
            {"acc": 0.95, "first": 0.1} if e.ensemble > 1 else {"acc": 0.5 + 0.01 * z(e), "first": 1e-4}
        ),
        F: lambda e: (
            {"acc": 0.5 + 0.01 * z(e), "first": 0.1} if e.ensemble > 1 else {"acc": 0.95, "first": 0.1}
        ),
        U: lambda e: {"acc": 0.9 + (0.1 * z(e) if e.ensemble > 1 else 0.0), "first": 0.1},
    }
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_fast_preset_trains_both_arms_and_decides() -> None:
    verdict = run_claim("VG5", "digits", fast=True)
    assert verdict.verdict in VERDICTS and len(verdict.parts) == 2
    assert verdict.numbers["params_ensemble"] and verdict.numbers["score_ensemble"] is not None
