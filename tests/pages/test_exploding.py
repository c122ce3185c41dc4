"""Exploding-gradients page: the preset blows up and the fixes sit next to it, with the detection
panel, the gradient histogram and the clipping share; a changed baseline runs; a new session
replays; a claim's Run button gives a verdict."""

import json

from core.topics.gradients import SIGNALS
from tests.app_helpers import assert_new_session_replays, assert_verdict, opened, specs, table_with
from ui.labels import short

PAGE = "pages/exploding.py"
LABELS = [short(v) for v in ("baseline", "clipnorm=1", "clipvalue=0.5", "batch_size=16", "l2=0.01")]


def test_preset_blows_up_and_clipping_saves_it(app_test):
    at = opened(app_test, PAGE)
    detection = table_with(at, SIGNALS["nan"])
    assert list(dict.fromkeys(detection["variant"])) == LABELS and len(detection) == 10
    nan = detection.set_index(["variant", "seed"])[SIGNALS["nan"]]
    assert all(nan.loc["baseline"].str.startswith("step")), "the preset must blow up on every seed"
    assert all(nan.loc[short("clipnorm=1")] == "—") and all(nan.loc[short("clipvalue=0.5")] == "—")
    clip = table_with(at, "clipped_share").set_index("variant")
    assert (
        clip.loc["baseline", "setting"] == "off" and clip.loc[short("clipnorm=1"), "setting"] == "clipnorm=1"
    )
    assert 0 <= clip.loc[short("clipnorm=1"), "clipped_share"] <= 1
    assert clip.loc[short("clipnorm=1"), "warn"] == (clip.loc[short("clipnorm=1"), "clipped_share"] > 0.5)
    hist = next(s for s in specs(at) if "gradient norm per step" in json.dumps(s))
    assert hist["facet"]["row"]["field"] == "variant"
    marks = [m["mark"]["type"] if isinstance(m["mark"], dict) else m["mark"] for m in hist["spec"]["layer"]]
    assert marks == ["bar", "rule", "text"]  # histogram, the p90 threshold and its label
    assert any("smaller learning rate" in w.value for w in at.warning) == bool(clip["warn"].any())


def test_changed_baseline_runs(app_test):
    at = app_test(PAGE).run()
    at.number_input(key="exploding.learning_rate").set_value(0.001)
    at.number_input(key="exploding.seeds").set_value(1)
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    detection = table_with(at, SIGNALS["nan"])
    assert list(detection["variant"]) == LABELS and set(detection["seed"]) == {0}


def test_second_session_replays_from_the_store(app_test):
    assert_new_session_replays(app_test, PAGE, 10)


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "EG1")
