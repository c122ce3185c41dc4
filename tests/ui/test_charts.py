"""Chart builders: assertions on the Vega-Lite dict of hand-built long-form frames.

The frames mimic ComparisonResult.frame(): three learning-rate variants x three seeds, where
lr=10 seed 2 diverges in epoch 3 (a NaN/inf tail, then no rows) and lr=10 seed 1 blows up at the
very first step (only non-finite values), as the trainer records them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pytest

from ui import charts, charts_extra, charts_network
from ui.charts import (
    curves,
    empty_chart,
    final_metric,
    metric_vs_knob,
    schedule_chart,
    train_val_curves,
    with_gaps,
)
from ui.charts_extra import (
    contour_paths,
    heatmap_grid,
    lr_derivative_chart,
    lr_finder_chart,
    parallel_coordinates,
    scatter,
    stability_map,
)
from ui.charts_network import (
    decision_boundary,
    gradient_histogram,
    layer_heatmap,
    layer_ratio,
    sparsity_bars,
    weight_histograms,
)

LRS = (0.01, 0.1, 10.0)
VARIANTS = [f"learning_rate={lr:g}" for lr in LRS]
SEEDS = (0, 1, 2)
EPOCHS, STEPS_PER_EPOCH, LAYERS = 10, 10, 3
DIVERGED = "lr10-s2"  # diverges during epoch 3 (step 25)
INSTANT = "lr10-s1"  # non-finite from the first step


def key(lr: float, seed: int) -> str:
    return f"lr{lr:g}-s{seed}"


def members() -> Iterator[tuple[str, str, float, int]]:
    for lr, label in zip(LRS, VARIANTS, strict=True):
        for seed in SEEDS:
            yield key(lr, seed), label, lr, seed


def identity(k: str, label: str, lr: float, seed: int) -> dict[str, Any]:
    return {"key": k, "variant": label, "seed": seed, "learning_rate": lr}


@pytest.fixture(scope="module")
def epochs() -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        for epoch in range(1, EPOCHS + 1):
            loss = 1.0 / (epoch * (1 + lr)) + 0.01 * seed
            if k == DIVERGED and epoch >= 3:
                loss = math.inf if epoch == 3 else math.nan
                if epoch > 3:
                    break
            if k == INSTANT:
                loss = math.nan
                if epoch > 1:
                    break
            rows.append(
                {**identity(k, label, lr, seed), "epoch": epoch, "train_loss": loss * 0.8, "val_loss": loss,
                 "train_accuracy": 0.5, "val_accuracy": 0.4, "lr": lr, "seconds": 0.5 * epoch}
            )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def summary(epochs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        mine = epochs[epochs["key"] == k]
        diverged = k in (DIVERGED, INSTANT)
        last = mine.iloc[-1]
        rows.append(
            {**identity(k, label, lr, seed), "final_train_loss": math.nan if diverged else last["train_loss"],
             "final_val_loss": math.nan if diverged else last["val_loss"], "final_train_accuracy": math.nan,
             "final_val_accuracy": math.nan, "diverged": diverged, "diverged_step": {DIVERGED: 25, INSTANT: 0}.get(k, -1),
             "diverged_epoch": {DIVERGED: 3, INSTANT: 1}.get(k, -1), "seconds": 5.0}
        )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def steps() -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        for step in range(EPOCHS * STEPS_PER_EPOCH):
            if (k == DIVERGED and step > 25) or (k == INSTANT and step > 0):
                break
            bad = (k == DIVERGED and step == 25) or k == INSTANT
            rows.append(
                {**identity(k, label, lr, seed), "step": step, "epoch": step // STEPS_PER_EPOCH + 1,
                 "loss": math.inf if bad else 2.0 / (1 + step) + 0.01 * seed, "grad_norm": 1.0 + 0.1 * step + seed,
                 "update_norm": 0.1, "clipped": False, "lr": lr, "momentum": 0.9}
            )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def layers() -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        for step in range(0, 60, 2):
            for layer in range(LAYERS):
                grad = 10.0 ** (layer - 2) * (1 + seed)  # first layer 100x smaller than the last
                rows.append(
                    {**identity(k, label, lr, seed), "step": step, "epoch": step // 10 + 1, "layer": layer,
                     "layer_name": f"dense_{layer}", "grad_norm": math.nan if k == INSTANT else grad}
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def weights() -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        last = 3 if k == DIVERGED else EPOCHS
        for epoch in range(1, last + 1):
            for layer in range(LAYERS):
                sparsity = 0.1 * layer + (0.5 if epoch == last else 0.0) + 0.01 * seed
                rows.append(
                    {**identity(k, label, lr, seed), "epoch": epoch, "layer": layer, "layer_name": f"dense_{layer}",
                     "weight_norm": 1.0, "sparsity": sparsity, "weight_max_abs": 1.0}
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def histograms() -> pd.DataFrame:
    rows = []
    edges = np.linspace(-1, 1, 21)
    for k, label, lr, seed in members():
        for layer in range(LAYERS):
            for i in range(20):
                rows.append(
                    {**identity(k, label, lr, seed), "layer": layer, "layer_name": f"dense_{layer}",
                     "bin_start": edges[i], "bin_end": edges[i + 1], "count": 100 if i == 10 else seed}
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def boundary() -> pd.DataFrame:
    g = np.linspace(-2, 2, 20)
    x0, x1 = (a.ravel() for a in np.meshgrid(g, g))
    parts = []
    for k, label, lr, seed in members():
        prob = 1 / (1 + np.exp(-(x0 + x1) * (1 + seed)))
        parts.append(pd.DataFrame({**identity(k, label, lr, seed), "x0": x0, "x1": x1, "prob": prob,
                                   "predicted": (prob > 0.5).astype(int)}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


# -- helpers over the Vega-Lite dict -------------------------------------------------------------
def spec_of(chart: Any) -> dict:
    """to_dict() validates against the Vega-Lite schema and enforces Altair's 5,000-row limit."""
    return chart.to_dict()


def units(node: Any) -> Iterator[dict]:
    """Every view that has a mark, wherever it sits (layer, facet spec, concat)."""
    if isinstance(node, dict):
        if "mark" in node:
            yield node
        for child in node.values():
            yield from units(child)
    elif isinstance(node, list):
        for child in node:
            yield from units(child)


def mark(unit: dict) -> str:
    return unit["mark"] if isinstance(unit["mark"], str) else unit["mark"]["type"]


def marks(spec: dict) -> list[str]:
    return [mark(u) for u in units(spec)]


def datasets(spec: dict) -> dict[str, list[dict]]:
    return spec.get("datasets", {})


def rows_of(spec: dict, unit: dict) -> list[dict]:
    """Rows a unit draws: its own named dataset, else the one inherited from the top level."""
    name = unit.get("data", {}).get("name") or spec.get("data", {}).get("name")
    return datasets(spec)[name]


def assert_small_and_finite(spec: dict) -> None:
    for name, rows in datasets(spec).items():
        assert len(rows) <= 5000, name
        for row in rows:
            for value in row.values():
                assert not (isinstance(value, float) and not math.isfinite(value)), (name, row)


def assert_pick(spec: dict, field: str = "variant") -> None:
    params = [p for u in [spec, *units(spec)] for p in u.get("params", [])]
    picks = [p for p in params if p["name"] == "pick"]
    assert picks, "no selection parameter named pick"
    assert picks[0]["bind"] == "legend" and picks[0]["select"]["fields"] == [field]


def is_message(spec: dict, words: str) -> bool:
    return marks(spec) == ["text"] and words in json.dumps(spec)


# -- training curves ---------------------------------------------------------------------------
def test_curves_band_line_pick_and_diverged_markers(epochs: pd.DataFrame, summary: pd.DataFrame) -> None:
    spec = spec_of(curves(epochs, summary=summary, variant_order=VARIANTS))
    assert marks(spec)[:2] == ["area", "line"]
    assert_pick(spec)
    assert_small_and_finite(spec)
    area, line = list(units(spec))[:2]
    assert area["encoding"]["y2"]["field"] == "hi" and line["encoding"]["y"]["field"] == "mean"
    assert line["encoding"]["color"]["scale"]["domain"] == VARIANTS
    rows = rows_of(spec, line)
    assert len(rows) == sum(
        len(epochs[(epochs["variant"] == v) & np.isfinite(epochs["val_loss"])]["epoch"].unique())
        for v in VARIANTS
    )
    first = next(r for r in rows if r["variant"] == VARIANTS[0] and r["x"] == 1)
    assert first["mean"] == pytest.approx(1 / 1.01 + 0.01) and first["lo"] == pytest.approx(1 / 1.01)
    assert first["hi"] == pytest.approx(1 / 1.01 + 0.02) and first["seeds"] == 3
    crosses = [u for u in units(spec) if mark(u) == "text"]
    drawn = {r["key"]: r for u in crosses for r in rows_of(spec, u)}
    assert drawn[DIVERGED]["note"] == "diverged at step 25" and drawn[DIVERGED]["x"] == 2  # last finite epoch
    assert drawn[INSTANT]["note"] == "diverged at step 0"
    pinned = next(u for u in crosses if INSTANT in {r["key"] for r in rows_of(spec, u)})
    assert pinned["encoding"]["y"] == {"value": 2}  # no finite point: pinned to the top edge


def test_run_without_any_rows_still_gets_its_cross_from_the_summary(
    epochs: pd.DataFrame, steps: pd.DataFrame, summary: pd.DataFrame
) -> None:
    for frame, x, metric, at in ((epochs, "epoch", "val_loss", 1), (steps, "step", "loss", 0)):
        spec = spec_of(curves(frame[frame["key"] != INSTANT], metric, x, summary, VARIANTS))
        pinned = [
            r for u in units(spec) if mark(u) == "text" for r in rows_of(spec, u) if r["key"] == INSTANT
        ]
        assert [(r["x"], r["note"]) for r in pinned] == [(at, "diverged at step 0")]


def test_curves_infers_divergence_without_summary_and_log_std_band(epochs: pd.DataFrame) -> None:
    spec = spec_of(curves(epochs, log_y=True, band="std"))
    assert {
        u["encoding"]["y"].get("scale", {}).get("type") for u in units(spec) if "field" in u["encoding"]["y"]
    } == {"log"}
    assert DIVERGED in json.dumps(spec)
    line = list(units(spec))[1]
    assert all(r["lo"] > 0 for r in rows_of(spec, line))
    with pytest.raises(ValueError, match="band"):
        curves(epochs, band="iqr")


def test_curves_over_seconds_and_steps(
    epochs: pd.DataFrame, steps: pd.DataFrame, summary: pd.DataFrame
) -> None:
    per_epoch = epochs.assign(seconds=0.5)  # per-epoch durations are accumulated
    spec = spec_of(curves(per_epoch, x="seconds", variant_order=VARIANTS))
    rows = rows_of(spec, list(units(spec))[1])
    assert max(r["x"] for r in rows) == pytest.approx(0.5 * EPOCHS)
    spec = spec_of(curves(steps, metric="loss", x="step", summary=summary))
    assert list(units(spec))[1]["encoding"]["x"]["title"] == "step"
    assert_small_and_finite(spec)


def test_curves_bins_long_step_frames_under_the_row_limit() -> None:
    n = 3000
    big = pd.DataFrame(
        {"key": np.repeat([f"k{i}" for i in range(8)], n), "variant": np.repeat([f"v{i}" for i in range(8)], n),
         "seed": 0, "step": np.tile(np.arange(n), 8), "loss": np.tile(np.linspace(2, 0.1, n), 8)}
    )  # fmt: skip
    spec = spec_of(curves(big, metric="loss", x="step"))
    assert_small_and_finite(spec)
    assert 1000 < len(rows_of(spec, list(units(spec))[1])) <= 2400


def test_regression_accuracy_and_empty_frames_say_so(epochs: pd.DataFrame, summary: pd.DataFrame) -> None:
    nan = epochs.assign(val_accuracy=math.nan, train_accuracy=math.nan)
    assert is_message(spec_of(curves(nan, metric="val_accuracy")), "regression")
    assert is_message(spec_of(train_val_curves(nan, metric="accuracy")), "regression")
    assert is_message(spec_of(final_metric(summary, "final_val_accuracy")), "regression")
    assert is_message(spec_of(empty_chart()), "no data yet")


def test_train_val_curves_dash_by_split(epochs: pd.DataFrame, summary: pd.DataFrame) -> None:
    spec = spec_of(train_val_curves(epochs, summary=summary, variant_order=VARIANTS))
    line = next(u for u in units(spec) if mark(u) == "line")
    assert line["encoding"]["strokeDash"]["field"] == "split"
    assert {r["split"] for r in rows_of(spec, line)} == {"train", "val"}
    assert_pick(spec)
    assert_small_and_finite(spec)
    assert DIVERGED in json.dumps(datasets(spec))


def test_schedule_chart_adds_momentum_only_when_it_varies(steps: pd.DataFrame) -> None:
    spec = spec_of(schedule_chart(steps, variant_order=VARIANTS))
    assert "vconcat" not in spec and spec["encoding"]["y"]["scale"]["type"] == "log"
    assert_pick(spec)
    varied = steps.assign(momentum=np.where(steps["variant"] == VARIANTS[0], 0.0, 0.9))
    spec = spec_of(schedule_chart(varied))
    assert [u["encoding"]["y"]["field"] for u in units(spec)] == ["lr", "momentum"]


# -- final metrics -----------------------------------------------------------------------------
def test_final_metric_dots_tick_rule_and_diverged_note(summary: pd.DataFrame) -> None:
    spec = spec_of(final_metric(summary, "final_val_loss", VARIANTS))
    assert sorted(marks(spec)) == ["circle", "rule", "tick"]
    assert_pick(spec)
    dots = next(u for u in units(spec) if mark(u) == "circle")
    assert dots["encoding"]["y"]["sort"] == [*VARIANTS[:2], "learning_rate=10 (2/3 diverged)"]
    assert dots["encoding"]["x"]["field"] == "final_val_loss"
    assert len(rows_of(spec, dots)) == 7  # 9 runs minus the two diverged
    tick = next(u for u in units(spec) if mark(u) == "tick")
    means = {r["variant"]: r["mean"] for r in rows_of(spec, tick)}
    assert means[VARIANTS[2]] == pytest.approx(1 / (EPOCHS * 11))  # the one surviving seed
    all_lost = summary.assign(diverged=summary["variant"] == VARIANTS[2])
    spec = spec_of(final_metric(all_lost, "final_val_loss", VARIANTS))
    note = next(u for u in units(spec) if mark(u) == "text")
    assert [(r["variant"], r["note"]) for r in rows_of(spec, note)] == [
        (VARIANTS[2], "✕ every seed diverged")
    ]


def test_metric_vs_knob_gap_on_log_x_marks_divergence(summary: pd.DataFrame) -> None:
    spec = spec_of(metric_vs_knob(summary, "learning_rate", "generalization_gap", log_x=True))
    line = next(u for u in units(spec) if mark(u) == "line")
    assert line["encoding"]["x"]["scale"]["type"] == "log"
    rows = rows_of(spec, line)
    gap = with_gaps(summary)
    expected = gap[~gap["diverged"] & (gap["learning_rate"] == 0.1)]["generalization_gap"].mean()
    assert next(r["mean"] for r in rows if r["learning_rate"] == 0.1) == pytest.approx(expected)
    cross = next(u for u in units(spec) if mark(u) == "text")
    assert [r["learning_rate"] for r in rows_of(spec, cross)] == [10.0]
    assert_small_and_finite(spec)


# -- inside the network ------------------------------------------------------------------------
def test_layer_heatmap_log_colour_facets_and_bins(layers: pd.DataFrame) -> None:
    spec = spec_of(layer_heatmap(layers, VARIANTS))
    unit = next(units(spec))
    assert unit["encoding"]["color"]["scale"]["type"] == "log"
    assert spec["facet"]["field"] == "variant" and spec["facet"]["sort"] == VARIANTS
    rows = rows_of(spec, unit)
    assert len(rows) == 3 * LAYERS * 30  # 30 recorded steps, finite variants only (INSTANT is NaN)
    cell = next(
        r for r in rows if r["variant"] == VARIANTS[0] and r["step"] == 0 and r["layer_label"] == "0: dense_0"
    )
    assert cell["grad_norm"] == pytest.approx(0.02) and cell["seeds"] == 3
    many = pd.concat([layers.assign(step=layers["step"] + 60 * i) for i in range(20)], ignore_index=True)
    spec = spec_of(layer_heatmap(many, VARIANTS))
    assert len({r["step"] for r in rows_of(spec, next(units(spec)))}) <= 200
    assert_small_and_finite(spec)


def test_layer_ratio_is_first_over_last_on_log_y(layers: pd.DataFrame) -> None:
    spec = spec_of(layer_ratio(layers, VARIANTS))
    line = next(u for u in units(spec) if mark(u) == "line")
    assert line["encoding"]["y"]["scale"]["type"] == "log"
    assert all(r["mean"] == pytest.approx(0.01) for r in rows_of(spec, line))
    assert "area" in marks(spec)
    assert_pick(spec)
    one_layer = layers[layers["layer"] == 0]
    assert is_message(spec_of(layer_ratio(one_layer)), "one layer")


def test_weight_histograms_symlog_grid_and_seed_mean(histograms: pd.DataFrame) -> None:
    spec = spec_of(weight_histograms(histograms, VARIANTS))
    unit = next(units(spec))
    assert unit["encoding"]["y"]["scale"]["type"] == "symlog"
    assert spec["facet"]["row"]["field"] == "variant" and spec["facet"]["column"]["field"] == "layer_label"
    rows = rows_of(spec, unit)
    assert len(rows) == 3 * LAYERS * 20  # 30 bins asked, capped at the trainer's 20
    assert {r["count"] for r in rows if r["bin_start"] < -0.5} == {1.0}  # mean of seeds 0, 1, 2
    assert_pick(spec)
    deep = pd.concat(
        [histograms.assign(layer=histograms["layer"] + 3 * i) for i in range(4)], ignore_index=True
    )
    shown = {
        r["layer_label"].split(":")[0]
        for r in rows_of(*(lambda s: (s, next(units(s))))(spec_of(weight_histograms(deep))))
    }
    assert len(shown) == 6 and {"0", "11"} <= shown


def test_sparsity_bars_use_each_runs_last_epoch(weights: pd.DataFrame) -> None:
    spec = spec_of(sparsity_bars(weights, VARIANTS))
    bars = next(u for u in units(spec) if mark(u) == "bar")
    assert bars["encoding"]["xOffset"]["field"] == "variant"
    rows = rows_of(spec, bars)
    assert len(rows) == 3 * LAYERS
    r = next(r for r in rows if r["variant"] == VARIANTS[2] and r["layer_label"] == "0: dense_0")
    assert r["mean"] == pytest.approx(0.51)  # the diverged run's epoch 3 counts as its last
    assert "rule" in marks(spec)


def test_decision_boundary_diverging_scale_with_points(boundary: pd.DataFrame) -> None:
    points = pd.DataFrame({"x0": [-1.0, 1.0, 0.5], "x1": [-1.0, 1.0, -0.5], "label": [0, 1, 1]})
    spec = spec_of(decision_boundary(boundary, points, VARIANTS))
    rect = next(u for u in units(spec) if mark(u) == "rect")
    scale = rect["encoding"]["color"]["scale"]
    assert scale["scheme"] == "redblue" and scale["domainMid"] == 0.5
    assert spec["facet"]["field"] == "variant"
    rows = datasets(spec)[spec["data"]["name"]]
    assert sum(r["kind"] == "point" for r in rows) == 3 * len(VARIANTS)  # replicated into each facet
    assert sum(r["kind"] == "grid" for r in rows) == 400 * len(VARIANTS)
    assert "point" in marks(spec)


def test_gradient_histogram_marks_the_quantile(steps: pd.DataFrame) -> None:
    spec = spec_of(gradient_histogram(steps, 0.9, VARIANTS))
    rule = next(u for u in units(spec) if mark(u) == "rule")
    assert rule["encoding"]["x"]["field"] == "q"
    rows = datasets(spec)[spec["data"]["name"]]
    q = {r["variant"]: r["q"] for r in rows}
    values = steps.loc[steps["variant"] == VARIANTS[0], "grad_norm"]
    assert q[VARIANTS[0]] == pytest.approx(np.quantile(values, 0.9))
    assert sum(r["count"] for r in rows if r["variant"] == VARIANTS[0]) == len(values)
    assert "p90" in next(r["note"] for r in rows) and spec["facet"]["row"]["field"] == "variant"
    assert_pick(spec)


# -- LR finder, sandbox, history ---------------------------------------------------------------
@pytest.fixture(scope="module")
def lr_curves() -> pd.DataFrame:
    lr = np.logspace(-5, 0, 50)
    parts = []
    for run, shift in (("baseline", 0.0), ("batch_norm=before", 1.0)):
        smoothed = 2.0 - np.log10(lr) * 0.0 - np.tanh(np.log10(lr) + 3 - shift)
        parts.append(pd.DataFrame({"run": run, "lr": lr, "loss": smoothed + 0.05, "smoothed": smoothed}))
    df = pd.concat(parts, ignore_index=True)
    df.loc[len(df)] = {"run": "baseline", "lr": 2.0, "loss": math.inf, "smoothed": math.nan}
    return df


def test_lr_finder_chart_rules_labels_and_stop_marker(lr_curves: pd.DataFrame) -> None:
    sug = pd.DataFrame(
        {
            "run": ["baseline", "baseline"],
            "name": ["steepest", "valley"],
            "lr": [1e-3, 3e-3],
            "loss": [2.0, 1.5],
        }
    )
    spec = spec_of(lr_finder_chart(lr_curves, sug))
    assert_small_and_finite(spec)
    assert_pick(spec, "run")
    assert marks(spec).count("rule") == 2 and marks(spec).count("text") == 2
    assert all(u["encoding"]["x"]["scale"]["type"] == "log" for u in units(spec) if "x" in u["encoding"])
    stop = next(u for u in units(spec) if mark(u) == "point")
    assert {r["run"]: r["lr"] for r in rows_of(spec, stop)} == {"baseline": 1.0, "batch_norm=before": 1.0}
    labels = [r["label"] for u in units(spec) if mark(u) == "text" for r in rows_of(spec, u)]
    assert labels == ["steepest 0.001", "valley 0.003"]


def test_lr_derivative_is_slope_per_decade() -> None:
    lr = np.logspace(-4, 0, 9)
    df = pd.DataFrame({"run": "a", "lr": lr, "smoothed": 3.0 - 0.5 * np.log10(lr)})
    spec = spec_of(lr_derivative_chart(df))
    line = next(u for u in units(spec) if mark(u) == "line")
    assert [r["slope"] for r in rows_of(spec, line)] == pytest.approx([-0.5] * 9)


def test_contour_paths_log_colour_and_clipped_paths() -> None:
    g = np.linspace(-2, 2, 30)
    x0, x1 = (a.ravel() for a in np.meshgrid(g, g))
    grid = pd.DataFrame({"x0": x0, "x1": x1, "loss": x0**2 + 10 * x1**2})
    paths = pd.DataFrame({"optimizer": ["sgd"] * 3 + ["momentum"] * 3, "step": [0, 1, 2] * 2,
                          "x0": [1.5, 1.0, 1e6, 1.5, 0.5, 0.1], "x1": [1.0, -0.8, math.inf, 1.0, 0.2, 0.0]})  # fmt: skip
    spec = spec_of(contour_paths(grid, paths))
    rect = next(u for u in units(spec) if mark(u) == "rect")
    assert rect["encoding"]["color"]["scale"]["type"] == "log"
    assert min(r["shown"] for r in rows_of(spec, rect)) > 0  # the zero minimum is floored for log
    line = next(u for u in units(spec) if mark(u) == "line")
    assert line["mark"]["clip"] is True and len(rows_of(spec, line)) == 5  # the inf point is dropped
    assert line["mark"]["point"]["clip"] is True
    assert spec["resolve"]["scale"]["color"] == "independent"
    assert_pick(spec, "optimizer")


def test_stability_map_fades_divergent_cells() -> None:
    lr, beta = np.meshgrid([0.01, 0.1, 1.0], [0.0, 0.9])
    df = pd.DataFrame({"lr": lr.ravel(), "beta": beta.ravel(), "rate": [0.5, 0.9, 1.5, 0.7, 0.95, math.inf]})
    df["converges"] = df["rate"] < 1
    spec = spec_of(stability_map(df))
    rect = next(units(spec))
    assert (
        rect["encoding"]["opacity"]["field"] == "status"
        and rect["encoding"]["color"]["scale"]["domainMid"] == 1
    )
    assert {r["status"] for r in rows_of(spec, rect)} == {"converges", "diverges"}
    assert len(rows_of(spec, rect)) == 5 and "rate not finite" in json.dumps(spec)


def test_parallel_coordinates_normalizes_each_axis(summary: pd.DataFrame) -> None:
    runs = summary.assign(batch_size=[16, 32, 64] * 3, optimizer=["sgd", "adam", "sgd"] * 3)
    spec = spec_of(parallel_coordinates(runs, ["learning_rate", "batch_size", "optimizer"]))
    line = next(u for u in units(spec) if mark(u) == "line")
    rows = rows_of(spec, line)
    assert all(0 <= r["norm"] <= 1 for r in rows)
    assert line["encoding"]["x"]["sort"] == [
        "learning_rate (log)",
        "batch_size",
        "optimizer",
        "final_val_loss",
    ]
    lr_axis = {r["value"]: r["norm"] for r in rows if r["axis"] == "learning_rate (log)"}
    assert lr_axis == {"0.01": 0.0, "0.1": pytest.approx(1 / 3), "10": 1.0}
    dashed = [u for u in units(spec) if mark(u) == "line" and u is not line]
    assert {r["seed"] for r in rows_of(spec, dashed[0])} == {"1", "2"}  # the two diverged runs
    assert "final_val_loss" not in {r["axis"] for r in rows_of(spec, dashed[0])}  # they stop before it
    ends = [r["value"] for u in units(spec) if mark(u) == "text" for r in rows_of(spec, u)]
    assert "nan" not in ends and {"0.01", "10", "sgd", "adam"} <= set(ends)


def test_scatter_marks_diverged_runs(summary: pd.DataFrame) -> None:
    runs = summary.assign(final_val_loss=summary["final_val_loss"].fillna(9.0))
    spec = spec_of(scatter(runs, "learning_rate", "final_val_loss", log_x=True, variant_order=VARIANTS))
    assert spec["encoding"]["shape"]["field"] == "status"
    assert sum(r["status"] == "diverged" for r in rows_of(spec, spec)) == 2
    assert_pick(spec)


def test_heatmap_grid_marks_the_best_cell_per_row() -> None:
    df = pd.DataFrame(
        {"weight_decay": [0.0, 1e-4, 1e-3] * 4, "n_samples": [200] * 6 + [2000] * 6,
         "final_val_loss": [0.9, 0.5, 0.7, 0.8, 0.6, 0.7, 0.3, 0.5, math.nan, 0.4, 0.3, math.nan]}
    )  # fmt: skip
    spec = spec_of(heatmap_grid(df, "weight_decay", "n_samples", "final_val_loss"))
    rows = rows_of(spec, next(units(spec)))
    best = {(r["n_samples"], r["weight_decay"]) for r in rows if r["best"]}
    assert best == {(200, 1e-4), (2000, 0.0)}  # cell means 0.55 and 0.35
    labels = {(r["n_samples"], r["weight_decay"]): r["label"] for r in rows}
    assert labels[(200, 1e-4)] == "★ 0.55" and labels[(2000, 1e-3)] == "✕"
    outline = [u for u in units(spec) if mark(u) == "rect"][1]
    assert outline["transform"] == [{"filter": "datum.best"}]
    assert spec["resolve"]["scale"]["color"] == "independent"  # text ink vs value colour (else Vega fails)
    by_column = spec_of(heatmap_grid(df, "weight_decay", "n_samples", "final_val_loss", best_per="column"))
    best = {
        (r["n_samples"], r["weight_decay"]) for r in rows_of(by_column, next(units(by_column))) if r["best"]
    }
    assert best == {(2000, 0.0), (2000, 1e-4), (200, 1e-3)}  # the all-diverged cell cannot win


# -- every builder: empty input, valid Vega-Lite -------------------------------------------------
BUILDERS = {
    "curves": lambda df: curves(df),
    "train_val_curves": lambda df: train_val_curves(df),
    "schedule_chart": lambda df: schedule_chart(df),
    "final_metric": lambda df: final_metric(df),
    "metric_vs_knob": lambda df: metric_vs_knob(df, "learning_rate"),
    "layer_heatmap": lambda df: layer_heatmap(df),
    "layer_ratio": lambda df: layer_ratio(df),
    "weight_histograms": lambda df: weight_histograms(df),
    "sparsity_bars": lambda df: sparsity_bars(df),
    "decision_boundary": lambda df: decision_boundary(df),
    "gradient_histogram": lambda df: gradient_histogram(df),
    "lr_finder_chart": lambda df: lr_finder_chart(df, df),
    "lr_derivative_chart": lambda df: lr_derivative_chart(df),
    "contour_paths": lambda df: contour_paths(df, df),
    "stability_map": lambda df: stability_map(df),
    "parallel_coordinates": lambda df: parallel_coordinates(df, ["learning_rate"]),
    "scatter": lambda df: scatter(df, "a", "b"),
    "heatmap_grid": lambda df: heatmap_grid(df, "a", "b", "c"),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_empty_frame_gives_a_no_data_chart(name: str) -> None:
    spec = spec_of(BUILDERS[name](pd.DataFrame()))
    assert is_message(spec, "no data yet")


def test_every_chart_is_reexported_from_ui_charts() -> None:
    for module in (charts_network, charts_extra):
        for name in module.__dict__:
            if not name.startswith("_") and callable(getattr(module, name)) and name in BUILDERS:
                assert getattr(charts, name) is getattr(module, name)
    assert isinstance(charts.layer_heatmap(pd.DataFrame()), alt.Chart)
