"""`python -m core compare ... --tune-lr V1,V2,...|range`: the compare command with every variant at
its own best learning rate (core.tuning). Kept beside core.tuning so the CLI module only gains a
flag and one call; the helpers it needs from core.__main__ are passed in (no import back into it).

JSON rows are compare's keys at the tuned rate plus tuned_learning_rate, grid, edge, widen_grid,
select_val_loss (the half the rate was picked on), report_val_loss / report_val_accuracy (the
held-out half) and held_out (False only for a model family that does not measure the halves).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from core.runner import ProgressFn
from core.spec import Comparison, value_text
from core.store import RunStore
from core.tuning import Tuned, TuningPlan, json_rows, parse_grid, range_test_grid, run_tuning

RANGE = "range"  # --tune-lr range: a grid around the LR range test's suggestion for the baseline


def plan_for(comparison: Comparison, grid_text: str) -> TuningPlan:
    """The tuning plan for --tune-lr's value; a typed grid is checked before anything trains."""
    if grid_text.strip().lower() == RANGE:
        TuningPlan(comparison, (1.0, 2.0, 3.0))  # refuse a plan that cannot be tuned before the sweep
        return TuningPlan(comparison, range_test_grid(comparison.baseline))
    return TuningPlan(comparison, parse_grid(grid_text))


def compare_tuned(
    comparison: Comparison,
    args: argparse.Namespace,
    open_store: Callable[[], RunStore],
    progress: ProgressFn,
    jsonable: Callable[[Any], Any],
) -> int:
    """Train (or replay) the grid, write --out (every run of the grid), print rows or a table.
    The grid is checked before the store is opened or anything trains."""
    tplan = plan_for(comparison, args.tune_lr)
    store = None if args.no_store else open_store()
    tuned = run_tuning(tplan, store, None if args.json else progress)
    if args.out:
        tuned.result.export_epochs().to_csv(args.out, index=False)
    if args.json:
        print(json.dumps(jsonable(json_rows(tuned)), allow_nan=False))
        return 0
    print(table(tuned))
    return 0


def _fmt(x: float | None, spec: str = ".4f") -> str:
    return "-" if x is None else format(x, spec)


def table(tuned: Tuned) -> str:
    """One line per variant: its tuned rate, the select and report halves' losses, a grid-edge flag."""
    grid = ", ".join(value_text(r) for r in tuned.tplan.grid)
    lines = [
        f"{tuned.result.comparison.n_members} run(s) over the grid [{grid}], "
        f"{tuned.result.replayed} replayed from the store",
        f"{'variant':32} {'tuned lr':>9} {'select loss':>11} {'report loss':>11} {'report acc':>10} "
        f"{'diverged':>8}  note",
    ]
    for row in tuned.rows:
        note = f"best at the {row['edge']} rate: widen the grid" if row["widen_grid"] else ""
        if not row["held_out"]:
            note = (note + "; " if note else "") + "picked on the whole validation split"
        rate = "-" if row["tuned_learning_rate"] is None else value_text(row["tuned_learning_rate"])
        lines.append(
            f"{row['label'][:32]:32} {rate:>9} {_fmt(row['select_val_loss']):>11} "
            f"{_fmt(row['report_val_loss']):>11} {_fmt(row['report_val_accuracy'], '.3f'):>10} "
            f"{row['diverged']:>8}  {note}"
        )
    return "\n".join(lines)


def claim_tuned(
    args: argparse.Namespace,
    dataset: str | None,
    store: RunStore | None,
    seeds: int | None,
    jsonable: Callable[[Any], Any],
    claim_line: Callable[[dict[str, Any]], str],
) -> int:
    """`claim ID --tune-lr`: the verdict at the preset's fixed rate and LR-tuned; a flip said loudly."""
    from core.tuned_claims import check_tunable, run_claim_tuned

    check_tunable(args.id)
    tv = run_claim_tuned(args.id, dataset, store, seeds=seeds)
    if args.json:
        print(json.dumps(jsonable(tv.to_dict()), allow_nan=False))
        return 0
    print("at the fixed rate:\n" + claim_line(tv.fixed.to_dict()))
    print("every arm at its own best rate:\n" + claim_line(tv.tuned.to_dict()))
    for arm in tv.arms:
        edge = f" (at the {arm['edge']} edge of the grid: widen it)" if arm["edge"] else ""
        print(
            f"  {arm['preset']} {arm['variant'] or ''}: lr {value_text(arm['fixed_learning_rate'])} -> "
            f"{value_text(arm['tuned_learning_rate'])}{edge}"
        )
    if tv.flipped:
        print(
            f"THE VERDICT FLIPS under tuning: {tv.fixed.verdict} at the fixed rate, {tv.tuned.verdict} tuned"
        )
    return 0
