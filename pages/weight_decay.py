"""Weight decay: how much, for how much data and model, under which LR schedule — and how it
differs from an L2 penalty."""

import streamlit as st

from core.spec import Experiment
from ui import charts, claims_block, panels
from ui.builder import Preset
from ui.run import built
from ui.sections import weight_decay as sections
from ui.sections.lr_sweep import numeric_knob
from ui.state import page

page("Weight decay", "🪶")
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
    Experiment(n_samples=600, epochs=30), {"weight_decay": sections.DEFAULT_WEIGHT_DECAYS}, seeds=2
)
comparison, result = built(
    "weight_decay", PRESET, ("weight_decay", "n_samples", "width", "learning_rate", "lr_schedule", "epochs")
)
if result is not None:
    panels.standard(result, "weight_decay")
    knob = numeric_knob(result, prefer="weight_decay")
    if knob:  # as text: an even-spaced axis for values that span decades and include 0
        summary = result.summary()
        summary[knob] = summary[knob].map("{:g}".format)
        panels.chart(charts.metric_vs_knob(summary, knob, "final_val_loss"), key="weight_decay.vs_knob")
        st.caption("Final validation loss per value (line: mean over seeds; bar: seed range).")

sections.wd_grid_section(comparison.baseline, "weight_decay")
sections.decoupled_section(comparison.baseline, "weight_decay")
claims_block.show("weight_decay", comparison.baseline.dataset)
