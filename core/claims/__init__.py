"""The notes' claims as experiments: registry, verdicts, and the one function that runs a claim.

A verdict is never written down. Each claim has a preset (the comparisons to train, adapted only
through the dataset argument) and a decision rule that reads the finished runs; both live in
core.claims.rules. Runs go through core.runner, so a stored run replays instead of retraining and a
claim decided in the app, the CLI or a test gives the same answer from the same runs.

Also here: the small statistics every rule shares. Variants of one comparison that share a seed
share the train/validation split, the initial weights and the data order, so a difference between
two variants is taken seed by seed; it counts only if its mean exceeds the spread (max - min) of
those per-seed differences. Otherwise the verdict is "inconclusive": the effect is within the
seed-to-seed noise, and saying "holds" or "does not hold" would be reading tea leaves.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.results import ComparisonResult
from core.runner import ProgressFn, run_comparison
from core.spec import Comparison

VERDICTS = ("holds", "does not hold", "inconclusive")
HOLDS, FAILS, UNSURE = VERDICTS
Number = float | int | str | None


@dataclass(frozen=True)
class Verdict:
    """What one claim came to on one dataset, with the numbers that decided it."""

    id: str
    dataset: str
    verdict: str
    numbers: dict[str, Number]
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (NaN and infinities become None): the CLI prints it with allow_nan=False."""
        return {
            "id": self.id,
            "dataset": self.dataset,
            "verdict": self.verdict,
            "numbers": {k: _json_number(v) for k, v in self.numbers.items()},
            "sentence": self.sentence,
        }


def _json_number(v: Any) -> Number:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)  # type: ignore[return-value]
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return None if v is None else str(v)


@dataclass(frozen=True)
class Claim:
    """One claim of the notes, in our words, with what decides it."""

    id: str  # as in shared/CLAIMS.md
    topic: str  # page slug
    text: str
    measurement: str
    separate: bool = False  # train each run alone: its wall time is the measurement (RG3)
    probe: bool = False  # comparisons() trains a short LR range test first (LR4)

    def comparisons(self, dataset: str = "digits", fast: bool = False) -> list[Comparison]:
        """The preset(s) for this dataset; fast=True shrinks epochs and samples for smoke tests."""
        from core.claims.rules import PRESETS

        return PRESETS[self.id](dataset, fast)

    def decide(self, results: list[ComparisonResult], dataset: str | None = None) -> Verdict:
        """Pure function of the runs: the same runs always give the same verdict."""
        from core.claims.rules import RULES

        if dataset is None:
            dataset = results[0].comparison.baseline.dataset if results else "sandbox"
        outcome = RULES[self.id](results)
        if outcome.verdict not in VERDICTS:
            raise AssertionError(f"{self.id}: rule returned {outcome.verdict!r}")
        sentence = f"{outcome.verdict} on {dataset}: {outcome.text}"
        return Verdict(self.id, dataset, outcome.verdict, dict(outcome.numbers), sentence)


def _claim(id: str, topic: str, text: str, measurement: str, **flags: bool) -> tuple[str, Claim]:
    return id, Claim(id, topic, text, measurement, **flags)


CLAIMS: dict[str, Claim] = dict(
    [
        _claim("LR1", "learning_rate",
               "A small learning rate lowers the loss steadily until it converges; a large one makes it jump around or blow up.",
               "A learning-rate sweep: the smallest rate must lower the loss without diverging, the largest must diverge "
               "or have a more volatile loss (std of the step-to-step loss change)."),
        _claim("LR2", "learning_rate",
               "With a lower learning rate it takes longer (more epochs) to get the loss down to a given level.",
               "Epochs until the mean-over-seeds training loss falls to half its starting value, per learning rate."),
        _claim("LR3", "learning_rate",
               "Larger learning rates act as a regularizer, up to the point where training diverges.",
               "Generalization gap (validation minus training loss) at the smallest and the largest learning rate "
               "that still trains, on a small training subset; plus whether an even larger rate diverges."),
        _claim("LR4", "learning_rate",
               "An LR range test points at a good learning rate: where the loss falls fastest as the rate grows.",
               "Run the range test, then train at its steepest-descent suggestion, at a tenth of it and at ten times "
               "it: the suggestion must end with the lowest validation loss.", probe=True),
        _claim("MO1", "optimizers",
               "Momentum damps the zig-zag across a ravine and speeds up progress along it.",
               "Quadratic ravine sandbox, each optimizer at its own best learning rate: steps to tolerance and the "
               "across/along path-length ratio; a real network (each at its best rate) as a check."),
        _claim("MO2", "optimizers",
               "Without momentum, a larger learning rate makes the oscillation across the ravine bigger.",
               "Quadratic ravine sandbox: largest swing across the ravine for plain gradient descent as the rate "
               "grows, next to momentum 0.9 at the same effective step lr/(1-β)."),
        _claim("WD1", "weight_decay",
               "The weight-decay value matters, so it has to be tuned.",
               "Validation loss over a weight-decay grid (0 to 0.1, decoupled as in Keras): the best and worst values "
               "must differ by more than the seed spread and by at least 5%."),
        _claim("WD2", "weight_decay",
               "Smaller datasets and smaller models want more weight decay.",
               "Best weight decay (lowest validation loss, ties within seed spread kept) for a small vs large training "
               "set (width 32), and for width 32 vs 128 (large set)."),
        _claim("WD3", "weight_decay",
               "The best weight decay under a constant learning rate differs from the best under a learning-rate "
               "range (one-cycle); the larger rates want less weight decay.",
               "Best weight decay (ties within seed spread kept) under a constant rate vs a one-cycle schedule "
               "peaking at 10x that rate."),
        _claim("BS1", "batch_size",
               "Larger batches take bigger, fewer and less noisy steps per epoch.",
               "Mean size of one update (parameter change per step) over the same number of first steps from the "
               "same start, plus steps per epoch and loss volatility, smallest vs largest batch at the same "
               "learning rate."),
        _claim("BS2", "batch_size",
               "Large batches give less consistent results from run to run.",
               "Seed-to-seed standard deviation of final validation accuracy (5 seeds) per batch size, F-test at 90%."),
        _claim("BS3", "batch_size",
               "Small batches regularize more: a smaller generalization gap.",
               "Validation minus training loss, small vs large batch, compared seed by seed."),
        _claim("BS4", "batch_size",
               "Small batches get stuck in poor solutions less often than large ones.",
               "Share of seeds whose final training loss is more than twice the median of all runs, small vs large "
               "batch (one-sided Fisher test at 90%)."),
        _claim("RG1", "regularization",
               "Regularization reduces overfitting.",
               "Generalization gap with and without an L2 penalty, trained on a small subset."),
        _claim("RG2", "regularization",
               "L1 makes weights sparse; L2 keeps them dense.",
               "Fraction of weights with |w| < 0.001 under L1 vs under L2 of the same strength."),
        _claim("RG3", "regularization",
               "L1 costs more computation than L2.",
               "Median wall time of an epoch (after the first, which includes compilation) of the same network "
               "with L1 vs L2, each run trained alone, L1 and L2 runs alternating.", separate=True),
        _claim("BN1", "batch_norm",
               "Batch normalization cuts the epochs needed, roughly by half.",
               "Epochs until the mean validation accuracy reaches 90% of the best final accuracy: no BN vs BN "
               "before or after the activation, in a 4-layer network trained with plain SGD."),
        _claim("BN2", "batch_norm",
               "Batch normalization allows much larger learning rates.",
               "Largest learning rate in a sweep at which every seed trains without diverging (loss below half its "
               "start), with vs without BN."),
        _claim("BN3", "batch_norm",
               "Batch normalization makes training less sensitive to how the weights are initialized.",
               "Spread of the final training loss across five initializers, with vs without BN."),
        _claim("BN4", "batch_norm",
               "For tanh/sigmoid, BN after the activation may suit better; for ReLU, before it.",
               "Final validation loss with BN before vs after the activation, for tanh and for ReLU."),
        _claim("BN5", "batch_norm",
               "Batch normalization regularizes, so with BN dropout may be unnecessary.",
               "Generalization gap with and without BN, and whether dropout still lowers the validation loss once "
               "BN is on (small training subset)."),
        _claim("VG1", "vanishing",
               "In a deep sigmoid network the early layers get vanishing gradients.",
               "Ratio of the first to the last layer's kernel-gradient norm in an 8-layer sigmoid network: "
               "vanishing if at least 10x smaller."),
        _claim("VG2", "vanishing",
               "ReLU and residual connections fix vanishing gradients.",
               "The same first/last gradient ratio for ReLU and for sigmoid with residual connections, "
               "compared with plain sigmoid."),
        _claim("EG1", "exploding",
               "Exploding gradients show up as a NaN loss, a volatile loss, huge weights and gradient norms above 1.",
               "Which of the four signals fire in a configuration that blows up vs a healthy one (learning rate "
               "1.5 vs 0.05, plain SGD, 4 layers); the gradient signal needs every layer's median gradient "
               "norm above 1."),
        _claim("EG2", "exploding",
               "Gradient clipping (clipnorm 1.0 or clipvalue 0.5) prevents the blow-up.",
               "The blowing-up configuration with and without clipping: diverged seeds and final loss."),
        _claim("EG3", "exploding",
               "A smaller batch size and an L2 penalty also help against exploding gradients.",
               "The blowing-up configuration with a 4x smaller batch, and with L2 1e-3: diverged seeds."),
        _claim("WVD1", "wide_deep",
               "A very wide shallow network memorizes but generalizes worse than a deep one with the same number "
               "of weights.",
               "Equal parameter budget (1 wide layer vs 4 layers), small training subset: validation accuracy "
               "seed by seed, and train accuracy. (Random-label memorization is not available here.)"),
        _claim("WVD2", "wide_deep",
               "Very wide and very deep networks both risk memorizing instead of generalizing.",
               "Generalization gap over a width x depth grid (16 vs 256 units, 1 vs 6 layers) on a small "
               "training subset, compared seed by seed."),
    ]
)  # fmt: skip


def claims_for(topic: str) -> list[Claim]:
    """The claims a topic page shows, in CLAIMS.md order."""
    return [c for c in CLAIMS.values() if c.topic == topic]


def get_claim(claim_id: str) -> Claim:
    if claim_id not in CLAIMS:
        raise ValueError(f"unknown claim {claim_id!r}; claims are: {', '.join(CLAIMS)}")
    return CLAIMS[claim_id]


def run_claim(
    claim_id: str,
    dataset: str = "digits",
    store=None,
    progress: ProgressFn | None = None,
    fast: bool = False,
) -> Verdict:
    """Replay or train the claim's presets on `dataset`, then decide."""
    claim = get_claim(claim_id)
    results = [
        run_comparison(c, store, progress, separate=claim.separate) for c in claim.comparisons(dataset, fast)
    ]
    return claim.decide(results, dataset)


def run_all(dataset: str = "digits", store=None, progress: ProgressFn | None = None) -> list[Verdict]:
    return [run_claim(cid, dataset, store, progress) for cid in CLAIMS]


# --------------------------------------------------------------------------------------------
# Shared measurements. Rules see runs only through these, so hand-made RunResults exercise them.


def table(results: Iterable[ComparisonResult]) -> pd.DataFrame:
    """One row per distinct run: every knob plus the summary (a run in two presets counts once)."""
    rows, seen = [], set()
    for res in results:
        for run in res.runs:
            if run.key not in seen:
                seen.add(run.key)
                rows.append({**dataclasses.asdict(run.experiment), **run.summary, "key": run.key})
    return pd.DataFrame(rows)


def frame(results: Iterable[ComparisonResult], name: str) -> pd.DataFrame:
    """A per-run frame over all distinct runs, with key and seed columns."""
    parts, seen = [], set()
    for res in results:
        for run in res.runs:
            f = run.frame(name)
            if run.key not in seen and not f.empty:
                seen.add(run.key)
                parts.append(f.assign(key=run.key, seed=run.experiment.seed))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["key", "seed"])


def select(t: pd.DataFrame, **knobs: Any) -> pd.DataFrame:
    """Rows whose knobs equal the given values (floats compared with a relative tolerance)."""
    mask = pd.Series(True, index=t.index)
    for name, value in knobs.items():
        col = t[name]
        if isinstance(value, float):
            mask &= np.isclose(col.astype(float), value, rtol=1e-9, atol=0.0)
        else:
            mask &= col == value
    return t[mask]


def by_seed(rows: pd.DataFrame, col: str) -> pd.Series:
    """The column indexed by seed, as floats (NaN where a run diverged before measuring)."""
    return pd.Series(pd.to_numeric(rows[col], errors="coerce").to_numpy(float), index=rows["seed"].to_numpy())


def span(values: Iterable[float]) -> float:
    """max - min of the finite values (0 for fewer than two)."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    return float(v.max() - v.min()) if len(v) > 1 else 0.0


def finite(s: pd.Series) -> pd.Series:
    return s[np.isfinite(s.to_numpy(float))]


def contrast(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """Mean of a - b and its seed-to-seed spread; (mean, NaN) when too few runs survived.

    Paired by seed when both sides share at least two seeds (same split and init, so the
    split's noise cancels); otherwise unpaired, with the larger of the two groups' spreads.
    """
    a, b = finite(a), finite(b)
    if len(a) < 2 or len(b) < 2:
        diff = float(a.mean() - b.mean()) if len(a) and len(b) else math.nan
        return diff, math.nan
    common = a.index.intersection(b.index)
    if len(common) >= 2:
        d = a[common] - b[common]
        return float(d.mean()), float(d.max() - d.min())
    return float(a.mean() - b.mean()), max(span(a), span(b))


def judge(effect: float, spread: float) -> str:
    """effect is signed in the claim's favour. Beyond the spread decides; an exact zero with zero
    spread is a measured absence of the effect; anything else is within the noise."""
    if not (math.isfinite(effect) and math.isfinite(spread)):
        return UNSURE
    if abs(effect) > spread:
        return HOLDS if effect > 0 else FAILS
    if effect == 0 and spread == 0:
        return FAILS
    return UNSURE


def both(*verdicts: str) -> str:
    """A claim with several parts: holds if every part holds, fails if any part fails."""
    if FAILS in verdicts:
        return FAILS
    return HOLDS if all(v == HOLDS for v in verdicts) else UNSURE


def volatility(steps: pd.DataFrame) -> float:
    """Std of the step-to-step change of the minibatch loss: how much the loss jumps around."""
    loss = steps.sort_values("step")["loss"].to_numpy(float)
    loss = loss[np.isfinite(loss)]
    return float(np.std(np.diff(loss))) if len(loss) > 2 else math.nan


def initial_loss(steps: pd.DataFrame) -> float:
    """Mean loss on the very first batch over runs: where every curve starts."""
    first = steps[steps["step"] == 0]["loss"] if len(steps) else pd.Series(dtype=float)
    first = finite(pd.to_numeric(first, errors="coerce").astype(float))
    return float(first.mean()) if len(first) else math.nan


def epochs_to(
    epochs: pd.DataFrame, keys: Iterable[str], metric: str, target: float, lower: bool, n_epochs: int
) -> tuple[int | None, dict[int, int | None]]:
    """First epoch at which the mean over seeds crosses `target`, and the same per seed.

    A run that diverged has no rows after it blew up; it counts as never reaching the target.
    """
    rows = epochs[epochs["key"].isin(list(keys))]
    worst = math.inf if lower else -math.inf
    wide = rows.pivot_table(index="seed", columns="epoch", values=metric, aggfunc="first")
    wide = wide.reindex(columns=range(1, n_epochs + 1)).astype(float).fillna(worst)

    def first(values: np.ndarray) -> int | None:
        hit = np.flatnonzero(values <= target if lower else values >= target)
        return int(hit[0]) + 1 if len(hit) else None

    if wide.empty:
        return None, {}
    mean = wide.to_numpy().mean(axis=0)
    return first(mean), {int(s): first(wide.loc[s].to_numpy()) for s in wide.index}


def censored(n: int | None, n_epochs: int) -> int:
    """Never reaching the target counts as one epoch past the end (for differences and spreads)."""
    return n_epochs + 1 if n is None else n


def fmt(x: Any) -> str:
    """Three significant digits; 'n/a' for missing numbers."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a" if x is None else str(x)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.3g}" if math.isfinite(v) else "n/a"


def epochs_text(n: int | None, n_epochs: int) -> str:
    """'took 3 epochs' / 'never got there in 15 epochs'."""
    return (
        f"took {n} epoch{'s' if n != 1 else ''}" if n is not None else f"never got there in {n_epochs} epochs"
    )
