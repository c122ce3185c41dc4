"""Every builder of ui.charts: an empty frame gives a "no data yet" chart, and the package
re-exports each module's builders."""

from __future__ import annotations

import altair as alt
import pandas as pd
import pytest

from tests.ui.charts import vega
from ui import charts
from ui.charts import (
    base,
    contour_paths,
    curves,
    decision_boundary,
    final_metric,
    finals,
    gradient_histogram,
    heatmap_grid,
    history,
    layer_heatmap,
    layer_ratio,
    lr,
    lr_derivative_chart,
    lr_finder_chart,
    metric_vs_knob,
    network,
    parallel_coordinates,
    sandbox,
    scatter,
    schedule_chart,
    sparsity_bars,
    stability_map,
    train_val_curves,
    weight_histograms,
)
from ui.charts import curves as curves_module

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
    spec = vega.spec_of(BUILDERS[name](pd.DataFrame()))
    assert vega.is_message(spec, "no data yet")


def test_every_chart_is_reexported_from_ui_charts() -> None:
    exported = set(charts.__all__)
    for module in (curves_module, finals, history, lr, network, sandbox):
        for name in module.__dict__:
            if not name.startswith("_") and callable(getattr(module, name)) and name in BUILDERS:
                assert name in exported and getattr(charts, name) is getattr(module, name)
    assert isinstance(charts.layer_heatmap(pd.DataFrame()), alt.Chart)


def test_every_public_function_of_the_package_is_exported() -> None:
    """A builder added to a module but not to ui/charts/__init__.py would fail only on its page."""
    for module in (base, curves_module, finals, history, lr, network, sandbox):
        public = {
            name
            for name, value in vars(module).items()
            if callable(value)
            and not name.startswith("_")
            and getattr(value, "__module__", "") == module.__name__
        }
        assert public <= set(charts.__all__), (module.__name__, public - set(charts.__all__))


def test_tooltips_give_short_variant_labels_in_full() -> None:
    """Issue 11: short labels in legends and axes, the knobs' full names one hover away."""
    from ui import charts
    from ui.labels import full, short

    label = short("learning_rate=0.01, momentum=0.9")
    assert label == "lr 0.01 · mom 0.9" and full(label) == "learning_rate=0.01, momentum=0.9"
    assert full("baseline") == "baseline" and full("L1+L2") == "L1+L2"
    frame = pd.DataFrame(
        {"variant": [label, short("learning_rate=0.1, momentum=0.9")], "x": [1, 2], "y": [3, 4]}
    )
    chart = alt.layer(
        alt.Chart(frame).mark_line().encode(x="x:Q", y="y:Q", tooltip=["variant:N", "y:Q"]),
        alt.Chart(frame).mark_point().encode(x="x:Q", y="y:Q"),
    )
    assert charts.with_full_names(chart)
    assert list(frame["variant_full"]) == [
        "learning_rate=0.01, momentum=0.9",
        "learning_rate=0.1, momentum=0.9",
    ]
    spec = charts.add_full_tips(chart.to_dict())
    tips = spec["layer"][0]["encoding"]["tooltip"]
    assert [t["field"] for t in tips] == ["variant", "variant_full", "y"]
    assert "tooltip" not in spec["layer"][1]["encoding"]  # a view without a tooltip gets none
    assert not charts.with_full_names(alt.Chart(pd.DataFrame({"x": [1]})).mark_point())
