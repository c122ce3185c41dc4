"""The optimizers page's sections on a real network: epochs to a target, the five-optimizer race
(each at its best of three learning rates) and the learning-rate schedules."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from core import measures
from core.results import ComparisonResult
from core.spec import LR_SCHEDULES, Comparison, Experiment
from core.topics import lr as topics_lr
from ui import charts, panels
from ui.run import on_demand


# -- optimizers and schedules on a real network --------------------------------------------------------
def target_readout(result: ComparisonResult, key: str, default: float = 0.1) -> None:
    """Epochs to a target training loss per variant (chart + table)."""
    target = st.number_input(
        "target training loss", min_value=1e-4, value=default, format="%g", key=f"{key}.target"
    )
    table = measures.target_table(
        measures.epochs_to_target(result.frame("epochs"), float(target)),
        result.summary(),
        result.variant_order(),
    )
    panels.chart(
        charts.target_chart(table, None, result.variant_order(), result.comparison.baseline.epochs),
        key=f"{key}.target_chart",
    )
    panels.dataframe(
        table.drop(columns=["value"]),
        column_config={"epochs": st.column_config.NumberColumn("mean epochs", format="%.1f")},
    )


OPTIMIZER_LRS = (0.001, 0.01, 0.1)


def all_optimizers_section(base: Experiment, key: str) -> None:
    """The five optimizers, each at three learning rates (its best one shown): a fair race needs
    each optimizer at a step size that suits it, since Adam's 0.001 is SGD's crawl."""
    st.subheader("All five optimizers on the network, each at its best of three learning rates")
    comparison = Comparison.of(
        dataclasses.replace(base, lr_schedule="constant"),
        {"optimizer": ("sgd", "momentum", "nesterov", "rmsprop", "adam"), "learning_rate": OPTIMIZER_LRS},
        2,
    )
    clicked = st.button(
        f"Train the optimizer race ({comparison.n_members} runs, 5 groups, ~1 min)",
        icon="🏁",
        key=f"{key}.race_go",
    )
    result = on_demand(comparison, f"{key}.race", clicked=clicked)
    if result is None:
        st.caption("Not trained yet on these settings: press the button.")
        return
    summary = result.summary()
    best_rows = []
    for opt, g in summary.groupby("optimizer", sort=False):
        name, agg = topics_lr.best_variant(g)
        if name is not None:
            best_rows.append(agg[agg["variant"] == name].assign(optimizer=opt))
    if not best_rows:
        st.warning("Every run diverged.")
        return
    best = pd.concat(best_rows, ignore_index=True)
    keep = set(best["variant"])
    epochs = result.frame("epochs")
    chosen = epochs[epochs["variant"].isin(keep)]
    order = [v for v in result.variant_order() if v in keep]
    panels.chart(
        charts.curves(chosen, "val_loss", summary=summary, variant_order=order), key=f"{key}.race_curves"
    )
    panels.dataframe(best.rename(columns={"mean": "mean final val loss"}))


def schedules_section(base: Experiment, key: str) -> None:
    """constant / step / cosine / one_cycle (with momentum cycling) / cyclic / exponential at one
    peak LR, the loss per step drawn above the LR and momentum each schedule used."""
    st.subheader("Learning-rate schedules")
    st.markdown(
        f"Same network, same peak learning rate, {len(LR_SCHEDULES)} schedules: **step** drops ×0.1 at "
        "½ and ¾ of training, **cosine** glides to zero, **one_cycle** warms up for 30 % then anneals far "
        "below the start while momentum cycles the other way (0.95 → 0.85 → 0.95; Smith 2018), **cyclic** "
        "bounces between lr/10 and lr every 2 epochs (Smith 2015), **exponential** halves the rate every "
        f"{Experiment().lr_half_life:g} epochs (the `lr_half_life` knob)."
    )
    with st.form(f"{key}.sched_form"):
        cols = st.columns([2, 3, 1])
        peak = cols[0].select_slider(
            "peak learning rate", [0.01, 0.03, 0.05, 0.1, 0.2, 0.3], value=0.1, key=f"{key}.sched_lr"
        )
        chosen = cols[1].multiselect(
            "schedules", LR_SCHEDULES, default=list(LR_SCHEDULES), key=f"{key}.sched"
        )
        cols[2].write("")
        clicked = cols[2].form_submit_button("Run", icon="▶️")
    if not chosen:
        st.warning("Pick at least one schedule.")
        return
    comparison = Comparison.of(
        dataclasses.replace(base, learning_rate=float(peak)), {"lr_schedule": tuple(chosen)}, 2
    )
    result = on_demand(comparison, f"{key}.sched", clicked=clicked)
    if result is None:
        st.caption(f"Not trained yet ({comparison.n_members} runs, one stacked group): press Run.")
        return
    order, summary = result.variant_order(), result.summary()
    panels.chart(
        charts.curves(result.frame("steps"), "loss", x="step", summary=summary, variant_order=order),
        key=f"{key}.sched_loss",
    )
    panels.chart(charts.schedule_chart(result.frame("steps"), order, log_y=True), key=f"{key}.sched_lr_chart")
    st.caption(
        "Top: batch loss per step (mean over seeds, band = seed range). Below: the learning rate "
        "(log) and, where it varies, the momentum each schedule used at that step."
    )
    panels.final_panel(result)
    panels.summary_table(result)
