"""BN6: the rule's three outcomes on hand-made runs, and a fast preset trained for real."""

from __future__ import annotations

import json

from core.claims import CLAIMS, VERDICTS, input_scaling, run_claim
from tests.core.claims.helpers import F, H, U, scenario_test, z


def bn6(bn_loss: float, scaled_loss: float, noise: float = 0.001):
    def spec(e):
        raw_bn = e.scaling == "none"
        return {"val": (bn_loss if raw_bn else scaled_loss) + noise * z(e) * raw_bn}

    return spec


SCENARIOS = {"BN6": {H: bn6(0.5, 0.2), F: bn6(0.2, 0.5), U: bn6(0.3, 0.3, noise=0.3)}}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_a_run_that_blew_up_counts_against_its_arm() -> None:
    """BN on raw heavy-tailed values that diverges is scored at its starting loss, not dropped."""
    from tests.core.claims.helpers import check

    check("BN6", lambda e: {"diverged": e.scaling == "none", "val": 0.3}, H)


def test_preset_compares_scalings_without_bn_to_bn_on_raw_heavy_tailed_inputs() -> None:
    members = [m for c in CLAIMS["BN6"].comparisons("digits") for m in c.members()]
    assert {m.input_transform for m in members} == {input_scaling.BN6_TRANSFORM}
    arms = {(m.scaling, m.batch_norm) for m in members}
    assert arms == {("standard", "none"), ("robust", "none"), ("quantile", "none"), ("none", "before")}
    assert len({m.seed for m in members}) >= 8 and len({m.split_seed for m in members}) == 1


def test_fast_preset_trains_for_real_and_gives_a_verdict() -> None:
    verdict = run_claim("BN6", "digits", fast=True)
    d = json.loads(json.dumps(verdict.to_dict(), allow_nan=False))
    assert d["verdict"] in VERDICTS and len(d["parts"]) == 2
    assert d["numbers"]["val_loss_quantile"] is not None and d["numbers"]["val_loss_bn_raw"] is not None
