"""The "tune the learning rate for each variant" section (core.tuning), drawn under a page's main
comparison when the builder's switch is on (ui.builder): the Playbook's isolation plot (each
variant at its best rate, beside the page's fixed rate), the score-vs-rate axis plot with a
"widen the grid" warning, and the numbers.

The grid trains as one extra comparison through ui.run.on_demand (stored, replayed for everyone):
on the builder's Run while the switch is on, or on this section's button. No ui.panels import:
ui.panels.standard calls this section.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.results import ComparisonResult
from core.spec import Experiment, value_text
from core.tuning import GridError, Tuned, TuningPlan, analyze, parse_grid, range_test_grid
from ui.builder import tune_keys
from ui.charts import base as chart_base
from ui.charts import tuning as charts
from ui.labels import short
from ui.run import on_demand, stacked_note
from ui.session import quick
from ui.text import plain, public_error

QUICK_RANGE_STEPS = 60  # tests and demos: a short sweep (the full one is core.lr_finder's 400 steps)


@st.cache_data(show_spinner=False, max_entries=32)
def _range_grid(baseline_json: str, num_iter: int) -> tuple[float, ...]:
    """The grid around the range test's suggestion for this baseline; waits for a training slot."""
    from core.runner import GATE

    with GATE.slot(lambda ahead: None):
        return range_test_grid(Experiment.from_dict(json.loads(baseline_json)), num_iter=num_iter)


def _grid(baseline: Experiment, key: str, go: bool) -> tuple[float, ...] | None:
    """The typed grid, else one around the LR range test's suggestion (run on Run or on request)."""
    typed = str(st.session_state.get(tune_keys(key)[1], "") or "").strip()
    if typed:
        return parse_grid(typed)
    steps = QUICK_RANGE_STEPS if quick() else 0
    asked = st.button("Choose the grid with the LR range test", key=f"{key}.tune_range", icon="🔎")
    if not (go or asked or st.session_state.get(f"{key}.tune_range_for") == baseline.to_json()):
        st.info(
            "No grid typed: press **Run** above (switch on) or the button to pick a grid around the "
            "LR range test's suggestion for the baseline."
        )
        return None
    with st.spinner("Running the LR range test for the grid…", show_time=True):
        grid = _range_grid(baseline.to_json(), steps)
    st.session_state[f"{key}.tune_range_for"] = baseline.to_json()
    st.caption(
        "Grid: five rates half a decade apart around the range test's valley suggestion: "
        + ", ".join(value_text(r) for r in grid)
    )
    return grid


def tuning_section(result: ComparisonResult, key: str) -> None:
    """Draw the section when the builder's switch is on (nothing otherwise)."""
    on, _, go_key = tune_keys(key)
    if not st.session_state.get(on):
        return
    go = bool(st.session_state.pop(go_key, False))  # the builder's pending Run, taken once
    st.subheader("Every variant at its own best learning rate")
    st.markdown(
        "At one fixed learning rate a comparison partly measures which variant that rate suits. Here "
        "each variant trains at every rate of the grid (each seed), and is shown at its own best rate "
        "([Deep Learning Tuning Playbook](https://github.com/google-research/tuning_playbook)). The rate "
        "is picked on one half of the validation examples and the loss is reported on the other half, "
        "so picking the best of many does not flatter the number shown."
    )
    try:
        grid = _grid(result.comparison.baseline, key, go)
        if grid is None:
            return
        tplan = TuningPlan(result.comparison, grid)
    except (GridError, ValueError, TypeError) as err:
        st.error(f"Not tuned: {public_error(err)}")
        return
    clicked = st.button("Tune the learning rate", key=f"{key}.tune_run", icon="🎯") or go
    note = stacked_note(tplan.expanded, f"{len(grid)} rates for each variant and seed")
    grid_result = on_demand(tplan.expanded, f"{key}.tuning", note=note, clicked=clicked)
    if grid_result is not None:
        _draw(analyze(tplan, grid_result), result, key)


def _draw(tuned: Tuned, main: ComparisonResult, key: str) -> None:
    """Isolation plot, axis plot, edge warnings and the table."""
    fixed = {
        label: record.get("final_val_loss")
        for (label, _, _), record in zip(tuned.tplan.variants, main.aggregate(), strict=False)
    }
    rows = [{**r, "label": short(r["label"])} for r in tuned.rows]
    order = [r["label"] for r in rows]
    fixed = {short(k): v for k, v in fixed.items()}
    table = [{**t, "variant": short(t["variant"])} for t in tuned.table]
    st.altair_chart(
        chart_base.fit_labels(charts.isolation(charts.isolation_frame(rows, fixed), order)),
        width="stretch",
        key=f"{key}.tune_isolation",
    )
    st.caption(
        "Tuned: the loss on the held-out half of the validation split at the variant's chosen rate "
        "(written above it). Fixed: the comparison above, at its one rate (whole validation split)."
    )
    st.altair_chart(
        chart_base.fit_labels(charts.lr_axis(charts.axis_frame(table, rows), order)),
        width="stretch",
        key=f"{key}.tune_axis",
    )
    for r in rows:
        if r["widen_grid"]:
            st.warning(
                f"{plain(r['label'])}: the best rate ({value_text(r['tuned_learning_rate'])}) is the "
                f"{r['edge']} of the grid, so a better one may lie beyond it: widen the grid."
            )
        if not r["held_out"]:
            st.caption(f"{plain(r['label'])}: picked and reported on the whole validation split.")
    st.dataframe(
        pd.DataFrame(rows)[
            ["label", "tuned_learning_rate", "select_val_loss", "report_val_loss", "report_val_accuracy",
             "final_val_loss", "diverged", "widen_grid"]
        ].rename(columns={"label": "variant"}),
        hide_index=True,
    )  # fmt: skip
