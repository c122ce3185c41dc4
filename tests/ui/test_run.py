"""ui.run through a page: Run submits a background job and the page returns at once; the page
shows the job's progress, a second session attaches to the same job, and once the runs are stored
both sessions draw the result. Real tiny training (local backend), the app's own job path."""

from __future__ import annotations

import time

import pytest

from ui.labels import short

JOB_TIMEOUT = 240  # seconds: two tiny groups on a shared 2-core CPU


def press_run(at, values: str) -> None:
    at.selectbox(key="quick.knob").select("batch_size")
    at.text_input(key="quick.values").input(values)
    at.button[0].click().run()


def until_drawn(at, timeout: float = JOB_TIMEOUT):
    """Rerun the page (as the progress view's rerun does) until its table is drawn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if at.dataframe:
            return at
        time.sleep(0.5)
    raise AssertionError("the job's result never appeared")


@pytest.fixture
def background(monkeypatch):
    """The app's real setting: a page does not wait for its job."""
    monkeypatch.setenv("WHATIF_INLINE_WAIT", "0")


def test_run_returns_at_once_and_the_result_appears_when_stored(app_test, background):
    at = app_test("pages/home.py").run()
    assert not at.exception
    press_run(at, "24, 40")  # values no other test trains: a real job
    assert not at.exception, at.exception
    said = " ".join(c.value for c in at.caption)
    assert "in the background" in said  # the script run ended while the job trains
    assert not at.dataframe  # no result yet: the page did not block on the training
    assert at.get("progress") or "training" in said.lower()

    other = app_test("pages/home.py").run()  # a second session asks for the same runs ...
    press_run(other, "24, 40")
    assert not other.exception
    until_drawn(at)
    until_drawn(other)  # ... and both get the result
    table = at.dataframe[0].value
    assert list(table["variant"]) == [short("batch_size=24"), short("batch_size=40")]
    assert list(other.dataframe[0].value["variant"]) == list(table["variant"])
