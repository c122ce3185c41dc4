"""VG1-VG2: each rule's three outcomes on hand-made runs."""

from __future__ import annotations

from tests.core.claims.helpers import F, H, U, scenario_test, z

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
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)
