"""Exploding gradients & clipping: a run that blows up, its warning signs, and the fixes side by side."""

import numpy as np
import pandas as pd
import streamlit as st

from core.measures import prior_loss as chance_loss
from core.topics.gradients import (
    BLOWS_UP,
    CLIP_QUANTILE,
    clip_table,
    detection_table,
    expand,
    fixes,
)
from ui import charts, claims_block, panels
from ui.builder import Preset, comparison_builder
from ui.cache import memoized
from ui.run import auto_expanded
from ui.sections import exploding as sections
from ui.sections.fewer_layers import fewer_layers_section
from ui.sections.inputs import data_of, dataset_facts
from ui.state import page

page("Exploding gradients", "💥", "💥 Exploding gradients & clipping")
st.markdown(
    "The mirror image of vanishing gradients: when each layer multiplies the backward signal by more "
    "than one, the gradient grows exponentially with depth, one update throws the weights far away, and "
    "the loss jumps, then turns NaN ([Pascanu et al. 2013](https://arxiv.org/abs/1211.5063)). Below, a "
    "deep leaky-ReLU net with large initial weights (normal, std 1) and a high learning rate blows up "
    "on its first steps; next to it the same run with each remedy from the notes: gradient clipping "
    "(clipnorm 1.0 or clipvalue 0.5), a smaller batch, an L2 penalty. The warning signs are the ones "
    "listed by [Machine Learning Mastery](https://machinelearningmastery.com/exploding-gradients-in-neural-networks/), "
    "checked run by run; the clipping threshold and its warning follow the "
    "[Deep Learning Tuning Playbook](https://github.com/google-research/tuning_playbook). "
    "Sources: [notes](https://github.com/sandhyaparna/Data-Science/blob/e617d0d1a54293cd157d0ae65477c6a6329625e4/Deep%20Learning/Neural%20Networks.md), "
    "[tuning techniques](https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8)."
)
detection_table = memoized(detection_table)
clip_table = memoized(clip_table)
PRESET = Preset(BLOWS_UP, {}, seeds=2)
comparison, clicked = comparison_builder(
    "exploding",
    PRESET,
    knobs=("learning_rate", "init", "activation", "depth", "width", "batch_size", "epochs"),
)
st.caption(
    "Each remedy is applied to the run above on its own: clipnorm=1 · clipvalue=0.5 (Keras refuses both "
    "at once) · a batch a quarter the size · l2=0.01. Varying a knob above repeats every remedy for each value."
)
result = auto_expanded(
    "exploding",
    clicked,
    lambda: expand(comparison, fixes(comparison.baseline)),
    lambda: expand(PRESET.comparison(), fixes(PRESET.comparison().baseline)),
)

if result is not None:
    order, summary = result.variant_order(), result.summary()
    steps, facts = result.frame("steps"), dataset_facts(*data_of(comparison.baseline))
    st.subheader("Summary: did each remedy keep the run alive, and did it train?")
    sections.summary_panel(result, chance_loss(facts["class_shares"]))
    st.subheader("Loss per step")
    st.caption("The batch loss at every step (log scale); ✕ marks where a run blew up and stopped.")
    panels.chart(charts.curves(steps, "loss", "step", summary, order, log_y=True))
    st.subheader("Detection: the warning signs, run by run")
    sections.detection_panel(detection_table(result, chance_loss(facts["class_shares"])))
    st.markdown("**Gradient norm**: global norm per step, before clipping (log)")
    panels.chart(charts.curves(steps, "grad_norm", "step", summary, order, log_y=True))
    st.subheader("Clipping: which threshold, and how often it fired")
    panels.chart(charts.gradient_histogram(steps, CLIP_QUANTILE, order))
    norms = pd.to_numeric(steps.get("grad_norm"), errors="coerce")
    with_norms = set(steps.loc[np.isfinite(norms) & (norms > 0), "variant"]) if len(steps) else set()
    if absent := [v for v in order if v not in with_norms]:
        st.caption(
            f"No histogram for {', '.join(absent)}: every seed blew up before a finite gradient norm "
            "was recorded."
        )
    sections.clip_panel(clip_table(result))
    st.caption(
        f"The {CLIP_QUANTILE:.0%} quantile of a run's per-step global gradient norm is the usual first clipnorm: "
        "it trims the largest tenth of the steps. Take it from a run that trains; a run that blew up has only "
        "its explosion to offer. Keras' clipnorm applies per weight tensor, so it clips less often than the "
        "same threshold on the global norm would."
    )
    panels.standard(result, "exploding", metric="train_loss")

fewer_layers_section(comparison.baseline)

claims_block.show("exploding", comparison.baseline.dataset)
