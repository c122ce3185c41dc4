"""Vanishing page, level-by-level section (VG4): the Run button trains both arms and draws them."""

from tests.app_helpers import specs

PAGE = "pages/vanishing.py"


def test_level_by_level_section_trains_both_arms_and_draws_the_phases(app_test):
    at = app_test(PAGE).run()
    before = len(specs(at))
    at.button(key="vanishing.layerwise.run").click().run()
    assert not at.exception, at.exception
    drawn = specs(at)
    assert len(drawn) >= before + 2
    layers = [layer for s in drawn for layer in s.get("layer", [])]
    assert any(layer.get("mark", {}).get("type") == "rect" for layer in layers)  # the greedy phase, shaded
