"""Wide-vs-deep page, probes section (WVD4): the Run button trains and draws probe accuracy by layer."""

from tests.pages.test_ensembles import chart_rows

PAGE = "pages/wide_deep.py"


def test_probes_section_draws_trained_and_untrained_accuracy_by_layer(app_test):
    at = app_test(PAGE).run()
    at.button(key="wide_deep.probes.run").click().run()
    assert not at.exception, at.exception
    rows = [r for r in chart_rows(at) if "stage" in r and "layer" in r]
    assert {r["stage"] for r in rows} == {"trained", "untrained"}
    assert {r["layer"] for r in rows} >= {0, 1}
    assert all(0 <= r["mean"] <= 1 for r in rows)
