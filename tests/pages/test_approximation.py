"""Wide-vs-deep page, universal-approximation section (WVD3): training error against width on a
log axis, and the fitted surfaces beside the target."""

import json

from tests.app_helpers import specs

PAGE = "pages/wide_deep.py"


def test_width_sweep_draws_error_vs_width_and_surfaces(app_test):
    at = app_test(PAGE).run()
    at.multiselect(key="wide_deep.approx.widths").set_value([4, 64]).run()
    at.button(key="wide_deep.approx.run").click().run()
    assert not at.exception, at.exception
    drawn = [json.dumps(s) for s in specs(at)]
    error = [s for s in drawn if "final_train_loss" in s and '"width"' in s]
    assert error and '"type": "log"' in error[0]
    surfaces = [s for s in drawn if '"facet"' in s and '"target"' in s]
    assert surfaces and '"value"' in surfaces[0]
