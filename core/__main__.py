"""Command line: everything the app shows can be reproduced from the shell.

    python -m core compare [--dataset NAME | --csv FILE --label COLUMN] [--set KNOB=VALUE]...
                           [--vary KNOB=V1,V2,...]... [--seeds N] [--out FILE.csv] [--json] [--no-store]
                           [--tune-lr V1,V2,...|range]
    python -m core lr-find [--dataset NAME] [--set KNOB=VALUE]... [--json]
    python -m core claim ID [--dataset NAME] [--seeds N] [--json] [--tune-lr]
    python -m core claims --all [--dataset NAME|all] [--seeds N] [--json]
    python -m core bench [--epochs N]
    python -m core landscape [compare's selection options, --csv/--label] [--member N] [--no-2d] [--json]

A bad knob, value, dataset, CSV or --out path prints one line on stderr and exits with code 2 (no
traceback), before anything trains; Ctrl-C prints one line and exits with code 130.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from core import backends
from core.spec import Comparison, Experiment, variant_label

MAX_CLAIM_SEEDS = 32  # claims: more seeds per arm than this would exceed the member limit of most presets


INTERRUPTED = 130  # the shell's exit status for a process stopped by Ctrl-C (128 + SIGINT)


class UsageError(ValueError):
    pass


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"{flag} expects KNOB=VALUE, got {item!r}")
        if name.strip() in out:  # silently keeping the last one hid a typo
            raise UsageError(f"{flag} {name.strip()} is given twice: give its value(s) once")
        out[name.strip()] = value
    return out


def _csv_dataset(args: argparse.Namespace) -> str | None:
    """--csv FILE --label COLUMN: the user's own table, through the app's upload validation and
    caps (bytes checked before the file is read, columns before it is parsed); its name."""
    path, label = getattr(args, "csv", None), getattr(args, "label", None)
    if path is None:
        if label is not None:
            raise UsageError("--label needs --csv FILE")
        return None
    from pathlib import Path

    from core.data import MAX_CSV_BYTES, register_csv

    if label is None:
        raise UsageError("--csv needs --label COLUMN (the column that holds the classes or targets)")
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--csv {path}: no such file")
    if file.stat().st_size > MAX_CSV_BYTES:
        raise UsageError(f"--csv {path}: the file is larger than the {MAX_CSV_BYTES // 2**20} MB limit")
    return register_csv(file.read_bytes(), label, file_name=file.name)


def _check_out(path: str | None) -> None:
    """--out must be writable before hours of training are spent, not after."""
    if path is None:
        return
    import os
    from pathlib import Path

    out = Path(path)
    if out.is_dir():
        raise UsageError(f"--out {path} is a folder; give a file name such as {out / 'epochs.csv'}")
    if not out.parent.is_dir():
        raise UsageError(f"--out {path}: the folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK):
        raise UsageError(f"--out {path}: the folder {out.parent} is not writable")


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

    _check_out(args.out)
    args.dataset = _csv_dataset(args) or args.dataset
    vary = {k: [v for v in vs.split(",") if v.strip()] for k, vs in _pairs(args.vary, "--vary").items()}
    comparison = Comparison.of(_baseline(args), vary, args.seeds)
    if args.tune_lr is not None:  # TUNING: each variant at its own best learning rate
        from core.tuning_cli import compare_tuned

        return compare_tuned(comparison, args, _store, _print_progress, _jsonable)
    store = None if args.no_store else _store()
    result = run_comparison(comparison, store, None if args.json else _print_progress)
    if args.out:
        result.export_epochs().to_csv(args.out, index=False)  # diverged runs keep their rows
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
    from core.claims import CLAIMS, MAP_DATASETS, run_all, run_claim

    # SECURITY: --csv/--label, validated. None = each claim's default data (its own, or digits).
    dataset = _csv_dataset(args) or args.dataset
    store = _store()
    seeds = getattr(args, "seeds", None)
    if seeds is not None and not 2 <= seeds <= MAX_CLAIM_SEEDS:
        raise UsageError(f"--seeds must be from 2 to {MAX_CLAIM_SEEDS}")
    if getattr(args, "all", False):
        datasets = list(MAP_DATASETS) if dataset == "all" else [dataset or "digits"]
        verdicts = [v for d in datasets for v in run_all(d, store, seeds=seeds)]
    else:
        if args.id not in CLAIMS:
            raise UsageError(f"unknown claim {args.id!r}; claims are: {', '.join(CLAIMS)}")
        if getattr(args, "tune_lr", False):  # TUNING: decided at the fixed rate and LR-tuned
            from core.tuning_cli import claim_tuned

            return claim_tuned(args, dataset, store, seeds, _jsonable, _claim_line)
        verdicts = [run_claim(args.id, dataset, store, seeds=seeds)]
    records = [v.to_dict() for v in verdicts]
    if args.json:
        out = records if getattr(args, "all", False) else records[0]
        print(json.dumps(_jsonable(out), allow_nan=False))
    else:
        for r in records:
            print(_claim_line(r))
    return 0


def _claim_line(r: dict[str, Any]) -> str:
    """id, dataset, verdict, effect with unit, interval, p and seeds on one line; the sentence below."""
    from core.claims import fmt

    low, high = r["ci"]
    return (
        f"{r['id']:5} {r['dataset']:13} {r['verdict']:14} effect {fmt(r['effect'])} {r['unit']} "
        f"[{fmt(low)}, {fmt(high)}] p={fmt(r['p_value'])} seeds={r['seeds']}\n      {r['sentence']}"
    )


def cmd_bench(args: argparse.Namespace) -> int:
    from core import bench

    if args.backend == "ray":  # EXPORT: local vs Ray wall time and per-task overhead
        from core.backends.bench import main as backend_bench

        return backend_bench()
    if args.epochs < 1:  # before the header: nothing is printed for a run that cannot happen
        raise UsageError(f"--epochs must be at least 1, got {args.epochs}")
    bench.main(args.epochs)
    return 0


def cmd_export_tb(args: argparse.Namespace) -> int:
    """EXPORT: the comparison `compare` would show, as TensorBoard logs in --logdir."""
    from core.runner import run_comparison
    from core.tensorboard import check_logdir, write_logdir

    check_logdir(args.logdir)
    vary = {k: [v for v in vs.split(",") if v.strip()] for k, vs in _pairs(args.vary, "--vary").items()}
    comparison = Comparison.of(_baseline(args), vary, args.seeds)
    result = run_comparison(comparison, None if args.no_store else _store(), _print_progress)
    root = write_logdir(result, args.logdir)
    print(f"{len(result.runs)} run(s) written to {root}; view with: tensorboard --logdir {root}")
    return 0


def cmd_landscape(args: argparse.Namespace) -> int:
    """LANDSCAPE: the loss landscape of one run of a comparison (core.landscape_cli)."""
    from core.landscape_cli import run_landscape

    args.dataset = _csv_dataset(args) or args.dataset
    vary = {k: [v for v in vs.split(",") if v.strip()] for k, vs in _pairs(args.vary, "--vary").items()}
    comparison = Comparison.of(_baseline(args), vary, args.seeds)
    return run_landscape(comparison, args, None if args.no_store else _store(), _jsonable)


def _store():
    from core.store import RunStore

    store = RunStore()
    if store.notice:
        print(store.notice, file=sys.stderr)
    if store.unsaved:
        print(f"warning: results are not being saved ({store.unsaved}): {store.path}", file=sys.stderr)
    return store


def _landscape_parser(sub) -> argparse.ArgumentParser:
    """LANDSCAPE: compare's selection options (knobs added by the caller), which run, what to skip."""
    ls = sub.add_parser("landscape", help="loss landscape of a run: interpolation, slices, sharpness")
    ls.add_argument("--vary", action="append", default=[], metavar="KNOB=V1,V2")
    ls.add_argument("--seeds", type=int, default=1)
    ls.add_argument("--member", type=int, default=0, help="which run of the comparison (member order)")
    ls.add_argument("--no-2d", action="store_true", help="skip the 25x25 slice")
    ls.add_argument("--no-store", action="store_true", help="do not read or write the run store")
    ls.add_argument("--csv", metavar="FILE", help="train on your own CSV (validated as an upload)")
    ls.add_argument("--label", metavar="COLUMN", help="with --csv: the label column")
    ls.set_defaults(func=cmd_landscape)
    return ls


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core", description="Hyperparameter what-if explorer, from the shell"
    )
    sub = p.add_subparsers(dest="command", required=True)

    def own_csv(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--csv", metavar="FILE", help="train on your own CSV (validated as an upload)")
        sp.add_argument("--label", metavar="COLUMN", help="with --csv: the label column")

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
    c.add_argument(  # TUNING
        "--tune-lr",
        metavar="V1,V2,...|range",
        help="train every variant at each of these learning rates (or 'range': a grid around the LR "
        "range test's suggestion) and report it at its best (picked on half the validation split)",
    )
    own_csv(c)
    c.set_defaults(func=cmd_compare)
    lr = sub.add_parser("lr-find", help="LR range test")
    knobs(lr)
    lr.set_defaults(func=cmd_lr_find)
    cl = sub.add_parser("claim", help="test one claim of the notes")
    cl.add_argument("id")
    cl.add_argument("--dataset")
    cl.add_argument("--seeds", type=int, help="seeds per arm instead of the preset's")
    cl.add_argument("--json", action="store_true")
    cl.add_argument(  # TUNING
        "--tune-lr",
        action="store_true",
        help="decide it twice: at the preset's fixed learning rate, and with every arm at its own best "
        "of five rates around it (tunable claims: BN1, BS2-BS4, WD1-WD3)",
    )
    own_csv(cl)
    cl.set_defaults(func=cmd_claim)
    ca = sub.add_parser("claims", help="test every claim of the notes")
    ca.add_argument("--all", action="store_true", required=True)
    ca.add_argument("--dataset", help="a dataset, or 'all' for the robustness map's datasets")
    ca.add_argument("--seeds", type=int, help="seeds per arm instead of the presets'")
    ca.add_argument("--json", action="store_true")
    ca.set_defaults(func=cmd_claim)
    b = sub.add_parser("bench", help="stacked trainer vs plain keras fit")
    b.add_argument("--epochs", type=int, default=30)
    b.set_defaults(func=cmd_bench)
    # EXPORT: export-tb (compare's selection options + --logdir) and --backend on what trains.
    tb = sub.add_parser("export-tb", help="a comparison as TensorBoard logs (scalars, histograms, hparams)")
    tb.add_argument("--dataset")
    tb.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE")
    tb.add_argument("--vary", action="append", default=[], metavar="KNOB=V1,V2")
    tb.add_argument("--seeds", type=int, default=1)
    tb.add_argument("--no-store", action="store_true", help="do not read or write the run store")
    tb.add_argument("--logdir", required=True, help="a new or empty folder")
    tb.set_defaults(func=cmd_export_tb)
    knobs(_landscape_parser(sub))
    for name in ("compare", "lr-find", "claim", "claims", "bench", "export-tb", "landscape"):
        backends.add_cli_option(sub.choices[name])
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        backends.select(getattr(args, "backend", None))
        return args.func(args)
    except ValueError as err:  # includes DataUnavailable and spec validation
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: the store keeps every finished group
        print("interrupted: finished groups are stored; the same command resumes", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
