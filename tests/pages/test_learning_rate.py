"""Learning-rate page: the sweep renders with its per-run classification, a changed sweep runs,
a new session replays, the range test and "Train at these" work, and a claim gets a verdict."""

import json

from core.topics.lr import STATUSES
from tests.app_helpers import assert_new_session_replays, assert_verdict, opened, run_changed, specs, submit
from ui.labels import short

PAGE = "pages/learning_rate.py"


def test_defaults_render_classified_sweep(app_test):
    at = opened(app_test, PAGE)
    text = json.dumps(specs(at))
    assert '"learning_rate' in text and "train_loss" in text  # the sweep's curves
    assert json.dumps(list(STATUSES)) in text  # the status colour scale, fixed domain
    tables = [d.value for d in at.dataframe]
    status = next(t for t in tables if "status" in t.columns and "oscillating" in t.columns)
    assert len(status) == 7 and all(any(s in v for s in STATUSES) for v in status["status"])
    assert any("epochs" in t.columns and "reached" in t.columns for t in tables)  # LR2


def test_changed_sweep_runs(app_test):
    at = app_test(PAGE).run()
    run_changed(at, "learning_rate", "0.01, 0.1, 30", 1)
    status = next(
        d.value for d in at.dataframe if "status" in d.value.columns and "diverged" in d.value.columns
    )
    assert list(status["variant"]) == [
        short("learning_rate=0.01"),
        short("learning_rate=0.1"),
        short("learning_rate=30"),
    ]
    assert "diverged" in status["status"].iloc[-1]  # lr=30 blows up on any of our datasets


def test_second_session_replays_from_the_store(app_test):
    assert_new_session_replays(app_test, PAGE, 14)


def test_range_test_and_train_at_the_suggestion(app_test):
    at = app_test(PAGE).run()
    submit(at, "Run the range test").click().run()
    assert not at.exception, at.exception
    finder = [s for s in specs(at) if "learning rate" in json.dumps(s) and "smoothed" in json.dumps(s)]
    assert finder, "the loss-vs-LR chart"
    layers = [m for s in finder for m in s.get("layer", [])]
    marks = {m["mark"]["type"] if isinstance(m["mark"], dict) else m["mark"] for m in layers if "mark" in m}
    assert {"rule", "point"} <= marks  # suggestion rules and markers, the stop square
    legend = [m["encoding"]["shape"] for m in layers if "shape" in m.get("encoding", {})]
    assert legend and legend[0]["title"] == "suggestion"  # suggestions labelled in a legend, not on top
    assert any("slope" in json.dumps(s) for s in specs(at))  # the derivative panel
    suggestions = next(d.value for d in at.dataframe if "steepest" in d.value.columns)
    assert len(suggestions) == 2 and {"valley", "minimum"} <= set(suggestions.columns)  # vs batch norm
    at.button(key="learning_rate.trial_go").click().run()
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert "By mean final validation loss over seeds" in said


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "LR1")
