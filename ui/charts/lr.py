"""Learning-rate charts: the LR range test and its derivative, and the sweep readings (status per
run, volatility, epochs to a target, generalization gap up to the divergence edge). The status
colours live here: colours belong to ui, core only names the statuses."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import base

# Traffic-light colours of core.topics.lr's run statuses (green / amber / red): the status reads
# without the legend. Defined here because colours are presentation, not computation.
STATUS_COLORS = {"converging": "#2e7d32", "oscillating": "#ef6c00", "diverged": "#c62828"}
STATUS_SCALE = alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values()))
STATUS_ICON = {"converging": "🟢", "oscillating": "🟠", "diverged": "🔴"}
SUGGESTION_DASH = {"steepest": [6, 3], "valley": [2, 2], "minimum": [8, 3, 2, 3]}
SUGGESTION_SHAPE = {"steepest": "diamond", "valley": "triangle-down", "minimum": "circle"}
# The loss axis of a range test stops at 1.5x the starting (smoothed) loss: the descent the user
# must read spans a fraction of the start, while the blow-up runs to 10-100x it and would flatten
# the descent into a line. What lies above is marked, not drawn.
CLIP_FACTOR = 1.5
# The derivative axis shows the dip (most negative slope) with room above zero, not the blow-up.
SLOPE_HEADROOM = 0.5


# -- LR range test -----------------------------------------------------------------------------
def _suggestion_marks(suggestions: pd.DataFrame | None, runs: Sequence[str]) -> pd.DataFrame:
    """run, name, lr, loss (when given) and a legend label per suggestion ("valley 0.016", with the
    run's name in front when several networks were tested)."""
    if suggestions is None or base.missing(suggestions, ["run", "name", "lr"]):
        return pd.DataFrame(columns=["run", "name", "lr", "label"])
    sug = base.finite(suggestions, ["lr"]).assign(
        run=lambda d: d["run"].astype(str), name=lambda d: d["name"].astype(str)
    )
    sug = sug[sug["lr"] > 0]
    several = len(runs) > 1
    sug["label"] = [
        f"{r}: {n} {v:.2g}" if several else f"{n} {v:.2g}"
        for r, n, v in zip(sug["run"], sug["name"], sug["lr"], strict=True)
    ]
    return sug.reset_index(drop=True)


def _shape(sug: pd.DataFrame) -> alt.Shape:
    """One legend entry per suggestion, its shape saying which rule (valley, steepest, minimum)."""
    labels = list(sug["label"])
    shapes = [SUGGESTION_SHAPE.get(n, "square") for n in sug["name"]]
    return alt.Shape("label:N", scale=alt.Scale(domain=labels, range=shapes), sort=labels, title="suggestion")


@base.memoized
def lr_finder_chart(curves: pd.DataFrame, suggestions: pd.DataFrame | None = None) -> base.Chart:
    """Loss vs learning rate (log x) of one or more range tests: raw loss thin and faint, the
    smoothed loss on top, each suggested LR as a dashed rule with a marker on the curve (legend:
    rule and value), and a square where each sweep stopped. The loss axis is clipped at
    CLIP_FACTOR x the starting loss so the descent is readable; a stop above it sits on the top
    edge and its tooltip says the loss blew up.

    curves: run, lr, loss, smoothed. suggestions: run, name (steepest/valley/minimum), lr, loss.
    """
    if base.missing(curves, ["run", "lr", "smoothed"]):
        return base.empty_chart()
    df = base.finite(curves, ["lr", "smoothed"])
    df = df[df["lr"] > 0].assign(run=lambda d: d["run"].astype(str))
    if df.empty:
        return base.empty_chart("the range test stopped before its first finite loss")
    df = base.thin(df, "run", "lr", base.MAX_ROWS).sort_values(["run", "lr"])
    start = float(df.groupby("run", sort=False)["smoothed"].first().max())
    low = float(df["smoothed"].min())
    cap = max(CLIP_FACTOR * start, low + abs(low) * 0.1 + 1e-9)
    scale = alt.Scale(domain=[low - 0.05 * (cap - low), cap], nice=False, zero=False)
    dom, p = base.domain(df, None, "run"), base.pick("run")
    x = alt.X("lr:Q", scale=alt.Scale(type="log"), title="learning rate (log)")
    title = f"loss (clipped at {CLIP_FACTOR:g}× the start)"
    cols = ["smoothed"] + (["loss"] if "loss" in df else [])
    tooltip = ["run:N", base.tip("lr:Q", "lr", ".3g")] + [base.tip(f"{c}:Q", c) for c in cols]
    layers = []
    if "loss" in df:
        layers.append(
            alt.Chart(base.finite(df, ["loss"]))
            .mark_line(strokeWidth=1, clip=True)
            .encode(
                x=x,
                y=alt.Y("loss:Q", scale=scale, title=title),
                color=base.color(dom, "run"),
                opacity=base.fade(p, 0.3, 0.05),
            )
        )
    line = alt.Chart(df).mark_line(strokeWidth=2.5, clip=True)
    layers.append(
        line.encode(
            x=x,
            y=alt.Y("smoothed:Q", scale=scale, title=title),
            color=base.color(dom, "run"),
            opacity=base.fade(p),
            tooltip=tooltip,
        ).add_params(p)
    )
    stops = df.groupby("run", sort=False).tail(1).copy()
    stops["shown"] = stops["smoothed"].clip(upper=cap)
    stops["note"] = [
        f"blew up: loss {v:.3g}, above the axis" if v > cap else "sweep stopped here"
        for v in stops["smoothed"]
    ]
    layers.append(
        alt.Chart(stops)
        .mark_point(shape="square", filled=True, size=80)
        .encode(
            x=x,
            y=alt.Y("shown:Q", scale=scale),
            color=base.color(dom, "run"),
            opacity=base.fade(p),
            tooltip=[*tooltip, "note:N"],
        )
    )
    sug = _suggestion_marks(suggestions, dom)
    if len(sug):
        if "loss" not in sug or sug["loss"].isna().any():
            sug["loss"] = [
                _read(df[df["run"] == r], "smoothed", v) for r, v in zip(sug["run"], sug["lr"], strict=True)
            ]
        sug["shown"] = sug["loss"].clip(upper=cap)
        rule_tip = [
            "run:N",
            "name:N",
            base.tip("lr:Q", "suggested lr", ".3g"),
            base.tip("loss:Q", "smoothed loss"),
        ]
        for name, mine in sug.groupby("name", sort=False):
            layers.append(
                alt.Chart(mine)
                .mark_rule(strokeDash=SUGGESTION_DASH.get(str(name), [4, 2]), strokeWidth=1.2)
                .encode(x=x, color=base.color(dom, "run"), opacity=base.fade(p, 0.7, 0.1), tooltip=rule_tip)
            )
        layers.append(
            alt.Chart(sug)
            .mark_point(filled=True, size=130, stroke="black", strokeWidth=1)
            .encode(
                x=x,
                y=alt.Y("shown:Q", scale=scale),
                shape=_shape(sug),
                color=base.color(dom, "run"),
                tooltip=rule_tip,
            )
        )
    return alt.layer(*layers)


def _read(curve: pd.DataFrame, column: str, lr: float) -> float:
    """`column` of a curve at learning rate lr, interpolated on log10 lr (NaN for an empty curve)."""
    curve = curve.sort_values("lr")
    if curve.empty:
        return float("nan")
    return float(
        np.interp(np.log10(lr), np.log10(curve["lr"].to_numpy(float)), curve[column].to_numpy(float))
    )


@base.memoized
def lr_derivative_chart(curves: pd.DataFrame, suggestions: pd.DataFrame | None = None) -> base.Chart:
    """d(smoothed loss) / d(log10 lr) per run, with a marker at each suggested LR (same shapes as
    the loss chart): the steepest suggestion sits at this curve's minimum, and the user sees how
    sharp the dip is. Without suggestions the minimum itself is marked. The axis shows the dip
    with some room above zero; the blow-up's huge positive slopes are clipped."""
    if base.missing(curves, ["run", "lr", "smoothed"]):
        return base.empty_chart()
    df = base.finite(curves, ["lr", "smoothed"])
    df = df[df["lr"] > 0].assign(run=lambda d: d["run"].astype(str))
    parts = []
    for run, g in df.sort_values("lr").groupby("run", sort=False):
        g = g.drop_duplicates("lr")
        if len(g) >= 2:
            slope = np.gradient(g["smoothed"].to_numpy(float), np.log10(g["lr"].to_numpy(float)))
            parts.append(pd.DataFrame({"run": run, "lr": g["lr"].to_numpy(), "slope": slope}))
    if not parts:
        return base.empty_chart("too few points to differentiate")
    data = base.thin(base.finite(pd.concat(parts, ignore_index=True), ["slope"]), "run", "lr", base.MAX_ROWS)
    dom, p = base.domain(data, None, "run"), base.pick("run")
    deepest = float(data["slope"].min())
    top = float(data["slope"].max())
    scale = (
        alt.Scale(domain=[deepest * 1.1, min(top, abs(deepest) * SLOPE_HEADROOM)], nice=False)
        if deepest < 0
        else alt.Scale()
    )
    x = alt.X("lr:Q", scale=alt.Scale(type="log"), title="learning rate (log)")
    y = alt.Y("slope:Q", scale=scale, title="d loss / d log10 lr")
    tooltip = ["run:N", base.tip("lr:Q", "lr", ".3g"), base.tip("slope:Q", "slope")]
    line = (
        alt.Chart(data)
        .mark_line(clip=True)
        .encode(x=x, y=y, color=base.color(dom, "run"), opacity=base.fade(p), tooltip=tooltip)
        .add_params(p)
    )
    zero = (
        alt.Chart(pd.DataFrame({"slope": [0.0]}))
        .mark_rule(color="gray", strokeDash=[4, 3])
        .encode(y="slope:Q")
    )
    sug = _suggestion_marks(suggestions, dom)
    if len(sug):
        sug["slope"] = [
            _read(data[data["run"] == r], "slope", v) for r, v in zip(sug["run"], sug["lr"], strict=True)
        ]
        dots = (
            alt.Chart(base.finite(sug, ["slope"]))
            .mark_point(filled=True, size=130, stroke="black", strokeWidth=1, clip=True)
            .encode(
                x=x,
                y=y,
                shape=_shape(sug),
                color=base.color(dom, "run"),
                tooltip=["run:N", "name:N", *tooltip[1:]],
            )
        )
    else:
        steepest = data.loc[data.groupby("run")["slope"].idxmin()].assign(note="steepest descent")
        dots = (
            alt.Chart(steepest)
            .mark_point(filled=True, size=70)
            .encode(x=x, y=y, color=base.color(dom, "run"), tooltip=[*tooltip, "note:N"])
        )
    return alt.layer(line, zero, dots)


def _x(knob: str | None, values: Sequence[float], order: Sequence[str], title: str | None = None) -> alt.X:
    """Log axis of the knob when every value is positive, linear otherwise, labels without a knob."""
    if knob is None:
        return alt.X("variant:N", sort=list(order), title=None, axis=alt.Axis(labelAngle=-30))
    log = len(values) > 0 and min(values) > 0
    return alt.X(f"{knob}:Q", scale=alt.Scale(type="log" if log else "linear"), title=title or knob)


# -- LR1: status -------------------------------------------------------------------------------------
@base.memoized
def status_chart(epochs: pd.DataFrame, runs: pd.DataFrame) -> base.Chart:
    """Every run's training loss per epoch, coloured by its own classification (log y): what
    "converging", "oscillating" and "diverged" look like, seed by seed."""
    if epochs.empty or runs.empty:
        return base.empty_chart()
    df = epochs[["key", "variant", "seed", "epoch", "train_loss"]].merge(
        runs[["key", "status", "reason"]], on="key"
    )
    df = base.finite(df, ["train_loss"])
    df = df[df["train_loss"] > 0]
    if df.empty:
        return base.empty_chart("no finite training loss: every run diverged at once")
    p = base.pick("status")
    return (
        alt.Chart(df)
        .mark_line(point=alt.OverlayMarkDef(size=16))
        .encode(
            x=alt.X("epoch:Q", axis=base.x_axis("epoch")),
            y=alt.Y("train_loss:Q", scale=alt.Scale(type="log"), title="training loss (log)"),
            color=alt.Color("status:N", scale=STATUS_SCALE, title="status"),
            detail="key:N",
            opacity=base.fade(p, 0.9, 0.1),
            tooltip=["variant:N", "seed:Q", "status:N", "reason:N", "epoch:Q", base.tip("train_loss:Q")],
        )
        .add_params(p)
    )


@base.memoized
def volatility_chart(
    runs: pd.DataFrame, values: dict[str, float], knob: str | None, order: Sequence[str], threshold: float
) -> base.Chart:
    """Each run's volatility against the knob, coloured by status, with the oscillation threshold
    drawn: the rule the classification applies, visible."""
    df = runs.assign(value=runs["variant"].map(values)) if knob else runs.copy()
    if knob:
        df[knob] = df["value"]
    df = base.finite(df, ["volatility"])
    df = df[df["volatility"] > 0]
    if df.empty:
        return base.empty_chart("no run has a volatility (too few steps)")
    x = _x(knob, list(values.values()), order)
    y = alt.Y("volatility:Q", scale=alt.Scale(type="log"), title="volatility (std Δloss / start)")
    dots = (
        alt.Chart(df)
        .mark_circle(size=80, opacity=0.85)
        .encode(
            x=x,
            y=y,
            color=alt.Color("status:N", scale=STATUS_SCALE, title="status"),
            tooltip=[
                "variant:N",
                "seed:Q",
                "status:N",
                base.tip("volatility:Q"),
                base.tip("peak:Q", "peak / start"),
            ],
        )
    )
    line = pd.DataFrame({"volatility": [threshold], "label": [f"oscillation threshold {threshold:g}"]})
    rule = alt.Chart(line).mark_rule(strokeDash=[5, 3], color="#ef6c00").encode(y="volatility:Q")
    text = (
        alt.Chart(line)
        .mark_text(align="left", baseline="bottom", dx=3, color="#ef6c00")
        .encode(y="volatility:Q", x=alt.value(0), text="label:N")
    )
    return alt.layer(dots, rule, text)


# -- LR2: epochs to a target ---------------------------------------------------------------------
@base.memoized
def target_chart(table: pd.DataFrame, knob: str | None, order: Sequence[str], epochs_run: int) -> base.Chart:
    """Epochs each variant needed to reach the target (mean dot, seed min-max rule); a ✕ at the
    top where no seed got there within the epochs trained."""
    if table.empty:
        return base.empty_chart()
    df = table.copy()
    if knob:
        df[knob] = df["value"].astype(float)
    values = [float(v) for v in df["value"].dropna()] if knob else []
    x = _x(knob, values, order)
    y = alt.Y("epochs:Q", title="epochs to reach the target", scale=alt.Scale(domain=[0, max(epochs_run, 1)]))
    tooltip = [
        "variant:N",
        base.tip("epochs:Q", "mean epochs"),
        base.tip("lo:Q", "min"),
        base.tip("hi:Q", "max"),
        "reached:Q",
        "seeds:Q",
        "note:N",
    ]
    ok = df[df["reached"] > 0]
    layers = [
        alt.Chart(ok).mark_rule(strokeWidth=2, color="steelblue").encode(x=x, y=alt.Y("lo:Q"), y2="hi:Q"),
        alt.Chart(ok).mark_line(point=True, color="steelblue").encode(x=x, y=y, tooltip=tooltip),
    ]
    never = df[df["reached"] == 0].assign(note=f"not reached in {epochs_run} epochs")
    if len(never):
        layers.append(
            alt.Chart(never)
            .mark_text(text=base.CROSS, size=18, fontWeight="bold", color="firebrick", baseline="top")
            .encode(x=x, y=alt.value(2), tooltip=["variant:N", "note:N"])
        )
    return alt.layer(*layers)


# -- LR3: generalization gap up to the divergence edge -------------------------------------------------
@base.memoized
def gap_chart(gaps: pd.DataFrame, knob: str | None, order: Sequence[str], edge: float | None) -> base.Chart:
    """val − train loss per run against the knob: runs below the divergence edge in colour with
    their mean line, runs at or beyond it grey (their tiny gap is a dead network's), the edge as
    a red rule."""
    df = base.finite(gaps, ["gap"])
    if df.empty:
        return base.empty_chart("no run has a finite generalization gap")
    x_field = knob or "variant"
    values = [float(v) for v in df[knob]] if knob else []
    x = _x(knob, values, order)
    df = df.assign(where=np.where(df["included"], "below the edge", "at/after the edge or diverged"))
    y = alt.Y("gap:Q", title="generalization gap (val − train loss)")
    tooltip = ["variant:N", "seed:Q", "status:N", "where:N", base.tip("gap:Q")]
    dots = (
        alt.Chart(df)
        .mark_circle(size=70)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "where:N",
                scale=alt.Scale(
                    domain=["below the edge", "at/after the edge or diverged"],
                    range=["steelblue", "lightgray"],
                ),
                title=None,
            ),
            tooltip=tooltip,
        )
    )
    mean = df[df["included"]].groupby(x_field, sort=False)["gap"].mean().reset_index()
    layers = [dots]
    if len(mean):
        layers.append(alt.Chart(mean).mark_line(color="steelblue").encode(x=x, y="gap:Q"))
    if edge is not None and knob:
        e = pd.DataFrame({knob: [edge], "label": [f"divergence edge {edge:g}"]})
        layers.append(alt.Chart(e).mark_rule(color="firebrick", strokeDash=[6, 3]).encode(x=x))
        layers.append(
            alt.Chart(e)
            .mark_text(align="left", dx=4, baseline="top", color="firebrick")
            .encode(x=x, y=alt.value(2), text="label:N")
        )
    return alt.layer(*layers)
