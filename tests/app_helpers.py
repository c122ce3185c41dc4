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


VERDICT_BADGES = ("badge[holds]", "badge[does not hold]", "badge[inconclusive]")


def assert_replayed(at, n: int) -> None:
    """The session ran clean and says all n runs of its comparison came from the store."""
    assert not at.exception
    assert any(f"{n} of {n} runs replayed from the store" in c.value for c in at.caption)


def assert_new_session_replays(app_test, page: str, n: int) -> None:
    """A first session trains (or replays) the page's default; a second one replays all n runs."""
    app_test(page).run()
    assert_replayed(app_test(page).run(), n)


def assert_verdict(at, claim_id: str, dataset: str = "digits") -> None:
    """Run the claim's button on the page: it runs clean and shows one of the verdict badges."""
    at.button(key=f"claim.{claim_id}.{dataset}").click().run()
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert any(b in said for b in VERDICT_BADGES)


def run_changed(at, key: str, values: str, seeds: int) -> None:
    """Type `values` for the page's first varied knob, set the seeds and press Run: it runs clean."""
    at.text_input(key=f"{key}.values0").input(values)
    at.number_input(key=f"{key}.seeds").set_value(seeds)
    submit(at).click().run()
    assert not at.exception, at.exception


def opened(app_test, page: str):
    """A fresh session of the page, run once: asserts it raised nothing and returns the AppTest."""
    at = app_test(page).run()
    assert not at.exception, at.exception
    return at
