"""Wide-vs-deep page, probes section (WVD4): the Run button trains and draws probe accuracy by layer."""

from tests.app_helpers import specs

PAGE = "pages/wide_deep.py"


def test_probes_section_draws_trained_and_untrained_accuracy_by_layer(app_test):
    at = app_test(PAGE).run()
    at.button(key="wide_deep.probes.run").click().run()
    assert not at.exception, at.exception
    rows = [
        row
        for s in specs(at)
        for data in s.get("datasets", {}).values()
        for row in data
        if isinstance(row, dict) and "stage" in row and "layer" in row
    ]
    assert {r["stage"] for r in rows} == {"trained", "untrained"}
    assert {r["layer"] for r in rows} >= {0, 1}
    assert all(0 <= r["mean"] <= 1 for r in rows)
