"""RG1-RG3: each rule's three outcomes on hand-made runs; RG3 refuses stacked (shared-clock) runs."""

from __future__ import annotations

from core.claims import CLAIMS
from tests.core.claims.helpers import F, H, U, fabricate, presets, scenario_test, z

SCENARIOS = {
    "RG1": {
        H: lambda e: {"train": 0.01, "val": (0.5 if e.l2 == 0 else 0.2) + 0.001 * z(e)},
        F: lambda e: {"train": 0.01, "val": (0.2 if e.l2 == 0 else 0.5) + 0.001 * z(e)},
        U: lambda e: {"train": 0.01, "val": 0.3 + (0.1 * z(e) if e.l2 else 0)},
    },
    "RG2": {
        H: lambda e: {"sparsity": 0.4 if e.l1 else 0.005},
        F: lambda e: {"sparsity": 0.4 if e.l2 and not e.l1 else 0.005},
        U: lambda e: {"sparsity": 0.01 + (0.05 * z(e) if e.l1 else 0)},
    },
    "RG3": {
        H: lambda e: {"sec": (0.2 if e.l1 else 0.1) + 0.001 * z(e)},
        F: lambda e: {"sec": (0.1 if e.l1 else 0.2) + 0.001 * z(e)},
        U: lambda e: {"sec": 0.1 + 0.03 * z(e)},
    },
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_rg3_never_reads_a_shared_clock() -> None:
    stacked = fabricate(presets("RG3"), lambda e: {"sec": 0.2 if e.l1 else 0.1, "group_size": 3})
    verdict = CLAIMS["RG3"].decide(stacked, "digits")
    assert verdict.verdict == U and "trained together" in verdict.sentence
    assert CLAIMS["RG3"].fresh and CLAIMS["RG3"].separate
