"""Batch-norm page: none / before / after renders with epochs to target; a changed comparison
runs; the LR sweep marks each arm's largest stable rate; a new session replays; a claim gets a
verdict."""

import json

from tests.app_helpers import specs, table_with
from ui.labels import short

PAGE = "pages/batch_norm.py"


def test_defaults_render_and_replay(app_test):
    at = app_test(PAGE).run()
    assert not at.exception, at.exception
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
    again = app_test(PAGE).run()
    assert not again.exception
    assert any("9 of 9 runs replayed from the store" in c.value for c in again.caption)


def test_changed_comparison_runs(app_test):
    at = app_test(PAGE).run()
    at.text_input(key="batch_norm.values0").input("none, after")
    at.number_input(key="batch_norm.seeds").set_value(1)
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
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
    at = app_test(PAGE).run()
    at.button(key="claim.BN5.digits").click().run()
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert any(b in said for b in ("badge[holds]", "badge[does not hold]", "badge[inconclusive]"))
