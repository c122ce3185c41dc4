"""Weight decay: how much, for how much data and model, under which LR schedule — and how it
differs from an L2 penalty."""

import streamlit as st

from core.spec import Experiment
from ui import charts, claims_block, panels, topic_lr
from ui.builder import Preset, comparison_builder
from ui.run import auto
from ui.state import setup

setup("Weight decay", "🪶")
st.title("🪶 Weight decay")
st.markdown(
    "Weight decay shrinks every weight a little at each step, pulling the network towards simpler "
    "solutions. The notes say its value has to be tuned, that small datasets and small models want "
    "more of it, and that the best value under a constant learning rate is not the best under a "
    "cyclical one, because large learning rates already regularize (Smith 2018). The grids below test "
    "each statement. Sources: the notes' [hyper-parameter tuning article]"
    "(https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8), "
    "[Smith 2018](https://arxiv.org/abs/1803.09820), "
    "[Loshchilov & Hutter, decoupled weight decay](https://arxiv.org/abs/1711.05101)."
)

# Per-member knob only (weight_decay) on 600 examples, long enough to overfit: one stacked model.
PRESET = Preset(
    Experiment(n_samples=600, epochs=30), {"weight_decay": topic_lr.DEFAULT_WEIGHT_DECAYS}, seeds=2
)
comparison, clicked = comparison_builder(
    "weight_decay",
    PRESET,
    knobs=("weight_decay", "n_samples", "width", "learning_rate", "lr_schedule", "epochs"),
)
result = auto(comparison, "weight_decay", clicked, PRESET.comparison())
if result is not None:
    panels.standard(result, "weight_decay")
    knob = topic_lr.numeric_knob(result, prefer="weight_decay")
    if knob:  # as text: an even-spaced axis for values that span decades and include 0
        summary = result.summary()
        summary[knob] = summary[knob].map("{:g}".format)
        panels.chart(charts.metric_vs_knob(summary, knob, "final_val_loss"), key="weight_decay.vs_knob")
        st.caption("Final validation loss per value (line: mean over seeds; bar: seed range).")

topic_lr.wd_grid_section(comparison.baseline, "weight_decay")
topic_lr.decoupled_section(comparison.baseline, "weight_decay")
claims_block.show("weight_decay", comparison.baseline.dataset)
st.caption(
    "Benchmark (this 2-core CPU, no GPU, measured with other jobs running): the default sweep — 5 "
    "weight decays × 2 seeds on 600 examples, 30 epochs, one stacked model — trained cold in about 5 "
    "s after a 5 s TensorFlow import (a first view of the page on a fresh store, Streamlit "
    "start-up included, took about 14 s); it replays from the store in 0.2 s without importing "
    "TensorFlow, and the whole page redraws in about 1.5 s. The grids train from their button "
    "(minutes)."
)
