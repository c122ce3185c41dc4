"""EG1-EG3: each rule's three outcomes on hand-made runs, and the presets' shared blow-up."""

from __future__ import annotations

from core.claims import CLAIMS, exploding
from tests.core.claims.helpers import F, H, U, check, scenario_test

HOT = exploding.EG_INIT


def eg1(hot_diverges: bool, gradients_reversed: bool = False):
    def spec(e):
        hot = e.init == HOT
        grad = (0.5 if hot else 5.0) if gradients_reversed else (5.0 if hot else 0.5)
        if not hot_diverges:
            return {"vol": 0.01, "peak": 1.0, "grad": 0.5}
        return {"diverged": hot, "vol": 5.0 if hot else 0.01, "peak": 100.0 if hot else 1.0, "grad": grad}

    return spec


def fixes(base: bool, fixed: bool):
    """EG2/EG3: base = the exploding setting blows up; fixed = the fixes blow up."""

    def spec(e):
        fix = e.clipnorm > 0 or e.clipvalue > 0 or e.batch_size < 32 or e.l2 > 0
        return {"diverged": fixed if fix else base}

    return spec


SCENARIOS = {
    "EG1": {H: eg1(True), F: eg1(True, gradients_reversed=True), U: eg1(False)},
    "EG2": {H: fixes(True, False), F: fixes(False, True), U: fixes(False, False)},
    "EG3": {H: fixes(True, False), F: fixes(False, True), U: fixes(False, False)},
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_a_clipped_run_stuck_at_a_useless_loss_is_not_prevented() -> None:
    """Finite is not enough: a clipped run that ends above half its starting loss is not rescued."""
    stuck = fixes(True, False)
    check("EG2", lambda e: {**stuck(e), "train": 2.0 if e.clipnorm > 0 else 0.1}, F if False else U)


def test_eg_presets_explode_from_depth_and_init_not_a_tuned_rate() -> None:
    members = [
        m for cid in ("EG1", "EG2", "EG3") for c in CLAIMS[cid].comparisons("digits") for m in c.members()
    ]
    assert {m.depth for m in members} == {exploding.EG_DEPTH}
    assert {m.learning_rate for m in members} == {members[0].learning_rate}  # one rate, the default
    wine = [m for c in CLAIMS["EG2"].comparisons("wine") for m in c.members()]
    assert {(m.depth, m.init, m.learning_rate) for m in wine} == {
        (exploding.EG_DEPTH, HOT, members[0].learning_rate)
    }
