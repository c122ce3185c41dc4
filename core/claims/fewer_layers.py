"""Claim EG4: fewer layers tame exploding gradients.

The exploding setting of core.claims.exploding (ReLU layers initialized with std 1, plain SGD)
at decreasing depth, nothing else changed. Each layer multiplies the signal's variance by about
fan_in/2, so the blow-up should shrink with every layer removed. Two measurements, both must
agree:
- the blow-up rate: runs that blew up, collapsed or did not get below half their starting loss
  (EG2's "not prevented"), deepest vs shallowest, by Fisher's exact test;
- the peak gradient norm of each run (largest global norm over its steps, in decades), deepest
  vs shallowest, paired by seed. A norm that overflowed float32 counts as float32's largest
  number, not as missing: the worst explosions must not drop out of the comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import measures
from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.exploding import EG_DEPTH, eg_base, not_prevented
from core.claims.runs import sig3
from core.results import ComparisonResult
from core.spec import Comparison

EG4_DEPTHS = (EG_DEPTH, 4, 2, 1)  # the exploding depth, then fewer layers down to one
FLOAT32_MAX = float(np.finfo(np.float32).max)  # an overflowed norm (inf) is scored as this
DECADE_MARGIN = 1.0  # decades of gradient norm: a tenfold change is the least that matters


def preset_eg4(dataset: str, fast: bool) -> list[Comparison]:
    return [runs.of(eg_base(dataset, fast), {"depth": EG4_DEPTHS})]


def peak_decades(results: list[ComparisonResult]) -> pd.Series:
    """Per run key: log10 of the largest global gradient norm over its recorded steps (inf or
    NaN-only runs, i.e. overflow, count as float32's largest number)."""
    steps = runs.frame(results, "steps")
    if steps.empty or "grad_norm" not in steps:
        return pd.Series(dtype=float)
    norms = pd.to_numeric(steps["grad_norm"], errors="coerce").astype(float)
    norms = norms.where(np.isfinite(norms) | norms.isna(), FLOAT32_MAX)  # inf -> overflow
    peak = norms.groupby(steps["key"]).max().fillna(FLOAT32_MAX).clip(lower=np.finfo(np.float32).tiny)
    return np.log10(peak)


def with_outcomes(results: list[ComparisonResult]) -> pd.DataFrame:
    """runs.table plus, per run, `peak` (log10 peak gradient norm) and `not_trained` (EG2's not
    prevented: blew up, collapsed or ended above half its starting loss)."""
    t = runs.table(results)
    if t.empty:
        return t.assign(peak=[], not_trained=[])
    start = runs.start_loss(results)
    return t.assign(
        peak=t["key"].map(peak_decades(results)).astype(float),
        not_trained=not_prevented(t, start).to_numpy(bool),
    )


def depth_table(results: list[ComparisonResult]) -> pd.DataFrame:
    """One row per depth, deepest first: runs, how many blew up (NaN/inf or a 100x jump), how many
    did not train (blew up, collapsed or stayed above half the starting loss), and the median
    over seeds of each run's peak gradient norm. The page's table and EG4's numbers."""
    t = with_outcomes(results)
    if t.empty:
        return pd.DataFrame(columns=["depth", "runs", "blew_up", "did_not_train", "median_peak_grad_norm"])
    return (
        t.assign(blew_up=measures.flags(t["diverged"]).to_numpy(bool))
        .groupby("depth")
        .agg(
            runs=("key", "size"),
            blew_up=("blew_up", "sum"),
            did_not_train=("not_trained", "sum"),
            median_peak_grad_norm=("peak", lambda p: float(10 ** p.median())),
        )
        .reset_index()
        .sort_values("depth", ascending=False, ignore_index=True)
    )


def rule_eg4(results: list[ComparisonResult]) -> Outcome:
    t = with_outcomes(results)
    depths = runs.values(t, "depth")
    deep, shallow = runs.select(t, depth=max(depths)), runs.select(t, depth=min(depths))

    def failures(rows: pd.DataFrame) -> int:
        return int(rows["not_trained"].sum())

    parts = (
        stats.counts(
            failures(deep),
            len(deep),
            failures(shallow),
            len(shallow),
            runs.SHARE_MARGIN,
            label="fewer layers blow up less often",
        ),
        runs.column_test(
            deep,
            shallow,
            "peak",
            DECADE_MARGIN,
            "decades of gradient norm",
            label="fewer layers, smaller peak",
        ),
    )
    n: dict = {}
    for row in depth_table(results).itertuples():
        n[f"not_trained_depth_{row.depth}"] = f"{row.did_not_train}/{row.runs}"
        n[f"median_peak_grad_norm_depth_{row.depth}"] = row.median_peak_grad_norm
    listing = "; ".join(
        f"{d} layer{'s' if d > 1 else ''}: {n[f'not_trained_depth_{d}']} runs blew up or did not train, "
        f"median peak gradient norm {sig3(n[f'median_peak_grad_norm_depth_{d}'])}"
        for d in sorted(depths, reverse=True)
    )
    text = f"the exploding setting (ReLU, weights with std 1, plain SGD) at decreasing depth: {listing}"
    return runs.combined(parts, n, text)


CLAIMS = (
    Claim(
        "EG4",
        "exploding",
        "Using fewer layers tames exploding gradients.",
        f"The exploding network of EG1-EG3 at depths {', '.join(str(d) for d in EG4_DEPTHS)}: runs that blew "
        "up, collapsed or did not get below half their starting loss (Fisher's exact test), and each run's "
        "peak gradient norm in decades (paired by seed), deepest vs shallowest.",
        preset_eg4,
        rule_eg4,
        stats.FISHER,
        "share of runs",
        runs.SHARE_MARGIN,
        "one run in five either way is within what seeds alone produce; for the peak norm, one decade "
        "(tenfold) is the least change that matters",
    ),
)
