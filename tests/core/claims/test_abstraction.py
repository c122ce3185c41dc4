"""WVD4: the rule's three outcomes on hand-made probe numbers, and the fast preset for real."""

from __future__ import annotations

import pytest

from core.claims import CLAIMS, VERDICTS, run_claim
from core.results import ComparisonResult, RunResult
from tests.core.claims.helpers import F, H, U, run_of, z


def probes_of(first_gain: float, last_gain: float, noise: float):
    """Hand-made runs whose probe numbers say how much training added to the first and last layer."""

    def make(e) -> RunResult:
        run = run_of(e)
        probe = {
            "probe_input": 0.9,
            "probe_first_untrained": 0.8,
            "probe_first_trained": 0.8 + first_gain,
            "probe_last_untrained": 0.6,
            "probe_last_trained": 0.6 + last_gain + noise * z(e),
        }
        return RunResult(e, {**run.summary, **probe}, run.frames)

    return make


@pytest.mark.parametrize(
    ("expected", "first_gain", "last_gain", "noise"),
    [(H, 0.05, 0.3, 0.01), (F, 0.1, 0.1, 0.001), (U, 0.05, 0.06, 0.2)],
)
def test_rule_outcome_on_hand_made_runs(
    expected: str, first_gain: float, last_gain: float, noise: float
) -> None:
    claim = CLAIMS["WVD4"]
    make = probes_of(first_gain, last_gain, noise)
    results = [ComparisonResult(c, [make(m) for m in c.members()]) for c in claim.comparisons("digits")]
    verdict = claim.decide(results, "digits")
    assert verdict.verdict == expected, verdict.sentence
    assert verdict.sentence.startswith("On digits, ") and verdict.p_value is not None


def test_fast_preset_trains_and_decides() -> None:
    verdict = run_claim("WVD4", "digits", fast=True)
    assert verdict.verdict in VERDICTS and verdict.seeds >= 6
    assert 0 <= verdict.numbers["probe_last_trained"] <= 1
