"""Exploding-gradient claims EG1-EG3.

The blow-up comes from depth and initialization, as in Pascanu et al. (2013), not from a learning
rate tuned per dataset: EG_DEPTH ReLU layers initialized with std 1 (normal_large) multiply the
signal's variance by about fan_in/2 per layer (He et al. 2015), far above the 1 that keeps it
steady, on any dataset; the healthy twin is the same network with He initialization (gain 1).
Nothing is tuned to a dataset: whether it blows up on each one is part of the measurement.
"Prevented" means the run trained (final training loss below half its starting loss) and did
not blow up or collapse; a clipped network that merely stays finite at a useless loss is not
rescued.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from core import measures
from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.results import ComparisonResult
from core.spec import Comparison, Experiment

EG_DEPTH = 6
EG_INIT, EG_HEALTHY_INIT = "normal_large", "he_normal"
EG_EPOCHS = 5
EG_SIGNALS = ("nan_loss", "volatile_loss", "huge_weights", "every_layer_gradient_above_1")
EG_FACTOR = 10.0  # "volatile" / "huge" = 10x the healthy runs' median
EG3_BATCH_FACTOR = 4  # "a smaller batch": a quarter of the default
EG3_L2 = 1e-3  # the Keras tutorials' L2 strength
TRAINED_SHARE = 0.5  # trained = final training loss below half the starting loss


def eg_base(dataset: str, fast: bool) -> Experiment:
    return runs.exp(dataset, fast, EG_EPOCHS, depth=EG_DEPTH, optimizer="sgd", init=EG_INIT)


def preset_eg1(dataset: str, fast: bool) -> list[Comparison]:
    return [runs.of(eg_base(dataset, fast), {"init": (EG_HEALTHY_INIT, EG_INIT)})]


def signals(results: list[ComparisonResult], t: pd.DataFrame, healthy: pd.DataFrame) -> pd.DataFrame:
    """Per run, which symptom fired (True/False, or NaN if it could not be measured). Huge weights
    read the largest |w| after any step (the steps frame's per-step maximum, which sees the last
    finite weights before a blow-up); gradients read each layer's median over steps."""
    steps = runs.frame(results, "steps")
    vol = measures.volatility_by_run(steps, relative=True)
    peak = (
        steps.groupby("key")["weight_max_abs"].max() if "weight_max_abs" in steps else pd.Series(dtype=float)
    )
    layers = runs.frame(results, "layers")
    grad = (
        layers.groupby(["key", "layer"])["grad_norm"].median().groupby("key").min()
        if len(layers)
        else pd.Series(dtype=float)
    )
    t = t.assign(
        vol=t["key"].map(vol).astype(float),
        peak=t["key"].map(peak).astype(float),
        grad=t["key"].map(grad).astype(float),
    )
    ref = t[t["key"].isin(healthy["key"])]
    vol_ref, peak_ref = np.nanmedian(ref["vol"]), np.nanmedian(ref["peak"])

    def above(x: pd.Series, level: float) -> pd.Series:
        return (x > level).astype(object).where(x.notna() & np.isfinite(level), np.nan)

    return pd.DataFrame(
        {
            "key": t["key"],
            "nan_loss": t["diverged"].astype(bool).astype(object),
            "volatile_loss": above(t["vol"], EG_FACTOR * vol_ref),
            "huge_weights": above(t["peak"], EG_FACTOR * peak_ref),
            "every_layer_gradient_above_1": above(t["grad"], 1.0),
        }
    ).set_index("key")


def rule_eg1(results: list[ComparisonResult]) -> Outcome:
    """Each symptom: does it fire more often in the exploding runs than in the healthy ones
    (Fisher)? The claim needs every symptom the runs let us measure."""
    t = runs.table(results)
    healthy, hot = runs.select(t, init=EG_HEALTHY_INIT), runs.select(t, init=EG_INIT)
    sig = signals(results, t, healthy)
    parts, n = [], {"depth": EG_DEPTH, "did_not_train_exploding": runs.failed_text(hot)}
    for name in EG_SIGNALS:
        a, b = sig.loc[hot["key"], name].dropna(), sig.loc[healthy["key"], name].dropna()
        k_a, k_b = int((a == True).sum()), int((b == True).sum())  # noqa: E712 (object column)
        n[f"{name}_exploding"], n[f"{name}_healthy"] = f"{k_a}/{len(a)}", f"{k_b}/{len(b)}"
        if len(a) and len(b):
            parts.append(
                stats.counts(k_a, len(a), k_b, len(b), runs.SHARE_MARGIN, label=name.replace("_", " "))
            )
    listing = ", ".join(
        f"{k.replace('_', ' ')} {n[f'{k}_exploding']} vs {n[f'{k}_healthy']}" for k in EG_SIGNALS
    )
    text = (
        f"a {EG_DEPTH}-layer ReLU network initialized with std 1 vs He initialization: signs that fired "
        f"(exploding vs healthy runs): {listing}"
    )
    ev = stats.combine(parts) if parts else stats.counts(0, 0, 0, 0, runs.SHARE_MARGIN)
    return Outcome(ev, n, text, tuple(parts))


def not_prevented(rows: pd.DataFrame, start: pd.Series) -> pd.Series:
    """A run the fix did not rescue: it blew up or collapsed, or ended above half its start."""
    loss = pd.to_numeric(rows["final_train_loss"], errors="coerce")
    return runs.failed(rows) | ~(loss < TRAINED_SHARE * rows["key"].map(start))


def fix_parts(
    base: pd.DataFrame, fixes: dict[str, pd.DataFrame], start: pd.Series
) -> tuple[stats.Evidence, ...]:
    k0 = int(not_prevented(base, start).sum())
    return tuple(
        stats.counts(
            k0, len(base), int(not_prevented(rows, start).sum()), len(rows), runs.SHARE_MARGIN, label=name
        )
        for name, rows in fixes.items()
    )


def preset_eg2(dataset: str, fast: bool) -> list[Comparison]:
    base = eg_base(dataset, fast)
    return [runs.of(base, {"clipnorm": (0.0, 1.0)}), runs.of(dataclasses.replace(base, clipvalue=0.5))]


def rule_eg2(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    start = runs.start_loss(results)
    base = t[(t["clipnorm"] == 0) & (t["clipvalue"] == 0)]
    fixes = {"clipnorm 1.0": t[t["clipnorm"] > 0], "clipvalue 0.5": t[t["clipvalue"] > 0]}
    parts = fix_parts(base, fixes, start)
    n = {"not_trained_unclipped": f"{int(not_prevented(base, start).sum())}/{len(base)}"}
    n |= {
        f"not_trained_{k.split()[0]}": f"{int(not_prevented(r, start).sum())}/{len(r)}"
        for k, r in fixes.items()
    }
    text = (
        f"in a {EG_DEPTH}-layer network initialized with std 1, {n['not_trained_unclipped']} runs blew up or failed "
        f"to get below half their starting loss without clipping, {n['not_trained_clipnorm']} with clipnorm 1.0 and "
        f"{n['not_trained_clipvalue']} with clipvalue 0.5"
    )
    return runs.combined(parts, n, text)


def preset_eg3(dataset: str, fast: bool) -> list[Comparison]:
    base = eg_base(dataset, fast)
    return [
        runs.of(
            base, {"batch_size": (base.batch_size // EG3_BATCH_FACTOR, base.batch_size), "l2": (0.0, EG3_L2)}
        )
    ]


def rule_eg3(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    start = runs.start_loss(results)
    big, small = max(t["batch_size"]), min(t["batch_size"])
    base = runs.select(t, batch_size=big, l2=0.0)
    fixes = {
        f"batch {small}": runs.select(t, batch_size=small, l2=0.0),
        f"L2 {sig3(EG3_L2)}": runs.select(t, batch_size=big, l2=EG3_L2),
    }
    parts = fix_parts(base, fixes, start)
    counts = {k: f"{int(not_prevented(r, start).sum())}/{len(r)}" for k, r in fixes.items()}
    n = {"not_trained_base": f"{int(not_prevented(base, start).sum())}/{len(base)}", "batch_base": big}
    n |= {f"not_trained_{k.replace(' ', '_')}": v for k, v in counts.items()}
    text = (
        f"in a {EG_DEPTH}-layer network initialized with std 1 at batch {big}, {n['not_trained_base']} runs blew up "
        f"or failed to get below half their starting loss; "
        + ", ".join(f"with {k} {v}" for k, v in counts.items())
    )
    return runs.combined(parts, n, text)


CLAIMS = (
    Claim(
        "EG1",
        "exploding",
        "Exploding gradients show up as a NaN loss, a volatile loss, huge weights and gradient norms above 1.",
        f"Which of the four signs fire in a {EG_DEPTH}-layer ReLU network initialized with std 1 vs the same "
        "network with He initialization (largest |w| after any step; every layer's median gradient norm above "
        "1), each sign by Fisher's exact test.",
        preset_eg1,
        rule_eg1,
        stats.FISHER,
        "share of runs",
        runs.SHARE_MARGIN,
        "one run in five either way is within what seeds alone produce",
    ),
    Claim(
        "EG2",
        "exploding",
        "Gradient clipping (clipnorm 1.0 or clipvalue 0.5) prevents the blow-up.",
        "The exploding network with and without clipping: runs that blew up, collapsed or did not get below "
        "half their starting loss.",
        preset_eg2,
        rule_eg2,
        stats.FISHER,
        "share of runs",
        runs.SHARE_MARGIN,
        "one run in five either way is within what seeds alone produce",
    ),
    Claim(
        "EG3",
        "exploding",
        "A smaller batch size and an L2 penalty also help against exploding gradients.",
        "The exploding network with a 4x smaller batch, and with L2 1e-3: runs that blew up, collapsed or did "
        "not get below half their starting loss.",
        preset_eg3,
        rule_eg3,
        stats.FISHER,
        "share of runs",
        runs.SHARE_MARGIN,
        "one run in five either way is within what seeds alone produce",
    ),
)
