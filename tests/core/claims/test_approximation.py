"""WVD3: the rule's three outcomes on hand-made runs, its own data, and a fast preset run."""

from __future__ import annotations

import json

import pytest

from core.claims import CLAIMS, VERDICTS, approximation, run_claim
from tests.core.claims.helpers import F, H, U, fabricate, z

WIDTHS = approximation.WVD3_WIDTHS


def error_by_width(falls: bool, noise: float = 0.001):
    """Training MSE 1/width (falls toward zero) or rising with width."""

    def spec(e):
        rank = WIDTHS.index(e.width)
        base = 0.25 / 4**rank if falls else 0.01 * 4**rank
        return {"train": base + noise * z(e)}

    return spec


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (error_by_width(True), H),
        (error_by_width(False), F),
        (lambda e: {"train": 0.05 + 0.04 * z(e) * (e.width == WIDTHS[0])}, U),
    ],
)
def test_rule_outcome_on_hand_made_runs(spec, expected: str) -> None:
    claim = CLAIMS["WVD3"]
    verdict = claim.decide(fabricate(claim.comparisons("bumps"), spec), "digits")
    assert verdict.verdict == expected, verdict.sentence
    assert verdict.dataset == "bumps" and verdict.sentence.startswith("On bumps, ")
    assert verdict.p_value is not None and verdict.seeds >= 6


def test_falling_but_not_toward_zero_is_not_enough() -> None:
    """The error falls with width yet the widest still leaves 30% of the variance: no 'holds'."""
    claim = CLAIMS["WVD3"]
    spec = lambda e: {"train": 0.3 + 0.1 * (len(WIDTHS) - 1 - WIDTHS.index(e.width)) + 0.001 * z(e)}  # noqa: E731
    assert claim.decide(fabricate(claim.comparisons("bumps"), spec)).verdict == F


def test_the_claim_runs_on_its_own_noise_free_bumps_with_one_hidden_layer() -> None:
    claim = CLAIMS["WVD3"]
    assert claim.own_dataset == "bumps" and claim.dataset_for("digits") == "bumps"
    members = [m for c in claim.comparisons(claim.dataset_for(None)) for m in c.members()]
    assert {m.dataset for m in members} == {"bumps"} and {m.depth for m in members} == {1}
    assert {m.width for m in members} == set(WIDTHS) and {m.noise for m in members} == {0.0}


def test_fast_preset_trains_for_real_and_gives_a_verdict() -> None:
    verdict = run_claim("WVD3", "digits", fast=True)  # asked for digits: runs on bumps
    d = json.loads(json.dumps(verdict.to_dict(), allow_nan=False))
    assert d["verdict"] in VERDICTS and d["dataset"] == "bumps" and len(d["parts"]) == 2
    errors = [d["numbers"][f"train_mse_width_{w}"] for w in WIDTHS]
    assert all(e is not None and e >= 0 for e in errors)
