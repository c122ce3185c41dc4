"""Level-by-level training: the epoch budget, frozen lower levels, and a whole run's frames."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.data import load_for
from core.spec import Experiment
from core.training import draws, layerwise
from core.training import keras_mlp as km
from core.training.families import train_group

TINY = Experiment(
    n_samples=300, width=8, depth=3, epochs=5, activation="sigmoid", split_seed=0, layerwise=True
)


def test_phase_epochs_spend_exactly_the_runs_epochs() -> None:
    assert layerwise.phase_epochs(16, 8) == [1] * 8 + [8]
    assert layerwise.phase_epochs(10, 3) == [2, 2, 1, 5]
    with pytest.raises(ValueError, match="at least 4 epochs"):
        layerwise.phase_epochs(3, 3)


def test_greedy_phase_freezes_every_level_below_the_one_it_trains() -> None:
    data = km.MemberData.of(TINY, load_for(TINY))
    shape = km.shape_of(TINY, data)
    greedy = layerwise.greedy_phase(TINY, data, shape, tick=lambda _: None)
    initial = draws.init_member(TINY, shape)["kernels"]
    assert len(greedy.snapshots) == shape.depth
    for level in range(shape.depth):
        trained_then = greedy.snapshots[level][level]
        assert not np.array_equal(trained_then, initial[level])  # it did train in its own phase
        for later in greedy.snapshots[level + 1 :]:
            assert np.array_equal(later[level], trained_then)  # and never moved again


def test_a_run_spends_its_epochs_in_phases_and_reports_like_a_stacked_run() -> None:
    (run,) = train_group([TINY], load_for(TINY))
    ep = run.frame("epochs")
    assert ep["epoch"].tolist() == list(range(1, TINY.epochs + 1))
    assert ep["phase"].tolist() == ["level 1", "level 2", "level 3", "fine-tune", "fine-tune"]
    assert run.summary["greedy_epochs"] + run.summary["fine_tune_epochs"] == TINY.epochs
    assert np.isfinite(run.summary["final_val_loss"]) and run.summary["grad_norm_first_layer"] > 0
    assert {"dense_1", "head_1", "output"} <= set(run.frame("layers")["layer_name"])
    (again,) = train_group([dataclasses.replace(TINY)], load_for(TINY))
    assert again.frame("epochs")["val_loss"].equals(ep["val_loss"])
