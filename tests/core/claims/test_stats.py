"""The three-way rule on synthetic per-seed data: more seeds make a real effect easier to see, a
null effect "holds" at most ALPHA of the time, and a ceiling (no spread) is never read as a verdict.

Simulations are few (a few hundred per setting) and the tolerances are set from their binomial
standard error, so the tests stay fast and do not flake.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.claims import stats
from core.claims.stats import FAILS, HOLDS, UNSURE

SIMULATIONS = 300
# Three binomial standard errors of a share near 0.05 over SIMULATIONS draws: the test's slack.
NULL_SLACK = 3 * math.sqrt(stats.ALPHA * (1 - stats.ALPHA) / SIMULATIONS)


def share_holding(effect_sd: float, seeds: int, margin: float = 0.2, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    data = rng.normal(effect_sd, 1.0, size=(SIMULATIONS, seeds))
    return float(np.mean([stats.paired(d, margin, "sd", interval=False).verdict == HOLDS for d in data]))


def test_a_real_effect_is_easier_to_see_with_more_seeds() -> None:
    shares = [share_holding(1.0, n) for n in (3, 5, 10)]
    assert shares[0] < shares[1] < shares[2], shares
    assert shares[2] > 0.8, shares  # a one-sided paired t-test has ~90% power at 10 seeds


def test_no_effect_holds_at_most_alpha_of_the_time() -> None:
    for n in (3, 5, 10):
        assert share_holding(0.0, n, seed=n) <= stats.ALPHA + NULL_SLACK, n


def test_wilcoxon_for_steps_more_seeds_help_and_null_stays_rare() -> None:
    rng = np.random.default_rng(1)
    held = {}
    for n in (5, 10):
        draws = np.round(rng.normal(1.0, 1.0, size=(SIMULATIONS, n)) * 2)  # epochs: whole numbers
        held[n] = np.mean(
            [stats.paired(d, 0.5, "epochs", discrete=True, interval=False).verdict == HOLDS for d in draws]
        )
    assert held[5] < held[10]
    null = np.round(rng.normal(0.0, 1.0, size=(SIMULATIONS, 10)) * 2)
    share = np.mean(
        [stats.paired(d, 0.5, "epochs", discrete=True, interval=False).verdict == HOLDS for d in null]
    )
    assert share <= stats.ALPHA + NULL_SLACK


def test_ceiling_is_inconclusive_and_says_seeds_would_not_help() -> None:
    ev = stats.paired([0.0] * 10, 0.01, "accuracy")
    assert ev.verdict == UNSURE and ev.seeds_needed is None
    assert "would not decide" in stats.needed_text(ev)
    # equal arms at a ceiling, unpaired and as spreads: the same
    assert stats.unpaired([1.0] * 8, [1.0] * 8, 0.01, "accuracy").verdict == UNSURE
    assert stats.spread([0.9] * 8, [0.9] * 8, 0.01, "accuracy").verdict == UNSURE


def test_equivalence_needs_a_real_interval_inside_the_margin() -> None:
    rng = np.random.default_rng(2)
    tiny = rng.normal(0.0, 0.01, size=12)
    ev = stats.paired(tiny, 0.1, "loss")
    assert ev.verdict == FAILS and ev.ci[0] < ev.ci[1] and ev.ci[0] > -0.1 and ev.ci[1] < 0.1
    wide = rng.normal(0.0, 1.0, size=12)
    assert stats.paired(wide, 0.1, "loss").verdict == UNSURE


def test_same_step_on_every_seed_holds_with_enough_seeds() -> None:
    """BN1's case: every seed reaches the target 3 epochs sooner (zero spread, nonzero effect)."""
    ev = stats.paired([3.0] * 8, 1.0, "epochs", discrete=True)
    assert ev.verdict == HOLDS and ev.test == stats.WILCOXON and ev.p_value < stats.ALPHA
    assert stats.paired([-3.0] * 8, 1.0, "epochs", discrete=True).verdict == FAILS
    assert stats.paired([3.0] * 3, 1.0, "epochs", discrete=True).verdict == UNSURE  # 1/8 > alpha


def test_significant_the_other_way_does_not_hold() -> None:
    rng = np.random.default_rng(3)
    ev = stats.paired(rng.normal(-1.0, 0.3, size=8), 0.1, "loss")
    assert ev.verdict == FAILS and ev.effect < 0


def test_inconclusive_carries_a_power_estimate_that_grows_as_the_effect_shrinks() -> None:
    big = stats.paired([0.5, -0.3, 1.2, 0.1], 0.05, "loss")
    small = stats.paired([0.2, -0.3, 0.6, -0.1], 0.05, "loss")
    assert big.verdict == small.verdict == UNSURE
    assert big.seeds_needed is not None and small.seeds_needed is not None
    assert big.seeds_needed < small.seeds_needed
    assert f"about {big.seeds_needed} seeds" in stats.needed_text(big)


def test_fisher_counts() -> None:
    ev = stats.counts(8, 10, 0, 10, 0.2)
    assert ev.verdict == HOLDS and ev.test == stats.FISHER and ev.p_value < 0.001
    assert stats.counts(0, 10, 8, 10, 0.2).verdict == FAILS
    assert stats.counts(1, 3, 0, 3, 0.2).verdict == UNSURE
    assert stats.counts(0, 10, 0, 10, 0.2).verdict == UNSURE  # nothing happened anywhere: no interval
    assert stats.counts(4, 5, 0, 5, 0.2).p_value == pytest.approx(6 / 252)


def test_brown_forsythe_spread() -> None:
    rng = np.random.default_rng(4)
    wide, narrow = rng.normal(0, 1.0, size=12), rng.normal(0, 0.05, size=12)
    assert stats.spread(wide, narrow, 0.05, "accuracy").verdict == HOLDS
    assert stats.spread(narrow, wide, 0.05, "accuracy").verdict == FAILS


def test_bootstrap_interval_is_deterministic_and_covers_the_mean() -> None:
    d = np.array([0.3, 0.1, 0.5, 0.2, 0.4])
    assert stats.bootstrap_ci(d) == stats.bootstrap_ci(d)
    low, high = stats.bootstrap_ci(d)
    assert low < d.mean() < high


def test_combine_parts() -> None:
    h = stats.paired([1.0, 1.1, 0.9, 1.2, 1.0], 0.1, "x", label="a")
    u = stats.paired([1.0, -1.0, 0.5], 0.1, "x", label="b")
    f = stats.paired([-1.0, -1.1, -0.9, -1.2, -1.0], 0.1, "x", label="c")
    assert stats.combine([h, h]).verdict == HOLDS
    assert stats.combine([h, u]).label == "b"
    assert stats.combine([h, u, f]).verdict == FAILS
