"""BS1-BS4: each rule's three outcomes on hand-made runs, and the equal-updates design."""

from __future__ import annotations

import pytest

from core.claims import CLAIMS
from core.claims.runs import steps_per_epoch
from tests.core.claims.helpers import F, H, U, scenario_test, z

SCENARIOS = {
    "BS1": {
        H: lambda e: {"update": 0.5 if e.batch_size == 512 else 0.1},
        F: lambda e: {"update": 0.1 if e.batch_size == 512 else 0.5},
        U: lambda e: {"update": 0.3 * 10 ** (0.2 * z(e)) if e.batch_size == 512 else 0.3},
    },
    "BS2": {
        H: lambda e: {"acc": 0.9 + (0.05 * z(e) if e.batch_size == 256 else 0.001 * z(e))},
        F: lambda e: {"acc": 0.9 + (0.05 * z(e) if e.batch_size == 32 else 0.001 * z(e))},
        U: lambda e: {"acc": 0.9 + 0.05 * z(e)},
    },
    "BS3": {
        H: lambda e: {"train": 0.1, "val": 0.2 if e.batch_size == 32 else 0.4 + 0.001 * z(e)},
        F: lambda e: {"train": 0.1, "val": 0.4 + 0.001 * z(e) if e.batch_size == 32 else 0.2},
        U: lambda e: {"train": 0.1, "val": 0.3 + (0.05 * z(e) if e.batch_size == 256 else 0)},
    },
    "BS4": {
        H: lambda e: {"train": 1.0 if e.batch_size == 256 and e.seed < 8 else 0.1},
        F: lambda e: {"train": 1.0 if e.batch_size == 32 and e.seed < 8 else 0.1},
        U: lambda e: {"train": 0.1 + 0.001 * z(e)},
    },
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


@pytest.mark.parametrize("dataset", ["digits", "wine"])
def test_large_batch_takes_as_many_updates_as_the_small_one(dataset: str) -> None:
    small, large = (c.baseline for c in CLAIMS["BS3"].comparisons(dataset))
    updates = [e.epochs * steps_per_epoch(e) for e in (small, large)]
    assert large.batch_size > small.batch_size and large.epochs > small.epochs
    assert updates[1] >= updates[0] and updates[1] - updates[0] < steps_per_epoch(large)
