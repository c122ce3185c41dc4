"""Batch-norm page: none / before / after renders with epochs to target; a changed comparison
runs; the LR sweep marks each arm's largest stable rate; a new session replays; a claim gets a
verdict."""

import json

from tests.app_helpers import assert_replayed, assert_verdict, opened, run_changed, specs, table_with
from ui.labels import short

PAGE = "pages/batch_norm.py"


def test_defaults_render_and_replay(app_test):
    at = opened(app_test, PAGE)
    assert json.dumps(short("batch_norm=before")) in json.dumps(specs(at))
    target = table_with(at, "mean_epochs")
    assert list(target["variant"]) == [
        short("batch_norm=none"),
        short("batch_norm=before"),
        short("batch_norm=after"),
    ]
    at.slider(key="batch_norm.target").set_value(0.5).run()  # a target that 2 quick epochs reach
    assert not at.exception
    assert table_with(at, "mean_epochs")["reached"].sum() > 0
    assert any("epochs_to_target" in json.dumps(s) for s in specs(at))
    assert_replayed(app_test(PAGE).run(), 9)


def test_changed_comparison_runs(app_test):
    at = app_test(PAGE).run()
    run_changed(at, "batch_norm", "none, after", 1)
    assert list(table_with(at, "diverged")["variant"]) == [
        short("batch_norm=none"),
        short("batch_norm=after"),
    ]


def test_lr_sweep_marks_the_divergence_edge(app_test):
    at = app_test(PAGE).run()
    at.button(key="batch_norm.lr.run").click().run()
    assert not at.exception, at.exception
    edges = table_with(at, "largest_stable_lr")
    assert set(edges["batch_norm"]) == {"none", "before"}
    edge = [s for s in specs(at) if "largest_stable_lr" in json.dumps(s)]
    assert edge and '"strokeDash": [6, 4]' in json.dumps(edge[0])  # the dashed edge rule per arm


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "BN5")
