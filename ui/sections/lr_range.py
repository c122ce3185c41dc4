"""The LR range test section (learning-rate page): loss against an exponentially growing learning
rate, its derivative and the suggestions, then training at a suggestion x0.1, x1 and x10."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import streamlit as st

from core.spec import Comparison, Experiment
from core.topics import lr as topics_lr
from ui import charts, panels
from ui.run import run
from ui.session import quick
from ui.text import public_error

# -- LR range test ---------------------------------------------------------------------------------------
COMPARE = {
    "nothing": {},
    "with batch norm (before the activation)": {"batch_norm": "before"},
    "with Adam instead": {"optimizer": "adam"},
    "with plain SGD (no momentum)": {"optimizer": "sgd"},
}


def range_label(base: Experiment, e: Experiment) -> str:
    """A range test's name: the knobs it changes from the network built above."""
    diff = {k: v for k, v in e.to_dict().items() if v != getattr(base, k)}
    return ", ".join(f"{k}={v}" for k, v in diff.items()) or f"{base.optimizer} (as built)"


@st.cache_data(show_spinner=False, max_entries=32)
def range_test(
    experiments_json: tuple[str, ...], labels: tuple[str, ...], start_lr: float, end_lr: float, num_iter: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The range test's long frames, keyed by the experiments' JSON (never models): cheap enough
    (one short training per network) to recompute, and a repeat by anyone in this process is
    instant. It is not a RunStore run, so it lives in Streamlit's cache and the session. Training
    waits for a free slot like every other training, so a range test never oversubscribes the CPU."""
    from core.lr_range import run_lr_range
    from core.runner import GATE

    experiments = [Experiment.from_dict(json.loads(j)) for j in experiments_json]
    with GATE.slot(lambda ahead: None):
        tests = run_lr_range(experiments, start_lr, end_lr, num_iter)
    return topics_lr.range_frames(tests, labels)


def range_section(base: Experiment, key: str) -> None:
    """Loss vs LR (raw and smoothed), its derivative, the three suggestions and, on demand,
    training at the suggestion x0.1, x1 and x10."""
    st.subheader("LR range test")
    st.markdown(
        "The learning rate grows exponentially every batch while the raw loss is recorded, from fresh "
        "weights (Smith 2015; the notes' `keras_lr_finder`). The loss first stays flat, then falls "
        "fastest, then blows up; the test stops at the blow-up (the square). Suggestions: **steepest** "
        "(most negative slope of the smoothed loss), **valley** (fastai's middle of the longest descent) "
        "and **minimum** (lowest smoothed loss ÷ 10). It runs the network built above "
        f"({base.width}×{base.depth} {base.activation}, {base.optimizer}, batch {base.batch_size}); its "
        "learning rate and schedule are ignored."
    )
    with st.form(f"{key}.range_form"):
        cols = st.columns([1, 1, 1, 2])
        # 1e-4 -> 10 in 150 steps: long enough for the lagging EMA (beta 0.98) to reach a low
        # enough best that the blow-up trips the 4x stop on digits; 1e-7 wastes steps on a flat start.
        start = cols[0].select_slider("start lr", [1e-7, 1e-6, 1e-5, 1e-4, 1e-3], value=1e-4, key=f"{key}.r0")
        end = cols[1].select_slider("end lr", [0.1, 1.0, 10.0, 100.0], value=10.0, key=f"{key}.r1")
        n = cols[2].number_input("steps", 20, 400, 30 if quick() else 150, step=10, key=f"{key}.rn")
        versus = cols[3].selectbox("side by side with", list(COMPARE), index=1, key=f"{key}.rvs")
        go = st.form_submit_button("Run the range test", icon="🔎")
    experiments = [dataclasses.replace(base, lr_schedule="constant")]
    if COMPARE[versus]:
        experiments.append(dataclasses.replace(experiments[0], **COMPARE[versus]))
    labels = tuple(range_label(base, e) for e in experiments)
    params = (tuple(e.to_json() for e in experiments), labels, float(start), float(end), int(n))
    state_key = f"{key}.range_result"
    if go:
        with st.spinner(f"Sweeping the learning rate ({int(n)} steps per network)…", show_time=True):
            try:
                st.session_state[state_key] = (params, *range_test(*params))
            except ValueError as err:
                st.error(f"Range test not run: {public_error(err)}")
    stored = st.session_state.get(state_key)
    if stored is None:
        st.info("Press **Run the range test**: a few seconds (one short training per network).")
        return
    ran, curves, suggestions = stored
    if ran != params:
        st.caption(
            "Showing the last range test; the settings above have changed since: press Run to redo it."
        )
    panels.chart(charts.lr_finder_chart(curves, suggestions), key=f"{key}.finder")
    st.caption(
        "Thin: the raw batch loss; thick: smoothed. Each marker is a suggestion (its shape and value "
        "in the legend), the square is where the sweep stopped; a stop on the top edge blew up above "
        "the clipped axis (its loss is in the tooltip)."
    )
    panels.chart(charts.lr_derivative_chart(curves, suggestions).properties(height=170), key=f"{key}.deriv")
    st.caption(
        "The slope of the smoothed loss per decade of learning rate, with the same markers: "
        "steepest sits at the deepest dip."
    )
    table = suggestions.pivot_table(index="run", columns="name", values="lr", sort=False).reset_index()
    stopped = suggestions.groupby("run", sort=False)["stopped_early"].first()
    table["stopped at the blow-up"] = table["run"].map(stopped)
    panels.dataframe(table)
    trial_section(ran, suggestions, key)


def trial_section(ran: tuple, suggestions: pd.DataFrame, key: str) -> None:
    """LR4's honest test: does training at the suggestion beat x0.1 and x10 of it?"""
    runs = list(dict.fromkeys(suggestions["run"]))
    cols = st.columns([2, 2, 1, 1])
    which = cols[0].selectbox("train the network of", runs, key=f"{key}.trial_run")
    name = cols[1].selectbox(
        "at its suggestion", list(dict.fromkeys(suggestions["name"])), key=f"{key}.trial_name"
    )
    seeds = cols[2].number_input("seeds", 1, 5, 2, key=f"{key}.trial_seeds")
    cols[3].write("")
    clicked = cols[3].button("Train at these", icon="🏋️", key=f"{key}.trial_go")
    row = suggestions[(suggestions["run"] == which) & (suggestions["name"] == name)].iloc[0]
    experiment = Experiment.from_dict(json.loads(ran[0][runs.index(which)]))
    lrs = topics_lr.trial_lrs(float(row["lr"]))
    comparison = Comparison.of(experiment, {"learning_rate": lrs}, int(seeds))
    st.caption(
        f"Trains {which} at {lrs[0]:g}, {lrs[1]:g} (the {name} suggestion) and {lrs[2]:g}, "
        f"{int(seeds)} seed(s) each, for {experiment.epochs} epochs."
    )
    trial_key = f"{key}.trial"
    if clicked:
        st.session_state[f"{trial_key}.comparison"] = comparison
    shown = st.session_state.get(f"{trial_key}.comparison")
    if shown is None:
        return
    result = run(shown, trial_key)
    if result is None:
        return
    panels.curves_panel(result, trial_key)
    best, agg = topics_lr.best_variant(result.summary())
    middle = result.variant_order()[1]
    verdict = (
        "the suggestion itself ended best"
        if best == middle
        else f"**{best}** ended best, not the suggestion ({middle})"
        if best
        else "every run diverged"
    )
    st.markdown(f"By mean final validation loss over seeds, {verdict} (seed ranges in the table).")
    panels.dataframe(agg)
