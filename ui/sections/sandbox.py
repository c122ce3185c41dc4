"""The optimizer sandbox section (optimizers page): five optimizers on a 2-D surface from the same
start, the closed forms, the heavy-ball stability map and the swing across the ravine. NumPy only:
it redraws in milliseconds and never imports TensorFlow."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from core import sandbox
from core.topics import lr as topics_lr
from ui import charts, panels

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
        "condition number κ",
        [1, 2, 5, 10, 20, 50, 100, 200, 500],
        value=50,
        key=f"{key}.kappa",
        disabled=not ravine,
        help="λmax / λmin: how much steeper the walls are than the floor",
    )
    rotation = cols[1].slider("rotation (°)", 0, 90, 30, key=f"{key}.rot", disabled=not ravine)
    problem: sandbox.Quadratic | sandbox.Rosenbrock = (
        sandbox.Quadratic(float(condition), float(rotation)) if ravine else sandbox.Rosenbrock()
    )
    default_alpha = 1.2 if ravine else 0.0012
    alpha = cols[2].select_slider(
        "α for SGD / momentum / Nesterov",
        ALPHAS,
        value=_nearest(ALPHAS, default_alpha),
        key=f"{key}.alpha.{'q' if ravine else 'r'}",
        format_func=lambda v: f"{v:g}",
    )
    beta = cols[2].slider("β (momentum; Adam's β₁)", 0.0, 0.99, 0.8, 0.01, key=f"{key}.beta")
    adaptive = cols[3].select_slider(
        "α for RMSprop / Adam",
        ADAPTIVE_ALPHAS,
        value=_nearest(ADAPTIVE_ALPHAS, 0.1 if ravine else 0.02),
        key=f"{key}.alpha_ad.{'q' if ravine else 'r'}",
        format_func=lambda v: f"{v:g}",
    )
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
        best = sandbox.run_path(
            problem,
            "momentum",
            form["momentum_optimal_lr"],
            form["momentum_optimal_beta"],
            steps=n_steps,
            tol=tol,
        )
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
    # Tall enough for both legends (the loss gradient and six optimizers) to fit the frame.
    panels.chart(charts.contour_paths(grid, path_df).properties(height=460), key=f"{key}.contour")
    table = topics_lr.sandbox_table(path_df, problem, tol)
    panels.dataframe(
        table,
        column_config={
            "steps_to_tol": st.column_config.NumberColumn(f"steps to loss < {tol:g}"),
            "final_loss": st.column_config.NumberColumn("final loss", format="%.2e"),
            "crossings": st.column_config.NumberColumn(
                "ravine crossings", help="sign changes across the ravine"
            ),
            "across_vs_along": st.column_config.NumberColumn("path across / along", format="%.2f"),
            "across": st.column_config.NumberColumn("distance across", format="%.3g"),
        },
    )
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
        st.caption(
            "Rosenbrock's ravine bends, so the quadratic's closed forms only hold near the minimum "
            f"(curvatures there {problem.eigenvalues[0]:.0f} and {problem.eigenvalues[1]:.2f})."
        )
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


def _snap_to(grid: np.ndarray, value: float) -> float:
    """The grid value nearest to `value`: the map's axes are ordinal, so a mark must sit on a cell."""
    return float(grid[np.abs(grid - value).argmin()])


def stability_and_swing(problem: sandbox.Quadratic, alpha: float, beta: float, form: dict, key: str) -> None:
    """The (α, β) map from the closed forms, and MO2: swing across the ravine vs α, β = 0 and 0.9."""
    left, right = st.columns(2)
    lrs = np.round(np.linspace(0.1, 4.0, 40), 3)
    betas = np.round(np.linspace(0.0, 0.95, 20), 3)
    smap = sandbox.stability_map(problem, lrs, betas)
    marks = pd.DataFrame(
        {
            "lr": [_snap_to(lrs, alpha), _snap_to(lrs, form["momentum_optimal_lr"])],
            "beta": [_snap_to(betas, beta), _snap_to(betas, form["momentum_optimal_beta"])],
            "what": ["your α, β", "optimal α*, β*"],
        }
    )
    with left:
        st.markdown("**Where heavy-ball momentum converges** (spectral radius < 1, both directions)")
        panels.chart(charts.stability_with_marks(smap, marks), key=f"{key}.stability")
        st.caption(
            "Blue contracts, red diverges. Plain GD (β = 0) must keep α < 2/λmax; momentum "
            "stretches the stable range to α < (2 + 2β)/λmax."
        )
    with right:
        st.markdown("**How hard it swings across the ravine as α grows** (MO2)")
        sweep = _swing_sweep(problem.condition, problem.rotation_deg)
        panels.chart(charts.swing_chart(sweep), key=f"{key}.swing")
        st.caption(
            "Distance 1 = straight across to the floor. Without momentum the back-and-forth grows "
            "with α past α = 1/λmax until GD diverges at 2/λmax (✕): the notes' point that a larger LR "
            "raises the vertical oscillation. With β = 0.9 it swings more at small α, but survives "
            "up to (2 + 2β)/λmax."
        )
