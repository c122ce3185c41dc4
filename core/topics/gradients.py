"""The numbers behind the gradient pages: vanishing-layer flags, exploding-gradient signals,
clipping statistics, and `expand` (several named changes next to one baseline, as a VariantSet).
Equal parameter budgets and random-label memorization live in core.topics.wide_deep.

Pure pandas/NumPy on the long-form frames of core.results (no Streamlit, no TensorFlow), so each
rule the pages apply to "what happened in this run" is a function with a unit test, and the
thresholds are named constants with the reason for their value next to them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.measures import ordered
from core.results import ComparisonResult, RunResult
from core.spec import Comparison, Experiment, variant_label
from core.variants import VariantSet

# -- vanishing gradients -------------------------------------------------------------------------
# A layer whose gradient is 100,000 times smaller than the output layer's moves 100,000 times
# slower at the same learning rate: over a training run of thousands of steps it stays where
# its initialization put it. The issue asks for this cut-off explicitly.
VANISH_RATIO = 1e-5


def layer_ratios(layers: pd.DataFrame, threshold: float = VANISH_RATIO) -> pd.DataFrame:
    """Per variant and layer: how large its gradient is next to the last (output) layer's.

    Each run's gradient norm per layer is averaged over its recorded steps and divided by the
    same run's last-layer average; variants combine their seeds by the geometric mean (ratios
    spanning decades average on a log scale). `flagged` = the ratio is below `threshold`;
    `flagged_runs` says in how many of the variant's seeds that held on its own.
    Columns: variant, layer, layer_name, grad_norm, ratio, flagged, flagged_runs, runs.
    """
    cols = ["variant", "layer", "layer_name", "grad_norm", "ratio", "flagged", "flagged_runs", "runs"]
    if layers is None or layers.empty or not {"key", "variant", "layer", "grad_norm"} <= set(layers):
        return pd.DataFrame(columns=cols)
    df = layers[np.isfinite(layers["grad_norm"].astype(float))]
    if "layer_name" not in df:
        df = df.assign(layer_name="")
    per_run = (
        df.groupby(["variant", "key", "layer"], sort=False)
        .agg(grad_norm=("grad_norm", "mean"), layer_name=("layer_name", "first"))
        .reset_index()
    )
    last_layer = per_run.groupby("key")["layer"].transform("max")
    last = per_run[per_run["layer"] == last_layer].set_index("key")["grad_norm"]
    per_run["ratio"] = per_run["grad_norm"] / per_run["key"].map(last)
    per_run["flag"] = per_run["ratio"] < threshold
    with np.errstate(divide="ignore"):  # a zero norm (dead layer) has log -inf: geometric mean 0
        per_run["log_norm"] = np.log(per_run["grad_norm"].astype(float))
        per_run["log_ratio"] = np.log(per_run["ratio"].astype(float))
    out = (
        per_run.groupby(["variant", "layer"], sort=False)
        .agg(
            layer_name=("layer_name", "first"),
            log_norm=("log_norm", "mean"),
            log_ratio=("log_ratio", "mean"),
            flagged_runs=("flag", "sum"),
            runs=("key", "nunique"),
        )
        .reset_index()
    )
    out["grad_norm"], out["ratio"] = np.exp(out["log_norm"]), np.exp(out["log_ratio"])
    out["flagged"] = out["ratio"] < threshold
    out["flagged_runs"] = out["flagged_runs"].astype(int)
    return out[cols]


def vanishing_summary(ratios: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per variant: first/last-layer ratio, the smallest layer ratio, and which layers
    are flagged (names, input side first). Columns: variant, first_last_ratio, smallest_ratio,
    flagged_layers, n_flagged, n_layers."""
    cols = ["variant", "first_last_ratio", "smallest_ratio", "flagged_layers", "n_flagged", "n_layers"]
    if ratios.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for variant, g in ratios.groupby("variant", sort=False):
        g = g.sort_values("layer")
        hidden = g.iloc[:-1]  # the last layer's ratio to itself is 1 by definition
        flagged = hidden[hidden["flagged"]]
        rows.append(
            {
                "variant": variant,
                "first_last_ratio": float(g["ratio"].iloc[0]),
                "smallest_ratio": float(hidden["ratio"].min()) if len(hidden) else 1.0,
                "flagged_layers": ", ".join(flagged["layer_name"].astype(str)) or "none",
                "n_flagged": len(flagged),
                "n_layers": len(g),
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    return ordered(out, order)


# -- exploding gradients: detection ----------------------------------------------------------------
# The exploding page's default run (and the worker's prewarm of it), tuned on digits: every seed
# blows up within two steps, and clipping lets it train (~70-90% val).
BLOWS_UP = Experiment(
    activation="leaky_relu",
    depth=6,
    width=32,
    init="normal_large",
    learning_rate=0.01,
    batch_size=64,
    epochs=5,
)
# "Unstable": one update changes the loss by more than the loss itself was lately (it doubles,
# or drops to nothing), and by at least half a nat — half a nat is the change from a 60% to a
# 100% confident correct answer on every example, far beyond mini-batch noise of a healthy run.
UNSTABLE_REL = 1.0
UNSTABLE_MIN = 0.5
UNSTABLE_WINDOW = 10  # "lately": median of the previous 10 recorded batch losses
# "Weights growing fast": the total kernel norm grows by half in one epoch (healthy training
# moves it by a few percent per epoch once under way), or some weight exceeds 100 in size
# (inputs are standardized, so a weight of 100 turns a 1-sigma input into a pre-activation of 100).
WEIGHT_GROWTH = 1.5
WEIGHT_HUGE = 100.0
# "Consistently above 1": every layer's gradient norm above 1 for this many recorded steps in a row
# (or for all of them, in a run that stopped sooner).
GRAD_ABOVE = 1.0
GRAD_STREAK = 20
# "No traction": the training loss at the end of an epoch is no better than guessing the class
# shares (the cross-entropy of always predicting the training class frequencies).

SIGNALS = {
    "nan": "loss NaN / blew up",
    "unstable": "loss unstable",
    "weights": "weights growing fast",
    "grads": "gradient norms > 1",
    "poor": "poor loss (no traction)",
}
SIGNAL_HELP = {
    "nan": "the loss turned NaN/inf, or exceeded 100x its first value (the trainer stops the run there)",
    "unstable": f"one update changed the batch loss by more than max({UNSTABLE_MIN} nats, "
    f"{UNSTABLE_REL:g} x its median over the previous {UNSTABLE_WINDOW} steps)",
    "weights": f"the total kernel norm grew {WEIGHT_GROWTH:g}x within one epoch, or some |w| exceeded "
    f"{WEIGHT_HUGE:g}",
    "grads": f"every layer's gradient norm above {GRAD_ABOVE:g} for {GRAD_STREAK} recorded steps in a row "
    "(or on every step of a run that stopped sooner)",
    "poor": "training loss at an epoch's end no better than guessing the class shares",
}


@dataclass(frozen=True)
class Fired:
    """When a signal first fired in one run (step and/or epoch), and the number that made it."""

    signal: str
    fired: bool
    step: int | None = None
    epoch: int | None = None
    evidence: str = ""

    @property
    def when(self) -> str:
        if not self.fired:
            return "—"
        if self.step is not None:
            return f"step {self.step} (epoch {self.epoch})"
        return f"epoch {self.epoch}"


def _epoch_of(steps: pd.DataFrame, step: int, steps_per_epoch: int | None) -> int:
    hit = steps.loc[steps["step"] == step, "epoch"] if "epoch" in steps else pd.Series(dtype=int)
    if len(hit):
        return int(hit.iloc[0])
    return step // steps_per_epoch + 1 if steps_per_epoch else 1


def detect_nan(steps: pd.DataFrame, summary: Mapping[str, Any]) -> Fired:
    loss = steps["loss"].to_numpy(float) if "loss" in steps else np.array([])
    bad = np.flatnonzero(~np.isfinite(loss))
    spe = summary.get("steps_per_epoch")
    if len(bad):
        step = int(steps["step"].iloc[bad[0]])
        return Fired("nan", True, step, _epoch_of(steps, step, spe), "loss not finite")
    div = int(summary.get("diverged_step", -1) or -1)
    if summary.get("diverged") and div >= 0:
        rows = steps[steps["step"] == div]
        value = float(rows["loss"].iloc[0]) if len(rows) else float("nan")
        what = f"loss {value:.3g}" if math.isfinite(value) else "loss not finite"
        return Fired("nan", True, div, _epoch_of(steps, div, spe), f"{what}: run stopped")
    return Fired("nan", False)


def detect_unstable(steps: pd.DataFrame) -> Fired:
    if "loss" not in steps or len(steps) < 2:
        return Fired("unstable", False)
    s = steps.sort_values("step")
    loss = s["loss"].astype(float)
    recent = loss.shift(1).rolling(UNSTABLE_WINDOW, min_periods=1).median()
    change = loss.diff().abs()
    jump = (change > np.maximum(UNSTABLE_MIN, UNSTABLE_REL * recent)) & np.isfinite(loss)
    if not jump.any():
        return Fired("unstable", False)
    first = jump.idxmax()
    n = int(jump.sum())
    step = int(s.loc[first, "step"])
    evidence = f"{loss.shift(1)[first]:.3g} → {loss[first]:.3g}; {n} such jump{'s' * (n != 1)}"
    return Fired("unstable", True, step, int(s.loc[first, "epoch"]), evidence)


def detect_weights(weights: pd.DataFrame) -> Fired:
    if weights is None or weights.empty or "weight_norm" not in weights:
        return Fired("weights", False, evidence="no epoch finished")
    per_epoch = weights.groupby("epoch").agg(
        norm=("weight_norm", lambda v: float(np.sqrt(np.sum(np.square(v))))),
        peak=("weight_max_abs", "max"),
    )
    growth = per_epoch["norm"] / per_epoch["norm"].shift(1)
    for epoch, row in per_epoch.iterrows():
        g = growth.get(epoch)
        if g is not None and math.isfinite(g) and g >= WEIGHT_GROWTH:
            return Fired("weights", True, None, int(epoch), f"norm ×{g:.2g} in one epoch")
        if row["peak"] >= WEIGHT_HUGE:
            return Fired("weights", True, None, int(epoch), f"max |w| = {row['peak']:.3g}")
    return Fired("weights", False, evidence=f"max |w| = {per_epoch['peak'].max():.3g}")


def detect_grads(layers: pd.DataFrame) -> Fired:
    if layers is None or layers.empty or "grad_norm" not in layers:
        return Fired("grads", False)
    by_step = layers.groupby("step", sort=True)
    low = by_step["grad_norm"].min()  # the smallest layer's norm: above 1 means every layer is
    epoch = by_step["epoch"].first().to_numpy()
    above = (low > GRAD_ABOVE).to_numpy()
    share = float(above.mean()) if len(above) else 0.0
    need = min(GRAD_STREAK, len(above))  # a run that stopped early: all of its steps
    run_ends = np.flatnonzero(np.convolve(above.astype(int), np.ones(need, int), "valid") == need)
    if len(run_ends):
        i = int(run_ends[0]) + need - 1
        return Fired("grads", True, int(low.index[i]), int(epoch[i]), f"{share:.0%} of steps")
    return Fired("grads", False, evidence=f"{share:.0%} of steps")


def detect_poor(epochs: pd.DataFrame, steps: pd.DataFrame, chance: float | None) -> Fired:
    if chance is None:
        return Fired("poor", False, evidence="no chance level (regression)")
    if epochs is not None and not epochs.empty and "train_loss" in epochs:
        for _, row in epochs.sort_values("epoch").iterrows():
            loss = float(row["train_loss"])
            if not math.isfinite(loss) or loss >= chance:
                return Fired("poor", True, None, int(row["epoch"]), f"train loss {loss:.3g} ≥ {chance:.3g}")
        return Fired("poor", False, evidence=f"train loss {float(epochs['train_loss'].iloc[-1]):.3g}")
    if "loss" in steps and len(steps):  # stopped inside its first epoch: judge its last batches
        tail = steps.sort_values("step")["loss"].astype(float).tail(UNSTABLE_WINDOW)
        value = float(tail[np.isfinite(tail)].mean()) if np.isfinite(tail).any() else float("inf")
        if value >= chance:
            return Fired("poor", True, None, 1, f"last batches' loss {value:.3g} ≥ {chance:.3g}")
    return Fired("poor", False)


def fixes(baseline: Experiment) -> dict[str, dict[str, Any]]:
    """The notes' remedies, one at a time, each as the knobs it changes on the blowing-up run:
    clipnorm 1.0 and clipvalue 0.5 (their suggested defaults; Keras takes one or the other, so
    each clears the other), a batch a quarter the size, and an L2 penalty."""
    small = max(1, baseline.batch_size // 4)
    return {
        "clipnorm=1": {"clipnorm": 1.0, "clipvalue": 0.0},
        "clipvalue=0.5": {"clipvalue": 0.5, "clipnorm": 0.0},
        f"batch_size={small}": {"batch_size": small},
        "l2=0.01": {"l2": 0.01},
    }


def detect(run: RunResult, chance: float | None) -> list[Fired]:
    """Every exploding-gradient signal of one run, from that run's own frames."""
    steps, summary = run.frame("steps"), run.summary
    return [
        detect_nan(steps, summary),
        detect_unstable(steps),
        detect_weights(run.frame("weights")),
        detect_grads(run.frame("layers")),
        detect_poor(run.frame("epochs"), steps, chance),
    ]


def detection_table(result: ComparisonResult, chance: float | None) -> pd.DataFrame:
    """One row per run: variant, seed, then per signal when it first fired ("—" if never) and
    an `<signal> evidence` column; `signals` counts the signals that fired."""
    rows = []
    summary = result.summary()
    for i, run in enumerate(result.runs):
        row: dict[str, Any] = {"variant": summary.loc[i, "variant"], "seed": run.experiment.seed}
        fired = detect(run, chance)
        for f in fired:
            row[SIGNALS[f.signal]] = f.when
            row[f"{SIGNALS[f.signal]} evidence"] = f.evidence
        row["signals"] = sum(f.fired for f in fired)
        rows.append(row)
    return pd.DataFrame(rows)


# -- clipping ------------------------------------------------------------------------------------
CLIP_QUANTILE = 0.9  # the usual starting point: clip the largest tenth of the updates
CLIP_WARN = 0.5  # clipping on most steps = a smaller learning rate (Tuning Playbook)


def clip_table(result: ComparisonResult, quantile: float = CLIP_QUANTILE) -> pd.DataFrame:
    """Per variant: the `quantile` of its per-step gradient norms (the clipnorm to try), its
    clipping setting, and the share of steps on which clipping fired (`warn` above CLIP_WARN)."""
    cols = ["variant", "setting", "suggested_clipnorm", "clipped_share", "warn", "steps", "diverged"]
    summary = result.summary()
    rows = []
    for variant in result.variant_order():
        idx = [i for i in range(len(result.runs)) if summary.loc[i, "variant"] == variant]
        if not idx:
            continue
        runs = [result.runs[i] for i in idx]
        steps = pd.concat([r.frame("steps") for r in runs], ignore_index=True)
        e = runs[0].experiment
        setting = (
            f"clipnorm={e.clipnorm:g}"
            if e.clipnorm > 0
            else f"clipvalue={e.clipvalue:g}"
            if e.clipvalue > 0
            else "off"
        )
        norms = steps["grad_norm"].astype(float) if "grad_norm" in steps else pd.Series(dtype=float)
        norms = norms[np.isfinite(norms)]
        clipped = steps["clipped"].astype(bool) if "clipped" in steps else pd.Series(dtype=bool)
        share = float(clipped.mean()) if setting != "off" and len(clipped) else float("nan")
        rows.append(
            {
                "variant": variant,
                "setting": setting,
                "suggested_clipnorm": float(np.quantile(norms, quantile)) if len(norms) else float("nan"),
                "clipped_share": share,
                "warn": bool(share > CLIP_WARN) if math.isfinite(share) else False,
                "steps": len(steps),
                "diverged": sum(r.diverged for r in runs),
            }
        )
    return pd.DataFrame(rows, columns=cols)


# -- variant sets: several changes next to one baseline -------------------------------------------
def expand(
    comparison: Comparison, changes: Mapping[str, Mapping[str, Any]], baseline: str | None = "baseline"
) -> tuple[VariantSet, list[str]]:
    """Each named change applied to every variant of `comparison`, as one VariantSet (members
    with one network shape still stack into one model), plus the names that had to be skipped.

    Why not one Comparison: a Comparison is a cartesian product, and these sets are not — the
    fixes of an exploding run one at a time (Keras refuses clipnorm together with clipvalue), or
    (depth, width) pairs at an equal parameter budget. A label is "<change>" or, when the
    comparison varies knobs itself, "<change> · <its variant>". A change that sets a knob the
    comparison varies would silently override it, so it is skipped and named instead; a change
    that reproduces a run already in the set is dropped (same run, same numbers).
    """
    items = ([(baseline, {})] if baseline else []) + list(changes.items())
    named: dict[str, Experiment] = {}
    keys: set[str] = set()
    skipped: list[str] = []
    for name, knobs in items:
        clash = sorted(set(knobs) & set(comparison.varied))
        if clash:
            skipped.append(f"{name} (it sets {', '.join(clash)}, which is varied)")
            continue
        for variant in comparison.variants():
            label = " · ".join(p for p in (name, variant_label(variant) if variant else "") if p)
            try:
                e = dataclasses.replace(comparison.baseline, **variant, **knobs)
            except ValueError as err:
                skipped.append(f"{label} ({err})")
                continue
            if e.key not in keys:
                keys.add(e.key)
                named[label] = e
    if not named:
        raise ValueError("nothing left to train: " + "; ".join(skipped))
    return VariantSet.of(named, comparison.seeds), skipped
