"""The wide-vs-deep page's universal-approximation section (claim WVD3): one hidden layer of
growing width fitting a smooth 2-D surface; the training error against width, and the fitted
surface beside the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.claims import approximation as wvd3
from core.claims.runs import SPLIT_SEED, TOY_N
from core.data.toy import bumps_target
from core.spec import Comparison, Experiment
from ui import panels
from ui.charts import approximation as charts
from ui.run import on_demand, stacked_note
from ui.session import quick

SEEDS = 2  # a look, not a verdict: the claim trains 8 seeds
QUICK_EPOCHS = 2  # tests and demos (WHATIF_QUICK): the same comparison, tiny


def base_experiment(noise: float) -> Experiment:
    """The claim's setting (bumps, one hidden layer, Adam), with the noise the visitor picked."""
    return Experiment(
        dataset=wvd3.WVD3_DATASET,
        n_samples=TOY_N,
        noise=noise,
        depth=1,
        optimizer="adam",
        learning_rate=wvd3.WVD3_LR,
        batch_size=wvd3.WVD3_BATCH,
        epochs=QUICK_EPOCHS if quick() else wvd3.WVD3_EPOCHS,
        split_seed=SPLIT_SEED,
    )


def target_frame(boundary: pd.DataFrame) -> pd.DataFrame:
    """The noiseless target on the fitted surfaces' own grid (or a default one)."""
    if {"x0", "x1"} <= set(boundary.columns) and len(boundary):
        grid = boundary[["x0", "x1"]].drop_duplicates()
    else:
        g = np.linspace(-2.4, 2.4, 50)
        grid = pd.DataFrame(np.stack(np.meshgrid(g, g), -1).reshape(-1, 2), columns=["x0", "x1"])
    return grid.assign(value=bumps_target(grid[["x0", "x1"]].to_numpy()))


def approximation_section(key: str = "wide_deep.approx") -> None:
    """Subheader, widths and noise, a Run button, then error vs width and the surfaces."""
    st.subheader("Universal approximation: one hidden layer, wider and wider")
    st.markdown(
        "A network with a single hidden layer can approximate any reasonable function if it is wide enough "
        "([Cybenko 1989](https://doi.org/10.1007/BF02551274), [Hornik 1991](https://doi.org/10.1016/0893-6080(91)90009-T)). "
        "Here it fits a smooth bumpy surface over the plane (five hills and valleys and a ripple, scaled to "
        "SD 1, so the mean squared error reads as the share of the surface's variance left unexplained). "
        "Every width trains with the same optimizer for the same epochs; the training error is what "
        "approximation is about."
    )
    cols = st.columns([3, 1])
    widths = cols[0].multiselect(
        "widths of the hidden layer", wvd3.WVD3_WIDTHS, list(wvd3.WVD3_WIDTHS), key=f"{key}.widths"
    )
    noise = cols[1].select_slider(
        "target noise (SD)", [0.0, 0.1, 0.2, 0.4], value=0.0, key=f"{key}.noise",
        help="noise added to the training targets: it puts a floor under the error that no width removes",
    )  # fmt: skip
    if not widths:
        st.warning("Pick at least one width.")
        return
    plan = Comparison.of(base_experiment(float(noise)), {"width": tuple(sorted(widths))}, SEEDS)
    result = on_demand(plan, key, "Run the width sweep", stacked_note(plan, "one stacked model per width"))
    if result is None:
        return
    summary, order = result.summary(), result.variant_order()
    st.markdown("**Training error against width** (both axes log; dots are seeds, the line their mean)")
    panels.chart(charts.error_vs_width(summary))
    boundary = result.frame("boundary")
    st.markdown("**The target and each width's fitted surface** (mean over seeds, one colour scale)")
    panels.chart(charts.surfaces(boundary, target_frame(boundary), order, columns=3))
    panels.replay_caption(result)
