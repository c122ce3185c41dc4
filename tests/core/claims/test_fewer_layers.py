"""EG4: the rule's three outcomes on hand-made runs, the overflow scoring, and a fast preset run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.claims import CLAIMS, VERDICTS, fewer_layers, run_claim
from core.results import ComparisonResult, RunResult
from core.spec import Comparison, Experiment
from tests.core.claims.helpers import F, H, U, scenario_test, z

DEEP = fewer_layers.EG4_DEPTHS[0]


def eg4(deep_blows_up: bool):
    def spec(e):
        hot = (e.depth == DEEP) == deep_blows_up
        return {"diverged": hot, "grad": 1e6 if hot else 2.0 + 0.1 * z(e)}

    return spec


SCENARIOS = {
    "EG4": {
        H: eg4(True),
        F: eg4(False),
        U: lambda e: {"grad": 2.0 * 10 ** (2.0 * z(e) * (e.depth == DEEP))},
    }
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_an_overflowed_gradient_norm_is_the_largest_not_missing() -> None:
    e = Experiment(depth=DEEP, epochs=1)
    steps = pd.DataFrame({"step": [0, 1], "loss": [2.3, np.nan], "grad_norm": [5.0, np.inf]})
    only_nan = pd.DataFrame({"step": [0], "loss": [np.nan], "grad_norm": [np.nan]})
    res = ComparisonResult(
        Comparison.of(e, {}, 2),
        [
            RunResult(e, {}, {"steps": steps}),
            RunResult(Experiment(depth=DEEP, epochs=1, seed=1), {}, {"steps": only_nan}),
        ],
    )
    peaks = fewer_layers.peak_decades([res])
    assert len(peaks) == 2 and (peaks > 38).all()  # log10(float32 max) ~ 38.5


def test_preset_is_the_exploding_setting_at_decreasing_depth() -> None:
    members = [m for c in CLAIMS["EG4"].comparisons("digits") for m in c.members()]
    eg2 = [m for c in CLAIMS["EG2"].comparisons("digits") for m in c.members()]
    assert {m.depth for m in members} == set(fewer_layers.EG4_DEPTHS)
    assert {(m.init, m.learning_rate, m.optimizer) for m in members} == {
        (m.init, m.learning_rate, m.optimizer) for m in eg2
    }


def test_fast_preset_trains_for_real_and_gives_a_verdict() -> None:
    verdict = run_claim("EG4", "digits", fast=True)
    d = json.loads(json.dumps(verdict.to_dict(), allow_nan=False))
    assert d["verdict"] in VERDICTS and len(d["parts"]) == 2
    assert {f"not_trained_depth_{k}" for k in fewer_layers.EG4_DEPTHS} <= set(d["numbers"])
