"""Inputs and dataset facts shared by the gradient and architecture pages (vanishing, exploding,
wide vs deep): the depth slider that feeds the comparison builder, and cached facts about a
dataset (features, outputs, class shares, 2-D points) for sizing networks and chance levels."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core import data
from core.limits import MAX_DEPTH
from core.spec import Comparison, Experiment
from core.topics.wide_deep import class_shares, shuffled_labels_csv


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


def ordered_pair(
    keys: tuple[str, str],
    labels: tuple[str, str],
    options: Sequence[Any],
    values: tuple[Any, Any],
    warning: str,
) -> tuple[Any, Any] | None:
    """Two sliders side by side for a (smaller, larger) pair of one setting — a fast and a slow
    half-life, a small and a large batch; None (with `warning` shown) unless the first is smaller."""
    cols = st.columns(2)
    low = cols[0].select_slider(labels[0], options, value=values[0], key=keys[0])
    high = cols[1].select_slider(labels[1], options, value=values[1], key=keys[1])
    if low >= high:
        st.warning(warning)
        return None
    return low, high


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
