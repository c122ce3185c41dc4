"""L1, L2 and dropout: overfitting fought three ways on a training set small enough to overfit."""

import dataclasses

import streamlit as st

from core.measures import with_gaps as gaps
from core.spec import Comparison, Experiment
from core.topics.regularization import (
    cost_finding,
    cost_set,
    cost_table,
    regularization_set,
    seed_spread,
)
from ui import charts, claims_block, panels
from ui.builder import Preset, comparison_builder
from ui.cache import memoized
from ui.run import auto, on_demand
from ui.sections import regularization as sections
from ui.state import page
from ui.text import public_error

page("L1, L2 & dropout", "🧲")
st.markdown(
    "A network with far more weights than training examples can memorize them: training loss "
    "goes to zero while validation loss climbs. Penalties on the weights fight that — L1 "
    "(Σ|w|) drives many weights to (nearly) zero, L2 (Σw²) shrinks all of them a little — and "
    "dropout hides random units at every step so no unit can rely on another. Here they run side "
    "by side on 300 digits (240 to train on): enough overfitting to fight. The notes also call L1 the "
    "costlier one to compute; the last section times that on this machine. Sources: "
    "[notes](https://github.com/sandhyaparna/Data-Science/blob/e617d0d1a54293cd157d0ae65477c6a6329625e4/Deep%20Learning/Neural%20Networks.md), "
    "[tuning techniques](https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8), "
    "[Keras regularizers](https://keras.io/api/layers/regularizers/)."
)
seed_spread = memoized(seed_spread)
STRENGTHS = (1e-3, 3e-3, 0.3)  # L1, L2, dropout rate
PRESET = Preset(
    Experiment(n_samples=300, width=128, depth=2, epochs=30, batch_size=32, learning_rate=0.02), seeds=3
)
comparison, clicked = comparison_builder(
    "regularization", PRESET, knobs=("n_samples", "width", "epochs", "learning_rate")
)
st.caption(
    "The sliders set each regularizer's strength for the five-way comparison (press Run to train "
    "new strengths). To sweep one knob instead, vary l1, l2 or dropout in the builder above."
)
l1, l2, dropout = sections.strength_sliders("regularization", STRENGTHS)
base = comparison.baseline
try:
    asked = comparison if comparison.vary else regularization_set(base, l1, l2, dropout, comparison.seeds)
except ValueError as err:
    st.error(f"Not run: {public_error(err)}")
    st.stop()
default = regularization_set(PRESET.comparison().baseline, *STRENGTHS, PRESET.seeds)
result = auto(asked, "regularization", clicked, default)

if result is not None:
    summary, order = gaps(result.summary()), result.variant_order()
    metric = st.radio("curves", ["loss", "accuracy"], horizontal=True, key="regularization.split")
    panels.chart(charts.train_val_curves(result.frame("epochs"), metric, summary, order))
    st.caption("Solid: training split, dashed: validation split, both measured without dropout.")
    left, right = st.columns(2)
    with left:
        st.markdown("**Generalization gap** (val − train loss, every seed)")
        panels.chart(charts.final_metric(summary, "generalization_gap", order))
    with right:
        st.markdown("**Sparsity per layer** (share of |w| < 1e-3 after training)")
        panels.chart(charts.sparsity_bars(result.frame("weights"), order))
    panels.table(
        seed_spread(summary, "generalization_gap", order),
        {c: "%.4f" for c in ("mean", "std", "min", "max", "range")},
    )
    st.markdown("**Kernel weights after training** (one row per variant, symlog counts)")
    panels.chart(charts.weight_histograms(result.frame("histograms"), order))
    panels.summary_table(result)
    st.caption(
        "These variants train stacked in one model and share its clock, so their seconds are "
        "the same by construction: the compute-cost section below times them separately."
    )
    panels.replay_caption(result)
    panels.export_panel(result, "regularization")
    panels.share_panel("regularization")

st.subheader("Sweep one strength")
SWEEPS = {
    "l1": (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
    "l2": (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
    "dropout": (0.0, 0.1, 0.3, 0.5, 0.7),
}
knob = st.selectbox("regularizer", list(SWEEPS), key="regularization.sweep_knob")
clean = dataclasses.replace(base, l1=0.0, l2=0.0, dropout=0.0)
sweep = Comparison.of(clean, {knob: SWEEPS[knob]}, seeds=2)
swept = on_demand(
    sweep,
    f"regularization.sweep.{knob}",
    f"Sweep {knob}",
    f"{sweep.n_members} runs in one stacked model, on the builder's baseline.",
)
if swept is not None:
    sections.sweep_charts(swept, knob)

st.subheader("Compute cost: is L1 slower than L2?")
TIMING = Preset(Experiment(n_samples=2000, width=256, epochs=6)).comparison().baseline  # all of digits
timing = cost_set(
    dataclasses.replace(base, n_samples=TIMING.n_samples, width=256, epochs=TIMING.epochs), l1, l2, 3
)
timed = on_demand(
    timing,
    "regularization.cost",
    "Time none / L1 / L2 separately",
    f"{timing.n_members} runs trained one at a time (n_samples {TIMING.n_samples}, width 256, "
    f"{TIMING.epochs} epochs): stacked "
    "runs share one clock, so only separate runs can be timed.",
    separate=True,
)
if timed is not None:
    costs = cost_table(timed.summary(), timed.frame("epochs"))
    finding = cost_finding(costs)
    panels.chart(charts.final_metric(costs[costs["alone"]], "time_per_epoch", timed.variant_order()))
    st.markdown(f"**{finding['outcome']}** — {finding['sentence']}")
    st.caption(
        "Seconds per epoch exclude the first epoch (graph tracing and compilation). Timings from "
        "the store come from the machine that trained them; other work on the machine adds noise, "
        f"so the verdict needs every L1 run slower than every L2 run. {int((~costs['alone']).sum())} "
        "run(s) came from a stacked group and are left out."
    )

claims_block.show("regularization", base.dataset)
