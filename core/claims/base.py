"""What a claim is and what deciding it produces: Claim, Outcome, Verdict.

Kept apart from core.claims (the registry) so that each topic module can build its Claim objects
while the package's __init__ imports the topic modules to register them: the import graph goes
__init__ -> topic -> base and never back.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from core.claims import stats
from core.claims.stats import VERDICTS, Evidence
from core.results import ComparisonResult
from core.spec import Comparison

Number = float | int | str | None


class Outcome(NamedTuple):
    """What a rule returns: the deciding evidence, every part (for multi-part claims), the numbers
    behind them and a sentence of what was measured (no verdict word: the badge says that)."""

    evidence: Evidence
    numbers: dict[str, Any]
    text: str
    parts: tuple[Evidence, ...] = ()


Preset = Callable[[str, bool], list[Comparison]]
Rule = Callable[[list[ComparisonResult]], Outcome]


@dataclass(frozen=True)
class Verdict:
    """What one claim came to on one dataset, with the test and numbers that decided it."""

    id: str
    dataset: str
    verdict: str
    numbers: dict[str, Number]
    sentence: str
    test: str = ""
    effect: float | None = None
    unit: str = ""
    ci: tuple[float | None, float | None] = (None, None)
    p_value: float | None = None
    seeds: int = 0
    margin: float | None = None
    seeds_needed: int | None = None
    parts: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (NaN and infinities become None): the CLI prints it with allow_nan=False."""
        return {
            "id": self.id,
            "dataset": self.dataset,
            "verdict": self.verdict,
            "test": self.test,
            "effect": json_number(self.effect),
            "unit": self.unit,
            "ci": [json_number(x) for x in self.ci],
            "p_value": json_number(self.p_value),
            "seeds": self.seeds,
            "margin": json_number(self.margin),
            "seeds_needed": self.seeds_needed,
            "numbers": {k: json_number(v) for k, v in self.numbers.items()},
            "sentence": self.sentence,
            "parts": [dict(p) for p in self.parts],
        }


def json_number(v: Any) -> Number:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)  # type: ignore[return-value]
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return None if v is None else str(v)


@dataclass(frozen=True)
class Claim:
    """One claim of the notes, in our words, with everything that decides it stated up front:
    the preset (what to train), the rule (how to read the runs), the test, the unit of the
    effect and the practical margin in that unit (chosen before anything ran)."""

    id: str  # as in shared/CLAIMS.md
    topic: str  # page slug
    text: str
    measurement: str
    preset: Preset
    rule: Rule
    test: str  # the statistical test of the deciding part (core.claims.stats names)
    unit: str
    margin: float
    margin_why: str  # where the margin comes from (the unit, the literature)
    separate: bool = False  # train each run alone: its wall time is the measurement (RG3)
    fresh: bool = False  # never replay stored runs: the measurement is of this machine, now (RG3)
    probe: bool = False  # the preset trains a short LR range test first (LR4)
    # The claim's own data (e.g. generated sequences for VG3, a 2-D regression world for WVD3):
    # it then runs there whatever dataset a page or the CLI asks for, and its verdict says so.
    own_dataset: str | None = None

    def dataset_for(self, requested: str | None) -> str:
        """Where the claim runs when `requested` is asked for (None: the claim's default)."""
        return self.own_dataset or requested or "digits"

    def comparisons(
        self, dataset: str = "digits", fast: bool = False, seeds: int | None = None
    ) -> list[Comparison]:
        """The preset(s) for this dataset; fast=True shrinks epochs and samples for smoke tests;
        `seeds` overrides the seed count of every multi-seed comparison (more seeds, same design)."""
        comparisons = self.preset(dataset, fast)
        if seeds is None:
            return comparisons
        return [dataclasses.replace(c, seeds=seeds) if c.seeds > 1 else c for c in comparisons]

    def decide(self, results: list[ComparisonResult], dataset: str | None = None) -> Verdict:
        """Pure function of the runs: the same runs always give the same verdict."""
        if self.own_dataset:
            dataset = self.own_dataset
        elif dataset is None:
            dataset = results[0].comparison.baseline.dataset if results else "sandbox"
        outcome = self.rule(results)
        ev = outcome.evidence
        if ev.verdict not in VERDICTS:
            raise AssertionError(f"{self.id}: rule returned {ev.verdict!r}")
        return Verdict(
            id=self.id,
            dataset=dataset,
            verdict=ev.verdict,
            numbers=dict(outcome.numbers),
            sentence=sentence(dataset, outcome),
            test=ev.test,
            effect=ev.effect,
            unit=ev.unit,
            ci=ev.ci,
            p_value=ev.p_value,
            seeds=ev.seeds,
            margin=ev.margin,
            seeds_needed=ev.seeds_needed,
            parts=tuple(p.to_dict() for p in (outcome.parts or (ev,))),
        )


def sentence(dataset: str, outcome: Outcome) -> str:
    """'On digits, <what was measured>. Decided by <test and numbers>[; about N seeds would ...].'"""
    ev = outcome.evidence
    text = f"On {dataset}, {outcome.text}. Deciding test: {stats.decides_text(ev)}"
    if ev.label and len(outcome.parts) > 1:
        text += f" (part: {ev.label})"
    needed = stats.needed_text(ev)
    return f"{text}; {needed}." if needed else f"{text}."
