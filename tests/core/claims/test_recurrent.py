"""VG3: the rule's three outcomes on hand-made runs of its real preset, and a fast preset trained for real."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.claims import CLAIMS, FAILS, HOLDS, UNSURE, VERDICTS, run_claim
from core.data.sequences import CONSTANT_MSE
from core.results import ComparisonResult, RunResult
from core.spec import Experiment
from tests.core.claims.helpers import z

Spec = Callable[[Experiment], tuple[float, float]]  # -> (log10 first/last ratio, val MSE share)


def fabricated(spec: Spec) -> list[ComparisonResult]:
    """The preset's members with summaries written here: what the recurrent trainer records."""
    out = []
    for c in CLAIMS["VG3"].comparisons():
        runs = []
        for e in c.members():
            ratio, share = spec(e)
            summary = {
                "log10_step_ratio": ratio,
                "final_val_loss": share * CONSTANT_MSE,
                "baseline_val_loss": CONSTANT_MSE,
                "seq_len": e.seq_len,
                "diverged": False,
                "n_classes": 0,
            }
            runs.append(RunResult(e, summary, {}))
        out.append(ComparisonResult(c, runs))
    return out


SCENARIOS: dict[str, Spec] = {
    # the textbook picture: the LSTM keeps a tenth of the gradient and solves the task
    HOLDS: lambda e: (
        (-1.0 + 0.1 * z(e), 0.03 + 0.01 * z(e)) if e.model == "lstm" else (-4.0 + 0.5 * z(e), 1.0)
    ),
    # the reverse: the untrained LSTM's gradient vanishes faster than the RNN's
    FAILS: lambda e: (-6.0 + 0.1 * z(e), 1.0) if e.model == "lstm" else (-3.0 + 0.2 * z(e), 1.0),
    # a gap of a decade either way from seed to seed: too noisy to tell at this many seeds
    UNSURE: lambda e: (-2.0 + 2.0 * z(e), 0.5 + 0.4 * z(e) / 2) if e.model == "lstm" else (-2.0, 0.9),
}


@pytest.mark.parametrize("expected", list(SCENARIOS))
def test_rule_outcome_on_hand_made_runs(expected):
    verdict = CLAIMS["VG3"].decide(fabricated(SCENARIOS[expected]), "digits")
    assert verdict.verdict == expected, verdict.sentence
    assert verdict.dataset == "adding" and verdict.sentence.startswith("On adding, ")
    assert {p["label"] for p in verdict.parts} == {"gradient", "task"}
    assert verdict.p_value is not None and verdict.seeds >= 3
    if expected == HOLDS:
        assert verdict.numbers["ratio_lstm"] > 10 * verdict.numbers["ratio_rnn"]
        assert verdict.numbers["solved_lstm"] == f"{verdict.seeds}/{verdict.seeds}"


def test_preset_pairs_rnn_and_lstm_of_equal_width_on_its_own_data():
    claim = CLAIMS["VG3"]
    (comparison,) = claim.comparisons("digits")
    members = comparison.members()
    assert {m.model for m in members} == {"rnn", "lstm"}
    assert {m.width for m in members} == {members[0].width} and {m.dataset for m in members} == {"adding"}
    assert comparison.seeds >= 3 and members[0].seq_len >= 50
    assert claim.own_dataset == "adding" and claim.margin > 0 and claim.margin_why


def test_fast_preset_trains_for_real_and_decides():
    verdict = run_claim("VG3", "digits", store=None, fast=True)
    assert verdict.verdict in VERDICTS and verdict.dataset == "adding"
    assert verdict.numbers["ratio_rnn"] > 0 and verdict.numbers["ratio_lstm"] > 0
    assert 0 < verdict.numbers["mse_share_rnn"] < 3
