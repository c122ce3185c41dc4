"""Readers of a chart's Vega-Lite dict, shared by the chart-builder tests."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any


# -- helpers over the Vega-Lite dict -------------------------------------------------------------
def spec_of(chart: Any) -> dict:
    """to_dict() validates against the Vega-Lite schema and enforces Altair's 5,000-row limit."""
    return chart.to_dict()


def nodes_with(node: Any, *keys: str) -> Iterator[dict]:
    """Every dict in a spec (layer, facet spec, concat, ...) that has one of these keys."""
    if isinstance(node, dict):
        if any(k in node for k in keys):
            yield node
        for child in node.values():
            yield from nodes_with(child, *keys)
    elif isinstance(node, list):
        for child in node:
            yield from nodes_with(child, *keys)


def units(node: Any) -> Iterator[dict]:
    """Every view that has a mark, wherever it sits (layer, facet spec, concat)."""
    return nodes_with(node, "mark")


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
