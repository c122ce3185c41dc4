"""Charts of a learning-rate tuning (core.tuning), in the Deep Learning Tuning Playbook's manner.

- isolation: one point per value of the compared knob (variant) at its best learning rate, the
  chosen rate written beside it, next to the same variant at the page's fixed rate: whether the
  ordering of the variants survives giving each its own rate;
- lr_axis: the score against the learning rate per variant (log x), the chosen rate ringed, so a
  best rate at an edge of the grid is visible (the section says "widen the grid" in words too).

Frames are core.tuning's rows (one per variant) and table (one per variant x rate).
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from ui.charts import base

FIXED = "at the page's fixed rate"
TUNED = "at its own best rate"
SERIES = (FIXED, TUNED)
POINT_SIZE = 90
RING_SIZE = 260  # the chosen rate's ring: clearly larger than a grid point


def isolation_frame(rows: Sequence[dict], fixed: dict[str, float | None]) -> pd.DataFrame:
    """Long frame for `isolation`: per variant its tuned score (report half) and, when known, its
    score at the fixed rate (`fixed`: variant label -> mean final validation loss)."""
    out = []
    for r in rows:
        rate = r.get("tuned_learning_rate")
        out.append(
            {
                "variant": r["label"],
                "series": TUNED,
                "loss": r.get("report_val_loss") if r.get("held_out") else r.get("select_val_loss"),
                "note": f"lr={rate:g}" if rate is not None else "no rate trained",
            }
        )
        if fixed.get(r["label"]) is not None:
            out.append({"variant": r["label"], "series": FIXED, "loss": fixed[r["label"]], "note": ""})
    return pd.DataFrame(out, columns=["variant", "series", "loss", "note"])


def isolation(frame: pd.DataFrame, order: Sequence[str]) -> alt.Chart:
    """Best validation loss per variant, tuned vs fixed rate, with the tuned rate as a label."""
    df = base.finite(frame, ["loss"])
    if df.empty:
        return base.empty_chart("no variant trained at any rate of the grid")
    dom = base.domain(df, order)
    enc = {
        "x": alt.X("variant:N", sort=dom, title="variant", axis=alt.Axis(labelAngle=0)),
        "y": alt.Y("loss:Q", title="validation loss", scale=alt.Scale(zero=False)),
        "color": alt.Color("series:N", scale=alt.Scale(domain=list(SERIES)), title=None),
        "xOffset": alt.XOffset("series:N", sort=list(SERIES)),
    }
    tips = ["variant:N", "series:N", base.tip("loss:Q", "validation loss"), "note:N"]
    points = alt.Chart(df).mark_point(filled=True, size=POINT_SIZE).encode(**enc, tooltip=tips)
    labels = (
        alt.Chart(df[df["series"] == TUNED])
        .mark_text(dy=-12, fontSize=11)
        .encode(**{k: v for k, v in enc.items() if k != "color"}, text="note:N")
    )
    return (points + labels).properties(height=260, title="Each variant at its best learning rate")


def axis_frame(table: Sequence[dict], rows: Sequence[dict]) -> pd.DataFrame:
    """Long frame for `lr_axis`: each (variant, rate)'s mean select-half loss, whether it was chosen."""
    chosen = {r["label"]: r.get("tuned_learning_rate") for r in rows}
    df = pd.DataFrame(list(table), columns=["variant", "learning_rate", "select_val_loss", "did_not_train"])
    df["chosen"] = [chosen.get(v) == lr for v, lr in zip(df["variant"], df["learning_rate"], strict=True)]
    return df


def lr_axis(frame: pd.DataFrame, order: Sequence[str]) -> alt.Chart:
    """Score against learning rate per variant (rates where a seed failed are left out), the
    chosen rate ringed."""
    df = base.finite(frame, ["select_val_loss"])
    if df.empty:
        return base.empty_chart("no rate of the grid trained on every seed")
    dom = base.domain(df, order)
    x = alt.X("learning_rate:Q", scale=alt.Scale(type="log"), axis=base.log_axis(), title="learning rate")
    y = alt.Y("select_val_loss:Q", title="validation loss (selection half)", scale=alt.Scale(zero=False))
    tips = ["variant:N", base.tip("learning_rate:Q", "learning rate"), base.tip("select_val_loss:Q", "loss")]
    line = alt.Chart(df).mark_line(point=True).encode(x=x, y=y, color=base.color(dom), tooltip=tips)
    ring = (
        alt.Chart(df[df["chosen"]])
        .mark_point(size=RING_SIZE, strokeWidth=2.5)
        .encode(x=x, y=y, color=base.color(dom), tooltip=tips)
    )
    return (line + ring).properties(height=260, title="Score against learning rate (ring: the chosen rate)")
