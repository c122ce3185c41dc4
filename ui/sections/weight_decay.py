"""The weight-decay page's sections: the grids (weight decay x data size, x width, x LR policy)
and decoupled weight decay vs an L2 penalty under SGD and Adam."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core.spec import Comparison, Experiment
from core.topics import lr as topics_lr
from ui import charts, panels
from ui.run import on_demand
from ui.session import quick

# -- weight decay ----------------------------------------------------------------------------------------
# Smith's grid plus 1e-1: Keras multiplies the decay by the LR (W -= lr·λ·W), so at lr 0.05 the
# notes' values are gentle and the grid needs one stronger value to show the far side.
WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
DEFAULT_WEIGHT_DECAYS = (0.0, 1e-3, 1e-2, 3e-2, 1e-1)
ALL = 2000  # digits has 1,797 examples: this cap means "all of them"


ONE_CYCLE_PEAK = 4.0  # one_cycle's peak as a multiple of the constant LR: a *range* of larger LRs


def grid_comparisons(base: Experiment) -> dict[str, dict[str, Comparison]]:
    """The three weight-decay grids (2 seeds each), each as row label -> comparison: × training-set
    size and × width (one comparison varying both knobs), and × LR policy — a constant LR vs
    one_cycle sweeping up to ONE_CYCLE_PEAK times it, Smith's setting for "larger LRs regularize"."""
    sizes, widths = ((200, 400), (16, 32)) if quick() else ((200, 600, ALL), (16, 64, 256))
    wd = {"weight_decay": WEIGHT_DECAYS}
    constant = dataclasses.replace(base, lr_schedule="constant")
    peak = float(f"{ONE_CYCLE_PEAK * base.learning_rate:.3g}")
    cycle = dataclasses.replace(base, lr_schedule="one_cycle", learning_rate=peak)
    return {
        "n_samples": {"": Comparison.of(base, {**wd, "n_samples": sizes}, 2)},
        "width": {"": Comparison.of(base, {**wd, "width": widths}, 2)},
        "schedule": {
            f"constant, lr {base.learning_rate:g}": Comparison.of(constant, wd, 2),
            f"one_cycle, peak {peak:g}": Comparison.of(cycle, wd, 2),
        },
    }


GRID_TITLES = {
    "n_samples": "training-set size (rows; 2000 = all of digits)",
    "width": "width (units per hidden layer)",
    "schedule": "LR policy: constant vs one_cycle up to a larger peak",
}


def wd_grid_section(base: Experiment, key: str) -> None:
    """Heatmaps of final validation loss, best weight decay per row starred: from a button
    (several stacked groups, minutes on 2 cores), replayed on load once stored."""
    st.subheader("The grid: weight decay × data size, × width, × LR policy")
    grids = grid_comparisons(base)
    total = sum(c.n_members for rows in grids.values() for c in rows.values())
    clicked = st.button(
        f"Train the grids ({total} runs; a few minutes on 2 cores)", icon="🧮", key=f"{key}.grid_go"
    )
    for name, rows in grids.items():
        st.markdown(f"**Weight decay × {GRID_TITLES[name]}**")
        parts = []
        for label, comparison in rows.items():
            result = on_demand(comparison, f"{key}.grid.{name}.{label}", clicked=clicked)
            if result is not None:
                parts.append(result.summary().assign(schedule=label))
        if len(parts) < len(rows):
            st.caption(f"Not trained yet ({sum(c.n_members for c in rows.values())} runs): press the button.")
            continue
        summary = pd.concat(parts, ignore_index=True)
        panels.chart(
            charts.heatmap_grid(summary, "weight_decay", name, "final_val_loss", best_per="row"),
            key=f"{key}.heat.{name}",
        )
        best = topics_lr.best_per_row(summary, "weight_decay", name)
        panels.dataframe(
            best,
            column_config={
                "best_mean": st.column_config.NumberColumn("best val loss", format="%.4f"),
                "seed_std": st.column_config.NumberColumn("seed std", format="%.4f"),
                "runner_up_gap": st.column_config.NumberColumn("lead", format="%.4f"),
                "spread": st.column_config.NumberColumn("row spread", format="%.4f"),
            },
        )
    st.caption(
        "★ = lowest mean final validation loss in its row. A star is only meaningful when its lead "
        "over the runner-up exceeds the seed spread (compare the *lead* and *seed std* columns). The "
        "grid adds 1e-1 to Smith's values because Keras multiplies the decay by the learning rate "
        "(W −= lr·λ·W), which makes the smaller values gentle at lr 0.05."
    )


def decoupled_section(base: Experiment, key: str) -> None:
    """Decoupled weight decay vs the L2 penalty, under plain SGD (the same update) and Adam (not)."""
    st.subheader("Decoupled weight decay vs an L2 penalty")
    st.markdown(
        "Keras' `weight_decay` is *decoupled*: every step shrinks each kernel weight by the same "
        "fraction (W −= lr·λ·W), outside the gradient. An L2 penalty (l2·ΣW²) adds 2·l2·W to the "
        "*gradient* instead; with l2 = λ/2 the two are exactly the same update under plain SGD. Under "
        "**Adam** they part ways: the penalty's gradient is divided by each weight's running gradient "
        "RMS like every other gradient, so weights with large gradients are barely decayed and quiet "
        "ones are decayed hard, while decoupled decay shrinks all weights alike — Loshchilov & Hutter's "
        "reason for AdamW. (Under momentum they differ too: the penalty goes through the velocity.)"
    )
    with st.form(f"{key}.dec_form"):
        cols = st.columns([2, 1])
        lam = cols[0].select_slider(
            "λ (decoupled) — the L2 runs use l2 = λ/2",
            [1e-4, 1e-3, 1e-2, 1e-1],
            value=1e-2,
            format_func=lambda v: f"{v:g}",
            key=f"{key}.lam",
        )
        clicked = cols[1].form_submit_button("Run", icon="▶️")
    setups = {
        "sgd (lr 0.1)": dataclasses.replace(base, optimizer="sgd", learning_rate=0.1),
        "adam (lr 0.001)": dataclasses.replace(base, optimizer="adam", learning_rate=0.001),
    }
    tables, missing = [], 0
    for name, experiment in setups.items():
        comparison = Comparison.of(experiment, {"weight_decay": (0.0, lam), "l2": (0.0, lam / 2)}, 2)
        result = on_demand(comparison, f"{key}.dec.{name}", clicked=clicked)
        if result is None:
            missing += comparison.n_members
            continue
        tables.append(topics_lr.decay_table(result.summary(), result.frame("weights"), name))
    if missing:
        st.caption(f"{missing} runs not trained yet for λ = {lam:g}: press Run.")
    if tables:
        panels.dataframe(
            pd.concat(tables, ignore_index=True),
            column_config={
                c: st.column_config.NumberColumn(c.replace("_", " "), format="%.4f")
                for c in ("final_val_loss", "final_train_loss", "weight_norm")
            },
        )
        st.caption(
            "weight norm = mean kernel norm over layers after training. Under SGD the decoupled "
            "and L2 rows should match to float precision; under Adam they need not — and since Keras "
            "multiplies decoupled decay by the learning rate, Adam's small lr makes the same λ decay "
            "far less than the penalty does (compare the weight norms)."
        )
