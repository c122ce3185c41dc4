"""LR1-LR4: each rule's three outcomes on hand-made runs (the effect there, reversed, lost in noise)."""

from __future__ import annotations

from tests.core.claims.helpers import F, H, U, scenario_test, step_curve, z

SCENARIOS = {
    "LR1": {
        H: lambda e: {"diverged": e.learning_rate >= 10},
        F: lambda e: {"curve": [1.0] * 9 + [2.0], "train": 2.0} if e.learning_rate == 0.01 else {},
        U: lambda e: {},  # the small rate lowers the loss, but nothing jumps or blows up anywhere
    },
    "LR2": {
        H: lambda e: {"curve": step_curve({0.01: 10, 0.1: 2}[e.learning_rate], e.epochs)},
        F: lambda e: {"curve": step_curve({0.01: 2, 0.1: 10}[e.learning_rate], e.epochs)},
        U: lambda e: {"curve": step_curve(int(5 + z(e)) if e.learning_rate == 0.01 else 5, e.epochs)},
    },
    "LR3": {
        H: lambda e: {
            "diverged": e.learning_rate >= 10,
            "val": 0.1 + 0.5 / (1 + 10 * e.learning_rate) + 0.001 * z(e),
        },
        F: lambda e: {"diverged": e.learning_rate >= 10, "val": 0.1 + 0.1 * e.learning_rate + 0.001 * z(e)},
        U: lambda e: {"val": 0.1 + 0.5 / (1 + 10 * e.learning_rate)},  # the gap shrinks, nothing diverges
    },
    "LR4": {
        H: lambda e: {
            "diverged": e.learning_rate == 1.0,
            "val": {0.01: 0.3, 0.1: 0.1}.get(e.learning_rate, 0.2),
        },
        F: lambda e: {"val": {0.01: 0.05, 0.1: 0.1, 1.0: 0.2}[e.learning_rate] + 0.001 * z(e)},
        U: lambda e: {"val": 0.1 + 0.05 * z(e) * (e.learning_rate != 0.1)},
    },
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)
