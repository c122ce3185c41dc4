"""Vanishing-gradients page: the default sigmoid-vs-ReLU comparison draws the per-layer heatmap and
ratio and flags the sigmoid's early layers; the depth slider + Run retrains; a new session replays;
a claim's Run button gives a verdict."""

import json

from tests.app_helpers import assert_new_session_replays, assert_verdict, opened, specs, submit, table_with
from ui.labels import short

PAGE = "pages/vanishing.py"


def test_defaults_draw_heatmap_ratio_and_flag_sigmoid(app_test):
    at = opened(app_test, PAGE)
    charts = specs(at)
    heat = next(s for s in charts if "facet" in s and "grad_norm" in json.dumps(s))
    assert heat["spec"]["encoding"]["color"]["scale"]["type"] == "log"  # orders of magnitude
    assert heat["facet"]["field"] == "variant"  # variants side by side
    assert any("first / last layer" in json.dumps(s) for s in charts)  # the ratio over training
    summary = table_with(at, "flagged_layers").set_index("variant")
    assert list(summary.index) == [short("activation=sigmoid"), short("activation=relu")]
    assert "dense_1" in summary.loc[short("activation=sigmoid"), "flagged_layers"]
    assert summary.loc[short("activation=relu"), "flagged_layers"] == "none"
    assert (
        summary.loc[short("activation=sigmoid"), "first_last_ratio"]
        < 1e-4
        < summary.loc[short("activation=relu"), "first_last_ratio"]
    )
    assert any(short("activation=sigmoid") in w.value for w in at.warning)


def test_depth_slider_then_run_trains_the_new_depth(app_test):
    at = app_test(PAGE).run()
    at.slider(key="vanishing.depth_slider").set_value(3).run()
    assert not at.exception, at.exception
    assert at.number_input(key="vanishing.depth").value == 3  # the builder follows the slider
    assert any("press Run" in i.value for i in at.info)  # a new depth waits for Run
    at.number_input(key="vanishing.seeds").set_value(1)
    submit(at).click().run()
    assert not at.exception, at.exception
    summary = table_with(at, "flagged_layers")
    assert set(summary["n_layers"]) == {4}  # 3 hidden layers + the output layer
    assert at.slider(key="vanishing.depth_slider").value == 3


def test_second_session_replays_from_the_store(app_test):
    assert_new_session_replays(app_test, PAGE, 4)


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "VG1")
