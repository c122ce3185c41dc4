"""Measurements behind the learning-rate, optimizer and weight-decay pages (pure pandas/NumPy).

Why a module of its own: each page turns result frames into a verdict-like reading ("this LR
oscillates", "this LR needs 9 epochs to reach 0.1", "the best weight decay for 200 samples is
1e-2"). Those readings must follow the runs, not the page's wording, so they live here where
they are unit-tested on hand-made frames, and the pages only draw what these functions return.

Classification of one run (LR1), from its own numbers only:
- start  = the loss of the first recorded batch (before any update: the untrained network);
- volatility = core.measures.relative_volatility: std of the step-to-step change of the batch
  loss, divided by start, so that one threshold works for any loss scale;
- peak   = the largest batch loss, divided by start.
A run is *diverged* when the trainer flagged it (NaN/inf or a 100x blow-up), when it collapsed to
chance level (core.measures.collapsed, the rule every page and claim uses), or when it blew up
(peak >= `blowup` x start) and never got back below `progress` x start: on a classifier that is
the network stuck at chance after a blow-up, which is divergence by another name. It is
*oscillating* when it survived but its volatility exceeds `oscillation`, and *converging*
otherwise. A tiny LR that barely moves is converging (slowly): no blow-up, no volatility.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core import measures
from core.measures import round_lr

STATUSES = ("converging", "oscillating", "diverged")


@dataclass(frozen=True)
class Thresholds:
    """The three numbers the LR classification uses; defaults calibrated on digits MLP sweeps
    (converging runs showed volatility <= 0.09 and peak <= 1.5; oscillating ones >= 0.24)."""

    oscillation: float = 0.15  # volatility (std of step-to-step change / start loss)
    blowup: float = 1.5  # peak batch loss / start loss that counts as a blow-up
    progress: float = 0.8  # ending at or above this fraction of the start = no recovery


# -- LR1: converging / oscillating / diverged ----------------------------------------------------
def classify_runs(
    steps: pd.DataFrame, summary: pd.DataFrame, thresholds: Thresholds = Thresholds()
) -> pd.DataFrame:
    """One row per run: key, variant, seed, start, final_loss, peak, volatility, status, reason.

    steps: ComparisonResult.frame("steps") (key, step, loss); summary: .summary() (key, variant,
    seed, diverged, final_train_loss). Runs without step rows (blew up at once) are diverged.
    """
    t = thresholds
    rows = []
    by_key = {k: g.sort_values("step") for k, g in steps.groupby("key", sort=False)} if len(steps) else {}
    collapsed = (
        dict(zip(summary["key"], measures.flags(summary["collapsed"]))) if "collapsed" in summary else {}
    )
    for run in summary.itertuples(index=False):
        g = by_key.get(run.key)
        loss = pd.to_numeric(g["loss"], errors="coerce").to_numpy(float) if g is not None else np.array([])
        finite = loss[np.isfinite(loss)]
        start = float(finite[0]) if len(finite) else math.nan
        final = float(getattr(run, "final_train_loss", math.nan))
        flagged = bool(measures.flags(pd.Series([getattr(run, "diverged", False)])).iloc[0])
        volatility = measures.relative_volatility(finite)
        peak = float(finite.max() / start) if len(finite) >= 2 and start > 0 else math.nan
        if flagged or not math.isfinite(final) or not len(finite):
            status, reason = "diverged", "loss became NaN/inf or blew up (flagged by the trainer)"
        elif collapsed.get(run.key, False):
            status, reason = "diverged", "stuck at chance level (ln C) over its last quarter of epochs"
        elif math.isfinite(peak) and peak >= t.blowup and final >= t.progress * start:
            status = "diverged"
            reason = (
                f"blew up to {peak:.1f}x its start and ended at {final:.3g}, "
                f"no better than {t.progress:.0%} of its start {start:.3g}"
            )
        elif math.isfinite(volatility) and volatility > t.oscillation:
            status = "oscillating"
            reason = f"volatility {volatility:.2f} > {t.oscillation:g} (loss jumps up and down)"
        else:
            status = "converging"
            shown = f"{volatility:.2f}" if math.isfinite(volatility) else "n/a"
            reason = f"volatility {shown} <= {t.oscillation:g}, no lasting blow-up"
        rows.append(
            {
                "key": run.key,
                "variant": run.variant,
                "seed": run.seed,
                "start": start,
                "final_loss": final,
                "peak": peak,
                "volatility": volatility,
                "status": status,
                "reason": reason,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["key", "variant", "seed", "start", "final_loss", "peak", "volatility", "status", "reason"],
    )


def classify_variants(runs: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per variant: its status (the most common among its seeds; a tie goes to the worse
    status, so one diverged seed out of two is not hidden), counts per status, mean volatility."""
    if runs.empty:
        return pd.DataFrame(columns=["variant", "status", "seeds", *STATUSES, "volatility", "final_loss"])
    out = []
    for variant in measures.variant_order(runs["variant"], order):
        mine = runs[runs["variant"] == variant]
        if mine.empty:
            continue
        counts = {s: int((mine["status"] == s).sum()) for s in STATUSES}
        top = max(counts.values())
        status = [s for s in STATUSES if counts[s] == top][-1]  # STATUSES goes from good to bad
        alive = mine[mine["status"] != "diverged"]
        out.append(
            {
                "variant": variant,
                "status": status,
                "seeds": len(mine),
                **counts,
                "volatility": float(np.nanmean(mine["volatility"]))
                if mine["volatility"].notna().any()
                else math.nan,
                "final_loss": float(alive["final_loss"].mean()) if len(alive) else math.nan,
            }
        )
    return pd.DataFrame(out)


def divergence_edge(variants: pd.DataFrame, values: Mapping[str, float]) -> float | None:
    """The smallest knob value (e.g. learning rate) whose variant is classified diverged, or None.

    values maps variant label -> knob value. "Up to the edge" in LR3 means strictly below it."""
    hit = [
        values[v] for v, s in zip(variants["variant"], variants["status"]) if s == "diverged" and v in values
    ]
    return float(min(hit)) if hit else None


# -- LR2 / MO1: epochs to a target ---------------------------------------------------------------
def slower_when_smaller(table: pd.DataFrame) -> bool | None:
    """LR2 in one bit: among variants that reached the target, does a smaller value (LR) never
    need fewer epochs? None when fewer than two variants reached it."""
    ok = table[table["reached"] > 0].dropna(subset=["value", "epochs"]).sort_values("value")
    if len(ok) < 2:
        return None
    return bool(np.all(np.diff(ok["epochs"].to_numpy(float)) <= 0))


# -- LR3: generalization gap up to the divergence edge ---------------------------------------------
def gap_to_edge(summary: pd.DataFrame, runs: pd.DataFrame, knob: str, edge: float | None) -> pd.DataFrame:
    """Per run: knob value, gap (final val - train loss), status, and `included`: below the edge
    and not itself diverged. Beyond the edge a diverged net sits at chance with train ~ val, which
    would read as a tiny gap; those runs are the edge, not evidence of regularization."""
    cols = ["key", "variant", "seed", knob, "gap", "status", "included"]
    if summary.empty or knob not in summary:
        return pd.DataFrame(columns=cols)
    df = summary[["key", "variant", "seed", knob, "final_train_loss", "final_val_loss"]].copy()
    df["gap"] = measures.generalization_gap(df)
    df = df.merge(runs[["key", "status"]], on="key", how="left")
    below = df[knob] < edge if edge is not None else pd.Series(True, index=df.index)
    df["included"] = below & (df["status"] != "diverged") & np.isfinite(df["gap"])
    return df[cols]


def gap_trend(gaps: pd.DataFrame, knob: str) -> float | None:
    """Spearman-like sign of the gap vs log(knob) among included runs: < 0 means larger values
    (LRs) give smaller gaps, the regularization the notes claim. None with < 3 distinct values."""
    ok = gaps[gaps["included"]]
    means = ok.groupby(knob)["gap"].mean()
    if len(means) < 3 or (means.index.to_numpy(float) <= 0).any():
        return None
    x = np.log(means.index.to_numpy(float))
    rx, ry = pd.Series(x).rank().to_numpy(), means.rank().to_numpy()
    if np.std(rx) == 0 or np.std(ry) == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


# -- LR range test -------------------------------------------------------------------------------
def range_frames(tests: Iterable[Any], labels: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long frames for charts.lr_finder_chart from core.lr_range RangeTests (or anything with a
    .result holding lrs/losses/smoothed/suggestions): curves (run, lr, loss, smoothed, step) and
    suggestions (run, name, lr, loss), the loss read off the smoothed curve at the suggestion."""
    curves, sugg = [], []
    for label, test in zip(labels, tests):
        r = test.result
        c = pd.DataFrame({"run": label, "lr": r.lrs, "loss": r.losses, "smoothed": r.smoothed})
        c["step"] = np.arange(len(c))
        curves.append(c)
        for name, lr in r.suggestions.items():
            loss = math.nan
            if len(r.lrs) and lr is not None and math.isfinite(lr):
                loss = float(np.interp(math.log10(lr), np.log10(r.lrs), r.smoothed))
            sugg.append(
                {"run": label, "name": name, "lr": lr, "loss": loss, "stopped_early": r.stopped_early}
            )
    curve_cols = ["run", "lr", "loss", "smoothed", "step"]
    return (
        pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=curve_cols),
        pd.DataFrame(sugg, columns=["run", "name", "lr", "loss", "stopped_early"]),
    )


def trial_lrs(suggestion: float) -> tuple[float, float, float]:
    """LR4's honest test of a suggestion: train at x0.1, x1 and x10 of it."""
    s = round_lr(suggestion)
    return round_lr(s / 10), s, round_lr(s * 10)


def best_variant(summary: pd.DataFrame, metric: str = "final_val_loss") -> tuple[str | None, pd.DataFrame]:
    """The variant with the lowest mean metric over its non-diverged seeds, and the per-variant
    means (diverged seeds left out and counted)."""
    df = summary.copy()
    df["diverged"] = measures.did_not_train(df)
    df[metric] = pd.to_numeric(df[metric], errors="coerce")
    agg = (
        df[~df["diverged"]]
        .groupby("variant", sort=False)[metric]
        .agg(["mean", "min", "max", "count"])
        .reindex(list(dict.fromkeys(df["variant"])))
    )
    agg["diverged"] = df.groupby("variant", sort=False)["diverged"].sum().astype(int)
    agg = agg.reset_index()
    ok = agg.dropna(subset=["mean"])
    return (str(ok.loc[ok["mean"].idxmin(), "variant"]) if len(ok) else None), agg


# -- optimizer sandbox -----------------------------------------------------------------------------
def sandbox_table(paths: pd.DataFrame, problem: Any, tol: float) -> pd.DataFrame:
    """Per optimizer path: outcome, steps to tolerance, final loss and the zig-zag measurements
    (crossings of the ravine floor, distance travelled across it, across/along ratio) that MO1/MO2
    are about."""
    from core.sandbox import oscillation, steps_to_tolerance

    status = paths.attrs.get("status", {})
    rows = []
    for name, g in paths.groupby("optimizer", sort=False):
        g = g.sort_values("step")
        osc = oscillation(g, problem)
        rows.append(
            {
                "optimizer": name,
                "outcome": status.get(name, ""),
                "steps_to_tol": steps_to_tolerance(g, tol),
                "final_loss": float(g["loss"].iloc[-1]),
                "crossings": osc["sign_flips"],
                "across": osc["across_path"],
                "across_vs_along": osc["ratio"],
            }
        )
    return pd.DataFrame(rows)


def oscillation_sweep(
    problem: Any, lrs: Sequence[float], betas: Sequence[float], steps: int = 100
) -> pd.DataFrame:
    """MO2: for each (lr, beta), how far heavy ball travels *across* the ravine from the default
    start (sum of |across moves|; the straight way is the initial offset) and how often it crosses
    the floor. For plain GD (beta = 0) that distance is alpha*lam / (2 - alpha*lam) times the offset
    once alpha*lam > 1, so it grows with the LR and is infinite where GD diverges."""
    from core.sandbox import oscillation, run_path

    rows = []
    for beta in betas:
        for lr in lrs:
            name = "momentum" if beta > 0 else "sgd"
            path = run_path(problem, name, float(lr), float(beta), steps=steps, tol=0.0)
            osc = oscillation(path, problem)
            diverged = path.attrs["status"] == "diverged"
            rows.append(
                {
                    "lr": float(lr),
                    "beta": float(beta),
                    "across": math.inf if diverged else osc["across_path"],
                    "max_swing": math.inf if diverged else osc["max_flip_amplitude"],
                    "crossings": osc["sign_flips"],
                    "diverged": diverged,
                }
            )
    return pd.DataFrame(rows)


# -- weight decay ------------------------------------------------------------------------------------
def best_per_row(summary: pd.DataFrame, x: str, y: str, value: str = "final_val_loss") -> pd.DataFrame:
    """For every y value (n_samples, width, lr_schedule), the x value (weight decay) with the
    lowest mean value over non-diverged seeds, its mean, and the runner-up's gap to it."""
    df = summary.copy()
    df["diverged"] = measures.did_not_train(df)
    df[value] = pd.to_numeric(df[value], errors="coerce")
    df = df[~df["diverged"] & np.isfinite(df[value])]
    cells = df.groupby([y, x], sort=True)[value].agg(["mean", "std", "count"]).reset_index()
    rows = []
    for yv, g in cells.groupby(y, sort=True):
        g = g.sort_values("mean")
        best = g.iloc[0]
        rows.append(
            {
                y: yv,
                f"best_{x}": best[x],
                "best_mean": float(best["mean"]),
                "seed_std": float(best["std"]) if pd.notna(best["std"]) else math.nan,
                "runner_up_gap": float(g.iloc[1]["mean"] - best["mean"]) if len(g) > 1 else math.nan,
                "spread": float(g["mean"].max() - g["mean"].min()),
            }
        )
    return pd.DataFrame(rows)


def final_weight_norm(weights: pd.DataFrame) -> pd.DataFrame:
    """Per run: the mean over layers of the kernel norm at the last recorded epoch."""
    if weights.empty:
        return pd.DataFrame(columns=["key", "weight_norm"])
    last = weights[weights["epoch"] == weights.groupby("key")["epoch"].transform("max")]
    return last.groupby("key", sort=False)["weight_norm"].mean().rename("weight_norm").reset_index()


def decay_method(weight_decay: float, l2: float) -> str:
    """How a run was regularized, in words: none / decoupled / L2 penalty / both."""
    if weight_decay > 0 and l2 > 0:
        return "both"
    if weight_decay > 0:
        return "decoupled weight decay"
    if l2 > 0:
        return "L2 penalty"
    return "none"


def decay_table(summary: pd.DataFrame, weights: pd.DataFrame, optimizer: str) -> pd.DataFrame:
    """Per method (none / decoupled / L2 / both) under one optimizer: mean final val loss, train
    loss and final weight norm over seeds — the weight norm shows how hard each one decayed."""
    df = summary.merge(final_weight_norm(weights), on="key", how="left")
    df["method"] = [decay_method(wd, l2) for wd, l2 in zip(df["weight_decay"], df["l2"])]
    cols = ["final_val_loss", "final_train_loss", "weight_norm"]
    for c in cols:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    out = df.groupby("method", sort=False)[cols].mean().reset_index()
    out.insert(0, "optimizer", optimizer)
    out["seeds"] = df.groupby("method", sort=False).size().to_numpy()
    return out
