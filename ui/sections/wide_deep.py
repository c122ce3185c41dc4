"""The wide-vs-deep page's sections: the budget inputs and equal-budget pairs, the fit table,
and the random-label memorization test."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.constants import BUNDLED_DATASETS, TOY_DATASETS
from core.measures import n_params
from core.spec import Comparison
from core.topics.gradients import expand
from core.topics.wide_deep import Pair, equal_budget, memorization_table, pair_changes
from ui import charts, panels
from ui.run import on_demand
from ui.sections.inputs import dataset_facts, shuffled_dataset
from ui.text import public_error

# -- wide vs deep ----------------------------------------------------------------------------------
WIDE_DEFAULT = 256
DEPTH_CHOICES = (1, 2, 3, 4, 6, 8, 12, 16)
DEPTHS_DEFAULT = (1, 4)  # one wide, one deep: each depth is its own compiled model (~4 s cold)


def budget_inputs(key: str) -> tuple[int, list[int]]:
    """The width of the one-layer net (which sets the parameter budget) and the depths to
    compare. Outside the builder's form: a change shows the new pairs at once, and trains on Run."""
    cols = st.columns([1, 2])
    wide = cols[0].number_input(
        "width of the 1-layer net (sets the budget)", 4, 1024, WIDE_DEFAULT, step=16, key=f"{key}.wide"
    )
    depths = cols[1].multiselect(
        "depths (each gets the width that matches the budget)",
        DEPTH_CHOICES,
        list(DEPTHS_DEFAULT),
        key=f"{key}.depths",
    )
    return int(wide), sorted(depths) or [1]


def pairs_table(pairs: list[Pair]) -> None:
    """The equal-budget networks: depth, width, parameters and how close to the budget."""
    panels.dataframe(
        pd.DataFrame(
            {
                "network": [p.label for p in pairs],
                "depth": [p.depth for p in pairs],
                "width": [p.width for p in pairs],
                "parameters": [p.n_params for p in pairs],
                "vs budget": [p.off for p in pairs],
                "matched": [p.matched for p in pairs],
            }
        ),
        column_config={
            "vs budget": st.column_config.NumberColumn(format="percent"),
            "matched": st.column_config.CheckboxColumn("within 5%"),
        },
    )


def fit_panel(table: pd.DataFrame) -> None:
    """Train vs validation accuracy and their gap per network."""
    panels.dataframe(
        table,
        column_config={
            "n_params": st.column_config.NumberColumn("parameters"),
            "train_accuracy": st.column_config.NumberColumn("train accuracy", format="percent"),
            "val_accuracy": st.column_config.NumberColumn("val accuracy", format="percent"),
            "accuracy_gap": st.column_config.NumberColumn("gap (train − val)", format="percent"),
        },
    )


def memorization_panel(table: pd.DataFrame) -> None:
    """Epochs to 100% training accuracy on random labels, against chance."""
    panels.dataframe(
        table,
        column_config={
            "epochs_to_100": st.column_config.NumberColumn("epochs to 100% train", format="%.0f"),
            "memorized": st.column_config.TextColumn("seeds that got there"),
            "train_accuracy": st.column_config.NumberColumn("final train acc.", format="percent"),
            "val_accuracy": st.column_config.NumberColumn("final val acc.", format="percent"),
            "chance": st.column_config.NumberColumn("chance (largest class)", format="percent"),
        },
    )


def memorization_section(key: str, comparison: Comparison, wide: int, depths: list[int]) -> None:
    """The random-label test: the page's recipe and depths on a label-shuffled copy of a dataset
    (its own pick: 2-D toys memorize very slowly), trained from a button, replayed once stored."""
    cols = st.columns(3)
    name = cols[0].selectbox(
        "dataset to shuffle", (*BUNDLED_DATASETS, *TOY_DATASETS), key=f"{key}.mem_dataset"
    )
    n = int(cols[1].number_input("examples", 50, 2000, 500, step=50, key=f"{key}.mem_n"))
    epochs = int(cols[2].number_input("epochs", 5, 200, 60, step=5, key=f"{key}.mem_epochs"))
    noise = comparison.baseline.noise
    facts = dataset_facts(name, n, noise)
    pairs = equal_budget(wide, depths, facts["n_features"], facts["n_outputs"])
    shuffled = shuffled_dataset(name, n, noise)
    budget = n_params(facts["n_features"], facts["n_outputs"], wide, 1)
    st.caption(
        f"On {name} the budget of a 1 × {wide} net is {budget:,} parameters; pairs: "
        f"{', '.join(f'{p.label} ({p.n_params:,})' for p in pairs)}. Shuffled copy: `{shuffled}`."
    )
    base = dataclasses.replace(comparison.baseline, dataset=shuffled, n_samples=n, epochs=epochs)
    try:
        variants, _ = expand(dataclasses.replace(comparison, baseline=base), pair_changes(pairs), None)
    except ValueError as err:
        st.error(f"The memorization test cannot run with these settings: {public_error(err)}")
        return
    note = (
        f"{variants.n_members} runs × {epochs} epochs: press the button to train them (stored for everyone)."
    )
    memo = on_demand(variants, f"{key}.memo", "Run the memorization test", note)
    if memo is None:
        return
    memorization_panel(memorization_table(memo, max(facts["class_shares"])))
    panels.chart(
        charts.train_val_curves(memo.frame("epochs"), "accuracy", memo.summary(), memo.variant_order())
    )
    panels.replay_caption(memo)
