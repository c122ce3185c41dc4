"""Widgets of the gradient and architecture pages (vanishing, exploding, wide vs deep): a depth
slider that feeds the comparison builder, the run rule for variant sets, dataset facts, the
random-label section, and the tables that show core.topics.gradients' numbers. The computations
live in core; here they are drawn.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core import data
from core.limits import MAX_DEPTH
from core.results import ComparisonResult
from core.spec import BUNDLED_DATASETS, TOY_DATASETS, Comparison, Experiment
from core.topics.gradients import (
    CLIP_WARN,
    SIGNAL_HELP,
    SIGNALS,
    VANISH_RATIO,
    Pair,
    class_shares,
    equal_budget,
    expand,
    memorization_table,
    n_params,
    pair_changes,
    shuffled_labels_csv,
)
from core.topics.regularization import VariantSet, labelled
from ui import charts, panels
from ui.run import auto, run, stored_count


# -- inputs -------------------------------------------------------------------------------------
def depth_slider(key: str, comparison: Comparison) -> None:
    """A depth slider under the builder. Moving it sets the builder's depth field and the
    comparison the page shows, so a depth already stored replays at once and a new one waits
    for Run — the same rule as every other input. Disabled while depth is a varied knob."""
    skey, wkey = f"{key}.depth_slider", f"{key}.depth"
    varied = "depth" in comparison.varied

    def sync() -> None:
        depth = int(st.session_state[skey])
        st.session_state[wkey] = depth  # the builder's form field (drawn on the next run)
        current = st.session_state["comparisons"].get(key, comparison)
        try:
            moved = Comparison(
                dataclasses.replace(current.baseline, depth=depth), current.vary, current.seeds
            )
        except ValueError as err:  # memory budget: the builder would refuse it too
            st.session_state[f"{key}.slider_error"] = str(err)
            return
        st.session_state["comparisons"][key] = moved

    st.session_state[skey] = comparison.baseline.depth  # follow a depth typed into the form
    st.slider(
        "depth (hidden layers)",
        1,
        MAX_DEPTH,
        key=skey,
        on_change=sync,
        disabled=varied,
        help="Deeper nets multiply more per-layer derivatives together on the way back to the input."
        + (" Disabled: depth is one of the varied knobs." if varied else ""),
    )
    error = st.session_state.pop(f"{key}.slider_error", None)
    if error:
        st.error(f"Depth not changed: {error}")


def data_of(e: Experiment) -> tuple[str, int, float]:
    """The arguments of dataset_facts / shuffled_dataset for an experiment's data."""
    return e.dataset, e.n_samples, e.noise


@st.cache_data(show_spinner=False, max_entries=32)
def dataset_facts(name: str, n_samples: int, noise: float) -> dict:
    """Features, outputs, class shares and (2-D data) the points, for sizing networks and for
    chance levels. Cached: real data loads scikit-learn, which a replay should not wait for twice."""
    ds = data.load_dataset(name, n_samples, noise)
    facts = {
        "n_features": ds.n_features,
        "n_outputs": 1 if ds.is_regression else ds.n_classes,
        "class_shares": [] if ds.is_regression else class_shares(ds.y),
        "is_2d": ds.is_2d,
        "points": None,
    }
    if ds.is_2d:
        facts["points"] = pd.DataFrame({"x0": ds.x[:, 0], "x1": ds.x[:, 1], "label": ds.y})
    return facts


@st.cache_data(show_spinner=False, max_entries=16)
def shuffled_dataset(name: str, n_samples: int, noise: float) -> str:
    """Register a copy of the data with randomly permuted labels as an uploaded CSV and return
    its name ("csv:<hash>"). The experiment spec has no random-label knob; an uploaded table is
    an honest, reproducible way to train on one: same bytes, same name, same stored runs."""
    ds = data.load_dataset(name, n_samples, noise)
    if ds.is_regression:
        raise ValueError("the memorization test needs class labels; this dataset is a regression task")
    return data.register_csv(shuffled_labels_csv(ds.x, ds.y), "label")


# -- running a set of variants ----------------------------------------------------------------------
def run_set(variants: VariantSet, key: str, clicked: bool, default: VariantSet) -> ComparisonResult | None:
    """The page rule of ui.run.auto (train on Run or when it is the page default, replay when
    stored, else wait for Run) for a VariantSet, with its labels on the result."""
    return labelled(auto(variants, key, clicked, default))  # type: ignore[arg-type]  # quacks like one


def replay_caption(result: ComparisonResult) -> None:
    st.caption(
        f"{len(result.runs)} runs · {result.replayed} of {len(result.runs)} runs replayed from the store"
    )


# -- vanishing -------------------------------------------------------------------------------------
def vanishing_panel(summary: pd.DataFrame, ratios: pd.DataFrame) -> None:
    """The notes' "check the derivatives": per variant, which layers get a gradient under
    VANISH_RATIO of the last layer's."""
    for row in summary.itertuples():
        if row.n_flagged:
            st.warning(
                f"**{row.variant}**: {row.n_flagged} of {row.n_layers - 1} hidden layers get a gradient below "
                f"{VANISH_RATIO:g} of the last layer's ({row.flagged_layers}). They barely move."
            )
    if not summary["n_flagged"].any():
        st.success(f"No layer's gradient is below {VANISH_RATIO:g} of the last layer's in any variant.")
    st.dataframe(
        summary,
        hide_index=True,
        width="stretch",
        column_config={
            "variant": st.column_config.TextColumn("variant"),
            "first_last_ratio": st.column_config.NumberColumn("first / last layer", format="%.2e"),
            "smallest_ratio": st.column_config.NumberColumn("smallest layer / last", format="%.2e"),
            "flagged_layers": st.column_config.TextColumn(f"layers below {VANISH_RATIO:g}"),
            "n_flagged": st.column_config.NumberColumn("flagged"),
            "n_layers": st.column_config.NumberColumn("layers (incl. output)"),
        },
    )
    with st.expander("Every layer's gradient norm and its ratio to the last layer"):
        st.dataframe(
            ratios,
            hide_index=True,
            width="stretch",
            column_config={
                "grad_norm": st.column_config.NumberColumn("mean grad norm", format="%.2e"),
                "ratio": st.column_config.NumberColumn("ratio to last layer", format="%.2e"),
                "flagged_runs": st.column_config.NumberColumn("flagged seeds"),
            },
        )


# -- exploding -------------------------------------------------------------------------------------
def detection_panel(table: pd.DataFrame) -> None:
    """When each warning sign first fired, run by run, with the number behind it."""
    names = list(SIGNALS.values())
    when = table[["variant", "seed", *names, "signals"]]
    st.dataframe(
        when,
        hide_index=True,
        width="stretch",
        column_config={
            **{SIGNALS[k]: st.column_config.TextColumn(SIGNALS[k], help=SIGNAL_HELP[k]) for k in SIGNALS},
            "signals": st.column_config.NumberColumn("signals fired", help="out of 5"),
        },
    )
    with st.expander("The number behind each signal"):
        evidence = table[["variant", "seed", *[f"{n} evidence" for n in names]]]
        st.dataframe(
            evidence.rename(columns=lambda c: c.removesuffix(" evidence")), hide_index=True, width="stretch"
        )
    st.caption(
        " · ".join(f"**{SIGNALS[k]}**: {SIGNAL_HELP[k]}" for k in SIGNALS)
        + ". The notes' sixth sign, weights turning NaN, cannot show here: a run is stopped at the step its "
        "loss blows up, before the NaN reaches the weights. Gradient norms are recorded per layer, not per node."
    )


def clip_panel(table: pd.DataFrame) -> None:
    """The clipnorm suggestion and how often clipping fired; a warning where clipping has become
    the rule rather than the exception."""
    for row in table.itertuples():
        if row.warn:
            st.warning(
                f"**{row.variant}** ({row.setting}): clipping fired on {row.clipped_share:.0%} of steps. Above "
                f"{CLIP_WARN:.0%} clipping no longer trims rare spikes: it shrinks almost every step, i.e. it acts "
                "as a smaller learning rate (Google's Tuning Playbook)."
            )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "setting": st.column_config.TextColumn("clipping"),
            "suggested_clipnorm": st.column_config.NumberColumn("p90 grad norm → clipnorm", format="%.2e"),
            "clipped_share": st.column_config.NumberColumn("steps clipped", format="percent"),
            "warn": st.column_config.CheckboxColumn(f"> {CLIP_WARN:.0%}"),
            "steps": st.column_config.NumberColumn("steps recorded"),
            "diverged": st.column_config.NumberColumn(
                "runs blown up", help="their p90 is the explosion itself"
            ),
        },
    )


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
        "depths (each gets the width that matches the budget)", DEPTH_CHOICES, list(DEPTHS_DEFAULT),
        key=f"{key}.depths",
    )  # fmt: skip
    return int(wide), sorted(depths) or [1]


def on_demand(variants: VariantSet, key: str, label: str, note: str) -> ComparisonResult | None:
    """A button for a comparison too large for page load: its result when clicked, already
    stored (replayed on load), or shown earlier in this session; otherwise a note."""
    clicked = st.button(label, key=f"{key}.run", icon="▶️")
    if clicked or stored_count(variants) == variants.n_members:  # type: ignore[arg-type]
        return labelled(run(variants, key))  # type: ignore[arg-type]
    previous = st.session_state["results"].get(key)
    if previous is not None and previous.comparison == variants:
        return labelled(previous)
    st.caption(note)
    return None


def pairs_table(pairs: list[Pair]) -> None:
    st.dataframe(
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
        hide_index=True,
        width="stretch",
        column_config={
            "vs budget": st.column_config.NumberColumn(format="percent"),
            "matched": st.column_config.CheckboxColumn("within 5%"),
        },
    )


def fit_panel(table: pd.DataFrame) -> None:
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "n_params": st.column_config.NumberColumn("parameters"),
            "train_accuracy": st.column_config.NumberColumn("train accuracy", format="percent"),
            "val_accuracy": st.column_config.NumberColumn("val accuracy", format="percent"),
            "accuracy_gap": st.column_config.NumberColumn("gap (train − val)", format="percent"),
        },
    )


def memorization_panel(table: pd.DataFrame) -> None:
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
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
        st.error(f"The memorization test cannot run with these settings: {err}")
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
    replay_caption(memo)
