"""Batch-norm page, input-scaling section (BN6): its Run button trains the four arms on the
heavy-tailed copy and draws their curves and final losses."""

import json

from tests.app_helpers import specs
from ui.sections.input_scaling import ARMS

PAGE = "pages/batch_norm.py"


def test_scaling_section_runs_and_draws_every_arm(app_test):
    at = app_test(PAGE).run()
    at.button(key="batch_norm.scaling.lognormal.run").click().run()
    assert not at.exception, at.exception
    drawn = json.dumps(specs(at))
    assert all(json.dumps(label)[1:-1] in drawn for label, _, _ in ARMS)
    assert any("final_val_loss" in json.dumps(s) and "quantile, no BN" in json.dumps(s) for s in specs(at))
