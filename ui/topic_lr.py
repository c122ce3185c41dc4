"""Sections shared by the learning-rate, optimizers and weight-decay pages.

Why here and not in the pages: each section is a handful of widgets, a call into core (training
through ui.run, measurements through core.topics.lr) and a few Altair charts. Kept together the
pages stay short scripts, and the charts that only these pages draw (status colours, epochs to a
target, the gap up to the divergence edge) live next to the sections that use them.
Conventions follow ui.charts: long frames, non-finite values dropped, tooltips, a legend click
highlights one series.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from core import sandbox
from core.results import ComparisonResult
from core.spec import LR_SCHEDULES, Comparison, Experiment
from core.topics import lr as topics_lr
from ui import charts, panels
from ui.charts import CROSS, empty_chart, fade, pick, tip
from ui.run import run, stored_count
from ui.state import quick

STATUS_SCALE = alt.Scale(domain=list(topics_lr.STATUSES), range=list(topics_lr.STATUS_COLORS.values()))
STATUS_ICON = {"converging": "🟢", "oscillating": "🟠", "diverged": "🔴"}


# -- small helpers --------------------------------------------------------------------------------
def replay_or_train(comparison: Comparison, key: str, clicked: bool) -> ComparisonResult | None:
    """A section's extra comparison: trained only on its button, replayed whenever the store
    already has every run (so a grid someone trained shows for everyone, instantly)."""
    if clicked or stored_count(comparison) == comparison.n_members:
        return run(comparison, key)
    return None


def numeric_knob(result: ComparisonResult, prefer: str = "learning_rate") -> str | None:
    """The knob to put on a quantitative x axis: `prefer` when varied alone, else the only varied
    numeric knob; None when the variants are not one numeric axis (then charts use labels)."""
    varied = result.comparison.varied
    if len(varied) != 1:
        return None
    name = varied[0]
    values = [v for _, vs in result.comparison.vary for v in vs]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return name if numeric and (name == prefer or len(values) > 1) else None


def knob_values(summary: pd.DataFrame, knob: str | None) -> dict[str, float]:
    """variant label -> its value of `knob` (empty without a knob)."""
    if knob is None:
        return {}
    return {v: float(x) for v, x in summary.groupby("variant", sort=False)[knob].first().items()}


def _x(knob: str | None, values: Sequence[float], order: Sequence[str], title: str | None = None) -> alt.X:
    """Log axis of the knob when every value is positive, linear otherwise, labels without a knob."""
    if knob is None:
        return alt.X("variant:N", sort=list(order), title=None, axis=alt.Axis(labelAngle=-30))
    log = len(values) > 0 and min(values) > 0
    return alt.X(f"{knob}:Q", scale=alt.Scale(type="log" if log else "linear"), title=title or knob)


# -- LR1: status -------------------------------------------------------------------------------------
def status_chart(epochs: pd.DataFrame, runs: pd.DataFrame) -> charts.Chart:
    """Every run's training loss per epoch, coloured by its own classification (log y): what
    "converging", "oscillating" and "diverged" look like, seed by seed."""
    if epochs.empty or runs.empty:
        return empty_chart()
    df = epochs[["key", "variant", "seed", "epoch", "train_loss"]].merge(
        runs[["key", "status", "reason"]], on="key"
    )
    df = charts.finite(df, ["train_loss"])
    df = df[df["train_loss"] > 0]
    if df.empty:
        return empty_chart("no finite training loss: every run diverged at once")
    p = pick("status")
    return (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=16))
        .encode(
            x=alt.X("epoch:Q", axis=charts.x_axis("epoch")),
            y=alt.Y("train_loss:Q", scale=alt.Scale(type="log"), title="training loss (log)"),
            color=alt.Color("status:N", scale=STATUS_SCALE, title="status"),
            detail="key:N",
            opacity=fade(p, 0.9, 0.1),
            tooltip=["variant:N", "seed:Q", "status:N", "reason:N", "epoch:Q", tip("train_loss:Q")],
        )
        .add_params(p)
    )


def volatility_chart(
    runs: pd.DataFrame, values: dict[str, float], knob: str | None, order: Sequence[str], threshold: float
) -> charts.Chart:
    """Each run's volatility against the knob, coloured by status, with the oscillation threshold
    drawn: the rule the classification applies, visible."""
    df = runs.assign(value=runs["variant"].map(values)) if knob else runs.copy()
    if knob:
        df[knob] = df["value"]
    df = charts.finite(df, ["volatility"])
    df = df[df["volatility"] > 0]
    if df.empty:
        return empty_chart("no run has a volatility (too few steps)")
    x = _x(knob, list(values.values()), order)
    y = alt.Y("volatility:Q", scale=alt.Scale(type="log"), title="volatility (std Δloss / start)")
    dots = (
        alt.Chart(df)
        .mark_circle(size=80, opacity=0.85)
        .encode(
            x=x,
            y=y,
            color=alt.Color("status:N", scale=STATUS_SCALE, title="status"),
            tooltip=["variant:N", "seed:Q", "status:N", tip("volatility:Q"), tip("peak:Q", "peak / start")],
        )
    )
    line = pd.DataFrame({"volatility": [threshold], "label": [f"oscillation threshold {threshold:g}"]})
    rule = alt.Chart(line).mark_rule(strokeDash=[5, 3], color="#ef6c00").encode(y="volatility:Q")
    text = (
        alt.Chart(line)
        .mark_text(align="left", baseline="bottom", dx=3, color="#ef6c00")
        .encode(y="volatility:Q", x=alt.value(0), text="label:N")
    )
    return alt.layer(dots, rule, text)


def status_table(variants: pd.DataFrame) -> None:
    shown = variants.assign(status=[f"{STATUS_ICON[s]} {s}" for s in variants["status"]])
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "volatility": st.column_config.NumberColumn("mean volatility", format="%.3f"),
            "final_loss": st.column_config.NumberColumn("final train loss (not diverged)", format="%.4f"),
        },
    )


# -- LR2: epochs to a target ---------------------------------------------------------------------
def target_chart(
    table: pd.DataFrame, knob: str | None, order: Sequence[str], epochs_run: int
) -> charts.Chart:
    """Epochs each variant needed to reach the target (mean dot, seed min-max rule); a ✕ at the
    top where no seed got there within the epochs trained."""
    if table.empty:
        return empty_chart()
    df = table.copy()
    if knob:
        df[knob] = df["value"].astype(float)
    values = [float(v) for v in df["value"].dropna()] if knob else []
    x = _x(knob, values, order)
    y = alt.Y("epochs:Q", title="epochs to reach the target", scale=alt.Scale(domain=[0, max(epochs_run, 1)]))
    tooltip = ["variant:N", tip("epochs:Q", "mean epochs"), tip("lo:Q", "min"), tip("hi:Q", "max"), "reached:Q",
               "seeds:Q", "note:N"]  # fmt: skip
    ok = df[df["reached"] > 0]
    layers = [
        alt.Chart(ok).mark_rule(strokeWidth=2, color="steelblue").encode(x=x, y=alt.Y("lo:Q"), y2="hi:Q"),
        alt.Chart(ok).mark_line(point=True, color="steelblue").encode(x=x, y=y, tooltip=tooltip),
    ]
    never = df[df["reached"] == 0].assign(note=f"not reached in {epochs_run} epochs")
    if len(never):
        layers.append(
            alt.Chart(never)
            .mark_text(text=CROSS, size=18, fontWeight="bold", color="firebrick", baseline="top")
            .encode(x=x, y=alt.value(2), tooltip=["variant:N", "note:N"])
        )
    return alt.layer(*layers)


# -- LR3: generalization gap up to the divergence edge -------------------------------------------------
def gap_chart(gaps: pd.DataFrame, knob: str | None, order: Sequence[str], edge: float | None) -> charts.Chart:
    """val − train loss per run against the knob: runs below the divergence edge in colour with
    their mean line, runs at or beyond it grey (their tiny gap is a dead network's), the edge as
    a red rule."""
    df = charts.finite(gaps, ["gap"])
    if df.empty:
        return empty_chart("no run has a finite generalization gap")
    x_field = knob or "variant"
    values = [float(v) for v in df[knob]] if knob else []
    x = _x(knob, values, order)
    df = df.assign(where=np.where(df["included"], "below the edge", "at/after the edge or diverged"))
    y = alt.Y("gap:Q", title="generalization gap (val − train loss)")
    tooltip = ["variant:N", "seed:Q", "status:N", "where:N", tip("gap:Q")]
    dots = (
        alt.Chart(df)
        .mark_circle(size=70)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "where:N",
                scale=alt.Scale(
                    domain=["below the edge", "at/after the edge or diverged"],
                    range=["steelblue", "lightgray"],
                ),
                title=None,
            ),
            tooltip=tooltip,
        )
    )
    mean = df[df["included"]].groupby(x_field, sort=False)["gap"].mean().reset_index()
    layers = [dots]
    if len(mean):
        layers.append(alt.Chart(mean).mark_line(color="steelblue").encode(x=x, y="gap:Q"))
    if edge is not None and knob:
        e = pd.DataFrame({knob: [edge], "label": [f"divergence edge {edge:g}"]})
        layers.append(alt.Chart(e).mark_rule(color="firebrick", strokeDash=[6, 3]).encode(x=x))
        layers.append(
            alt.Chart(e)
            .mark_text(align="left", dx=4, baseline="top", color="firebrick")
            .encode(x=x, y=alt.value(2), text="label:N")
        )
    return alt.layer(*layers)


def sweep_readings(result: ComparisonResult, key: str) -> None:
    """LR1-LR3 read off one comparison: status per run and variant, epochs to a target, and the
    generalization gap up to the divergence edge."""
    steps, summary, epochs = result.frame("steps"), result.summary(), result.frame("epochs")
    order = result.variant_order()
    th = topics_lr.Thresholds()
    runs = topics_lr.classify_runs(steps, summary, th)
    variants = topics_lr.classify_variants(runs, order)
    knob = numeric_knob(result)
    values = knob_values(summary, knob)

    st.subheader("Converging, oscillating or diverged — each run judged by its own numbers")
    st.caption(
        f"A run is **diverged** when its loss turned NaN/∞ or blew up (a batch loss ≥ {th.blowup:g}× its "
        f"first) and never came back below {th.progress:.0%} of where it started — on a classifier that is "
        f"a network stuck at chance. It is **oscillating** when it survived but its volatility (std of the "
        f"step-to-step change of the batch loss, divided by the first batch loss) exceeds {th.oscillation:g}; "
        "**converging** otherwise, however slowly. A variant takes its seeds' most common status (a tie "
        "goes to the worse one)."
    )
    left, right = st.columns(2)
    with left:
        panels.chart(status_chart(epochs, runs), key=f"{key}.status_chart")
    with right:
        panels.chart(volatility_chart(runs, values, knob, order, th.oscillation), key=f"{key}.vol_chart")
    status_table(variants)

    st.subheader("How many epochs to reach a given loss")
    epochs_run = int(result.comparison.baseline.epochs)
    target = st.number_input(
        "target training loss", min_value=1e-4, value=0.1, format="%g", key=f"{key}.target",
        help="the first epoch whose training loss (measured after the epoch) is at or below this",
    )  # fmt: skip
    per_run = topics_lr.epochs_to_target(epochs, float(target))
    table = topics_lr.target_table(per_run, summary, order, values)
    left, right = st.columns([3, 2])
    with left:
        panels.chart(target_chart(table, knob, order, epochs_run), key=f"{key}.target_chart")
    with right:
        st.dataframe(
            table.drop(columns=["value"]), hide_index=True, width="stretch",
            column_config={"epochs": st.column_config.NumberColumn("mean epochs", format="%.1f")},
        )  # fmt: skip
        slower = topics_lr.slower_when_smaller(table) if knob else None
        if slower is not None:
            st.caption(
                f"Among the {knob} values that got there, a smaller value "
                + ("never needed fewer epochs." if slower else "sometimes needed *fewer* epochs.")
            )

    st.subheader("Generalization gap up to the divergence edge")
    edge = topics_lr.divergence_edge(variants, values) if knob else None
    gaps = topics_lr.gap_to_edge(summary, runs, knob, edge) if knob else pd.DataFrame()
    if not knob:
        st.caption("Vary one numeric knob (the learning rate) to see the gap against it.")
        return
    panels.chart(gap_chart(gaps, knob, order, edge), key=f"{key}.gap_chart")
    trend = topics_lr.gap_trend(gaps, knob)
    edge_text = f"the first diverged {knob} is {edge:g}" if edge is not None else "no variant diverged"
    trend_text = (
        "too few values below the edge to read a trend"
        if trend is None
        else f"rank correlation of the gap with log {knob} below the edge: {trend:+.2f} "
        + ("(larger values, smaller gap)" if trend < 0 else "(larger values, larger gap)")
    )
    st.caption(f"{edge_text.capitalize()}; {trend_text}.")


# -- LR range test ---------------------------------------------------------------------------------------
COMPARE = {
    "nothing": {},
    "with batch norm (before the activation)": {"batch_norm": "before"},
    "with Adam instead": {"optimizer": "adam"},
    "with plain SGD (no momentum)": {"optimizer": "sgd"},
}


def range_label(base: Experiment, e: Experiment) -> str:
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
                st.error(f"Range test not run: {err}")
    stored = st.session_state.get(state_key)
    if stored is None:
        st.info("Press **Run the range test**: a few seconds (one short training per network).")
        return
    ran, curves, suggestions = stored
    if ran != params:
        st.caption(
            "Showing the last range test; the settings above have changed since: press Run to redo it."
        )
    left, right = st.columns([3, 2])
    with left:
        panels.chart(charts.lr_finder_chart(curves, suggestions), key=f"{key}.finder")
    with right:
        panels.chart(charts.lr_derivative_chart(curves), key=f"{key}.deriv")
    table = suggestions.pivot_table(index="run", columns="name", values="lr", sort=False).reset_index()
    stopped = suggestions.groupby("run", sort=False)["stopped_early"].first()
    table["stopped at the blow-up"] = table["run"].map(stopped)
    st.dataframe(table, hide_index=True, width="stretch")
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
    st.caption(f"Trains {which} at {lrs[0]:g}, {lrs[1]:g} (the {name} suggestion) and {lrs[2]:g}, "
               f"{int(seeds)} seed(s) each, for {experiment.epochs} epochs.")  # fmt: skip
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
    st.dataframe(agg, hide_index=True, width="stretch")


# -- optimizer sandbox -------------------------------------------------------------------------------
ALPHAS = tuple(float(f"{v:.2g}") for v in np.geomspace(1e-4, 4.0, 47))
ADAPTIVE_ALPHAS = tuple(float(f"{v:.2g}") for v in np.geomspace(1e-3, 1.0, 31))


def _nearest(options: Sequence[float], value: float) -> float:
    return min(options, key=lambda o: abs(math.log(o) - math.log(value)))


def sandbox_section(key: str) -> None:
    """Five optimizers on a 2-D surface from the same start, the closed forms and the (α, β) map."""
    st.subheader("Sandbox: a ravine in two dimensions (instant, no TensorFlow)")
    cols = st.columns(4)
    surface = cols[0].radio("surface", ["ravine (quadratic)", "Rosenbrock"], key=f"{key}.surface")
    ravine = surface.startswith("ravine")
    condition = cols[1].select_slider(
        "condition number κ", [1, 2, 5, 10, 20, 50, 100, 200, 500], value=50, key=f"{key}.kappa",
        disabled=not ravine, help="λmax / λmin: how much steeper the walls are than the floor",
    )  # fmt: skip
    rotation = cols[1].slider("rotation (°)", 0, 90, 30, key=f"{key}.rot", disabled=not ravine)
    problem: sandbox.Quadratic | sandbox.Rosenbrock = (
        sandbox.Quadratic(float(condition), float(rotation)) if ravine else sandbox.Rosenbrock()
    )
    default_alpha = 1.2 if ravine else 0.0012
    alpha = cols[2].select_slider(
        "α for SGD / momentum / Nesterov", ALPHAS, value=_nearest(ALPHAS, default_alpha),
        key=f"{key}.alpha.{'q' if ravine else 'r'}", format_func=lambda v: f"{v:g}",
    )  # fmt: skip
    beta = cols[2].slider("β (momentum; Adam's β₁)", 0.0, 0.99, 0.8, 0.01, key=f"{key}.beta")
    adaptive = cols[3].select_slider(
        "α for RMSprop / Adam", ADAPTIVE_ALPHAS, value=_nearest(ADAPTIVE_ALPHAS, 0.1 if ravine else 0.02),
        key=f"{key}.alpha_ad.{'q' if ravine else 'r'}", format_func=lambda v: f"{v:g}",
    )  # fmt: skip
    n_steps = cols[3].slider("steps", 20, 1000, 300 if ravine else 600, step=10, key=f"{key}.steps.{ravine}")
    optimal = ravine and st.toggle(
        "Add momentum at the closed-form optimal α*, β* (Goh 2017)", value=True, key=f"{key}.opt"
    )
    tol = 1e-6
    lrs = {"sgd": alpha, "momentum": alpha, "nesterov": alpha, "rmsprop": adaptive, "adam": adaptive}
    path_df = sandbox.paths(problem, sandbox.OPTIMIZERS, lrs, beta, steps=n_steps, tol=tol)
    status = dict(path_df.attrs["status"])
    form = sandbox.closed_form(problem) if ravine else None
    if optimal and form:
        best = sandbox.run_path(problem, "momentum", form["momentum_optimal_lr"], form["momentum_optimal_beta"],
                                steps=n_steps, tol=tol)  # fmt: skip
        label = "momentum at α*, β*"
        status[label] = best.attrs["status"]
        path_df = pd.concat([path_df, best.assign(optimizer=label)], ignore_index=True)
    path_df.attrs["status"] = status
    start = np.asarray(problem.default_start)
    if ravine:
        half = 1.25 * float(np.abs(start).max())
        window = ((-half, half), (-half, half))
    else:
        window = ((-2.0, 2.0), (-1.0, 3.0))
    grid = sandbox.contour_grid(problem, *window, n=60)
    left, right = st.columns([3, 2])
    with left:
        # Tall enough for both legends (the loss gradient and six optimizers) to fit the frame.
        panels.chart(charts.contour_paths(grid, path_df).properties(height=460), key=f"{key}.contour")
    with right:
        table = topics_lr.sandbox_table(path_df, problem, tol)
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_config={
                "steps_to_tol": st.column_config.NumberColumn(f"steps to loss < {tol:g}"),
                "final_loss": st.column_config.NumberColumn("final loss", format="%.2e"),
                "crossings": st.column_config.NumberColumn("ravine crossings", help="sign changes across the ravine"),
                "across_vs_along": st.column_config.NumberColumn("path across / along", format="%.2f"),
                "across": st.column_config.NumberColumn("distance across", format="%.3g"),
            },
        )  # fmt: skip
        if form:
            k = float(condition)
            st.markdown(
                f"**Closed forms for κ = {k:g}** (Goh 2017): gradient descent is best at "
                f"α = 2/(λmax+λmin) = {form['gd_optimal_lr']:.3g}, shrinking the error by "
                f"{form['gd_rate']:.3f} per step, and diverges past α = {form['gd_max_lr']:.3g}. Momentum is "
                f"best at α* = {form['momentum_optimal_lr']:.3g}, β* = {form['momentum_optimal_beta']:.3f}, "
                f"rate {form['momentum_rate']:.3f} per step: {_steps_1000(form['gd_rate'])} vs "
                f"{_steps_1000(form['momentum_rate'])} steps to shrink the error 1000×."
            )
        else:
            st.caption("Rosenbrock's ravine bends, so the quadratic's closed forms only hold near the minimum "
                       f"(curvatures there {problem.eigenvalues[0]:.0f} and {problem.eigenvalues[1]:.2f}).")  # fmt: skip
    st.markdown(
        "**Read it honestly.** At the *same* α, momentum usually crosses the ravine *more* often than "
        "plain SGD, not less: the velocity carries it past the floor (see the crossings column). What "
        "momentum buys is that the across-ravine swings cancel out over a few steps while the "
        "along-ravine pushes add up, and that it stays stable at larger steps (up to (2 + 2β)/λmax "
        "instead of 2/λmax). With a well-chosen α and β it reaches the bottom in far fewer steps than "
        "SGD can at any α: judge it by the closed-form rates and the steps-to-tolerance column, not by "
        "the wiggles."
    )
    if ravine:
        stability_and_swing(problem, float(alpha), float(beta), form, key)


def _steps_1000(rate: float) -> str:
    if not 0 < rate < 1:
        return "—" if rate >= 1 else "1"
    return f"{math.ceil(math.log(1e-3) / math.log(rate)):,}"


@st.cache_data(show_spinner=False, max_entries=64)
def _swing_sweep(condition: float, rotation: float) -> pd.DataFrame:
    """MO2's sweep (48 paths, ~0.3 s): cached per ravine, since sliders rerun the page often."""
    grid = [float(v) for v in np.round(np.geomspace(0.05, 3.9, 24), 3)]
    return topics_lr.oscillation_sweep(sandbox.Quadratic(condition, rotation), grid, [0.0, 0.9], steps=150)


def stability_and_swing(problem: sandbox.Quadratic, alpha: float, beta: float, form: dict, key: str) -> None:
    """The (α, β) map from the closed forms, and MO2: swing across the ravine vs α, β = 0 and 0.9."""
    left, right = st.columns(2)
    lrs = np.round(np.linspace(0.1, 4.0, 40), 3)
    betas = np.round(np.linspace(0.0, 0.95, 20), 3)
    smap = sandbox.stability_map(problem, lrs, betas)
    mark = pd.DataFrame(
        {
            "lr": [
                lrs[np.abs(lrs - alpha).argmin()],
                lrs[np.abs(lrs - form["momentum_optimal_lr"]).argmin()],
            ],
            "beta": [
                betas[np.abs(betas - beta).argmin()],
                betas[np.abs(betas - form["momentum_optimal_beta"]).argmin()],
            ],
            "what": ["your α, β", "optimal α*, β*"],
        }
    )
    point = (
        alt.Chart(mark)
        .mark_point(shape="diamond", size=140, filled=True, stroke="black")
        .encode(
            x=alt.X("lr:O", sort="ascending"),
            y=alt.Y("beta:O", sort="descending"),
            fill=alt.Fill("what:N", scale=alt.Scale(range=["gold", "white"]), title=None),
            tooltip=["what:N", "lr:Q", "beta:Q"],
        )
    )
    with left:
        st.markdown("**Where heavy-ball momentum converges** (spectral radius < 1, both directions)")
        panels.chart(alt.layer(charts.stability_map(smap), point), key=f"{key}.stability")
        st.caption("Blue contracts, red diverges. Plain GD (β = 0) must keep α < 2/λmax; momentum "
                   "stretches the stable range to α < (2 + 2β)/λmax.")  # fmt: skip
    with right:
        st.markdown("**How hard it swings across the ravine as α grows** (MO2)")
        sweep = _swing_sweep(problem.condition, problem.rotation_deg)
        sweep = sweep.assign(momentum=sweep["beta"].map(lambda b: f"β = {b:g}"))
        ok = sweep[np.isfinite(sweep["across"])]
        p = pick("momentum")
        line = (
            alt.Chart(ok)
            .mark_line(point=True)
            .encode(
                x=alt.X("lr:Q", scale=alt.Scale(type="log"), title="α"),
                y=alt.Y(
                    "across:Q", scale=alt.Scale(type="log"), title="distance travelled across (× offset)"
                ),
                color=alt.Color("momentum:N", title=None),
                opacity=fade(p),
                tooltip=[
                    "momentum:N",
                    tip("lr:Q", "α"),
                    tip("across:Q"),
                    tip("max_swing:Q", "largest swing"),
                    "crossings:Q",
                ],
            )
            .add_params(p)
        )
        blown = sweep[~np.isfinite(sweep["across"])].assign(note="diverged")
        layers = [line]
        if len(blown):
            layers.append(
                alt.Chart(blown)
                .mark_text(text=CROSS, size=16, color="firebrick", baseline="top")
                .encode(x="lr:Q", y=alt.value(2), tooltip=["momentum:N", "lr:Q", "note:N"])
            )
        panels.chart(alt.layer(*layers), key=f"{key}.swing")
        st.caption("Distance 1 = straight across to the floor. Without momentum the back-and-forth grows "
                   "with α past α = 1/λmax until GD diverges at 2/λmax (✕): the notes' point that a larger LR "
                   "raises the vertical oscillation. With β = 0.9 it swings more at small α, but survives "
                   "up to (2 + 2β)/λmax.")  # fmt: skip


# -- optimizers and schedules on a real network --------------------------------------------------------
def target_readout(result: ComparisonResult, key: str, default: float = 0.1) -> None:
    """Epochs to a target training loss per variant (chart + table)."""
    target = st.number_input("target training loss", min_value=1e-4, value=default, format="%g",
                             key=f"{key}.target")  # fmt: skip
    table = topics_lr.target_table(
        topics_lr.epochs_to_target(result.frame("epochs"), float(target)),
        result.summary(),
        result.variant_order(),
    )
    left, right = st.columns([3, 2])
    with left:
        panels.chart(target_chart(table, None, result.variant_order(), result.comparison.baseline.epochs),
                     key=f"{key}.target_chart")  # fmt: skip
    with right:
        st.dataframe(table.drop(columns=["value"]), hide_index=True, width="stretch",
                     column_config={"epochs": st.column_config.NumberColumn("mean epochs", format="%.1f")})  # fmt: skip


OPTIMIZER_LRS = (0.001, 0.01, 0.1)


def all_optimizers_section(base: Experiment, key: str) -> None:
    """The five optimizers, each at three learning rates (its best one shown): a fair race needs
    each optimizer at a step size that suits it, since Adam's 0.001 is SGD's crawl."""
    st.subheader("All five optimizers on the network, each at its best of three learning rates")
    comparison = Comparison.of(
        dataclasses.replace(base, lr_schedule="constant"),
        {"optimizer": ("sgd", "momentum", "nesterov", "rmsprop", "adam"), "learning_rate": OPTIMIZER_LRS},
        2,
    )
    clicked = st.button(f"Train the optimizer race ({comparison.n_members} runs, 5 groups, ~1 min)",
                        icon="🏁", key=f"{key}.race_go")  # fmt: skip
    result = replay_or_train(comparison, f"{key}.race", clicked)
    if result is None:
        st.caption("Not trained yet on these settings: press the button.")
        return
    summary = result.summary()
    best_rows = []
    for opt, g in summary.groupby("optimizer", sort=False):
        name, agg = topics_lr.best_variant(g)
        if name is not None:
            best_rows.append(agg[agg["variant"] == name].assign(optimizer=opt))
    if not best_rows:
        st.warning("Every run diverged.")
        return
    best = pd.concat(best_rows, ignore_index=True)
    keep = set(best["variant"])
    epochs = result.frame("epochs")
    chosen = epochs[epochs["variant"].isin(keep)]
    order = [v for v in result.variant_order() if v in keep]
    panels.chart(
        charts.curves(chosen, "val_loss", summary=summary, variant_order=order), key=f"{key}.race_curves"
    )
    st.dataframe(best.rename(columns={"mean": "mean final val loss"}), hide_index=True, width="stretch")


def schedules_section(base: Experiment, key: str) -> None:
    """constant / step / cosine / one_cycle (with momentum cycling) / cyclic at one peak LR, the
    loss per step drawn above the LR and momentum each schedule used."""
    st.subheader("Learning-rate schedules")
    st.markdown(
        "Same network, same peak learning rate, five schedules: **step** drops ×0.1 at ½ and ¾ of "
        "training, **cosine** glides to zero, **one_cycle** warms up for 30 % then anneals far below the "
        "start while momentum cycles the other way (0.95 → 0.85 → 0.95; Smith 2018), **cyclic** bounces "
        "between lr/10 and lr every 2 epochs (Smith 2015)."
    )
    with st.form(f"{key}.sched_form"):
        cols = st.columns([2, 3, 1])
        peak = cols[0].select_slider("peak learning rate", [0.01, 0.03, 0.05, 0.1, 0.2, 0.3], value=0.1,
                                     key=f"{key}.sched_lr")  # fmt: skip
        chosen = cols[1].multiselect(
            "schedules", LR_SCHEDULES, default=list(LR_SCHEDULES), key=f"{key}.sched"
        )
        cols[2].write("")
        clicked = cols[2].form_submit_button("Run", icon="▶️")
    if not chosen:
        st.warning("Pick at least one schedule.")
        return
    comparison = Comparison.of(
        dataclasses.replace(base, learning_rate=float(peak)), {"lr_schedule": tuple(chosen)}, 2
    )
    result = replay_or_train(comparison, f"{key}.sched", clicked)
    if result is None:
        st.caption(f"Not trained yet ({comparison.n_members} runs, one stacked group): press Run.")
        return
    order, summary = result.variant_order(), result.summary()
    panels.chart(charts.curves(result.frame("steps"), "loss", x="step", summary=summary, variant_order=order),
                 key=f"{key}.sched_loss")  # fmt: skip
    panels.chart(charts.schedule_chart(result.frame("steps"), order, log_y=True), key=f"{key}.sched_lr_chart")
    st.caption("Top: batch loss per step (mean over seeds, band = seed range). Below: the learning rate "
               "(log) and, where it varies, the momentum each schedule used at that step.")  # fmt: skip
    left, right = st.columns(2)
    with left:
        panels.final_panel(result)
    with right:
        panels.summary_table(result)


# -- weight decay ----------------------------------------------------------------------------------------
# Smith's grid plus 1e-1: Keras multiplies the decay by the LR (W -= lr·λ·W), so at lr 0.05 the
# notes' values are gentle and the grid needs one stronger value to show the far side.
WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
DEFAULT_WEIGHT_DECAYS = (0.0, 1e-3, 1e-2, 3e-2, 1e-1)
ALL = 2000  # digits has 1,797 examples: this cap means "all of them"


ONE_CYCLE_PEAK = 4.0  # one_cycle's peak as a multiple of the constant LR: a *range* of larger LRs


def grid_comparisons(base: Experiment) -> dict[str, dict[str, Comparison]]:
    """The three weight-decay grids (2 seeds each), each as row label -> comparison: × training-set
    size and × width (one comparison varying both knobs), and × LR policy — a constant LR vs
    one_cycle sweeping up to ONE_CYCLE_PEAK times it, Smith's setting for "larger LRs regularize"."""
    sizes, widths = ((200, 400), (16, 32)) if quick() else ((200, 600, ALL), (16, 64, 256))
    wd = {"weight_decay": WEIGHT_DECAYS}
    constant = dataclasses.replace(base, lr_schedule="constant")
    peak = float(f"{ONE_CYCLE_PEAK * base.learning_rate:.3g}")
    cycle = dataclasses.replace(base, lr_schedule="one_cycle", learning_rate=peak)
    return {
        "n_samples": {"": Comparison.of(base, {**wd, "n_samples": sizes}, 2)},
        "width": {"": Comparison.of(base, {**wd, "width": widths}, 2)},
        "schedule": {
            f"constant, lr {base.learning_rate:g}": Comparison.of(constant, wd, 2),
            f"one_cycle, peak {peak:g}": Comparison.of(cycle, wd, 2),
        },
    }


GRID_TITLES = {
    "n_samples": "training-set size (rows; 2000 = all of digits)",
    "width": "width (units per hidden layer)",
    "schedule": "LR policy: constant vs one_cycle up to a larger peak",
}


def wd_grid_section(base: Experiment, key: str) -> None:
    """Heatmaps of final validation loss, best weight decay per row starred: from a button
    (several stacked groups, minutes on 2 cores), replayed on load once stored."""
    st.subheader("The grid: weight decay × data size, × width, × LR policy")
    grids = grid_comparisons(base)
    total = sum(c.n_members for rows in grids.values() for c in rows.values())
    clicked = st.button(
        f"Train the grids ({total} runs; a few minutes on 2 cores)", icon="🧮", key=f"{key}.grid_go"
    )
    for name, rows in grids.items():
        st.markdown(f"**Weight decay × {GRID_TITLES[name]}**")
        parts = []
        for label, comparison in rows.items():
            result = replay_or_train(comparison, f"{key}.grid.{name}.{label}", clicked)
            if result is not None:
                parts.append(result.summary().assign(schedule=label))
        if len(parts) < len(rows):
            st.caption(f"Not trained yet ({sum(c.n_members for c in rows.values())} runs): press the button.")
            continue
        summary = pd.concat(parts, ignore_index=True)
        left, right = st.columns([3, 2])
        with left:
            panels.chart(
                charts.heatmap_grid(summary, "weight_decay", name, "final_val_loss", best_per="row"),
                key=f"{key}.heat.{name}",
            )
        with right:
            best = topics_lr.best_per_row(summary, "weight_decay", name)
            st.dataframe(best, hide_index=True, width="stretch",
                         column_config={"best_mean": st.column_config.NumberColumn("best val loss", format="%.4f"),
                                        "seed_std": st.column_config.NumberColumn("seed std", format="%.4f"),
                                        "runner_up_gap": st.column_config.NumberColumn("lead", format="%.4f"),
                                        "spread": st.column_config.NumberColumn("row spread", format="%.4f")})  # fmt: skip
    st.caption("★ = lowest mean final validation loss in its row. A star is only meaningful when its lead "
               "over the runner-up exceeds the seed spread (compare the *lead* and *seed std* columns). The "
               "grid adds 1e-1 to Smith's values because Keras multiplies the decay by the learning rate "
               "(W −= lr·λ·W), which makes the smaller values gentle at lr 0.05.")  # fmt: skip


def decoupled_section(base: Experiment, key: str) -> None:
    """Decoupled weight decay vs the L2 penalty, under plain SGD (the same update) and Adam (not)."""
    st.subheader("Decoupled weight decay vs an L2 penalty")
    st.markdown(
        "Keras' `weight_decay` is *decoupled*: every step shrinks each kernel weight by the same "
        "fraction (W −= lr·λ·W), outside the gradient. An L2 penalty (l2·ΣW²) adds 2·l2·W to the "
        "*gradient* instead; with l2 = λ/2 the two are exactly the same update under plain SGD. Under "
        "**Adam** they part ways: the penalty's gradient is divided by each weight's running gradient "
        "RMS like every other gradient, so weights with large gradients are barely decayed and quiet "
        "ones are decayed hard, while decoupled decay shrinks all weights alike — Loshchilov & Hutter's "
        "reason for AdamW. (Under momentum they differ too: the penalty goes through the velocity.)"
    )
    with st.form(f"{key}.dec_form"):
        cols = st.columns([2, 1])
        lam = cols[0].select_slider("λ (decoupled) — the L2 runs use l2 = λ/2", [1e-4, 1e-3, 1e-2, 1e-1],
                                    value=1e-2, format_func=lambda v: f"{v:g}", key=f"{key}.lam")  # fmt: skip
        clicked = cols[1].form_submit_button("Run", icon="▶️")
    setups = {"sgd (lr 0.1)": dataclasses.replace(base, optimizer="sgd", learning_rate=0.1),
              "adam (lr 0.001)": dataclasses.replace(base, optimizer="adam", learning_rate=0.001)}  # fmt: skip
    tables, missing = [], 0
    for name, experiment in setups.items():
        comparison = Comparison.of(experiment, {"weight_decay": (0.0, lam), "l2": (0.0, lam / 2)}, 2)
        result = replay_or_train(comparison, f"{key}.dec.{name}", clicked)
        if result is None:
            missing += comparison.n_members
            continue
        tables.append(topics_lr.decay_table(result.summary(), result.frame("weights"), name))
    if missing:
        st.caption(f"{missing} runs not trained yet for λ = {lam:g}: press Run.")
    if tables:
        st.dataframe(
            pd.concat(tables, ignore_index=True), hide_index=True, width="stretch",
            column_config={c: st.column_config.NumberColumn(c.replace("_", " "), format="%.4f")
                           for c in ("final_val_loss", "final_train_loss", "weight_norm")},
        )  # fmt: skip
        st.caption("weight norm = mean kernel norm over layers after training. Under SGD the decoupled "
                   "and L2 rows should match to float precision; under Adam they need not — and since Keras "
                   "multiplies decoupled decay by the learning rate, Adam's small lr makes the same λ decay "
                   "far less than the penalty does (compare the weight norms).")  # fmt: skip
