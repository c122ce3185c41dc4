"""The exploding-gradients page's panels: a summary on top (one row per remedy: did it blow up,
did it train, where did the loss end), when each warning sign fired, run by run, and how often
clipping fired."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core import measures
from core.results import ComparisonResult
from core.topics.gradients import (
    CLIP_WARN,
    SIGNAL_HELP,
    SIGNALS,
)
from ui import panels
from ui.labels import short


def remedy_summary(result: ComparisonResult, chance: float | None) -> pd.DataFrame:
    """One row per remedy (variant): seeds that blew up; seeds that trained (neither blew up nor
    sat at chance and, when the chance loss is known, ended below it: a clipped run that survives
    at a train loss of 379 did not train); mean final train and validation loss of the seeds that
    did not blow up, and whether that mean train loss is below the chance-level loss."""
    summary = result.summary()
    losses = pd.to_numeric(summary.get("final_train_loss"), errors="coerce")
    known = chance is not None and not math.isnan(chance)
    above_chance = ~(losses < chance) if known else pd.Series(False, index=summary.index)
    summary["did_not_train"] = measures.did_not_train(summary) | above_chance
    summary["blew_up"] = measures.flags(summary.get("diverged", pd.Series(False, index=summary.index)))
    rows = []
    for variant in result.variant_order():
        mine = summary[summary["variant"] == variant]
        alive = mine[~mine["blew_up"]]
        train = pd.to_numeric(alive.get("final_train_loss"), errors="coerce").mean()
        row = {
            "remedy": variant,
            "blew up": f"{int(mine['blew_up'].sum())} of {len(mine)}",
            "trained": f"{int((~mine['did_not_train']).sum())} of {len(mine)}",
            "final train loss": train,
            "final val loss": pd.to_numeric(alive.get("final_val_loss"), errors="coerce").mean(),
        }
        if known:
            row["below chance loss"] = "—" if math.isnan(train) else ("yes" if train < chance else "no")
        rows.append(row)
    return pd.DataFrame(rows)


def summary_panel(result: ComparisonResult, chance: float | None) -> None:
    """The page's answer first: which remedy kept the run from blowing up and let it train."""
    table = remedy_summary(result, chance)
    panels.dataframe(
        table,
        column_config={
            "blew up": st.column_config.TextColumn(help="seeds whose loss turned NaN/∞ or blew up"),
            "trained": st.column_config.TextColumn(
                help="seeds that did not blow up and ended below the chance-level loss"
            ),
            "final train loss": st.column_config.NumberColumn(
                format="%.3g", help="mean over seeds that did not blow up"
            ),
            "final val loss": st.column_config.NumberColumn(
                format="%.3g", help="mean over seeds that did not blow up"
            ),
            "below chance loss": st.column_config.TextColumn(
                help=f"final train loss below {chance:.2f}, the loss of predicting the class shares"
                if chance
                else None
            ),
        },
    )


# -- exploding -------------------------------------------------------------------------------------
def detection_panel(table: pd.DataFrame) -> None:
    """When each warning sign first fired, run by run, with the number behind it."""
    names = list(SIGNALS.values())
    when = table[["variant", "seed", *names, "signals"]]
    panels.dataframe(
        when,
        column_config={
            **{SIGNALS[k]: st.column_config.TextColumn(SIGNALS[k], help=SIGNAL_HELP[k]) for k in SIGNALS},
            "signals": st.column_config.NumberColumn("signals fired", help="out of 5"),
        },
    )
    with st.expander("The number behind each signal"):
        evidence = table[["variant", "seed", *[f"{n} evidence" for n in names]]]
        panels.dataframe(evidence.rename(columns=lambda c: c.removesuffix(" evidence")))
    st.caption(
        " · ".join(f"**{SIGNALS[k]}**: {SIGNAL_HELP[k]}" for k in SIGNALS)
        + ". The notes' sixth sign, weights turning NaN, cannot show here: a run is stopped at the step its "
        "loss blows up, before the NaN reaches the weights. Gradient norms are recorded per layer, not per node."
    )


def _setting(variant: str, setting: str) -> str:
    """ " (clipnorm=1)" after a variant label, unless the label already says it ("clipnorm 1")."""
    return "" if short(str(setting)) in str(variant) else f" ({setting})"


def clip_panel(table: pd.DataFrame) -> None:
    """The clipnorm suggestion and how often clipping fired; a warning where clipping has become
    the rule rather than the exception."""
    for row in table.itertuples():
        if row.warn:
            st.warning(
                f"**{row.variant}**{_setting(row.variant, row.setting)}: clipping fired on {row.clipped_share:.0%} of steps. Above "
                f"{CLIP_WARN:.0%} clipping no longer trims rare spikes: it shrinks almost every step, i.e. it acts "
                "as a smaller learning rate (Google's Tuning Playbook)."
            )
    panels.dataframe(
        table,
        column_config={
            "setting": st.column_config.TextColumn("clipping"),
            "suggested_clipnorm": st.column_config.NumberColumn("p90 grad norm → clipnorm", format="%.2e"),
            "clipped_share": st.column_config.NumberColumn("steps clipped", format="percent"),
            "warn": st.column_config.CheckboxColumn(f"> {CLIP_WARN:.0%}"),
            "steps": st.column_config.NumberColumn("steps recorded"),
            "diverged": st.column_config.NumberColumn(
                "runs blown up", help="their p90 is the explosion itself"
            ),
        },
    )
