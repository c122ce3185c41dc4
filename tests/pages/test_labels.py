"""Every page's default charts: drawn without an exception, at least one chart per page, and no
axis, legend or facet label cut short (issue 11 item 1: "batch_norm=bef…").

A label is cut when its rendered width exceeds the label limit Vega applies (180 px for axes, 160
for legends by default). The test estimates each label's width independently of ui.charts, at
6.5 px per character (Vega's 10-11 px sans-serif averages under that), and requires the chart's
configured limit to hold the longest label of every nominal or ordinal channel.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
import pytest

from tests.ui.charts.vega import nodes_with

CHAR_PX = 6.5
VEGA_DEFAULT_LIMIT = {"axis": 180, "legend": 160, "header": 180}
CHANNELS = {
    "x": "axis",
    "y": "axis",
    "color": "legend",
    "fill": "legend",
    "shape": "legend",
    "strokeDash": "legend",
    "opacity": "legend",
    "row": "header",
    "column": "header",
    "facet": "header",
}
PAGES = (
    "home",
    "learning_rate",
    "optimizers",
    "weight_decay",
    "regularization",
    "batch_size",
    "batch_norm",
    "vanishing",
    "exploding",
    "wide_deep",
)


def views(node) -> Iterator[dict]:
    """Every dict in a spec that has an encoding or a facet (layers, facets, concatenations)."""
    return nodes_with(node, "encoding", "facet")


def labelled_fields(spec: dict) -> Iterator[tuple[str, str]]:
    """(where the label is drawn, field) for every discrete channel that draws labels."""
    for view in views(spec):
        channels = dict(view.get("encoding", {}))
        facet = view.get("facet")
        if isinstance(facet, dict):
            channels |= {"facet": facet} if "field" in facet else facet
        for channel, definition in channels.items():
            if channel not in CHANNELS or not isinstance(definition, dict):
                continue
            legend_off = definition.get("legend", {}) is None or definition.get("axis", {}) is None
            if definition.get("type") in ("nominal", "ordinal") and "field" in definition and not legend_off:
                yield CHANNELS[channel], definition["field"]


def rows(spec: dict, arrow: list[bytes] | None = None) -> list[dict]:
    """Every data row of a chart: inline in the spec (Altair's to_dict) or, as Streamlit sends
    them, Arrow tables beside the spec."""
    inline = [row for rows in spec.get("datasets", {}).values() for row in rows]
    sent = [row for data in arrow or [] for row in pa.ipc.open_stream(data).read_all().to_pylist()]
    return inline + sent


def longest(data: list[dict], field: str) -> str:
    return max((str(row[field]) for row in data if row.get(field) is not None), key=len, default="")


def drawn(at) -> list[tuple[dict, list[dict]]]:
    """(spec, rows) of every chart an AppTest page drew."""
    out = []
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        out.append((spec, rows(spec, [d.data.data for d in element.proto.datasets])))
    return out


def cut_labels(spec: dict, data: list[dict] | None = None) -> list[str]:
    """Every discrete label longer than the limit its axis, legend or header draws it with."""
    data = rows(spec) if data is None else data
    config = spec.get("config", {})
    cut = []
    for where, field in labelled_fields(spec):
        label = longest(data, field)
        limit = config.get(where, {}).get("labelLimit", VEGA_DEFAULT_LIMIT[where])
        if limit and len(label) * CHAR_PX > limit:
            cut.append(f"{where} {field}: {label!r} ({len(label)} chars) > labelLimit {limit}")
    return cut


@pytest.mark.parametrize("page", PAGES)
def test_default_charts_draw_and_no_label_is_cut(app_test, page: str) -> None:
    at = app_test(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    charts = drawn(at)
    assert charts, f"{page} drew no chart"
    assert any(data for _, data in charts), "the charts' data was not read"
    problems = [p for spec, data in charts for p in cut_labels(spec, data)]
    assert not problems, problems
    with_full = [spec for spec, data in charts if any("variant_full" in row for row in data)]
    assert all("variant, in full" in json.dumps(spec) for spec in with_full)  # the hover says it
    if page == "learning_rate":  # "lr 0.01": its full name is one hover away
        assert with_full


def test_a_two_knob_label_fits_the_legend_and_rows() -> None:
    """The case the issue met: a two-knob comparison's legend and dot plot."""
    import pandas as pd

    from ui import charts
    from ui.labels import short

    label = short("batch_norm=before, learning_rate=0.3")
    assert label == "BN before · lr 0.3"
    summary = pd.DataFrame(
        {
            "key": ["a", "b"],
            "variant": [label, short("batch_norm=none, learning_rate=0.03")],
            "seed": [0, 0],
            "final_val_loss": [0.5, 0.7],
            "diverged": [False, False],
        }
    )
    spec = charts.fit_labels(charts.final_metric(summary)).to_dict()
    assert not cut_labels(spec)
    long_name = "learning_rate=0.01, momentum=0.9, weight_decay=0.001"
    unfitted = charts.final_metric(summary.assign(variant=[long_name, "baseline"]))
    assert cut_labels(unfitted.to_dict()), "Vega's default limits cut such a label"
    assert not cut_labels(charts.fit_labels(unfitted).to_dict()), "fit_labels must hold it"
