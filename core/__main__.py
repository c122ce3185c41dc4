"""Command line: everything the app shows can be reproduced from the shell.

    python -m core compare [--dataset NAME] [--set KNOB=VALUE]... [--vary KNOB=V1,V2,...]...
                           [--seeds N] [--out FILE.csv] [--json] [--no-store]
    python -m core lr-find [--dataset NAME] [--set KNOB=VALUE]... [--json]
    python -m core claim ID [--dataset NAME] [--json]
    python -m core claims --all [--dataset NAME] [--json]
    python -m core bench [--epochs N]

A bad knob, value or dataset prints one line on stderr and exits with code 2 (no traceback).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from core.spec import Comparison, Experiment, variant_label


class UsageError(ValueError):
    pass


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{flag} expects KNOB=VALUE, got {item!r}")
        out[name.strip()] = value
    return out


def _baseline(args: argparse.Namespace) -> Experiment:
    values: dict[str, Any] = _pairs(args.set, "--set")
    if args.dataset:
        values["dataset"] = args.dataset
    return Experiment.from_dict(values)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _print_progress(p) -> None:
    if p.phase == "training" and p.epoch == p.epochs:
        print(f"  group {p.group}/{p.groups}: {p.runs} run(s) trained", file=sys.stderr)


def cmd_compare(args: argparse.Namespace) -> int:
    from core.runner import run_comparison

    vary = {k: [v for v in vs.split(",") if v.strip()] for k, vs in _pairs(args.vary, "--vary").items()}
    comparison = Comparison.of(_baseline(args), vary, args.seeds)
    store = None if args.no_store else _store()
    result = run_comparison(comparison, store, None if args.json else _print_progress)
    if args.out:
        result.frame("epochs").to_csv(args.out, index=False)
    records = result.aggregate()
    if args.json:
        print(json.dumps(_jsonable(records), allow_nan=False))
        return 0
    print(f"{comparison.n_members} run(s), {result.replayed} replayed from the store")
    header = f"{'variant':32} {'seeds':>5} {'train loss':>10} {'val loss':>9} {'val acc':>8} {'diverged':>8} {'s':>6}"
    print(header)
    for r in records:

        def fmt(x, spec=".4f"):
            return "-" if x is None else format(x, spec)

        print(
            f"{variant_label(r['variant'])[:32]:32} {r['seeds']:>5} {fmt(r['final_train_loss']):>10} "
            f"{fmt(r['final_val_loss']):>9} {fmt(r['final_val_accuracy'], '.3f'):>8} {r['diverged']:>8} "
            f"{fmt(r['seconds'], '.2f'):>6}"
        )
    return 0


def cmd_lr_find(args: argparse.Namespace) -> int:
    from core.lr_range import run_lr_range

    test = run_lr_range([_baseline(args)])[0]
    record = test.result.to_dict()
    if args.json:
        print(json.dumps(_jsonable(record), allow_nan=False))
    else:
        s = record["suggestions"]
        print(f"swept {len(record['lrs'])} steps; stopped early: {record['stopped_early']}")
        print("suggestions: " + ", ".join(f"{k} {v:.3g}" for k, v in s.items()))
    return 0


def cmd_claim(args: argparse.Namespace) -> int:
    from core.claims import CLAIMS, run_all, run_claim

    store = _store()
    dataset = args.dataset or "digits"
    if getattr(args, "all", False):
        verdicts = run_all(dataset, store)
    else:
        if args.id not in CLAIMS:
            raise UsageError(f"unknown claim {args.id!r}; claims are: {', '.join(CLAIMS)}")
        verdicts = [run_claim(args.id, dataset, store)]
    records = [v.to_dict() for v in verdicts]
    if args.json:
        out = records if getattr(args, "all", False) else records[0]
        print(json.dumps(_jsonable(out), allow_nan=False))
    else:
        for r in records:
            print(f"{r['id']:5} {r['verdict']:14} {r['sentence']}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from core import bench

    bench.main(args.epochs)
    return 0


def _store():
    from core.store import RunStore

    store = RunStore()
    if store.notice:
        print(store.notice, file=sys.stderr)
    return store


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core", description="Hyperparameter what-if explorer, from the shell"
    )
    sub = p.add_subparsers(dest="command", required=True)

    def knobs(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--dataset")
        sp.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE")
        sp.add_argument("--json", action="store_true")

    c = sub.add_parser("compare", help="train a comparison (variants x seeds)")
    knobs(c)
    c.add_argument("--vary", action="append", default=[], metavar="KNOB=V1,V2")
    c.add_argument("--seeds", type=int, default=1)
    c.add_argument("--out", metavar="FILE.csv")
    c.add_argument("--no-store", action="store_true", help="do not read or write the run store")
    c.set_defaults(func=cmd_compare)
    lr = sub.add_parser("lr-find", help="LR range test")
    knobs(lr)
    lr.set_defaults(func=cmd_lr_find)
    cl = sub.add_parser("claim", help="test one claim of the notes")
    cl.add_argument("id")
    cl.add_argument("--dataset")
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(func=cmd_claim)
    ca = sub.add_parser("claims", help="test every claim of the notes")
    ca.add_argument("--all", action="store_true", required=True)
    ca.add_argument("--dataset")
    ca.add_argument("--json", action="store_true")
    ca.set_defaults(func=cmd_claim)
    b = sub.add_parser("bench", help="stacked trainer vs plain keras fit")
    b.add_argument("--epochs", type=int, default=30)
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:  # includes DataUnavailable and spec validation
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
