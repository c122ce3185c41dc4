"""VG1-VG2: each rule's three outcomes on hand-made runs."""

from __future__ import annotations

import pytest

from tests.core.claims.helpers import F, H, U, check, z

SCENARIOS = {
    "VG1": {
        H: lambda e: {"first": 1e-5 * (1 + e.seed), "last": 1.0},
        F: lambda e: {"first": 1.0 + 0.1 * e.seed, "last": 1.0},
        U: lambda e: {"first": 0.1 * 10 ** (0.5 * z(e)), "last": 1.0},
    },
    "VG2": {
        H: lambda e: {"first": 1e-5 if e.activation == "sigmoid" and not e.residual else 0.5, "last": 1.0},
        F: lambda e: {"first": 1e-5 if e.activation == "relu" else 0.5, "last": 1.0},
        U: lambda e: {
            "first": 1e-3 * (10 ** z(e) if e.residual or e.activation == "relu" else 1),
            "last": 1.0,
        },
    },
}
CASES = [(cid, v) for cid, specs in SCENARIOS.items() for v in specs]


@pytest.mark.parametrize(("claim_id", "expected"), CASES, ids=[f"{c}-{v}" for c, v in CASES])
def test_rule_outcome_on_hand_made_runs(claim_id: str, expected: str) -> None:
    check(claim_id, SCENARIOS[claim_id][expected], expected)
