"""Altair chart builders (no Streamlit), one module per kind of chart:

- base: constants, frame helpers, encodings and label fitting shared by all builders;
- curves: training curves (metric over epoch/step/seconds, train vs val, LR schedule);
- finals: final metrics per variant, against a knob, and two-knob heatmap grids;
- network: inside the network (layer gradients, weight histograms, sparsity, boundaries);
- lr: LR range test and the learning-rate sweep readings (status colours live there);
- sandbox: the 2-D optimizer sandbox; history: the run-history charts.

The names below are the package's public API, re-exported explicitly so a page can write
`from ui import charts; charts.curves(...)` without knowing which module holds a builder.
"""

from __future__ import annotations

from ui.charts.base import (
    CROSS,
    FACET_WIDTH,
    MAX_ROWS,
    PICK,
    POWERS_OF_TEN,
    Chart,
    add_full_tips,
    all_nan,
    bin_column,
    cell_rects,
    color,
    domain,
    empty_chart,
    fade,
    finite,
    fit_labels,
    flags,
    grid_cells,
    label_limit,
    log_axis,
    longest_label,
    missing,
    pick,
    seed_stats,
    spread_tips,
    thin,
    tip,
    undefined,
    with_full_names,
    x_axis,
    y_axis,
    y_scale,
)
from ui.charts.curves import (
    curves,
    schedule_chart,
    train_val_curves,
)
from ui.charts.finals import (
    edge_chart,
    final_metric,
    heatmap_grid,
    metric_vs_knob,
    with_gaps,
)
from ui.charts.history import (
    blowup_cap,
    parallel_coordinates,
    scatter,
)
from ui.charts.lr import (
    STATUS_COLORS,
    STATUS_ICON,
    STATUS_SCALE,
    SUGGESTION_DASH,
    gap_chart,
    lr_derivative_chart,
    lr_finder_chart,
    status_chart,
    target_chart,
    volatility_chart,
)
from ui.charts.network import (
    decision_boundary,
    gradient_histogram,
    layer_heatmap,
    layer_ratio,
    sparsity_bars,
    weight_histograms,
)
from ui.charts.sandbox import (
    contour_paths,
    stability_map,
    stability_with_marks,
    swing_chart,
)

__all__ = [
    "CROSS",
    "FACET_WIDTH",
    "MAX_ROWS",
    "PICK",
    "POWERS_OF_TEN",
    "STATUS_COLORS",
    "STATUS_ICON",
    "STATUS_SCALE",
    "SUGGESTION_DASH",
    "Chart",
    "add_full_tips",
    "all_nan",
    "bin_column",
    "blowup_cap",
    "cell_rects",
    "color",
    "contour_paths",
    "curves",
    "decision_boundary",
    "domain",
    "edge_chart",
    "empty_chart",
    "fade",
    "final_metric",
    "finite",
    "fit_labels",
    "flags",
    "gap_chart",
    "gradient_histogram",
    "grid_cells",
    "heatmap_grid",
    "label_limit",
    "layer_heatmap",
    "layer_ratio",
    "log_axis",
    "longest_label",
    "lr_derivative_chart",
    "lr_finder_chart",
    "metric_vs_knob",
    "missing",
    "parallel_coordinates",
    "pick",
    "scatter",
    "schedule_chart",
    "seed_stats",
    "sparsity_bars",
    "spread_tips",
    "stability_map",
    "stability_with_marks",
    "status_chart",
    "swing_chart",
    "target_chart",
    "thin",
    "tip",
    "train_val_curves",
    "undefined",
    "volatility_chart",
    "weight_histograms",
    "with_full_names",
    "with_gaps",
    "x_axis",
    "y_axis",
    "y_scale",
]
