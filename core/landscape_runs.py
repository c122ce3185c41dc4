"""The landscape of a comparison's runs: which weights to read, and the report the CLI and the
batch-size page show (core.landscape does the maths).

Runs stored before weights were kept replay without them. A run is deterministic (same
Experiment + seed -> bit-identical numbers), so `with_weights` retrains such runs once and
stores them again, weights included: the replayed numbers do not change, the weights appear.
TensorFlow is imported only if something has to be retrained (through core.runner).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from core import landscape
from core.results import ComparisonResult, RunResult
from core.store import RunStore
from core.training.families import family  # TensorFlow-free: it imports a trainer only to train
from core.weights import RunWeights, weights_of


class NoWeights(ValueError):
    """A run has no stored weights and retraining did not give any (another model family, or a
    network over the size cap of core.weights)."""


def missing_weights(result: ComparisonResult) -> list[RunResult]:
    """Stacked-MLP runs that hold no weights and no reference to stored ones (no blob is read);
    the other model families keep no weights, so retraining them would give none either."""
    return [
        run
        for run in result.runs
        if run.weights is None and not run.diverged and family(run.experiment) == "stacked"
    ]


def with_weights(result: ComparisonResult, store: RunStore | None) -> ComparisonResult:
    """The same result with every run's weights available: runs replayed without them are
    retrained (their numbers are unchanged) and stored again with them."""
    missing = missing_weights(result)
    if not missing:
        return result
    from core.runner import groups_of, train

    fresh: dict[str, RunResult] = {}
    for group in groups_of([run.experiment for run in missing]):
        trained = train(group)
        if store is not None:
            store.put_many(trained)
        fresh.update({r.key: r for r in trained})
    runs = [fresh.get(run.key, run) for run in result.runs]
    return dataclasses.replace(result, runs=runs)


def identity(result: ComparisonResult, run: RunResult) -> dict[str, Any]:
    """key, variant label and seed of a run, as the summary table shows them."""
    row = result.summary()
    match = row[row["key"] == run.key].iloc[0]
    return {"key": run.key, "variant": str(match["variant"]), "seed": int(run.experiment.seed)}


def weights_or_raise(run: RunResult) -> RunWeights:
    weights = weights_of(run)
    if weights is None:
        raise NoWeights(
            f"run {run.key} has no stored weights (another model family, a diverged run, or a network "
            "too large to keep them)"
        )
    return weights


def sharpness_table(result: ComparisonResult) -> list[dict[str, Any]]:
    """One row per run: identity, final train loss and sharpness (NaN without weights)."""
    rows = []
    for run in result.runs:
        weights = weights_of(run)
        value = math.nan
        if weights is not None and not run.diverged:
            value = landscape.sharpness(weights, landscape.problem(run.experiment), run.experiment.seed)
        rows.append(
            {
                **identity(result, run),
                "final_train_loss": run.summary.get("final_train_loss"),
                "sharpness": value,
            }
        )
    return rows


def partner(result: ComparisonResult, run: RunResult) -> RunResult | None:
    """The run of the last variant with the same seed (e.g. the large batch beside the small
    one), or None when the comparison has one variant."""
    variants = result.variant_order()
    if len(variants) < 2:
        return None
    summary = result.summary()
    rows = summary[(summary["variant"] == variants[-1]) & (summary["seed"] == run.experiment.seed)]
    keys = set(rows["key"])
    for other in result.runs:
        if other.key in keys and other.key != run.key:
            return other
    return None


def report(result: ComparisonResult, member: int = 0, two_d: bool = True) -> dict[str, Any]:
    """The `python -m core landscape --json` object: the JSON contract of the issue for run
    `member` (interpolation, slice, slice2d, sharpness), plus which run it is, every run's
    sharpness and the line to the same seed's run of the last variant (`between`)."""
    if not 0 <= member < len(result.runs):
        raise ValueError(f"--member must be from 0 to {len(result.runs) - 1}")
    run = result.runs[member]
    weights = weights_or_raise(run)
    prob = landscape.problem(run.experiment)
    out: dict[str, Any] = {"run": identity(result, run)}
    out.update(landscape.report(weights, prob, run.experiment.seed, two_d=two_d))
    out["runs"] = sharpness_table(result)
    other = partner(result, run)
    other_weights = weights_of(other) if other is not None else None
    if other is not None and other_weights is not None:
        try:
            line = landscape.between(weights, other_weights, prob)
        except ValueError:
            line = None
        if line is not None:
            out["between"] = {"from": identity(result, run), "to": identity(result, other), **line}
    return out
