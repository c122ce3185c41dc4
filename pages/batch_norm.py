"""Batch normalization: where to put it, and whether it buys speed, larger LRs, init robustness."""

import streamlit as st

from core.measures import with_gaps as gaps
from core.spec import Comparison, Experiment
from core.topics.regularization import init_spread, lr_stability, stable_edges
from ui import charts, claims_block, panels
from ui.builder import Preset
from ui.cache import memoized
from ui.run import built, groups, on_demand, stacked_note
from ui.sections.batch_norm import accuracy_target_table, epochs_to_accuracy
from ui.sections.decay import decay_section
from ui.sections.input_scaling import input_scaling_section
from ui.state import page

page("Batch normalization", "⚖️")
st.markdown(
    "Batch normalization rescales a layer's values over each mini-batch to zero mean and unit "
    "variance, then lets the network learn its own scale and shift "
    "([Ioffe & Szegedy 2015](https://arxiv.org/abs/1502.03167)). It is credited with fewer epochs, "
    "larger usable learning rates, less fuss about weight initialization and a little "
    "regularization — and the notes advise putting it before ReLU but after s-shaped activations. "
    "Each section below tests one of these on real runs. Sources: "
    "[notes](https://github.com/sandhyaparna/Data-Science/blob/e617d0d1a54293cd157d0ae65477c6a6329625e4/Deep%20Learning/Neural%20Networks.md), "
    "[Machine Learning Mastery](https://machinelearningmastery.com/batch-normalization-for-training-of-deep-neural-networks/), "
    "[tuning techniques](https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8)."
)
PLACES = ("none", "before", "after")
lr_stability = memoized(lr_stability)
stable_edges = memoized(stable_edges)
init_spread = memoized(init_spread)
# A plain SGD-with-momentum net three layers deep at a modest LR: deep and slow enough for BN to
# have something to fix, small enough that its three structural variants train in seconds.
PRESET = Preset(
    Experiment(n_samples=1000, depth=3, width=64, epochs=10, learning_rate=0.01),
    {"batch_norm": PLACES},
    seeds=3,
)
comparison, result = built("batch_norm", PRESET, ("activation", "depth", "learning_rate", "epochs"))
base = comparison.baseline

if result is not None:
    panels.standard(result, "batch_norm", metric="val_accuracy")
    target = st.slider("target validation accuracy", 0.5, 0.99, 0.9, 0.01, key="batch_norm.target")
    per_run = epochs_to_accuracy(result.frame("epochs"), target)
    st.markdown(f"**Epochs to {target:.0%} validation accuracy** (every seed that got there)")
    if per_run["reached"].any():
        panels.chart(charts.final_metric(per_run, "epochs_to_target", result.variant_order()))
    else:
        st.info(f"No run reached {target:.0%} validation accuracy: lower the target or train longer.")
    panels.table(
        accuracy_target_table(per_run, result.variant_order()),
        {"mean_epochs": "%.1f", "fastest": "%d", "slowest": "%d"},
        {"mean_epochs": "mean epochs", "reached": "seeds that reached it"},
    )

st.subheader("Before or after the activation, per activation")
grid = Comparison.of(base, {"activation": ("relu", "tanh", "sigmoid"), "batch_norm": PLACES}, seeds=2)
placed = on_demand(
    grid,
    "batch_norm.grid",
    "Run the activation × placement grid",
    f"{grid.n_members} runs, {groups(grid)} separately compiled models (tens of seconds).",
)
if placed is not None:
    summary, order = placed.summary(), placed.variant_order()
    panels.chart(charts.curves(placed.frame("epochs"), "val_accuracy", "epoch", summary, order))
    panels.chart(charts.metric_vs_knob(summary, "batch_norm", "final_val_loss", color_by="activation"))
    per_run = epochs_to_accuracy(placed.frame("epochs"), 0.9)
    panels.table(
        accuracy_target_table(per_run, order),
        {"mean_epochs": "%.1f"},
        {"mean_epochs": "epochs to 90%"},
    )
    panels.replay_caption(placed)

st.subheader("Largest stable learning rate, with and without BN")
RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
sweep = Comparison.of(base, {"batch_norm": ("none", "before"), "learning_rate": RATES}, seeds=2)
swept = on_demand(
    sweep,
    "batch_norm.lr",
    "Run the LR sweep",
    stacked_note(sweep, "learning rates " + ", ".join(f"{r:g}" for r in RATES)),
)
if swept is not None:
    stability = lr_stability(swept.summary(), swept.frame("steps"))
    edges = stable_edges(stability)
    panels.chart(charts.edge_chart(swept.summary(), edges))
    panels.table(edges, {"largest_stable_lr": "%g", "first_unstable_lr": "%g"})
    st.caption(
        "Stable: no seed diverged and every seed ended below half its first-step loss. The dashed "
        "rule is the largest stable rate; ✕ marks rates where seeds blew up."
    )
    panels.replay_caption(swept)

st.subheader("Sensitivity to weight initialization")
INITS = ("normal_small", "glorot_uniform", "he_normal", "normal_large")
inits = Comparison.of(base, {"batch_norm": ("none", "before"), "init": INITS}, seeds=2)
started = on_demand(
    inits,
    "batch_norm.init",
    "Run the init comparison",
    stacked_note(inits, ", ".join(INITS)),
)
if started is not None:
    summary = started.summary()
    panels.chart(charts.metric_vs_knob(summary, "init", "final_val_loss", log_y=True, color_by="batch_norm"))
    panels.table(
        init_spread(summary), {"spread": "%.4f", "std": "%.4f"}, {"spread": "spread of final val loss"}
    )
    st.caption("Spread: largest minus smallest per-init mean final loss; ∞ when an init diverged.")
    panels.replay_caption(started)

st.subheader("BN vs dropout vs both: the generalization gap")
mixes = Comparison.of(base, {"batch_norm": ("none", "before"), "dropout": (0.0, 0.3)}, seeds=3)
mixed = on_demand(mixes, "batch_norm.dropout", "Run BN × dropout", stacked_note(mixes))
if mixed is not None:
    panels.chart(charts.final_metric(gaps(mixed.summary()), "generalization_gap", mixed.variant_order()))
    panels.replay_caption(mixed)

input_scaling_section(base)
decay_section(base)

claims_block.show("batch_norm", base.dataset)
