"""VG4: the rule's three outcomes on hand-made runs, and the fast preset trained for real."""

from __future__ import annotations

from core.claims import VERDICTS, run_claim
from tests.core.claims.helpers import F, H, U, scenario_test, z

SCENARIOS = {
    "VG4": {
        H: lambda e: {"val": 0.3 if e.layerwise else 1.0 + 0.01 * z(e)},
        F: lambda e: {"val": 1.0 + 0.01 * z(e) if e.layerwise else 0.3},
        U: lambda e: {"val": 0.5 + (0.3 * z(e) if e.layerwise else 0.0)},
    }
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_fast_preset_trains_both_arms_and_decides() -> None:
    verdict = run_claim("VG4", "digits", fast=True)
    assert verdict.verdict in VERDICTS and verdict.seeds >= 6
    assert (
        verdict.numbers["val_loss_layerwise"] is not None
        and verdict.numbers["val_loss_end_to_end"] is not None
    )
