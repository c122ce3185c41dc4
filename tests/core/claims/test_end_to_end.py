"""Claims on real data (fast presets: small data, few epochs): the whole path from preset to a
verdict that carries its test, effect, interval and p-value."""

from __future__ import annotations

import json
import math

import pytest

from core.claims import VERDICTS, run_claim


@pytest.mark.parametrize("claim_id", ["LR1", "RG2", "EG2", "BS2"])
def test_claims_run_end_to_end_on_digits(claim_id: str) -> None:
    verdict = run_claim(claim_id, "digits", fast=True)
    assert verdict.verdict in VERDICTS and verdict.dataset == "digits"
    d = json.loads(json.dumps(verdict.to_dict(), allow_nan=False))
    measured = [v for v in d["numbers"].values() if isinstance(v, (int, float))]
    assert d["numbers"] and all(math.isfinite(v) for v in measured)
    assert isinstance(d["effect"], float) and all(isinstance(x, float) for x in d["ci"])
    assert d["test"] and d["unit"] and d["seeds"] >= 6 and d["p_value"] is not None
    assert verdict.sentence.startswith("On digits, ")
