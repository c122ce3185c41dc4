"""Linear probes: an identity layer probes like its input; a trained run has both stages."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.data import load_for
from core.spec import Experiment
from core.training import keras_mlp as km
from core.training import probes
from core.training.families import train_group

TINY = Experiment(n_samples=300, width=8, depth=2, epochs=3, split_seed=0, probes=True)


def test_a_layer_that_copies_its_input_probes_exactly_like_the_input() -> None:
    e = dataclasses.replace(TINY, activation="linear", depth=1, width=64)
    data = km.MemberData.of(e, load_for(e))
    shape = km.shape_of(e, data)
    assert shape.n_features == shape.width  # digits: 64 pixels
    fitter = km.fitter_for(shape, e, data.regression)
    eye = np.eye(64, dtype=np.float32)
    fitter.load(
        km.interleave(
            shape, [eye, np.zeros((64, 10), np.float32)], [np.zeros(64, np.float32), np.zeros(10, np.float32)]
        ),
        e,
    )
    rows = probes.probe_rows(fitter.model, shape, data, "untrained")
    assert rows[0]["accuracy"] == rows[1]["accuracy"] > 0.5


def test_a_probe_run_reports_every_layer_before_and_after_training() -> None:
    (run,) = train_group([TINY], load_for(TINY))
    p = run.frame("probes")
    assert sorted(p["stage"].unique()) == ["trained", "untrained"]
    assert sorted(p["layer"].unique()) == [0, 1, 2]
    assert p["accuracy"].between(0, 1).all()
    assert run.summary["probe_last_trained"] > 0.2  # well above chance (0.1) after 3 epochs
    assert len(run.frame("epochs")) == TINY.epochs
