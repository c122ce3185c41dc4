"""Training curves: a metric per variant over epochs, steps or seconds with a seed band, train vs
validation, and the learning-rate schedule. Diverged runs end with a ✕ where they stopped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import base


def _elapsed(df: pd.DataFrame) -> pd.Series:
    """Seconds since the start of training per row. The trainer records elapsed time already;
    a run whose seconds do not strictly increase holds per-epoch durations: those are summed."""
    s = pd.to_numeric(df["seconds"], errors="coerce")
    monotonic = (
        s.groupby(df["key"]).transform(lambda v: v.is_monotonic_increasing and v.is_unique).astype(bool)
    )
    return s.where(monotonic, s.groupby(df["key"]).cumsum())


def _diverged_runs(frame: pd.DataFrame, metric: str, summary: pd.DataFrame | None) -> pd.DataFrame:
    """key, variant, seed, step, epoch, note ("diverged at step N") of every diverged run: those
    the summary flags or, without a summary, those whose metric turned NaN/inf in the frame."""
    cols = ["key", "variant", "seed", "step", "epoch", "note"]
    if (
        summary is not None
        and not summary.empty
        and {"key", "variant", "seed", "diverged"} <= set(summary.columns)
    ):
        runs = summary[base.flags(summary["diverged"], summary.index)]
        step = pd.to_numeric(runs.get("diverged_step", pd.Series(np.nan, runs.index)), errors="coerce")
        epoch = pd.to_numeric(runs.get("diverged_epoch", pd.Series(np.nan, runs.index)), errors="coerce")
        step, epoch = step.where(step >= 0), epoch.where(epoch >= 0)  # the trainer writes -1 for "never"
        note = [
            f"diverged at step {int(s)}"
            if pd.notna(s)
            else f"diverged in epoch {int(e)}"
            if pd.notna(e)
            else "diverged"
            for s, e in zip(step, epoch, strict=True)
        ]
        out = runs[["key", "variant", "seed"]].assign(step=step.to_numpy(), epoch=epoch.to_numpy(), note=note)
        return out.astype({"key": str, "variant": str})[cols]
    values = pd.to_numeric(frame[metric], errors="coerce").to_numpy(dtype=float)
    bad = frame[~np.isfinite(values)].drop_duplicates("key")
    out = bad[["key", "variant", "seed"]].assign(
        step=np.nan, epoch=np.nan, note=f"diverged ({metric} not finite)"
    )
    return out.astype({"key": str, "variant": str})[cols]


def _diverged_marks(
    raw: pd.DataFrame, clean: pd.DataFrame, metric: str, x: str, summary: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per diverged run at its last finite point. y is NaN (drawn at the top edge) when the
    run has no finite point; x then comes from its last row, else from the summary's diverged
    step/epoch: a run that blew up in its first epoch has no rows at all but still gets its ✕."""
    rows = []
    for run in _diverged_runs(raw, metric, summary).itertuples(index=False):
        mine, everything = clean[clean["key"] == run.key], raw[raw["key"] == run.key]
        if len(mine) or len(everything):
            last = (mine if len(mine) else everything).sort_values(x).iloc[-1]
            at, y = float(last[x]), float(last[metric]) if len(mine) else np.nan
        else:
            at, y = {"step": run.step, "epoch": run.epoch}.get(x, np.nan), np.nan
        if pd.notna(at):
            rows.append(
                {"key": run.key, "variant": run.variant, "seed": run.seed, "x": at, "y": y, "note": run.note}
            )
    return pd.DataFrame(rows, columns=["key", "variant", "seed", "x", "y", "note"])


SMALL_POINT = alt.OverlayMarkDef(size=12)  # a dot per epoch: a run with one finite epoch still shows


def _mark_layers(
    marks: pd.DataFrame, x_title: str, y_title: str, log_y: bool, dom: list[str], param: Any
) -> list:
    """✕ text marks for diverged runs: at their last point, or pinned to the top when unknown."""
    layers = []
    tooltip = ["variant:N", "seed:Q", "note:N", base.tip("x:Q", x_title)]
    on, off = marks[marks["y"].notna()], marks[marks["y"].isna()]
    style = {"text": base.CROSS, "size": 18, "fontWeight": "bold"}
    if len(on):
        layers.append(
            alt.Chart(on)
            .mark_text(**style)
            .encode(
                x=alt.X("x:Q", title=x_title),
                y=alt.Y("y:Q", scale=base.y_scale(log_y), axis=base.y_axis(log_y), title=y_title),
                color=base.color(dom),
                opacity=base.fade(param),
                tooltip=[*tooltip, base.tip("y:Q", y_title)],
            )
        )
    if len(off):
        layers.append(
            alt.Chart(off)
            .mark_text(**style, baseline="top")
            .encode(
                x=alt.X("x:Q", title=x_title),
                y=alt.value(2),
                color=base.color(dom),
                opacity=base.fade(param),
                tooltip=tooltip,
            )
        )
    return layers


# -- training curves ---------------------------------------------------------------------------
@base.memoized
def curves(
    epochs: pd.DataFrame,
    metric: str = "val_loss",
    x: str = "epoch",
    summary: pd.DataFrame | None = None,
    variant_order: Sequence[str] | None = None,
    log_y: bool = False,
    band: str = "minmax",
) -> base.Chart:
    """Mean of `metric` per variant over seeds, with the seed spread as a band underneath.

    x: "epoch" or "seconds" (epochs frame) or "step" (steps frame, metric "loss"). With seconds,
    seeds are averaged per epoch (their clocks differ). Diverged runs end where they stopped and
    carry a ✕ with "diverged at step N" in the tooltip.
    """
    if band not in ("minmax", "std"):
        raise ValueError(f"band={band!r} is not allowed: band must be 'minmax' or 'std'")
    if base.missing(epochs, ["key", "variant", "seed", metric, x]):
        return base.empty_chart()
    if base.all_nan(epochs[metric]):
        return base.empty_chart(base.undefined(metric))
    raw = epochs.sort_values(["key", "epoch" if "epoch" in epochs else x])
    if x == "seconds":
        raw = raw.assign(seconds=_elapsed(raw))
    group = "epoch" if x == "seconds" and "epoch" in raw else x
    df = base.finite(raw, [metric, x])
    if log_y:
        df = df[df[metric] > 0]
    if df.empty:
        return base.empty_chart(f"no finite {metric} values: every run diverged")
    dom = base.domain(raw, variant_order)
    if df[group].nunique() * max(1, df["variant"].nunique()) > base.MAX_ROWS // 2:
        df = base.bin_column(df, group, base.MAX_ROWS // 2 // max(1, df["variant"].nunique()))
    stats = base.seed_stats(df, ["variant", group], metric, band)
    xs = df.groupby(["variant", group], sort=False)[x].mean().rename("x").reset_index()  # seconds: mean clock
    stats = stats.merge(xs, on=["variant", group])
    p = base.pick()
    encoded = alt.Chart(stats).encode(x=alt.X("x:Q", title=x, axis=base.x_axis(x)), color=base.color(dom))
    tooltip = [
        "variant:N",
        base.tip("x:Q", x),
        base.tip("mean:Q", f"mean {metric}"),
        base.tip("lo:Q", "band low"),
        base.tip("hi:Q", "band high"),
        "seeds:Q",
    ]
    area = encoded.mark_area(interpolate="linear").encode(
        y=alt.Y("lo:Q", scale=base.y_scale(log_y), axis=base.y_axis(log_y), title=metric),
        y2="hi:Q",
        opacity=base.fade(p, 0.22, 0.04),
        tooltip=tooltip,
    )
    line = (
        encoded.mark_line(point=SMALL_POINT)
        .encode(
            y=alt.Y("mean:Q", scale=base.y_scale(log_y), axis=base.y_axis(log_y), title=metric),
            opacity=base.fade(p),
            tooltip=tooltip,
        )
        .add_params(p)
    )
    marks = _diverged_marks(raw, df, metric, x, summary)
    # ✕ marks under the lines: a run that blew up early is a short line, and several seeds' ✕ on
    # top of it hid it (the exploding page's baseline); small points keep a one-epoch line visible.
    return alt.layer(area, *_mark_layers(marks, x, metric, log_y, dom, p), line)


@base.memoized
def train_val_curves(
    epochs: pd.DataFrame,
    metric: str = "loss",
    summary: pd.DataFrame | None = None,
    variant_order: Sequence[str] | None = None,
    log_y: bool = False,
) -> base.Chart:
    """Train (solid) and val (dashed) mean curves per variant: the gap between them is the
    generalization gap, so both splits share one axis. metric: "loss" or "accuracy"."""
    cols = {f"train_{metric}": "train", f"val_{metric}": "val"}
    if base.missing(epochs, ["key", "variant", "seed", "epoch"]) or not set(cols) & set(epochs.columns):
        return base.empty_chart()
    present = [c for c in cols if c in epochs and not base.all_nan(epochs[c])]
    if not present:
        return base.empty_chart(base.undefined(f"val_{metric}"))
    raw = epochs.sort_values(["key", "epoch"])
    long = raw.melt(
        id_vars=["key", "variant", "seed", "epoch"], value_vars=present, var_name="split", value_name=metric
    )
    long["split"] = long["split"].map(cols)
    df = base.finite(long, [metric, "epoch"])
    if log_y:
        df = df[df[metric] > 0]
    if df.empty:
        return base.empty_chart(f"no finite {metric} values: every run diverged")
    n = max(1, df["variant"].nunique()) * 2
    if df["epoch"].nunique() * n > base.MAX_ROWS // 2:
        df = base.bin_column(df, "epoch", base.MAX_ROWS // 2 // n)
    stats = base.seed_stats(df, ["variant", "split", "epoch"], metric, "minmax").rename(
        columns={"epoch": "x"}
    )
    dom, p = base.domain(raw, variant_order), base.pick()
    line = (
        alt.Chart(stats)
        .mark_line(point=SMALL_POINT)
        .encode(
            x=alt.X("x:Q", title="epoch", axis=base.x_axis("epoch")),
            y=alt.Y("mean:Q", scale=base.y_scale(log_y), axis=base.y_axis(log_y), title=metric),
            color=base.color(dom),
            strokeDash=alt.StrokeDash("split:N", sort=["train", "val"], title="split"),
            detail="split:N",
            opacity=base.fade(p),
            tooltip=[
                "variant:N",
                "split:N",
                base.tip("x:Q", "epoch"),
                base.tip("mean:Q", f"mean {metric}"),
                base.tip("lo:Q", "min over seeds"),
                base.tip("hi:Q", "max over seeds"),
                "seeds:Q",
            ],
        )
        .add_params(p)
    )
    val = f"val_{metric}" if f"val_{metric}" in present else present[0]
    marks = _diverged_marks(raw, base.finite(raw, [val, "epoch"]), val, "epoch", summary)
    return alt.layer(*_mark_layers(marks, "epoch", metric, log_y, dom, p), line)


@base.memoized
def schedule_chart(
    steps: pd.DataFrame, variant_order: Sequence[str] | None = None, log_y: bool = True, height: int = 110
) -> base.Chart:
    """The learning rate (and momentum, when it differs anywhere) per step, short enough to sit
    under a loss chart and explain its bumps. Log y by default: LR sweeps span decades."""
    if base.missing(steps, ["variant", "seed", "step", "lr"]):
        return base.empty_chart()
    df = base.finite(steps, ["step", "lr"])
    if log_y:
        df = df[df["lr"] > 0]
    if df.empty:
        return base.empty_chart("no learning-rate values recorded")
    n = max(1, df["variant"].nunique())
    if df["step"].nunique() * n > base.MAX_ROWS:
        df = base.bin_column(df, "step", base.MAX_ROWS // n)
    dom, p = base.domain(steps, variant_order), base.pick()
    series = ["lr"]
    if "momentum" in df and base.finite(df, ["momentum"])["momentum"].nunique() > 1:
        series.append("momentum")
    agg = df.groupby(["variant", "step"], sort=False)[series].mean().reset_index()
    charts = []
    for name in series:
        data = base.finite(agg, [name])
        chart = (
            alt.Chart(data)
            .mark_line(interpolate="step-after")
            .encode(
                x=alt.X("step:Q", title="step", axis=base.x_axis("step")),
                y=alt.Y(
                    f"{name}:Q",
                    scale=base.y_scale(log_y and name == "lr"),
                    axis=base.y_axis(log_y and name == "lr"),
                    title=name,
                ),
                color=base.color(dom),
                opacity=base.fade(p),
                tooltip=["variant:N", "step:Q", base.tip(f"{name}:Q", name)],
            )
            .properties(height=height)
        )
        charts.append(chart.add_params(p) if not charts else chart)
    return charts[0] if len(charts) == 1 else alt.vconcat(*charts)
