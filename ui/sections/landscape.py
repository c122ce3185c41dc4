"""The batch-size page's loss-landscape section (issue 16, claim BS5): where a small and a large
batch end up, seen through the loss around and between their final weights.

Everything drawn is core.landscape on the stored weights of the runs (NumPy, no TensorFlow), so
a stored comparison shows its landscape to anyone, instantly after the first computation: each
number is cached by run key (a stored run never changes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from core import landscape
from core.claims.sharpness import BS5_LARGE, BS5_SMALL
from core.landscape_runs import missing_weights, with_weights
from core.results import ComparisonResult
from core.spec import Comparison, Experiment
from core.weights import RunWeights, weights_of
from ui import panels
from ui.charts import landscape as charts
from ui.run import on_demand, stacked_note
from ui.sections.inputs import ordered_pair
from ui.session import store
from ui.text import plain

KEY = "batch_size.landscape"
SEEDS = 2  # a look, not a verdict: claim BS5 measures 10 seeds
BATCHES = (8, 16, 32, 64, 128, 256, 512)


def comparison(base: Experiment, small: int, large: int) -> Comparison:
    return Comparison.of(dataclasses.replace(base, seed=0), {"batch_size": (small, large)}, SEEDS)


def _stored(key: str) -> RunWeights | None:
    run = store().get(key, frames=[])
    return weights_of(run) if run is not None else None


def _experiment(key: str) -> Experiment:
    return store().get(key, frames=[]).experiment


def _around(key: str, measure: Callable[[RunWeights, Any, int], dict]) -> dict | None:
    """`measure(weights, problem, seed)` for one stored run, or None when it has no weights."""
    weights = _stored(key)
    if weights is None:
        return None
    e = _experiment(key)
    return measure(weights, landscape.problem(e), e.seed)


@st.cache_data(show_spinner=False, max_entries=256)
def run_numbers(key: str) -> dict | None:
    """Interpolation initial -> final and sharpness of one stored run (cached by its key)."""
    return _around(
        key,
        lambda w, prob, seed: {
            "interpolation": landscape.interpolation(w, prob),
            "sharpness": landscape.sharpness(w, prob, seed),
        },
    )


@st.cache_data(show_spinner=False, max_entries=256)
def pair_line(key_a: str, key_b: str) -> dict | None:
    """The line from run a's final weights to run b's, on a's data (None: no weights, or networks
    of different shapes, between which there is no straight line)."""
    a, b = _stored(key_a), _stored(key_b)
    if a is None or b is None:
        return None
    try:
        return landscape.between(a, b, landscape.problem(_experiment(key_a)))
    except ValueError:
        return None


@st.cache_data(show_spinner=False, max_entries=64)
def run_slices(key: str) -> dict | None:
    """The 1-D and the 25 x 25 slice around one stored run's final weights."""
    return _around(
        key,
        lambda w, prob, seed: {
            "slice": landscape.slice_1d(w, prob, seed),
            "slice2d": landscape.slice_2d(w, prob, seed),
        },
    )


def _labels(result: ComparisonResult) -> dict[str, str]:
    summary = result.summary()
    return {row["key"]: f"{row['variant']} · seed {row['seed']}" for _, row in summary.iterrows()}


def _interpolation_frame(result: ComparisonResult, numbers: dict[str, dict]) -> pd.DataFrame:
    summary = result.summary().set_index("key")
    rows = []
    for key, n in numbers.items():
        curve = n["interpolation"]
        rows += [
            {
                "alpha": a,
                "train_loss": v,
                "variant": summary.loc[key, "variant"],
                "seed": int(summary.loc[key, "seed"]),
            }
            for a, v in zip(curve["alphas"], curve["train_loss"], strict=True)
        ]
    return pd.DataFrame(rows)


def _split_frame(curve: dict, x: str) -> pd.DataFrame:
    axis = "alphas" if "alphas" in curve else "offsets"
    parts = [pd.DataFrame({x: curve[axis], "loss": curve[f"{name}_loss"], "split": label})
             for name, label in (("train", "train"), ("val", "validation"))]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _heatmap_frame(grid: dict) -> pd.DataFrame:
    steps = grid["offsets"]
    return pd.DataFrame(
        [
            {"x": x, "y": y, "train_loss": v}
            for y, row in zip(steps, grid["train_loss"])
            for x, v in zip(steps, row)
        ]
    )


def _sharpness_frame(result: ComparisonResult, numbers: dict[str, dict]) -> pd.DataFrame:
    summary = result.summary()
    summary["sharpness"] = summary["key"].map({k: n["sharpness"] for k, n in numbers.items()})
    return summary[["variant", "seed", "final_train_loss", "sharpness"]]


def landscape_section(base: Experiment, key: str = KEY) -> None:
    """Subheader, the two batch sizes, a Run button, then the lines, slices and sharpness."""
    st.subheader("The minimum each run found: the loss landscape")
    st.markdown(
        "Where does training end? Along the straight line from a run's initial weights (α = 0) to its "
        "final ones (α = 1) the loss shows whether anything stood in the way "
        "([Goodfellow et al. 2015](https://arxiv.org/abs/1412.6544)); the line between a small- and a "
        "large-batch solution shows whether they sit in one basin; the slices look around the final "
        "weights along random directions scaled to every unit's own weight norm (*filter normalization*, "
        "[Li et al. 2018](https://arxiv.org/abs/1712.09913)). **Sharpness** is the largest rise of the "
        "training loss within a quarter of those norms: [Keskar et al. 2017](https://arxiv.org/abs/1609.04836) "
        "found large batches ending in sharper minima."
    )
    picked = ordered_pair(
        (f"{key}.small", f"{key}.large"),
        ("small batch", "large batch"),
        BATCHES,
        (BS5_SMALL, BS5_LARGE),
        "Pick a small batch smaller than the large one.",
    )
    if picked is None:
        return
    small, large = picked
    plan = comparison(base, int(small), int(large))
    result = on_demand(plan, key, "Run the landscape comparison", stacked_note(plan, "weights kept"))
    if result is None:
        return
    landscape_view(
        result, key, "Claim BS5 below decides the sharpness question with 10 seeds trained to convergence."
    )


def landscape_view(result: ComparisonResult, key: str, note: str = "") -> None:
    """The landscape of any stored comparison's runs (the wide-vs-deep page shows its own):
    lines, slices of a picked run and sharpness; runs stored before weights were kept are
    offered for retraining first."""
    if missing_weights(result):
        _offer_retraining(result, key)
        return
    _draw(result, key, note)


def _offer_retraining(result: ComparisonResult, key: str) -> None:
    n = len(missing_weights(result))
    st.info(
        f"{n} of these runs were stored before weights were kept. Retraining gives the very same numbers "
        "(same knobs, same seed) and keeps their weights this time."
    )
    if st.button(f"Retrain {n} run(s) to keep their weights", key=f"{key}.weights"):
        with st.spinner("Retraining…"):
            with_weights(result, store())
        st.rerun()


def _draw(result: ComparisonResult, key: str, note: str) -> None:
    order = result.variant_order()
    numbers = {run.key: n for run in result.runs if (n := run_numbers(run.key)) is not None}
    left, right = st.columns(2)
    with left:
        st.markdown("**Initial → final weights** (training loss, one line per run)")
        panels.chart(charts.interpolation_chart(_interpolation_frame(result, numbers), order))
    first_seed = result.runs[0].experiment.seed
    same_seed = [run for run in result.runs if run.experiment.seed == first_seed]
    with right:
        st.markdown(
            f"**First → last variant's solution** (seed {first_seed}: {plain(order[0])} at α = 0, "
            f"{plain(order[-1])} at α = 1)"
        )
        line = pair_line(same_seed[0].key, same_seed[-1].key) if len(same_seed) > 1 else None
        panels.chart(
            charts.split_lines(_split_frame(line, "alpha"), "alpha", "alpha", (0.0, 1.0))
            if line
            else charts.empty_chart("no straight line: one variant, or networks of different shapes")
        )
    keys_by_label = {label: k for k, label in _labels(result).items()}
    picked = st.selectbox("Slices around the final weights of", list(keys_by_label), key=f"{key}.picked")
    slices = run_slices(keys_by_label[picked])
    if slices is not None:
        left, right = st.columns(2)
        with left:
            st.markdown("**1-D slice** (offset in filter norms)")
            panels.chart(
                charts.split_lines(
                    _split_frame(slices["slice"], "offset"), "offset", "offset along a random direction"
                )
            )
        with right:
            st.markdown("**2-D slice** (training loss, 25 × 25 points)")
            panels.chart(charts.slice_heatmap(_heatmap_frame(slices["slice2d"])))
    st.markdown("**Sharpness per run** (largest training-loss rise within a quarter of every filter's norm)")
    table = _sharpness_frame(result, numbers)
    panels.chart(charts.sharpness_chart(table, order))
    panels.table(
        table, {"final_train_loss": "%.4f", "sharpness": "%.4f"}, {"final_train_loss": "final train loss"}
    )
    st.caption(
        "Batch-norm layers keep their trained moving statistics in the slices and their γ/β stay fixed, as in "
        "Li et al.; along the lines they move with the weights. Losses are the trainer's own end-of-epoch "
        f"evaluation (at α = 1 the line gives the stored final loss). {note}"
    )
    panels.replay_caption(result)


def landscape_toggle(result: ComparisonResult, key: str, note: str = "") -> None:
    """landscape_view behind a toggle (off by default): a page whose main comparison trains on
    load computes no landscape until someone asks for it."""
    if st.toggle("Show the loss landscape of these runs", key=f"{key}.show"):
        st.subheader("The minimum each run found: the loss landscape")
        landscape_view(result, key, note)
