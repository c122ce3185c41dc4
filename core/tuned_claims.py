"""A claim decided twice: at the notes' fixed learning rate and with every arm at its own best rate.

Why: a claim that compares arms (BN or not, small or large batches, weight decays) at one fixed
rate partly measures which arm that rate suits (the Tuning Playbook's point). Deciding it again
with each arm LR-tuned says whether the verdict is about the arm or about the rate; a verdict
that flips is the most interesting result a claim can have.

How: each preset comparison's variants are tuned one by one (core.tuning, a VariantSet of one
variant, so a claim's many seeds fit the member limit) over a grid centred on the preset's own
rate (GRID_POINTS rates half a decade apart: the fixed rate is the grid's middle, so its runs are
shared with the fixed verdict). The rate is picked per arm on the selection half of the validation
split; then the claim's own rule decides from the runs at the picked rates, seed for seed, exactly
as it decides the fixed ones. Its rule reads the whole validation split, so the tuned verdict
carries the (small) optimism of having picked the rate on half of it: the report half of each
arm is listed beside it.

Only claims whose presets keep the learning rate fixed can be tuned: a claim that varies the rate
(BN2, BS1, LR*) is about the rate itself, and MO1 already compares each optimizer at its best rate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from core.claims import get_claim
from core.claims.base import Verdict
from core.results import ComparisonResult, RunResult
from core.runner import ProgressFn, run_comparison
from core.spec import Comparison, value_text
from core.store import RunStore
from core.tuning import Tuned, TuningPlan, grid_around, run_tuning
from core.variants import VariantSet

TUNABLE = ("BN1", "BS2", "BS3", "BS4", "BS5", "WD1", "WD2", "WD3")


@dataclass(frozen=True)
class TunedVerdict:
    """Both verdicts and the rate each arm was given."""

    fixed: Verdict
    tuned: Verdict
    arms: tuple[dict[str, Any], ...]  # per arm: preset, variant, fixed rate, tuned rate, edge, report loss

    @property
    def flipped(self) -> bool:
        return self.fixed.verdict != self.tuned.verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "fixed": self.fixed.to_dict(),
            "tuned": self.tuned.to_dict(),
            "flipped": self.flipped,
            "arms": [dict(a) for a in self.arms],
        }


def check_tunable(claim_id: str) -> None:
    if claim_id not in TUNABLE:
        raise ValueError(
            f"claim {claim_id} cannot be LR-tuned: tunable claims are {', '.join(TUNABLE)} "
            "(the others vary the learning rate themselves or already tune it)"
        )


def _arms(c: Comparison) -> list[tuple[dict[str, Any], VariantSet]]:
    """Each variant of a preset comparison as a one-variant VariantSet over the preset's seeds."""
    return [
        (v, VariantSet.of({"arm": dataclasses.replace(c.baseline, **v)}, seeds=c.seeds)) for v in c.variants()
    ]


def _runs_at(tuned: Tuned, seeds: list[int]) -> list[RunResult]:
    """The arm's runs at its tuned rate in seed order (the grid's middle, the fixed rate, when no
    rate trained on every seed: then the tuned verdict sees the same failed runs as the fixed)."""
    row = tuned.rows[0]
    grid = tuned.tplan.grid
    rate = row["tuned_learning_rate"] if row["tuned_learning_rate"] is not None else grid[len(grid) // 2]
    by_seed = {r.experiment.seed: r for r in tuned.result.runs if tuned.tplan.cell_of[r.key].rate == rate}
    return [by_seed[s] for s in seeds]


def tuned_results(
    c: Comparison, store: RunStore | None, progress: ProgressFn | None = None
) -> tuple[ComparisonResult, list[dict[str, Any]]]:
    """The preset's result with every arm's runs replaced by its runs at its own best rate."""
    grid = grid_around(c.baseline.learning_rate)
    runs: list[RunResult] = []
    arms = []
    for variant, arm in _arms(c):
        tuned = run_tuning(TuningPlan(arm, grid), store, progress)
        seeds = [m.seed for m in arm.members()]
        runs.extend(_runs_at(tuned, seeds))
        row = tuned.rows[0]
        arms.append(
            {
                "preset": f"lr {value_text(c.baseline.learning_rate)}, batch {c.baseline.batch_size}",
                "variant": variant,
                "fixed_learning_rate": c.baseline.learning_rate,
                "tuned_learning_rate": row["tuned_learning_rate"],
                "edge": row["edge"],
                "report_val_loss": row["report_val_loss"],
            }
        )
    return ComparisonResult(c, runs), arms


def run_claim_tuned(
    claim_id: str,
    dataset: str | None = None,
    store: RunStore | None = None,
    progress: ProgressFn | None = None,
    fast: bool = False,
    seeds: int | None = None,
) -> TunedVerdict:
    """Decide the claim at its presets' fixed rates and again with every arm LR-tuned."""
    check_tunable(claim_id)
    claim = get_claim(claim_id)
    dataset = claim.dataset_for(dataset)
    comparisons = claim.comparisons(dataset, fast, seeds)
    fixed = claim.decide([run_comparison(c, store, progress) for c in comparisons], dataset)
    tuned, arms = [], []
    for c in comparisons:
        result, arm_rows = tuned_results(c, store, progress)
        tuned.append(result)
        arms.extend(arm_rows)
    return TunedVerdict(fixed, claim.decide(tuned, dataset), tuple(arms))
