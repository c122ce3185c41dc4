"""Every variant at its own best learning rate (the Deep Learning Tuning Playbook's rule).

Comparing optimizers, batch sizes or BN placements at one fixed learning rate mostly measures
which of them that rate happens to suit. Here each variant trains over a grid of rates (the
learning rate is a per-member knob of the stacked trainer, so variant x seed x rate members of one
shape train as one model), and each variant is scored at its own best rate.

Honesty of the pick: the rate is CHOSEN on one half of every run's validation split (the
`select` half: even positions of the sorted validation indices) and the score is REPORTED on
the other (`report`: odd positions), measured by the trainer after training
(core.training.trainer.GroupTrainer._val_halves). The minimum over a grid of noisy numbers is
biased low (the winner's curse); the report half never took part in the choice, so its number
is an unbiased estimate of the chosen rate's loss on that data. A rate is chosen by the mean
select loss over seeds; a rate at which any seed did not train (diverged or collapsed) is never
chosen. A best rate at an edge of the grid says the grid may not hold the real optimum.

Everything trains through core.runner.run_comparison (an expanded VariantSet), so the grid's
runs are stored and replay like any comparison. TensorFlow-free.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.measures import round_lr
from core.results import ComparisonResult, RunResult
from core.runner import ProgressFn, groups_of, run_comparison
from core.spec import Comparison, Experiment, value_text, variant_label
from core.store import RunStore
from core.variants import RunPlan, VariantSet

SELECT_LOSS = "final_val_loss_select"
REPORT_LOSS = "final_val_loss_report"
SELECT_ACCURACY = "final_val_accuracy_select"
REPORT_ACCURACY = "final_val_accuracy_report"
MIN_GRID = 3  # with fewer rates every pick sits at an edge of the grid: nothing is tuned
MAX_GRID = 12  # rates per variant: x variants x seeds must stay under the member limit anyway
# A grid around a suggestion: 5 rates half a decade apart span two decades (x0.1 .. x10), the
# spread the LR range test's suggestions themselves differ by (core.topics.lr.trial_lrs uses x0.1/x10).
GRID_POINTS = 5
GRID_STEP_DECADES = 0.5
GRID_DIGITS = 2  # significant figures of a generated rate: a readable, stable run key
RANGE_SUGGESTION = "valley"  # fastai's default pick; steepest lands nearer the blow-up


class GridError(ValueError):
    """A grid of learning rates that cannot be tuned over (the CLI prints it on one line)."""


def parse_grid(values: str | Iterable[Any]) -> tuple[float, ...]:
    """Rates from '0.01,0.03,0.1' or numbers: positive, finite, at least MIN_GRID distinct ones,
    at most MAX_GRID; returned sorted ascending (the edge check reads the ends)."""
    items = [v for v in values.split(",") if v.strip()] if isinstance(values, str) else list(values)
    rates = []
    for item in items:
        try:
            rate = float(str(item).strip())
        except ValueError:
            raise GridError(f"learning-rate grid: {str(item).strip()[:40]!r} is not a number") from None
        if not (math.isfinite(rate) and rate > 0):
            raise GridError(f"learning-rate grid: {rate:g} is not a positive finite learning rate")
        rates.append(rate)
    grid = tuple(sorted(set(rates)))
    if len(grid) < MIN_GRID:
        raise GridError(
            f"learning-rate grid: give at least {MIN_GRID} distinct rates (got {len(grid)}), "
            "so the best one can sit inside the grid"
        )
    if len(grid) > MAX_GRID:
        raise GridError(f"learning-rate grid: at most {MAX_GRID} rates (got {len(grid)})")
    return grid


def grid_around(
    center: float, points: int = GRID_POINTS, step: float = GRID_STEP_DECADES
) -> tuple[float, ...]:
    """`points` log-spaced rates `step` decades apart, centred on `center` (e.g. a range test's
    suggestion), each rounded to GRID_DIGITS significant figures."""
    if not (math.isfinite(center) and center > 0):
        raise GridError(f"learning-rate grid: cannot centre a grid on {center!r}")
    middle = (points - 1) / 2
    return parse_grid(round_lr(center * 10 ** (step * (i - middle)), GRID_DIGITS) for i in range(points))


def range_test_grid(
    baseline: Experiment, suggestion: str = RANGE_SUGGESTION, num_iter: int | None = None
) -> tuple[float, ...]:
    """A grid around the LR range test's suggestion for the baseline (trains one short sweep of
    num_iter steps; None = the range test's default)."""
    from core.lr_finder import DEFAULT_NUM_ITER
    from core.lr_range import run_lr_range

    e = dataclasses.replace(baseline, lr_schedule="constant")
    test = run_lr_range([e], num_iter=num_iter or DEFAULT_NUM_ITER)[0]
    return grid_around(test.result.suggestions[suggestion])


# -- the plan ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One (variant, rate) of the expanded plan."""

    variant: str  # the original plan's label of the variant
    rate: float
    experiment: Experiment  # the variant at this rate (seed = the plan's first seed)


def _named_variants(plan: RunPlan) -> list[tuple[str, dict[str, Any], Experiment]]:
    """(label, varied knob values, experiment) of each variant of a Comparison or VariantSet."""
    if isinstance(plan, VariantSet):
        return [(label, {"variant": label}, e) for label, e in plan.named]
    if isinstance(plan, Comparison):
        return [(variant_label(v), v, dataclasses.replace(plan.baseline, **v)) for v in plan.variants()]
    raise TypeError(f"cannot tune a {type(plan).__name__}: give a Comparison or a VariantSet")


@dataclass(frozen=True)
class TuningPlan:
    """A plan's variants, each over a grid of learning rates: `expanded` is what trains."""

    plan: RunPlan
    grid: tuple[float, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid", parse_grid(self.grid))
        if "learning_rate" in self.plan.varied:
            raise GridError(
                "this comparison varies learning_rate itself: vary another knob and tune the rate per variant"
            )
        self.expanded  # noqa: B018 -- validates the member limit and memory now, before any training

    @property
    def variants(self) -> list[tuple[str, dict[str, Any], Experiment]]:
        return _named_variants(self.plan)

    @functools.cached_property
    def cells(self) -> tuple[Cell, ...]:
        return tuple(
            Cell(label, rate, dataclasses.replace(e, learning_rate=rate))
            for label, _, e in self.variants
            for rate in self.grid
        )

    @functools.cached_property
    def expanded(self) -> VariantSet:
        """variant x rate as labelled variants, each over the plan's seeds (a RunPlan)."""
        try:
            return VariantSet(
                tuple((f"{c.variant} @ lr={value_text(c.rate)}", c.experiment) for c in self.cells),
                self.plan.seeds,
            )
        except ValueError as err:  # the member limit, with the grid named in the advice
            raise GridError(f"{err} (the tuning grid has {len(self.grid)} rates per variant)") from None

    @functools.cached_property
    def cell_of(self) -> dict[str, Cell]:
        """Each member's cell, by run key (labels may be shortened for display; keys are not).
        VariantSet.members() lists each named variant's seeds together, in order."""
        members, seeds = self.expanded.members(), self.plan.seeds
        return {m.key: self.cells[i // seeds] for i, m in enumerate(members)}


# -- training -------------------------------------------------------------------------------------------
def _stacked(e: Experiment) -> bool:
    """Trained by the stacked trainer, the one that measures the two validation halves."""
    return e.model == "mlp" and not e.layerwise and e.ensemble == 1 and not e.probes


def run_tuning(tplan: TuningPlan, store: RunStore | None = None, progress: ProgressFn | None = None) -> Tuned:
    """Train (or replay) the grid and choose each variant's rate.

    Runs stored before the trainer measured the validation halves are retrained once and stored
    again (same key, bit-identical numbers plus the halves), so a pick is never made on the
    whole validation split."""
    result = run_comparison(tplan.expanded, store, progress)
    stale = [r.experiment for r in result.runs if SELECT_LOSS not in r.summary and _stacked(r.experiment)]
    if stale:
        from core.runner import GATE, train

        fresh: dict[str, RunResult] = {}
        for group in groups_of(list({e.key: e for e in stale}.values())):
            with GATE.slot(lambda ahead: None):
                done = train(group)
            if store is not None:
                store.put_many(done)
            fresh.update({r.key: r for r in done})
        result = ComparisonResult(
            result.comparison, [fresh.get(r.key, r) for r in result.runs], result.replayed
        )
    return analyze(tplan, result)


# -- analysis ---------------------------------------------------------------------------------------------
def _finite_mean(values: Sequence[float]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return sum(finite) / len(finite) if finite else None


def _number(summary: dict[str, Any], name: str) -> float:
    value = summary.get(name)
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


@dataclass
class Tuned:
    """The grid's runs and, per variant, the chosen rate and the numbers at it."""

    tplan: TuningPlan
    result: ComparisonResult  # every run of the grid (the expanded plan's result)
    table: list[dict[str, Any]]  # one row per (variant, rate): the axis plot's data
    rows: list[dict[str, Any]]  # one row per variant, in the plan's order: the isolation plot's

    def chosen_runs(self, variant: str) -> list[RunResult]:
        """The variant's runs at its tuned rate (empty when no rate trained)."""
        row = next(r for r in self.rows if r["label"] == variant)
        cells = self.tplan.cell_of
        return [
            r
            for r in self.result.runs
            if cells[r.key].variant == variant and cells[r.key].rate == row["tuned_learning_rate"]
        ]


def _cell_row(cell: Cell, runs: list[RunResult], held_out: bool) -> dict[str, Any]:
    """Means over one cell's seeds. `select` is None when any seed did not train: a rate that
    sometimes fails is not the best rate, however good its other seeds. Without the halves
    (held_out False: a run stored before the trainer measured them, or another model family)
    the whole validation split is used for every rate of the variant alike, and nothing is reported."""
    failed = sum(r.did_not_train for r in runs)
    select_name = SELECT_LOSS if held_out else "final_val_loss"
    select = _finite_mean([_number(r.summary, select_name) for r in runs]) if not failed else None
    return {
        "variant": cell.variant,
        "learning_rate": cell.rate,
        "seeds": len(runs),
        "did_not_train": failed,
        "select_val_loss": select,
        "report_val_loss": _finite_mean([_number(r.summary, REPORT_LOSS) for r in runs])
        if held_out
        else None,
        "report_val_accuracy": _finite_mean([_number(r.summary, REPORT_ACCURACY) for r in runs])
        if held_out
        else None,
        "held_out": held_out,
    }


def _edge(best: int | None, n: int) -> str | None:
    if best is None:
        return None
    return "lowest" if best == 0 else "highest" if best == n - 1 else None


def _variant_row(
    label: str, knobs: dict[str, Any], cells: list[dict[str, Any]], grid: tuple
) -> dict[str, Any]:
    scores = [c["select_val_loss"] for c in cells]
    ok = [i for i, s in enumerate(scores) if s is not None]
    best = min(ok, key=lambda i: scores[i]) if ok else None  # ties: the smaller rate (grid is sorted)
    at = cells[best] if best is not None else {}
    edge = _edge(best, len(grid))
    return {
        "label": label,
        "variant": knobs,
        "seeds": cells[0]["seeds"] if cells else 0,
        "tuned_learning_rate": grid[best] if best is not None else None,
        "grid": list(grid),
        "edge": edge,
        "widen_grid": edge is not None,
        "select_val_loss": at.get("select_val_loss"),
        "report_val_loss": at.get("report_val_loss"),
        "report_val_accuracy": at.get("report_val_accuracy"),
        "held_out": all(c["held_out"] for c in cells),
    }


def analyze(tplan: TuningPlan, result: ComparisonResult) -> Tuned:
    """Per variant: the rate with the lowest mean select-half validation loss over seeds, and the
    report half's loss and accuracy at it (plus the usual aggregate numbers of those runs)."""
    cells = tplan.cell_of
    by_cell: dict[tuple[str, float], list[RunResult]] = {}
    for run in result.runs:
        c = cells[run.key]
        by_cell.setdefault((c.variant, c.rate), []).append(run)
    held_out = {label: True for label, _, _ in tplan.variants}
    for run in result.runs:
        held_out[cells[run.key].variant] &= SELECT_LOSS in run.summary
    table = [_cell_row(c, by_cell.get((c.variant, c.rate), []), held_out[c.variant]) for c in tplan.cells]
    tuned = Tuned(tplan, result, table, [])
    for label, knobs, _ in tplan.variants:
        mine = [t for t in table if t["variant"] == label]
        row = _variant_row(label, knobs, mine, tplan.grid)
        row.update(_aggregate_at(tuned, label, row["tuned_learning_rate"]))
        tuned.rows.append(row)
    return tuned


def _aggregate_at(tuned: Tuned, label: str, rate: float | None) -> dict[str, Any]:
    """The compare command's aggregate numbers (final losses and accuracies, diverged, ...) of the
    variant's runs at its tuned rate, computed by ComparisonResult.aggregate itself. When no rate
    trained on every seed there is no tuned rate: the counts are then over the whole grid's runs
    and the final metrics are None (no fake number)."""
    cells = tuned.tplan.cell_of
    mine = [r for r in tuned.result.runs if cells[r.key].variant == label]
    at_rate = [r for r in mine if cells[r.key].rate == rate]
    runs = at_rate or mine
    record = ComparisonResult(Comparison.of(runs[0].experiment, seeds=1), runs).aggregate()[0]
    if not at_rate:
        record.update({k: None for k in record if k.startswith("final_")})
    del record["variant"], record["seeds"]
    return record


def json_rows(tuned: Tuned) -> list[dict[str, Any]]:
    """The CLI's --json objects: compare's keys at the tuned rate, plus tuned_learning_rate, the
    grid, the edge flag and the selection / report halves' numbers."""
    keep = ("label",)
    return [{k: v for k, v in row.items() if k not in keep} for row in tuned.rows]
