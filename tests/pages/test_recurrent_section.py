"""Vanishing page, recurrent section (VG3): the Run button trains RNN and LSTM on the adding problem
and draws the time-step heatmap, the curves against the constant predictor and the model table."""

import json

from tests.app_helpers import specs, table_with

PAGE = "pages/vanishing.py"


def test_recurrent_section_trains_both_models_and_draws_time_steps(app_test):
    at = app_test(PAGE).run()
    assert not at.exception, at.exception
    assert any("adding problem" in m.value for m in at.markdown)
    at.button(key="vanishing.recurrent.run").click().run()
    assert not at.exception, at.exception
    drawn = specs(at)
    heat = next(s for s in drawn if "facet" in s and '"t"' in json.dumps(s.get("spec", {})))
    assert heat["spec"]["encoding"]["color"]["scale"]["type"] == "log"  # orders of magnitude
    assert heat["facet"]["field"] == "variant"  # RNN and LSTM side by side
    layers = [layer for s in drawn for layer in s.get("layer", [])]
    assert any(layer.get("mark", {}).get("type") == "rule" for layer in layers)  # the chance level
    table = table_with(at, "first / last step gradient").set_index("model")
    assert len(table) == 2 and (table["first / last step gradient"] > 0).all()
    assert (table["val MSE / constant predictor's"] > 0).all()
