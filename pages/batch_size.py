"""Batch size: what changes with the batch, and what only changes because the LR effectively did."""

import streamlit as st

from core.measures import epoch_times
from core.measures import with_gaps as gaps
from core.spec import Experiment
from core.topics.regularization import (
    batch_table,
    full_batch,
    lr_scaled,
    seed_spread,
)
from core.topics.regularization import update_norm_by_epoch as update_norms
from ui import charts, claims_block, panels
from ui.builder import Preset, comparison_builder
from ui.cache import memoized
from ui.run import auto, groups
from ui.sections.landscape import landscape_section
from ui.state import page

page("Batch size", "📦")
st.markdown(
    "A batch is how many examples each gradient step averages over. Small batches take many cheap, "
    "noisy steps per epoch; large ones take few, steadier steps — and, at a fixed learning rate, "
    "cover less ground per epoch. Whether large batches also generalize worse "
    "([Keskar et al. 2016](https://arxiv.org/abs/1609.04836)) or only need a retuned learning rate "
    "([Deep Learning Tuning Playbook](https://github.com/google-research/tuning_playbook)) is what the "
    "toggle below separates. Five seeds per batch size by default: this page is about variance. "
    "Sources: [notes](https://github.com/sandhyaparna/Data-Science/blob/e617d0d1a54293cd157d0ae65477c6a6329625e4/Deep%20Learning/Neural%20Networks.md), "
    "[tuning techniques](https://towardsdatascience.com/hyper-parameter-tuning-techniques-in-deep-learning-4dad592c63c8)."
)
batch_table = memoized(batch_table)
epoch_times = memoized(epoch_times)
seed_spread = memoized(seed_spread)
update_norms = memoized(update_norms)
# Each batch size is its own compiled model (a few seconds each on this CPU), so the default
# network is small and short-lived and 512 is left out (with 800 training rows it is near-full).
BASE = Experiment(
    n_samples=1000, width=32, depth=1, epochs=8, optimizer="sgd", learning_rate=0.05, batch_size=32
)
FULL = full_batch(BASE.n_samples, BASE.val_fraction)
PRESET = Preset(BASE, {"batch_size": (8, 32, 128, FULL)}, seeds=5)
BATCH_FORMATS = {
    "learning_rate": "%g",
    "steps_per_epoch": "%d",
    "time_per_epoch": "%.4f s",
    "update_norm": "%.4f",
    "update_noise": "%.2f",
    "update_per_epoch": "%.3f",
    "val_accuracy_std": "%.4f",
    "generalization_gap": "%.4f",
}
BATCH_LABELS = {
    "batch_size_used": "batch used",
    "update_norm": "update norm / step",
    "update_noise": "update noise (CV)",
    "update_per_epoch": "update norm × steps",
    "val_accuracy_std": "val acc std (seeds)",
    "generalization_gap": "gap (mean)",
}
comparison, clicked = comparison_builder(
    "batch_size", PRESET, knobs=("batch_size", "learning_rate", "optimizer", "epochs", "n_samples", "width")
)
scale = st.toggle(
    "Scale the learning rate with the batch size (linear rule)",
    key="batch_size.scale_lr",
    help="lr × batch size / the baseline's batch_size: the baseline LR is taken as tuned for the baseline batch",
)
asked = lr_scaled(comparison) if scale else comparison
default = lr_scaled(PRESET.comparison()) if scale else PRESET.comparison()
b = comparison.baseline
rule = (
    f"lr {b.learning_rate:g} × batch / {b.batch_size}" if scale else f"lr {b.learning_rate:g} for every batch"
)
st.caption(
    f"{rule} · {groups(asked)} separately compiled model(s) · full batch = the training set "
    f"({full_batch(b.n_samples, b.val_fraction)} for n_samples={b.n_samples}; larger batches are clamped to it)."
)
result = auto(asked, "batch_size", clicked, default)

if result is not None:
    summary, order = gaps(result.summary()), result.variant_order()
    epochs, steps = result.frame("epochs"), result.frame("steps")
    panels.curves_panel(result, "batch_size", "val_accuracy", list(panels.X_AXES), epochs, summary)
    st.caption(
        "By epoch every batch size has seen the same data; by optimizer step, the same number of "
        "updates; by seconds, the same compute. Seconds leave out each model's one-off compile."
    )
    left, right = st.columns(2)
    with left:
        st.markdown("**Final validation accuracy, every seed** (tick = mean, rule = min–max)")
        panels.chart(charts.final_metric(summary, "final_val_accuracy", order))
        st.markdown("**Time per epoch** (compile excluded, every seed)")
        panels.chart(charts.final_metric(epoch_times(epochs), "time_per_epoch", order))
    with right:
        st.markdown("**Generalization gap** (val − train loss, every seed)")
        panels.chart(charts.final_metric(summary, "generalization_gap", order))
    panels.table(
        seed_spread(summary, "final_val_accuracy", order),
        {c: "%.3f" for c in ("mean", "std", "min", "max", "range")},
        {"std": "std over seeds", "range": "max − min"},
    )
    st.markdown("**Size of one update** — ‖w after − w before‖ per step, mean over each epoch")
    panels.chart(charts.curves(update_norms(steps), "update_norm", "epoch", summary, order, log_y=True))
    panels.table(batch_table(summary, epochs, steps, order), BATCH_FORMATS, BATCH_LABELS)
    st.caption(
        "Members of one batch size train stacked and share one clock: time per epoch is the group's. "
        "Update noise is the step-to-step coefficient of variation of the update norm."
    )
    panels.summary_table(result)
    panels.replay_caption(result)
    panels.export_panel(result, "batch_size")
    panels.share_panel("batch_size")

landscape_section(comparison.baseline)
claims_block.show("batch_size", comparison.baseline.dataset)
