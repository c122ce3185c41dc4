"""WD1-WD3: each rule's three outcomes on hand-made runs, and WD1's grid in effective units."""

from __future__ import annotations

import pytest

from core.claims import weight_decay
from core.claims.runs import exp, steps_per_epoch
from tests.core.claims.helpers import F, H, U, scenario_test, z

GRID = weight_decay.wd1_grid("digits", False)
WD = weight_decay.WD_GRID
WD2 = weight_decay.WD2_GRID


def idx(e) -> int:
    return GRID.index(e.weight_decay)


def wd2(holds: bool):
    """Cells: small data (width 32), large data (width 32), large data (width 128)."""

    def spec(e):
        cell = 0 if e.n_samples < 1000 else 1 if e.width == 32 else 2
        best = (0.1, 0.01, 0.0)[cell] if holds else (0.0, 0.01, 0.1)[cell]
        return {"val": (0.2 if e.weight_decay == best else 0.5) + 0.001 * z(e), "train": 0.01}

    return spec


def wd2_noise(e):
    cell = 0 if e.n_samples < 1000 else 1 if e.width == 32 else 2
    return {"val": 0.2 if WD2.index(e.weight_decay) == (e.seed + 2 * cell) % 4 else 0.5}


def wd3(const_best: float, cyc_best: float):
    def spec(e):
        best = const_best if e.lr_schedule == "constant" else cyc_best
        return {"val": 0.2 + 0.001 * z(e) if e.weight_decay == best else 0.5}

    return spec


SCENARIOS = {
    "WD1": {
        H: lambda e: {"val": {0.0: 0.3, max(GRID): 0.2}.get(e.weight_decay, 0.25) + 0.001 * z(e)},
        F: lambda e: {"val": 0.2 + 0.0005 * z(e) * (1 if idx(e) % 2 else -1)},  # equivalent within the margin
        U: lambda e: {"val": 0.2 + 0.05 * z(e) * (1 if idx(e) % 2 else -1)},
    },
    "WD2": {H: wd2(True), F: wd2(False), U: wd2_noise},
    "WD3": {
        H: wd3(0.1, 1e-3),
        F: wd3(1e-3, 0.1),
        U: lambda e: {
            "val": 0.2
            if WD.index(e.weight_decay) == (e.seed + 2 * (e.lr_schedule != "constant")) % 4
            else 0.5
        },
    },
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


@pytest.mark.parametrize("dataset", ["digits", "wine"])
def test_wd1_grid_spans_the_same_effective_decay_on_every_dataset(dataset: str) -> None:
    base = exp(dataset, False, weight_decay.WD1_EPOCHS)
    total = base.learning_rate * base.epochs * steps_per_epoch(base)
    effective = [w * total for w in weight_decay.wd1_grid(dataset, False)]
    assert effective[0] == 0 and max(effective) > 1  # from none to strong, whatever the step count
    assert all(w <= weight_decay.MAX_WEIGHT_DECAY for w in weight_decay.wd1_grid(dataset, False))
