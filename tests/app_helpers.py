"""Small readers of an AppTest's output, shared by the page tests."""

from __future__ import annotations

import json


def specs(at) -> list[dict]:
    """Every Vega-Lite spec the page drew."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def submit(at, label: str = "Run"):
    """The button (or form submit button) with this label."""
    return next(b for b in at.button if b.label == label)


def table_with(at, column: str):
    """The first dataframe that has this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)
