"""`python -m core landscape`: the loss landscape of one run of a comparison, from the shell.

The comparison is selected like `compare` (--dataset, --set, --vary, --seeds), replayed or
trained through core.runner; runs stored before weights were kept are retrained once
(core.landscape_runs.with_weights). --json prints the issue's contract:
{"run", "interpolation": {"alphas", "train_loss", "val_loss"}, "slice": {"offsets", "train_loss",
"val_loss"}, "slice2d": {"offsets", "train_loss" (rows: 2nd direction)}, "sharpness", "runs",
"between"}.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from core import landscape_runs
from core.runner import run_comparison
from core.spec import Comparison
from core.store import RunStore


def run_landscape(
    comparison: Comparison, args: argparse.Namespace, store: RunStore | None, jsonable: Callable[[Any], Any]
) -> int:
    if not 0 <= args.member < comparison.n_members:
        raise ValueError(f"--member must be from 0 to {comparison.n_members - 1}")
    result = landscape_runs.with_weights(run_comparison(comparison, store), store)
    record = landscape_runs.report(result, args.member, two_d=not args.no_2d)
    if args.json:
        print(json.dumps(jsonable(record), allow_nan=False))
        return 0
    print(_text(record))
    return 0


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.4g}"


def _text(record: dict[str, Any]) -> str:
    run, curve = record["run"], record["interpolation"]
    lines = [f"run {run['key']} ({run['variant']}, seed {run['seed']})"]
    lines.append("initial -> final (alpha: train loss / val loss)")
    for a, tr, va in zip(curve["alphas"], curve["train_loss"], curve["val_loss"], strict=True):
        lines.append(f"  {a:6.2f}  {_fmt(tr)} / {_fmt(va)}")
    lines.append(
        f"sharpness (largest train-loss rise within the epsilon-ball): {_fmt(record['sharpness'])} nats"
    )
    for row in record["runs"]:
        lines.append(f"  {row['variant'][:32]:32} seed {row['seed']:>3}  sharpness {_fmt(row['sharpness'])}")
    if "between" in record:
        b = record["between"]
        lines.append(f"line {b['from']['variant']} -> {b['to']['variant']} (train loss):")
        lines.append("  " + " ".join(_fmt(v) for v in b["train_loss"]))
    return "\n".join(lines)
