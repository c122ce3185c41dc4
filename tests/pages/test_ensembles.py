"""Vanishing page, ensemble section (VG5): the Run button trains both arms and draws their scores."""

from tests.app_helpers import specs

PAGE = "pages/vanishing.py"


def test_ensemble_section_trains_and_shows_each_arm(app_test):
    at = app_test(PAGE).run()
    at.button(key="vanishing.ensemble.run").click().run()
    assert not at.exception, at.exception
    arms = {
        row["arm"]
        for s in specs(at)
        for data in s.get("datasets", {}).values()
        for row in data
        if isinstance(row, dict) and "arm" in row
    }
    assert "one of the averaged nets alone" in arms
    assert len(arms) == 3, arms  # the deep net, the ensemble, and one averaged net alone
