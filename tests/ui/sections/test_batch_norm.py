"""ui.sections.batch_norm on a hand-made epoch frame: the page's epochs-to-accuracy readout."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.core.topics.test_regularization import epochs_frame
from ui.sections.batch_norm import accuracy_target_table, epochs_to_accuracy


def test_epochs_to_target_and_its_table() -> None:
    ep = epochs_frame({"bn|0": [1, 2, 3], "bn|1": [1, 2, 3], "none|0": [1, 2, 3]})
    ep.loc[ep["key"] == "none|0", "val_accuracy"] = [0.1, 0.2, 0.3]
    per_run = epochs_to_accuracy(ep, 0.6)  # val_accuracy 0.3, 0.6, 0.9 for bn
    assert per_run.set_index("key")["epochs_to_target"].to_dict() == pytest.approx(
        {"bn|0": 2, "bn|1": 2, "none|0": np.nan}, nan_ok=True
    )
    t = accuracy_target_table(per_run, ["none", "bn"]).set_index("variant")
    assert t.loc["bn", "mean_epochs"] == 2 and t.loc["bn", "reached"] == 2
    assert t.loc["none", "reached"] == 0 and math.isnan(t.loc["none", "mean_epochs"])
