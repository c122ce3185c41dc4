"""Optimizers & momentum: the ravine picture in a 2-D sandbox, then the same optimizers and LR
schedules on a real network."""

import streamlit as st

from core.spec import Experiment
from ui import claims_block, panels
from ui.builder import Preset
from ui.run import built
from ui.sections import optimizers as sections
from ui.sections.sandbox import sandbox_section
from ui.state import page

page("Optimizers & momentum", "🏃")
st.markdown(
    "In a long, narrow valley plain gradient descent bounces from wall to wall while creeping along "
    "the floor, and a larger step only makes the bouncing worse. Momentum keeps a running velocity: "
    "the back-and-forth pushes cancel while the pushes along the valley add up, so it tolerates a "
    "larger step and gets to the bottom sooner. First the geometry, exactly, in two dimensions; then "
    "the same optimizers and learning-rate schedules on a real network. Sources: "
    "[Goh, Why Momentum Really Works (Distill 2017)](https://distill.pub/2017/momentum/), the notes' "
    "[hyper-parameter tuning article]"
    "(https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8), "
    "[Smith 2018](https://arxiv.org/abs/1803.09820), [Smith 2015](https://arxiv.org/abs/1506.01186)."
)

sandbox_section("optimizers")

st.header("On a real network")
# Per-member knob only (momentum; 0 = plain SGD): the 9 runs train as one stacked model.
PRESET = Preset(Experiment(width=32, batch_size=64, epochs=12), {"momentum": (0.0, 0.5, 0.9)}, seeds=3)
comparison, result = built(
    "optimizers", PRESET, ("optimizer", "momentum", "learning_rate", "lr_schedule", "batch_size", "epochs")
)
if result is not None:
    panels.standard(result, "optimizers", metric="train_loss")
    st.subheader("Epochs to a target loss")
    sections.target_readout(result, "optimizers")

sections.all_optimizers_section(comparison.baseline, "optimizers")
sections.schedules_section(comparison.baseline, "optimizers")
claims_block.show("optimizers", comparison.baseline.dataset)
