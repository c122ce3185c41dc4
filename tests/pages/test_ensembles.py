"""Vanishing page, ensemble section (VG5): the Run button trains both arms and draws their scores."""

import pyarrow as pa

PAGE = "pages/vanishing.py"


def chart_rows(at) -> list[dict]:
    """Every row of data the page's charts carry (Streamlit sends it as Arrow beside the spec)."""
    return [
        row
        for element in at.get("vega_lite_chart")
        for d in element.proto.datasets
        for row in pa.ipc.open_stream(d.data.data).read_all().to_pylist()
    ]


def test_ensemble_section_trains_and_shows_each_arm(app_test):
    at = app_test(PAGE).run()
    at.button(key="vanishing.ensemble.run").click().run()
    assert not at.exception, at.exception
    scores = [r for r in chart_rows(at) if "arm" in r and "final_val_accuracy" in r]
    arms = {r["arm"] for r in scores}
    assert "one of the averaged nets alone" in arms
    assert len(arms) == 3, arms  # the deep net, the ensemble, and one averaged net alone
    assert all(0 <= r["final_val_accuracy"] <= 1 for r in scores)
