"""The comparison builder every topic page shares: dataset, baseline knobs, what to vary, seeds.

Widgets sit in a form so nothing retrains while a person is still typing; one Run click trains.
The function draws and returns plain values (a Comparison, whether Run was clicked), in the
manner of traingenerator's widget functions; pages never touch widgets' state themselves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from core import data
from core.constants import CSV_PREFIX, DATASETS
from core.spec import CHOICES, KNOBS, Comparison, Experiment, knob_type, value_text
from ui import share
from ui.session import quick
from ui.text import dataset_label, plain, public_error, quoted

UPLOAD = "upload a CSV…"
LABEL_NAMES = ("label", "target", "class", "y", "species")  # the label column's usual names
VARY_NONE = "(nothing)"
HELP = {
    "dataset": "digits, breast_cancer and wine are real and bundled; the 2-D toys draw decision boundaries",
    "n_samples": "cap on examples used (toy data: exactly this many are generated)",
    "noise": "coordinate jitter of the 2-D toy datasets",
    "learning_rate": "any positive number; a huge one is a legitimate experiment: it diverges",
    "momentum": "SGD momentum, or Adam's beta_1; ignored by sgd and rmsprop",
    "weight_decay": "decoupled: W -= W * weight_decay * lr every step (Keras weight_decay)",
    "batch_norm": "where batch normalization goes relative to the activation",
    "clipnorm": "0 = off; clip each gradient tensor's norm (Keras clipnorm)",
    "clipvalue": "0 = off; clip each gradient element (Keras clipvalue)",
    "residual": "skip connections between equal-width hidden layers",
}


@dataclass(frozen=True)
class Preset:
    """A page's default comparison: what it trains on first load."""

    baseline: Experiment
    vary: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    seeds: int = 3

    def comparison(self) -> Comparison:
        base = self.baseline
        if quick():  # tests and demos: the same comparison, tiny
            base = dataclasses.replace(base, epochs=min(base.epochs, 2), n_samples=min(base.n_samples, 400))
        return Comparison.of(base, self.vary, self.seeds)


def _initial(key: str, preset: Comparison) -> Comparison:
    """The comparison a session starts from on this page: the link's, else the preset."""
    asked = st.session_state["comparisons"]
    if key not in asked:
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        try:
            asked[key] = share.decode(params, preset)
        except ValueError as err:
            st.warning(
                f"This link's settings were not used: {plain(err)}. Showing the page defaults instead."
            )
            asked[key] = preset
    return asked[key]


def _seed_widgets(key: str, c: Comparison) -> None:
    """Put a comparison's values into the widgets' state (before the widgets are drawn)."""
    for name in KNOBS:
        st.session_state[f"{key}.{name}"] = getattr(c.baseline, name)
    vary = list(c.vary) + [(VARY_NONE, ())] * (2 - len(c.vary))
    for i, (name, values) in enumerate(vary):
        st.session_state[f"{key}.vary{i}"] = name
        st.session_state[f"{key}.values{i}"] = ", ".join(value_text(v) for v in values)
    st.session_state[f"{key}.seeds"] = c.seeds


def _knob_widget(key: str, name: str) -> Any:
    wkey, kind, help_ = f"{key}.{name}", knob_type(name), HELP.get(name)
    if name in CHOICES:
        return st.selectbox(name, CHOICES[name], key=wkey, help=help_)
    if kind is bool:
        return st.checkbox(name, key=wkey, help=help_)
    if kind is int:
        return st.number_input(name, step=1, key=wkey, help=help_)
    return st.number_input(name, format="%g", step=None, key=wkey, help=help_)


def default_label(columns: list[str]) -> int:
    """Index of the column most likely to be the label: a conventional name, else the last."""
    lowered = [c.strip().lower() for c in columns]
    for name in LABEL_NAMES:
        if name in lowered:
            return lowered.index(name)
    return len(columns) - 1


def _dataset_picker(key: str) -> bool:
    """Dataset choice and CSV upload: outside the form, because the upload needs a column pick.

    Returns False while "upload a CSV…" is chosen without a usable file: the page must then show
    no result (not the previous dataset's) and train or replay nothing until the upload works.
    """
    wkey = f"{key}.dataset"
    current = st.session_state.get(wkey, "digits")
    options = [*DATASETS, *([current] if current not in DATASETS else []), UPLOAD]
    choice = st.selectbox(
        "dataset",
        options,
        index=options.index(current),
        help=HELP["dataset"],
        key=f"{key}.pick",
        format_func=dataset_label,
    )
    if choice != UPLOAD:
        st.session_state[wkey] = choice
        return True
    st.session_state["results"].pop(key, None)  # the previous dataset's result is not this one's
    upload = st.file_uploader(
        "CSV: numeric feature columns and a label column", type=["csv"], key=f"{key}.upload"
    )
    if upload is None:
        st.info("Choose a CSV file to train on it; nothing runs until it is accepted.")
        return False
    try:
        raw = upload.getvalue()
        columns = data.csv_columns(raw)
        label = st.selectbox("label column", columns, index=default_label(columns), key=f"{key}.label")
        name = data.register_csv(raw, label, file_name=upload.name)
    except ValueError as err:
        st.error(f"That CSV cannot be used: {plain(err)}")
        return False
    st.session_state[wkey] = name
    st.success(f"Using {plain(upload.name)} with label {quoted(label)}.")
    return True


def loadable(experiment: Experiment) -> bool:
    """Whether the experiment's dataset can be loaded here; if not, say why (the same message on
    every page: an offline download, a vanished upload) and return False. Cached per process by
    core.data, so this is cheap after the first call."""
    try:
        data.load_dataset(experiment.dataset, experiment.n_samples, experiment.noise)
    except ValueError as err:
        st.error(
            f"The dataset {quoted(dataset_label(experiment.dataset))} cannot be used here: {public_error(err)}"
        )
        return False
    return True


def _form(key: str, knobs: tuple[str, ...]) -> bool:
    """The knobs, what to vary and the seeds, in one form; returns whether Run was clicked."""
    with st.form(f"{key}.form", border=True):
        main = [k for k in knobs if k != "dataset"]
        cols = st.columns(4)
        for i, name in enumerate(main):
            with cols[i % 4]:
                _knob_widget(key, name)
        with st.expander("All baseline knobs"):
            cols = st.columns(4)
            rest = [k for k in KNOBS if k not in main and k not in ("dataset", "seed")]
            for i, name in enumerate([*rest, "seed"]):
                with cols[i % 4]:
                    _knob_widget(key, name)
        cols = st.columns([2, 3, 2, 3, 1])
        vary_options = [VARY_NONE, *[k for k in KNOBS if k != "seed"]]
        for i in range(2):
            cols[2 * i].selectbox(f"vary knob {i + 1}", vary_options, key=f"{key}.vary{i}")
            cols[2 * i + 1].text_input(
                "over these values", key=f"{key}.values{i}", placeholder="e.g. 0.01, 0.1, 1"
            )
        cols[4].number_input("seeds", min_value=1, max_value=10, step=1, key=f"{key}.seeds")
        _tune_widgets(key)
        return st.form_submit_button("Run", type="primary", icon="▶️")


def tune_keys(key: str) -> tuple[str, str, str]:
    """Session keys of the tuning switch (read by ui.sections.tuning): the switch, the typed
    grid, and "Run was pressed with the switch on" (pending until the section, drawn once the main
    comparison is shown, takes it: the main runs may train in the background first)."""
    return f"{key}.tune", f"{key}.tune_grid", f"{key}.tune_go"


def _tune_widgets(key: str) -> None:
    """The switch "tune the learning rate for each variant" and its grid (typed, or empty: around
    the LR range test's suggestion for the baseline). ui.sections.tuning trains and draws it."""
    on, grid, _ = tune_keys(key)
    cols = st.columns([2, 3])
    cols[0].checkbox(
        "tune the learning rate for each variant",
        key=on,
        help="every variant also trains over a grid of learning rates and is shown at its own best "
        "(the Deep Learning Tuning Playbook's rule); the rate is picked on half the validation split",
    )
    cols[1].text_input(
        "learning-rate grid",
        key=grid,
        placeholder="empty: around the LR range test's suggestion; or e.g. 0.003, 0.01, 0.03, 0.1, 0.3",
    )


def _asked(key: str) -> Comparison | None:
    """The comparison the form's values describe, or None (with the reason shown)."""
    try:
        baseline = Experiment.from_dict({n: st.session_state[f"{key}.{n}"] for n in KNOBS})
        vary = {}
        for i in range(2):
            name = st.session_state[f"{key}.vary{i}"]
            if name != VARY_NONE:
                vary[name] = [v.strip() for v in st.session_state[f"{key}.values{i}"].split(",") if v.strip()]
        return Comparison.of(baseline, vary, int(st.session_state[f"{key}.seeds"]))
    except ValueError as err:
        st.error(f"Not run: {plain(err)}")
        return None


def comparison_builder(key: str, preset: Preset, knobs: tuple[str, ...] = ()) -> tuple[Comparison, bool]:
    """Draw the builder; return the comparison to show and whether Run was clicked.

    `knobs` are the page's main knobs, shown first; the rest sit in an expander.
    """
    default = preset.comparison()
    current = _initial(key, default)
    if f"{key}.seeds" not in st.session_state:
        _seed_widgets(key, current)
    usable = _dataset_picker(key)
    clicked = _form(key, knobs)
    on, _, go = tune_keys(key)  # a Run with the switch on stays pending until the tuning section
    st.session_state[go] = bool((clicked or st.session_state.get(go)) and st.session_state.get(on))
    if not usable:
        if clicked:
            st.error("Not run: the uploaded CSV is not usable yet (see above).")
        st.stop()  # nothing below: no other dataset's result, nothing trained or replayed
    if not clicked:
        return _with_upload(key, current), False
    comparison = _asked(key)
    if comparison is None:
        return current, False
    st.session_state["comparisons"][key] = comparison
    st.query_params.from_dict(share.encode(comparison, default))
    return comparison, True


def _with_upload(key: str, current: Comparison) -> Comparison:
    """A freshly accepted upload replaces the dataset of the comparison shown (which then waits
    for Run), so the page never shows another dataset's result under the upload."""
    picked = st.session_state.get(f"{key}.dataset", current.baseline.dataset)
    if picked == current.baseline.dataset or not picked.startswith(CSV_PREFIX):
        return current
    try:
        baseline = dataclasses.replace(current.baseline, dataset=picked)
        return Comparison.of(baseline, dict(current.vary), current.seeds)
    except ValueError as err:  # e.g. the memory guard, now that the real shape is known
        st.error(f"Not run: {plain(err)}")
        st.stop()
