"""Regularization page: none / L1 / L2 / L1+L2 / dropout render with curves, gap, histograms and
sparsity; a slider change trains new strengths; the strength sweep and the separate-run timing
work from their buttons; a new session replays; a claim gets a verdict."""

import json

from tests.app_helpers import assert_replayed, assert_verdict, opened, specs, table_with

PAGE = "pages/regularization.py"
VARIANTS = ["none", "L1", "L2", "L1+L2", "dropout"]


def test_defaults_render_five_variants_and_replay(app_test):
    at = opened(app_test, PAGE)
    text = json.dumps(specs(at))
    assert all(f'"{v}"' in text for v in VARIANTS)
    assert "sparsity" in text and "symlog" in text and "generalization_gap" in text
    assert list(table_with(at, "diverged")["variant"]) == VARIANTS
    assert_replayed(app_test(PAGE).run(), 15)


def test_slider_change_and_sweep(app_test):
    at = app_test(PAGE).run()
    at.select_slider(key="regularization.l1_strength").set_value(1e-2).run()
    assert any("press Run" in i.value for i in at.info)  # nothing trains until Run
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    assert list(table_with(at, "diverged")["variant"]) == VARIANTS
    assert any("9 of 15 runs replayed from the store" in c.value for c in at.caption)  # L1, L1+L2 retrained
    at.button(key="regularization.sweep.l1.run").click().run()
    assert not at.exception, at.exception
    sweep = [s for s in specs(at) if '"l1' in json.dumps(s) and "weight_sparsity" in json.dumps(s)]
    assert sweep, "sparsity against the swept L1 strength"


def test_separate_timing_of_l1_and_l2(app_test):
    at = app_test(PAGE).run()
    at.button(key="regularization.cost.run").click().run()
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert any(f"**{o}**" in said for o in ("holds", "does not hold", "inconclusive"))
    assert "ms per epoch" in said
    assert any("time_per_epoch" in json.dumps(s) for s in specs(at))


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "RG1")
