"""Bad input through the UI: a malformed CSV upload, a huge width or an unknown dataset typed into
the URL, hostile query values. Each shows a message and the page keeps working (defaults, a
chart, no exception).

The URL and upload handling live in the shared builder (ui.builder), so they are tested on a
minimal page built from it (the same few lines every topic page has), then on the real topic
pages that exist, and the home page must shrug off a hostile link too.
"""

import json

import pytest
from streamlit.testing.v1 import AppTest

from core.limits import MAX_WIDTH
from tests.conftest import APP_TIMEOUT, ROOT

TOPIC_PAGES = ("pages/learning_rate.py", "pages/batch_size.py")  # the first that exists is tested
HOSTILE = {
    "huge width": {"width": "100000"},
    "unknown dataset": {"dataset": "nope"},
    "very long value": {"learning_rate": "1" * 5000},
    "code in vary": {"vary": "__import__:1"},
    "negative seeds": {"seeds": "-5"},
    "nan learning rate": {"learning_rate": "nan"},
    "script tag": {"optimizer": "<script>alert(1)</script>"},
}
BAD_CSVS = {
    "text feature": (b"a,b,label\n1,x,0\n2,y,1\n3,z,0\n", "non-numeric"),
    "missing values": (b"a,b,label\n1,,0\n2,3,1\n3,4,0\n", "missing values"),
    "one row": (b"a,b,label\n1,2,0\n", "at least 2"),
    "binary junk": (bytes(range(256)) * 4, ""),
    "empty": (b"", ""),
}


def builder_page():
    """A topic page in miniature: builder, the auto-run rule, the standard panels."""
    from core.spec import Experiment
    from ui import panels
    from ui.builder import Preset, comparison_builder
    from ui.run import auto
    from ui.state import setup

    setup("Bad input")
    preset = Preset(Experiment(epochs=15), {"learning_rate": (0.01, 0.1)}, seeds=2)
    comparison, clicked = comparison_builder("bad", preset, knobs=("learning_rate", "width"))
    result = auto(comparison, "bad", clicked, preset.comparison())
    if result is not None:
        panels.standard(result, "bad")


def builder_app() -> AppTest:
    return AppTest.from_function(builder_page, default_timeout=APP_TIMEOUT)


def assert_working(at: AppTest) -> None:
    """No exception, and the default comparison's curves are drawn (a real chart, not a stub)."""
    assert not at.exception, at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("layer" in s and "learning_rate" in json.dumps(s) for s in specs), "no curves chart"


def warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("params", HOSTILE.values(), ids=HOSTILE.keys())
def test_builder_refuses_a_bad_link_and_shows_defaults(params):
    at = builder_app()
    at.query_params.update(params)
    at.run()
    assert_working(at)
    assert "This link's settings were not used" in warnings(at)
    assert at.number_input(key="bad.width").value == 64  # the preset's, not the link's
    assert at.selectbox(key="bad.pick").value == "digits"


def test_huge_width_message_names_the_limit():
    at = builder_app()
    at.query_params["width"] = "100000"
    at.run()
    assert f"width must be an integer from 1 to {MAX_WIDTH}" in warnings(at)


def test_huge_width_typed_into_the_form_is_refused_and_the_page_still_works():
    at = builder_app().run()
    at.number_input(key="bad.width").set_value(100_000)
    at.button[0].click().run()
    assert_working(at)  # the previous (default) result stays on screen
    assert any("width" in e.value for e in at.error)


def test_a_vanished_upload_in_a_link_asks_for_run_and_fails_cleanly():
    at = builder_app()
    at.query_params["dataset"] = "csv:0123456789ab"  # a valid name, but no such upload here
    at.run()
    assert not at.exception
    assert any("press Run" in i.value for i in at.info)
    at.button[0].click().run()
    assert not at.exception
    assert at.error, "Run on a missing upload must say what is wrong"


def test_malformed_csv_uploads_are_refused_and_the_page_still_works():
    at = builder_app().run()
    at.selectbox(key="bad.pick").select("upload a CSV…").run()
    for name, (content, words) in BAD_CSVS.items():  # one session, one bad file after another
        at.file_uploader[0].set_value((f"{name}.csv", content, "text/csv")).run()
        assert_working(at)
        errors = " ".join(e.value for e in at.error)
        assert "That CSV cannot be used" in errors and words in errors, (name, errors)
        assert at.session_state["bad.dataset"] == "digits", name  # the refused file is not used
    at.selectbox(key="bad.pick").select("digits").run()
    at.button[0].click().run()
    assert_working(at)


def test_home_ignores_a_hostile_link(app_test):
    at = app_test("pages/home.py")
    for params in HOSTILE.values():
        at.query_params.update(params)
    at.run()
    assert not at.exception
    assert at.get("vega_lite_chart")


TOPIC_CASES = {
    "huge width": HOSTILE["huge width"],
    "unknown dataset": HOSTILE["unknown dataset"],
    "all hostile at once": {k: v for params in HOSTILE.values() for k, v in params.items()},
}


@pytest.mark.parametrize("params", TOPIC_CASES.values(), ids=TOPIC_CASES.keys())
def test_topic_page_refuses_a_bad_link(app_test, params):
    """A real page (the builder above is its shared part, so one page and a few cases suffice)."""
    page = next((p for p in TOPIC_PAGES if (ROOT / p).exists()), None)
    if page is None:
        pytest.skip(f"none of {', '.join(TOPIC_PAGES)} exists yet (being written by other engineers)")
    at = app_test(page)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    assert "This link's settings were not used" in warnings(at)
    assert at.get("vega_lite_chart"), "the page's default chart is still drawn"
