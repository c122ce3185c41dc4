"""core.training.families: each group goes to its family's trainer; the net-by-net families
refuse an LR range test's step table (they have no stacked step to feed it)."""

from __future__ import annotations

import numpy as np
import pytest

from core.data import load_for
from core.spec import Experiment
from core.training.families import MODULES, family, train_group


def test_family_names_have_modules_and_follow_the_spec() -> None:
    assert family(Experiment()) == "stacked"
    for e in (Experiment(layerwise=True), Experiment(ensemble=2), Experiment(probes=True)):
        assert family(e) == e.family and family(e) in MODULES


@pytest.mark.parametrize("knobs", [{"layerwise": True}, {"ensemble": 2}, {"probes": True}])
def test_an_lr_table_is_refused_by_the_net_by_net_families(knobs) -> None:
    e = Experiment(n_samples=100, epochs=1, **knobs)
    with pytest.raises(ValueError, match="LR range test"):
        train_group([e], load_for(e), lr_table=np.ones((3, 1), np.float32))
