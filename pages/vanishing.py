"""Vanishing gradients: see, layer by layer, how much gradient reaches the early layers of a deep net."""

import streamlit as st

from core.spec import Experiment
from core.topics.gradients import VANISH_RATIO, layer_ratios, vanishing_summary
from ui import charts, claims_block, panels
from ui.builder import Preset, comparison_builder
from ui.cache import memoized
from ui.run import auto
from ui.sections.ensembles import ensembles_section
from ui.sections.inputs import depth_slider
from ui.sections.level_by_level import level_by_level_section
from ui.sections.recurrent import recurrent_section
from ui.sections.vanishing import vanishing_panel
from ui.state import page

page("Vanishing gradients", "🫥")
st.markdown(
    "Backpropagation multiplies one derivative per layer on its way from the loss to the input. A "
    "sigmoid's derivative is at most 0.25, so in a deep sigmoid network the product shrinks layer "
    "after layer and the first layers get almost no gradient: they stay near their random start while "
    "the last layers learn ([Glorot & Bengio 2010](https://proceedings.mlr.press/v9/glorot10a.html)). "
    "ReLU-like activations (derivative 1 where active) and residual connections, which give the "
    "gradient a path around each layer ([He et al. 2015](https://arxiv.org/abs/1512.03385)), are the "
    "usual fixes. The notes' advice, *check the derivatives during training*, is the panel below. "
    "Sources: [notes](https://github.com/sandhyaparna/Data-Science/blob/e617d0d1a54293cd157d0ae65477c6a6329625e4/Deep%20Learning/Neural%20Networks.md), "
    "[tuning techniques](https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8)."
)
layer_ratios = memoized(layer_ratios)
vanishing_summary = memoized(vanishing_summary)
# Each activation is its own compiled model (a structural knob, ~4 s of compile each here), so the
# default is the canonical pair, a 10-layer net trained briefly: the picture is clear from the
# first steps. tanh, leaky_relu and elu are one edit away (see the caption under the builder).
PRESET = Preset(Experiment(width=32, depth=10, epochs=3), {"activation": ("sigmoid", "relu")}, seeds=2)
comparison, clicked = comparison_builder(
    "vanishing",
    PRESET,
    knobs=("activation", "residual", "batch_norm", "init", "width", "epochs", "learning_rate"),
)
depth_slider("vanishing", comparison)
st.caption(
    "Try: vary activation over sigmoid, tanh, relu, leaky_relu, elu; or keep sigmoid and vary residual "
    "(false, true), batch_norm (none, before) or init. Structural knobs train one model each."
)
result = auto(comparison, "vanishing", clicked, PRESET.comparison())

if result is not None:
    order, layers = result.variant_order(), result.frame("layers")
    st.subheader("Gradient norm per layer and step")
    st.caption(
        "Rows: layers, input at the top. Colour: kernel-gradient norm on a log scale, mean over seeds."
    )
    panels.chart(charts.layer_heatmap(layers, order, columns=3))
    st.subheader("First-layer / last-layer gradient over training")
    st.caption(
        "1 (dashed) = the first layer gets as much gradient as the output layer; 10⁻⁵ = a hundred thousand times less."
    )
    panels.chart(charts.layer_ratio(layers, order))
    st.subheader("Check the derivatives")
    ratios = layer_ratios(layers)
    vanishing_panel(vanishing_summary(ratios, order), ratios)
    st.caption(
        f"Each run's gradient norm per layer, averaged over its steps, divided by the same run's output-layer "
        f"norm; seeds combined by geometric mean. Flagged: below {VANISH_RATIO:g}."
    )
    panels.standard(result, "vanishing")

recurrent_section()
level_by_level_section(comparison.baseline.dataset)
ensembles_section(comparison.baseline.dataset)

claims_block.show("vanishing", comparison.baseline.dataset)
