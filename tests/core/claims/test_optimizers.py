"""MO1-MO2: the sandbox rules (deterministic) and MO1's network check on hand-made runs."""

from __future__ import annotations

import pytest

from core.claims import CLAIMS, optimizers
from tests.core.claims.helpers import F, H, U, check, step_curve


def test_mo1_sandbox_rule() -> None:
    gd = {"steps": 150, "ratio": 2.0}
    assert optimizers.mo1_sandbox(gd, {"steps": 80, "ratio": 1.5}) == H
    assert optimizers.mo1_sandbox(gd, {"steps": 160, "ratio": 1.5}) == F  # slower along the ravine
    assert optimizers.mo1_sandbox(gd, {"steps": 140, "ratio": 1.9}) == U  # better by less than 10%
    assert optimizers.mo1_sandbox({}, gd) == U


def test_mo1_sandbox_numbers_show_momentum_ahead_at_each_best_rate() -> None:
    gd, mom = optimizers.sandbox_best("sgd", 0.0), optimizers.sandbox_best("momentum", optimizers.BETA)
    assert mom["steps"] < gd["steps"] and mom["ratio"] < gd["ratio"]


@pytest.mark.parametrize(
    ("expected", "reach"),
    [(H, {"momentum": 2, "sgd": 5}), (U, {"momentum": 8, "sgd": 2})],  # U: the network contradicts
)
def test_mo1_network_check(expected: str, reach: dict[str, int]) -> None:
    check("MO1", lambda e: {"curve": step_curve(reach[e.optimizer], e.epochs, lo=0.1)}, expected)


def test_mo2_rule_and_sandbox() -> None:
    assert optimizers.mo2_verdict([0.0, 0.5, 0.9]) == H
    assert optimizers.mo2_verdict([0.9, 0.5, 0.0]) == F
    assert optimizers.mo2_verdict([0.5, 0.53, 0.52]) == U
    verdict = CLAIMS["MO2"].decide([], "digits")
    assert verdict.verdict == H and CLAIMS["MO2"].comparisons("digits") == []
    assert verdict.p_value is None and verdict.test == "deterministic"
