"""The numbers behind the batch size, regularization and batch normalization pages. No Streamlit.

What the pages decide from their own runs: the variant sets they train (regularizers side by
side, batch sizes under the linear scaling rule, L1 vs L2 for timing; core.variants.VariantSet),
seed-to-seed spread, update norms per step, the largest learning rate that still trains, the
spread across init schemes, and the tables that put them together. The measurements themselves
(generalization gap, time per epoch, epochs to a target, who did not train) come from
core.measures, so these pages and the claims read the same numbers. Everything takes and returns
long-form DataFrames (core.results' frames), so tests build them by hand.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from core import measures, variants
from core.measures import ordered
from core.spec import Comparison, Experiment, variant_label


# -- batch size ----------------------------------------------------------------------------------
def full_batch(n_samples: int, val_fraction: float) -> int:
    """The training-set size for n_samples (what "full batch" means). Datasets smaller than
    n_samples have fewer rows; the trainer clamps an over-large batch to the real training set."""
    return max(1, n_samples - round(n_samples * val_fraction))


def lr_scaled(comparison: Comparison, reference: int | None = None) -> variants.VariantSet:
    """The same comparison with the linear scaling rule: lr x batch_size / reference batch size.

    The baseline's learning rate is taken as tuned for the baseline's batch size (the
    reference), so the rule changes nothing at that batch size. Labels stay those of the
    unscaled comparison: a variant keeps its colour when the rule is switched on or off.
    """
    ref = reference or comparison.baseline.batch_size
    named = {}
    for variant in comparison.variants():
        e = dataclasses.replace(comparison.baseline, **variant)
        used = min(e.batch_size, full_batch(e.n_samples, e.val_fraction))
        named[variant_label(variant)] = dataclasses.replace(e, learning_rate=e.learning_rate * used / ref)
    return variants.VariantSet.of(named, comparison.seeds)


def training_clock(epochs: pd.DataFrame) -> pd.DataFrame:
    """The epochs frame with `seconds` counted from the start of training, the first epoch's
    compile overhead removed (see epoch_times), so wall-clock curves compare training speed."""
    if epochs is None or epochs.empty:
        return epochs
    overhead = measures.epoch_times(epochs).set_index("key")["overhead"]
    out = epochs.copy()
    out["seconds"] = pd.to_numeric(out["seconds"], errors="coerce") - out["key"].map(overhead).fillna(0.0)
    return out


def with_steps(epochs: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The epochs frame with `step`: optimizer steps taken by the end of each epoch."""
    if epochs is None or epochs.empty or "steps_per_epoch" not in summary:
        return epochs
    per = summary.set_index("key")["steps_per_epoch"]
    return epochs.assign(step=epochs["epoch"] * epochs["key"].map(per))


def update_norm_by_epoch(steps: pd.DataFrame) -> pd.DataFrame:
    """Mean size of one update (||w_after - w_before||) per run and epoch, finite steps only."""
    cols = ["key", "variant", "seed", "epoch", "update_norm"]
    if steps is None or steps.empty or "update_norm" not in steps:
        return pd.DataFrame(columns=cols)
    df = steps[np.isfinite(pd.to_numeric(steps["update_norm"], errors="coerce"))]
    return df.groupby(["key", "variant", "seed", "epoch"], sort=False)["update_norm"].mean().reset_index()


def seed_spread(summary: pd.DataFrame, metric: str, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Per variant: mean, std, min, max and range of `metric` over the seeds that did not
    diverge, with how many seeds that is and how many diverged. The batch-size consistency
    claim is this table's std/range column."""
    cols = ["variant", "mean", "std", "min", "max", "range", "seeds", "diverged"]
    if summary is None or summary.empty or metric not in summary:
        return pd.DataFrame(columns=cols)
    df = summary.assign(
        _v=pd.to_numeric(summary[metric], errors="coerce"),
        _d=measures.did_not_train(summary),
    )
    rows = []
    for variant, g in df.groupby("variant", sort=False):
        ok = g.loc[~g["_d"] & np.isfinite(g["_v"]), "_v"]
        rows.append(
            {
                "variant": variant,
                "mean": ok.mean() if len(ok) else np.nan,
                "std": ok.std(ddof=1) if len(ok) > 1 else np.nan,
                "min": ok.min() if len(ok) else np.nan,
                "max": ok.max() if len(ok) else np.nan,
                "range": ok.max() - ok.min() if len(ok) else np.nan,
                "seeds": len(ok),
                "diverged": int(g["_d"].sum()),
            }
        )
    return ordered(pd.DataFrame(rows, columns=cols), order)


def batch_table(
    summary: pd.DataFrame, epochs: pd.DataFrame, steps: pd.DataFrame, order: Sequence[str] | None = None
) -> pd.DataFrame:
    """Per variant (batch size): the batch actually used, the learning rate (when it varies, e.g.
    under the linear scaling rule), steps per epoch, seconds per epoch, the mean update norm per
    step, its noise (coefficient of variation over steps) and the ground covered per epoch
    (mean update norm x steps), averaged over seeds."""
    cols = [
        "variant", "batch_size_used", "learning_rate", "steps_per_epoch", "time_per_epoch",
        "update_norm", "update_noise", "update_per_epoch", "val_accuracy_std", "generalization_gap",
    ]  # fmt: skip
    if summary is None or summary.empty:
        return pd.DataFrame(columns=cols)
    times = measures.epoch_times(epochs).groupby("variant", sort=False)["time_per_epoch"].mean()
    s = steps[np.isfinite(pd.to_numeric(steps["update_norm"], errors="coerce"))] if len(steps) else steps
    if len(s):
        per_run = s.groupby(["variant", "key"], sort=False)["update_norm"].agg(["mean", "std"])
        per_run["cv"] = per_run["std"] / per_run["mean"]
        norms = per_run.groupby("variant", sort=False)[["mean", "cv"]].mean()
    else:
        norms = pd.DataFrame(columns=["mean", "cv"])
    g = measures.with_gaps(summary)
    rows = []
    for variant, runs in g.groupby("variant", sort=False):
        spe = float(pd.to_numeric(runs["steps_per_epoch"], errors="coerce").mean())
        norm = float(norms["mean"].get(variant, np.nan))
        lr = runs["learning_rate"].iloc[0] if "learning_rate" in runs else np.nan
        alive = runs[~measures.did_not_train(runs)]
        rows.append(
            {
                "variant": variant,
                "batch_size_used": int(runs["batch_size_used"].iloc[0])
                if "batch_size_used" in runs
                else None,
                "learning_rate": lr,
                "steps_per_epoch": spe,
                "time_per_epoch": float(times.get(variant, np.nan)),
                "update_norm": norm,
                "update_noise": float(norms["cv"].get(variant, np.nan)),
                "update_per_epoch": norm * spe,
                "val_accuracy_std": pd.to_numeric(alive["final_val_accuracy"], errors="coerce").std(ddof=1),
                "generalization_gap": alive["generalization_gap"].mean(),
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    if "learning_rate" not in summary:  # not varied: the same for every row, said elsewhere
        out = out.drop(columns="learning_rate")
    return ordered(out, order)


# -- regularization ------------------------------------------------------------------------------
def regularization_set(
    base: Experiment, l1: float, l2: float, dropout: float, seeds: int
) -> variants.VariantSet:
    """none / L1 / L2 / L1+L2 / dropout on one network: every other knob from `base`.

    All five differ only in per-member knobs, so they train as one stacked model. A zero
    strength would make a variant a copy of "none"; such variants are left out.
    """
    clean = dataclasses.replace(base, l1=0.0, l2=0.0, dropout=0.0)
    named = {"none": clean}
    if l1 > 0:
        named["L1"] = dataclasses.replace(clean, l1=l1)
    if l2 > 0:
        named["L2"] = dataclasses.replace(clean, l2=l2)
    if l1 > 0 and l2 > 0:
        named["L1+L2"] = dataclasses.replace(clean, l1=l1, l2=l2)
    if dropout > 0:
        named["dropout"] = dataclasses.replace(clean, dropout=dropout)
    return variants.VariantSet.of(named, seeds)


def cost_set(base: Experiment, l1: float, l2: float, seeds: int) -> variants.VariantSet:
    """none / L1 / L2 on one network, for timing: train it with separate=True (one run per
    model), since stacked members share one clock."""
    clean = dataclasses.replace(base, l1=0.0, l2=0.0, dropout=0.0)
    named = {"none": clean, "L1": dataclasses.replace(clean, l1=l1), "L2": dataclasses.replace(clean, l2=l2)}
    return variants.VariantSet.of(named, seeds)


def cost_table(summary: pd.DataFrame, epochs: pd.DataFrame, reference: str = "none") -> pd.DataFrame:
    """Per run: seconds per epoch (compile excluded) and whether the run was trained alone.

    Only runs trained alone (group_size 1) have a clock of their own; a run that came from a
    stacked group is marked and must not be used as a timing.
    """
    cols = ["key", "variant", "seed", "time_per_epoch", "alone", "relative"]
    if summary is None or summary.empty:
        return pd.DataFrame(columns=cols)
    t = measures.epoch_times(epochs)[["key", "time_per_epoch"]]
    df = summary[["key", "variant", "seed"]].merge(t, on="key", how="left")
    sizes = summary.set_index("key")["group_size"] if "group_size" in summary else pd.Series(dtype=float)
    df["alone"] = df["key"].map(sizes).fillna(1).astype(int) == 1
    ref = df[(df["variant"] == reference) & df["alone"]]["time_per_epoch"].median()
    df["relative"] = df["time_per_epoch"] / ref if ref and np.isfinite(ref) else np.nan
    return df[cols]


def cost_finding(table: pd.DataFrame, costly: str = "L1", cheap: str = "L2") -> dict[str, Any]:
    """Is `costly` slower per epoch than `cheap` by more than the run-to-run spread?

    Returns outcome ("holds" / "does not hold" / "inconclusive") with the medians, the ratio
    and a sentence. Holds only if every timed `costly` run is slower than every `cheap` one;
    does not hold if they overlap by a ratio within 5% or `costly` is the faster.
    """
    alone = table[table["alone"]] if "alone" in table else table
    a = pd.to_numeric(alone.loc[alone["variant"] == costly, "time_per_epoch"], errors="coerce").dropna()
    b = pd.to_numeric(alone.loc[alone["variant"] == cheap, "time_per_epoch"], errors="coerce").dropna()
    if a.empty or b.empty:
        return {"outcome": "inconclusive", "ratio": np.nan, "sentence": "Not enough separately timed runs."}
    ratio = float(a.median() / b.median())
    if a.min() > b.max():
        outcome = "holds"
        how = "every run of it was slower than every run of"
    elif ratio <= 1.05 or a.max() < b.min():
        outcome = "does not hold"
        how = "it was not measurably slower than"
    else:
        outcome = "inconclusive"
        how = "its runs overlap with those of"
    sentence = (
        f"{costly} took {a.median() * 1000:.1f} ms per epoch, {cheap} {b.median() * 1000:.1f} ms "
        f"(ratio {ratio:.2f}): {how} {cheap} on this hardware."
    )
    return {"outcome": outcome, "ratio": ratio, "sentence": sentence}


# -- batch normalization -------------------------------------------------------------------------
def lr_stability(
    summary: pd.DataFrame, steps: pd.DataFrame, arm: str = "batch_norm", improve: float = 0.5
) -> pd.DataFrame:
    """Per (arm, learning rate): seeds, diverged seeds, mean final train loss, mean first-step
    loss, and `stable`: no seed diverged and every seed ended below `improve` x its first loss.

    "Did not blow up" alone is too lenient: a rate so large that the loss sits at chance level
    without ever turning NaN has not trained either.
    """
    cols = [arm, "learning_rate", "seeds", "diverged", "final_train_loss", "start_loss", "stable"]
    if summary is None or summary.empty or arm not in summary:
        return pd.DataFrame(columns=cols)
    start = measures.initial_loss(steps)
    df = summary.assign(
        _d=measures.did_not_train(summary),
        _final=pd.to_numeric(summary["final_train_loss"], errors="coerce"),
        _start=summary["key"].map(start).astype(float),
    )
    trained = ~df["_d"] & np.isfinite(df["_final"]) & (df["_final"] < improve * df["_start"].fillna(np.inf))
    df = df.assign(_ok=trained)
    rows = []
    for (a, lr), g in df.groupby([arm, "learning_rate"], sort=False):
        rows.append(
            {
                arm: a,
                "learning_rate": float(lr),
                "seeds": len(g),
                "diverged": int(g["_d"].sum()),
                "final_train_loss": g["_final"].mean(),
                "start_loss": g["_start"].mean(),
                "stable": bool(g["_ok"].all()),
            }
        )
    return pd.DataFrame(rows, columns=cols).sort_values([arm, "learning_rate"], kind="stable")


def stable_edges(stability: pd.DataFrame, arm: str = "batch_norm") -> pd.DataFrame:
    """Per arm: the largest stable learning rate of the sweep and the next rate above it (the
    divergence edge lies between them). NaN when no rate was stable."""
    cols = [arm, "largest_stable_lr", "first_unstable_lr", "rates"]
    if stability is None or stability.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for a, g in stability.groupby(arm, sort=False):
        g = g.sort_values("learning_rate")
        ok = g[g["stable"]]
        best = float(ok["learning_rate"].max()) if len(ok) else np.nan
        above = g[g["learning_rate"] > best] if len(ok) else g
        bad = above[~above["stable"]]
        rows.append(
            {
                arm: a,
                "largest_stable_lr": best,
                "first_unstable_lr": float(bad["learning_rate"].min()) if len(bad) else np.nan,
                "rates": len(g),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def init_spread(
    summary: pd.DataFrame, arm: str = "batch_norm", knob: str = "init", metric: str = "final_val_loss"
) -> pd.DataFrame:
    """Per arm: how much the final metric moves across init schemes — range and std of the
    per-init means (over seeds that did not diverge), the best and worst init, and how many
    runs diverged. A diverged init counts as the worst: it is the most sensitive outcome."""
    cols = [arm, "spread", "std", "best_init", "worst_init", "diverged", "inits"]
    if summary is None or summary.empty or arm not in summary or knob not in summary:
        return pd.DataFrame(columns=cols)
    df = summary.assign(
        _d=measures.did_not_train(summary), _v=pd.to_numeric(summary[metric], errors="coerce")
    )
    rows = []
    for a, g in df.groupby(arm, sort=False):
        ok = g[~g["_d"] & np.isfinite(g["_v"])]
        means = ok.groupby(knob, sort=False)["_v"].mean()
        lost = sorted(set(g[knob]) - set(means.index))
        spread = float(means.max() - means.min()) if len(means) else np.nan
        rows.append(
            {
                arm: a,
                "spread": np.inf if lost else spread,
                "std": float(means.std(ddof=0)) if len(means) else np.nan,
                "best_init": means.idxmin() if len(means) else None,
                "worst_init": lost[0] if lost else (means.idxmax() if len(means) else None),
                "diverged": int(g["_d"].sum()),
                "inits": g[knob].nunique(),
            }
        )
    return pd.DataFrame(rows, columns=cols)
