"""Batch-size page, loss-landscape section (issue 16, BS5): the Run button trains small vs large
batch with weights kept; the page draws the lines, both slices and the sharpness of every run."""

import json

from tests.app_helpers import specs, table_with

PAGE = "pages/batch_size.py"
KEY = "batch_size.landscape"


def test_landscape_section_draws_lines_slices_and_sharpness(app_test):
    at = app_test(PAGE).run()
    assert not at.exception, at.exception
    at.button(key=f"{KEY}.run").click().run()
    assert not at.exception, at.exception
    drawn = [json.dumps(s) for s in specs(at)]
    assert any('"field": "alpha"' in s and "train_loss" in s for s in drawn)  # initial -> final, and the pair
    assert any('"rect"' in s and '"field": "train_loss"' in s for s in drawn)  # the 25 x 25 slice
    assert any('"field": "offset"' in s for s in drawn)  # the 1-D slice
    sharp = table_with(at, "sharpness")
    assert len(sharp) == 4 and sharp["sharpness"].notna().all()  # 2 batch sizes x 2 seeds, all measured
    picker = at.selectbox(key=f"{KEY}.picked")
    picker.set_value(picker.options[-1]).run()
    assert not at.exception, at.exception


def test_a_small_batch_must_be_smaller_than_the_large_one(app_test):
    at = app_test(PAGE).run()
    at.select_slider(key=f"{KEY}.small").set_value(512).run()
    assert not at.exception
    assert any("smaller than the large one" in w.value for w in at.warning)


def test_wide_deep_page_shows_the_landscape_of_its_runs_when_asked(app_test):
    at = app_test("pages/wide_deep.py").run()
    assert not at.exception, at.exception
    assert not any("sharpness" in d.value.columns for d in at.dataframe)  # nothing computed until asked
    at.toggle(key="wide_deep.landscape.show").set_value(True).run()
    assert not at.exception, at.exception
    sharp = table_with(at, "sharpness")
    assert len(sharp) >= 2 and sharp["sharpness"].notna().all()
    assert any('"field": "alpha"' in json.dumps(s) for s in specs(at))
