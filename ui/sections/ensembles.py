"""The vanishing page's ensemble section (claim VG5): the averaged prediction of several shallow
sigmoid nets against one deep sigmoid net with about as many weights."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.claims import CLAIMS
from core.results import ComparisonResult
from core.variants import VariantSet
from ui import charts, panels
from ui.charts import families
from ui.run import on_demand, stacked_note
from ui.session import quick  # tests and demos: the claim's fast preset

SEEDS = 2  # a look, not a verdict: the claim trains 8 seeds


def plan_for(dataset: str) -> VariantSet:
    """The claim's two arms, labelled by their shapes."""
    deep, ens = (c.baseline for c in CLAIMS["VG5"].comparisons(dataset, fast=quick()))
    return VariantSet(
        (
            (f"one net {deep.depth}x{deep.width}", deep),
            (f"mean of {ens.ensemble} nets {ens.depth}x{ens.width}", ens),
        ),
        SEEDS,
    )


def score_rows(result: ComparisonResult) -> pd.DataFrame:
    """Per seed: the deep net's and the ensemble's final validation accuracy, and each averaged
    net's own (the `nets` frame), as rows of (arm, seed, val_accuracy)."""
    s = result.summary()
    rows = [s[["variant", "seed", "final_val_accuracy"]].rename(columns={"variant": "arm"})]
    nets = result.frame("nets")
    if not nets.empty and "val_accuracy" in nets:
        one = nets.assign(arm="one of the averaged nets alone", final_val_accuracy=nets["val_accuracy"])
        rows.append(one[["arm", "seed", "final_val_accuracy"]])
    return pd.concat(rows, ignore_index=True)


def ensembles_section(dataset: str, key: str = "vanishing.ensemble") -> None:
    """Subheader, a Run button, then accuracy per arm and the first-layer gradient per step."""
    st.subheader("An ensemble of shallower nets")
    st.markdown(
        "Another way around a deep network whose early layers learn slowly is not to build it: train a few "
        "shallow networks independently and average their predicted class probabilities. Each shallow net "
        "has only two layers for the gradient to cross, and together they hold about as many weights as "
        "the deep one."
    )
    plan = plan_for(dataset)
    result = on_demand(plan, key, "Run ensemble vs deep net", stacked_note(plan, "equal parameter budgets"))
    if result is None:
        return
    st.markdown("**Final validation accuracy** (dots: seeds; tick: mean)")
    panels.chart(families.score_dots(score_rows(result), "final_val_accuracy", "validation accuracy"))
    layers = result.frame("layers")
    first = (
        layers[layers["layer_name"] == "dense_1"]
        .groupby(["key", "variant", "seed", "step"], as_index=False)["grad_norm"]
        .mean()  # the ensemble's nets, step by step
        .rename(columns={"grad_norm": "loss"})
    )
    st.markdown("**First-layer gradient norm per step** (log; the ensemble: all its nets)")
    panels.chart(charts.curves(first, "loss", "step", result.summary(), result.variant_order(), log_y=True))
    panels.replay_caption(result)
