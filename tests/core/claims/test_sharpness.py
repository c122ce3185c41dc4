"""BS5: the rule's three outcomes on hand-made sharpness values, the equal-updates design, and
one real fast run of the preset (weights stored, sharpness measured on every run)."""

from __future__ import annotations

import math

import pytest

import core.claims.sharpness as bs5
from core.claims import CLAIMS, VERDICTS, run_claim
from core.claims.runs import steps_per_epoch
from core.store import RunStore
from tests.core.claims.helpers import F, H, U, check, z

# Sharpness (nats) per run, by batch size and seed: the rule must read the large-minus-small
# difference seed by seed.
SCENARIOS = {
    H: lambda e: 0.6 + 0.01 * z(e) if e.batch_size == bs5.BS5_LARGE else 0.2,
    F: lambda e: 0.2 if e.batch_size == bs5.BS5_LARGE else 0.6 + 0.01 * z(e),
    U: lambda e: 0.3 + (0.2 * z(e) if e.batch_size == bs5.BS5_LARGE else 0.0),
}


@pytest.mark.parametrize("expected", [H, F, U])
def test_rule_outcome_on_hand_made_sharpness(expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The landscape is replaced by the scenario's numbers; the pairing, direction and test are real."""
    spec = SCENARIOS[expected]
    monkeypatch.setattr(bs5, "weights_of", lambda run: object())  # every run "has weights"
    monkeypatch.setattr(bs5.landscape, "problem", lambda e: e)
    monkeypatch.setattr(bs5.landscape, "sharpness", lambda w, e, seed: spec(e))
    monkeypatch.setattr(bs5, "line_numbers", lambda small, large, by_key: dict.fromkeys(
        ("line_rise_beyond_small", "line_rise_beyond_large", "line_barrier"), 0.1))  # fmt: skip
    check("BS5", lambda e: {"train": 0.01}, expected)


def test_runs_without_weights_are_left_out_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bs5, "weights_of", lambda run: None)
    from tests.core.claims.helpers import fabricate

    verdict = CLAIMS["BS5"].decide(fabricate(CLAIMS["BS5"].comparisons("digits"), lambda e: {}), "digits")
    assert verdict.verdict == U and verdict.numbers["runs_without_weights"] == 2 * bs5.BS5_SEEDS
    assert "no weights" in verdict.sentence


def test_large_batch_is_a_tenth_of_the_data_and_takes_as_many_updates() -> None:
    small, large = (c.baseline for c in CLAIMS["BS5"].comparisons("digits"))
    updates = [e.epochs * steps_per_epoch(e) for e in (small, large)]
    assert large.batch_size > small.batch_size and large.epochs > small.epochs
    assert abs(updates[0] - updates[1]) <= steps_per_epoch(large)
    n_train = steps_per_epoch(small) * small.batch_size
    assert 0.05 < large.batch_size / n_train < 0.15  # Keskar et al.'s "large": ~10% of the training set


def test_a_fast_real_run_measures_every_runs_sharpness(tmp_path) -> None:
    verdict = run_claim("BS5", "digits", RunStore(tmp_path / "runs.sqlite"), fast=True)
    assert verdict.verdict in VERDICTS and verdict.seeds == bs5.BS5_SEEDS
    n = verdict.numbers
    assert n["runs_without_weights"] == 0
    assert all(math.isfinite(n[k]) for k in ("sharpness_small", "sharpness_large", "line_barrier"))
    assert n["sharpness_small"] > 0 and n["sharpness_large"] > 0  # a rise: both ended near a minimum
