"""The statistics behind every verdict: one three-way rule, four tests, an interval, a power estimate.

The rule (shared/CLAIMS.md, "How a verdict is decided"):
- holds: the effect points the way the notes predict and a one-sided test rejects "no effect"
  at ALPHA;
- does not hold: the effect is significant the other way, or it is shown to be smaller than the
  claim's practical margin (TOST: two one-sided tests against -margin and +margin, each at ALPHA);
- inconclusive: neither; then a power estimate says about how many seeds would decide it.

Every effect is signed so that positive means "as the notes predict". A measurement with no
spread at all (every seed gave the same value, e.g. two networks at 100% accuracy) cannot show
equivalence: a zero-width interval is a ceiling of the measurement, not evidence of no effect.
Why these tests: seeds are shared between arms of one comparison (same split, same init), so
differences are paired by seed (paired t; Wilcoxon signed-rank for counts such as epochs, whose
steps make the t-test's normality a poor fit); events (a run blew up) are counts (Fisher's exact
test); spreads are compared by the mean absolute deviation from the median (Brown-Forsythe).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

Sample = Sequence[float] | np.ndarray  # one arm's (or one difference's) values, seed by seed

HOLDS, FAILS, UNSURE = "holds", "does not hold", "inconclusive"
VERDICTS = (HOLDS, FAILS, UNSURE)
ALPHA = 0.05  # the field's default one-sided level; TOST runs each of its two tests at it
POWER = 0.8  # "would decide this" = 80% chance of a significant result at the observed effect
CI_LEVEL = 1 - 2 * ALPHA  # the interval matching TOST at ALPHA (90%)
BOOTSTRAP_RESAMPLES = 2000  # enough for a stable 90% percentile interval, ~1 ms per call
BOOTSTRAP_SEED = 0  # deterministic: the same runs always give the same interval
MAX_SEEDS_ESTIMATE = 1000  # beyond this "more seeds" is not a useful answer

PAIRED_T, WILCOXON, WELCH, FISHER, BROWN_FORSYTHE, EXACT = (
    "paired t",
    "Wilcoxon signed-rank",
    "Welch t",
    "Fisher exact",
    "Brown-Forsythe",
    "deterministic",
)


@dataclass(frozen=True)
class Evidence:
    """One test's outcome: the verdict and every number a reader needs to check it."""

    verdict: str
    test: str
    effect: float  # positive = the way the notes predict, in `unit`
    unit: str
    ci: tuple[float, float]  # CI_LEVEL bootstrap interval of the effect
    p_value: float | None  # one-sided, for the predicted direction; None when deterministic
    seeds: int
    margin: float
    seeds_needed: int | None = None  # power estimate, for inconclusive results
    label: str = ""  # which part of a multi-part claim

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "verdict": self.verdict,
            "test": self.test,
            "effect": _finite_or_none(self.effect),
            "unit": self.unit,
            "ci": [_finite_or_none(x) for x in self.ci],
            "p_value": _finite_or_none(self.p_value),
            "seeds": self.seeds,
            "margin": _finite_or_none(self.margin),
            "seeds_needed": self.seeds_needed,
        }


def _finite_or_none(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _clean(values: Sample) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v[np.isfinite(v)]


def three_way(effect: float, p_predicted: float, p_reverse: float, p_equivalent: float) -> str:
    """The rule itself, on one-sided p-values (NaN = the test could not be run)."""
    if effect > 0 and p_predicted < ALPHA:
        return HOLDS
    if effect < 0 and p_reverse < ALPHA:
        return FAILS
    if p_equivalent < ALPHA:
        return FAILS
    return UNSURE


def bootstrap_ci(*samples: np.ndarray, statistic=None) -> tuple[float, float]:
    """Percentile interval (CI_LEVEL) of the statistic; degenerate data give [x, x]."""
    if any(len(s) < 2 for s in samples):
        return (math.nan, math.nan)
    if statistic is None:
        statistic = _mean_or_difference(len(samples))
    if all(np.ptp(s) == 0 for s in samples):
        x = float(statistic(*samples, axis=-1))
        return (x, x)
    res = stats.bootstrap(
        samples,
        statistic,
        confidence_level=CI_LEVEL,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        vectorized=True,
        paired=False,
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


def _mean_or_difference(n_samples: int):
    if n_samples == 1:
        return lambda x, axis=-1: np.mean(x, axis=axis)
    return lambda a, b, axis=-1: np.mean(a, axis=axis) - np.mean(b, axis=axis)


def seeds_for_mean(effect: float, sd: float, margin: float) -> int | None:
    """About how many seeds (pairs) a one-sample test at ALPHA needs for POWER: to show the effect
    if it is outside the margin, or to show equivalence if it is inside. None: nothing would."""
    if not (math.isfinite(effect) and math.isfinite(sd)) or sd <= 0:
        return None
    z_a, z_b = stats.norm.ppf(1 - ALPHA), stats.norm.ppf(POWER)
    distance = abs(effect) if abs(effect) >= margin else margin - abs(effect)
    if distance <= 0:
        return None
    n = math.ceil(((z_a + z_b) * sd / distance) ** 2) + 2  # +2: the t-distribution's heavier tails
    return min(max(n, 3), MAX_SEEDS_ESTIMATE)


def paired(
    differences: Sample,
    margin: float,
    unit: str,
    *,
    discrete: bool = False,
    label: str = "",
    interval: bool = True,
) -> Evidence:
    """Per-seed differences (positive = as predicted): paired t, or Wilcoxon signed-rank when the
    measurement moves in steps (`discrete`) or every difference is the same. The bootstrap
    interval is reported, never used to decide (TOST decides equivalence), so simulations that
    only need the verdict pass interval=False."""
    d = _clean(differences)
    n = len(d)
    effect = float(np.mean(d)) if n else math.nan
    ci = bootstrap_ci(d) if interval else (math.nan, math.nan)
    if n < 2 or (np.ptp(d) == 0 and effect == 0):  # nothing to test, or a ceiling
        sd = float(np.std(d, ddof=1)) if n > 1 else math.nan
        return Evidence(
            UNSURE,
            PAIRED_T,
            effect,
            unit,
            ci,
            None if n < 2 else 1.0,
            n,
            margin,
            seeds_for_mean(effect, sd, margin),
            label,
        )
    use_wilcoxon = discrete or np.ptp(d) == 0
    test = WILCOXON if use_wilcoxon else PAIRED_T
    p_pred, p_rev, p_eq = (_wilcoxon_ps if use_wilcoxon else _t_ps)(d, margin)
    verdict = three_way(effect, p_pred, p_rev, p_eq)
    needed = None if verdict != UNSURE else seeds_for_mean(effect, float(np.std(d, ddof=1)), margin)
    return Evidence(verdict, test, effect, unit, ci, p_pred, n, margin, needed, label)


def _t_sf(d: np.ndarray, mu: float) -> float:
    """One-sided p of mean(d) > mu (a one-sample t-test written out: scipy's wrapper costs ~3 ms)."""
    n, sd = len(d), float(np.std(d, ddof=1))
    if sd == 0:
        return 0.0 if d.mean() > mu else 1.0
    return float(stats.t.sf((d.mean() - mu) / (sd / math.sqrt(n)), n - 1))


def _welch_sf(a: np.ndarray, b: np.ndarray, mu: float) -> float:
    """One-sided p of mean(a) - mean(b) > mu, Welch's unequal-variance t-test."""
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    diff = a.mean() - b.mean() - mu
    if se == 0:
        return 0.0 if diff > 0 else 1.0
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(stats.t.sf(diff / se, df))


def _t_ps(d: np.ndarray, margin: float) -> tuple[float, float, float]:
    p_eq = max(_t_sf(d, -margin), _t_sf(-d, -margin))
    return _t_sf(d, 0.0), _t_sf(-d, 0.0), p_eq


EXACT_SIGNED_RANK_MAX = 14  # 2^14 sign patterns: exact in ~10 ms; beyond, the normal approximation


def signed_rank_greater(x: np.ndarray) -> float:
    """One-sided p of the Wilcoxon signed-rank test that x is shifted above 0. Zeros are dropped
    and ties get average ranks; exact (every sign pattern) for small n, where scipy would fall
    back to a slow permutation test when values tie (epochs do)."""
    x = x[x != 0]
    n = len(x)
    if n == 0:
        return 1.0
    ranks = stats.rankdata(np.abs(x))
    observed = ranks[x > 0].sum()
    if n <= EXACT_SIGNED_RANK_MAX:
        signs = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
        null = signs @ ranks
        return float(np.mean(null >= observed - 1e-9))
    mean, var = ranks.sum() / 2, (ranks**2).sum() / 4
    return float(stats.norm.sf((observed - mean) / math.sqrt(var)))


def _wilcoxon_ps(d: np.ndarray, margin: float) -> tuple[float, float, float]:
    p_eq = max(signed_rank_greater(d + margin), signed_rank_greater(margin - d)) if margin > 0 else 1.0
    return signed_rank_greater(d), signed_rank_greater(-d), p_eq


def _nan_to_one(p: float) -> float:
    return float(p) if math.isfinite(p) else 1.0


def unpaired(
    predicted_larger: Sample,
    other: Sample,
    margin: float,
    unit: str,
    *,
    label: str = "",
) -> Evidence:
    """Two independent groups (Welch t): the notes predict the first has the larger mean."""
    a, b = _clean(predicted_larger), _clean(other)
    n = min(len(a), len(b))
    effect = float(a.mean() - b.mean()) if n else math.nan
    ci = bootstrap_ci(a, b)
    if n < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return Evidence(UNSURE, WELCH, effect, unit, ci, None if n < 2 else 1.0, n, margin, None, label)

    p_pred, p_rev = _welch_sf(a, b, 0.0), _welch_sf(b, a, 0.0)
    p_eq = max(_welch_sf(a, b, -margin), _welch_sf(b, a, -margin))
    verdict = three_way(effect, p_pred, p_rev, p_eq)
    sd = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2) * math.sqrt(
        2
    )  # sd of a difference of means x sqrt(n)
    needed = seeds_for_mean(effect, sd, margin) if verdict == UNSURE else None
    return Evidence(verdict, WELCH, effect, unit, ci, p_pred, n, margin, needed, label)


def spread(predicted_wider: Sample, other: Sample, margin: float, unit: str, *, label: str = "") -> Evidence:
    """Brown-Forsythe: Welch t on absolute deviations from each group's median (for two groups
    the same test as Levene's with median centring, made one-sided). Effect = difference of the
    mean absolute deviations, in the measurement's unit."""
    a, b = _clean(predicted_wider), _clean(other)
    dev_a, dev_b = np.abs(a - np.median(a)) if len(a) else a, np.abs(b - np.median(b)) if len(b) else b
    ev = unpaired(dev_a, dev_b, margin, unit, label=label)
    return replace(ev, test=BROWN_FORSYTHE)


def counts(
    events_predicted_more: int,
    runs_predicted_more: int,
    events_other: int,
    runs_other: int,
    margin: float,
    *,
    label: str = "",
) -> Evidence:
    """Fisher's exact test on how often an event happened in two arms; the notes predict the first
    arm has it more often. Effect = difference of the two shares (unit: share of runs)."""
    k_a, n_a, k_b, n_b = events_predicted_more, runs_predicted_more, events_other, runs_other
    if min(n_a, n_b) < 1:
        return Evidence(
            UNSURE, FISHER, math.nan, "share of runs", (math.nan,) * 2, None, 0, margin, None, label
        )
    table = [[k_a, n_a - k_a], [k_b, n_b - k_b]]
    p_pred = float(stats.fisher_exact(table, alternative="greater").pvalue)
    p_rev = float(stats.fisher_exact(table, alternative="less").pvalue)
    effect = k_a / n_a - k_b / n_b
    a = np.r_[np.ones(k_a), np.zeros(n_a - k_a)]
    b = np.r_[np.ones(k_b), np.zeros(n_b - k_b)]
    ci = bootstrap_ci(a, b) if min(n_a, n_b) >= 2 else (math.nan, math.nan)
    equivalent = (
        ci[1] > ci[0] and -margin < ci[0] and ci[1] < margin and min(k_a, k_b) < min(n_a, n_b)
    )  # a real interval, inside the margin
    verdict = three_way(effect, p_pred, p_rev, 0.0 if equivalent else 1.0)
    needed = None
    if verdict == UNSURE:
        pooled = (k_a + k_b) / (n_a + n_b)
        needed = seeds_for_mean(effect, math.sqrt(2 * pooled * (1 - pooled)), margin)
    return Evidence(
        verdict, FISHER, effect, "share of runs", ci, p_pred, min(n_a, n_b), margin, needed, label
    )


def exact(verdict: str, effect: float, unit: str, margin: float, *, label: str = "") -> Evidence:
    """A deterministic measurement (the optimizer sandbox): no seeds, no p-value."""
    return Evidence(verdict, EXACT, effect, unit, (effect, effect), None, 0, margin, None, label)


def combine(parts: Sequence[Evidence]) -> Evidence:
    """A claim with several parts holds if every part holds and fails if any part fails. The
    returned evidence is the deciding part: the failing one, the weakest holding one, or the
    inconclusive one that needs the most seeds."""
    if not parts:
        raise ValueError("no evidence to combine")
    failing = [p for p in parts if p.verdict == FAILS]
    if failing:
        return failing[0]
    unsure = [p for p in parts if p.verdict == UNSURE]
    if unsure:
        return max(unsure, key=lambda p: p.seeds_needed if p.seeds_needed is not None else math.inf)
    return max(parts, key=lambda p: p.p_value if p.p_value is not None else -1.0)


def decides_text(ev: Evidence) -> str:
    """'paired t, 10 seeds, effect 1.2 epochs in the predicted direction (90% interval 0.5 to 1.9,
    one-sided p = 0.003; practical margin ±1)': numbers only, no verdict word."""
    margin = f"practical margin ±{sig3(ev.margin)}"
    effect = f"effect {sig3(ev.effect)} {ev.unit} in the predicted direction"
    if ev.test == EXACT:
        return f"{ev.test} (no seeds), {effect} ({margin})"
    p = "" if ev.p_value is None else f", one-sided p = {sig3(ev.p_value)}"
    return (
        f"{ev.test}, {ev.seeds} seeds, {effect} "
        f"(90% interval {sig3(ev.ci[0])} to {sig3(ev.ci[1])}{p}; {margin})"
    )


def needed_text(ev: Evidence) -> str:
    """The power sentence for an undecided result."""
    if ev.verdict != UNSURE:
        return ""
    if ev.test == EXACT:
        return "the measurement is deterministic, so more seeds would not decide this"
    if ev.seeds_needed is None:
        return "every seed gave the same value, so more seeds would not decide this; the setting would have to change"
    if ev.seeds_needed >= MAX_SEEDS_ESTIMATE:
        return (
            f"the effect is so close to the margin that even {MAX_SEEDS_ESTIMATE} seeds might not decide this"
        )
    return f"about {ev.seeds_needed} seeds would decide this"


def sig3(x: Any) -> str:
    """Three significant digits; 'n/a' for missing numbers."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a" if x is None else str(x)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.3g}" if math.isfinite(v) else "n/a"
