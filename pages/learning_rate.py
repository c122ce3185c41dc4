"""Learning rate: a sweep judged run by run (converge / oscillate / diverge) and the LR range test."""

import streamlit as st

from core.spec import Experiment
from ui import claims_block, panels
from ui.builder import Preset
from ui.run import built
from ui.sections import lr_range, lr_sweep
from ui.state import page

page("Learning rate", "📈")
st.markdown(
    "Each update moves the weights by the gradient times the learning rate, so this one number sets "
    "how far every step goes. Too small and the loss creeps down; too large and it bounces around or "
    "blows up — and somewhere in between, a large rate's noise is said to regularize. Below, a sweep "
    "judges every run by its own numbers, and the LR range test (Smith 2015) proposes a rate you can "
    "then put to the test. Sources: the notes' [hyper-parameter tuning article]"
    "(https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8), "
    "[keras_lr_finder](https://github.com/surmenok/keras_lr_finder), "
    "[Smith 2015, cyclical LRs](https://arxiv.org/abs/1506.01186), "
    "[Smith 2018, a disciplined approach](https://arxiv.org/abs/1803.09820)."
)

# Per-member knob only (learning_rate): the 14 runs train as one stacked model.
PRESET = Preset(
    Experiment(width=32, batch_size=64, epochs=12),
    {"learning_rate": (0.001, 0.01, 0.03, 0.1, 0.2, 0.3, 1.0)},
    seeds=2,
)
comparison, result = built(
    "learning_rate", PRESET, ("learning_rate", "optimizer", "momentum", "batch_size", "width", "epochs")
)
if result is not None:
    panels.standard(result, "learning_rate", metric="train_loss")
    lr_sweep.sweep_readings(result, "learning_rate")

lr_range.range_section(comparison.baseline, "learning_rate")
claims_block.show("learning_rate", comparison.baseline.dataset)
