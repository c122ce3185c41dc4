"""Home page: renders by itself (as a deep link would), trains the quick what-if, replays it."""

import json

from ui.labels import short


def test_home_renders_quick_what_if_and_replays(app_test):
    at = app_test("pages/home.py").run()
    assert not at.exception
    charts = at.get("vega_lite_chart")
    assert charts, "the quick what-if draws its curves on load"
    spec = json.loads(charts[0].proto.spec)
    assert "layer" in spec or "mark" in spec
    at.selectbox(key="quick.knob").select("batch_size")
    at.text_input(key="quick.values").input("16, 64")
    at.button[0].click().run()
    assert not at.exception
    assert at.get("vega_lite_chart")
    table = at.dataframe[0].value
    assert list(table["variant"]) == [short("batch_size=16"), short("batch_size=64")]
    again = app_test("pages/home.py").run()  # a new session: everything replays from the store
    assert not again.exception and again.get("vega_lite_chart")
