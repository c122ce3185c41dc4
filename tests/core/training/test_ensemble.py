"""Ensembles: the prediction is the mean of the members' softmax; net 0 is the seed's own net."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.data import load_for
from core.spec import Experiment
from core.training import ensemble
from core.training import keras_mlp as km
from core.training.families import train_group

TINY = Experiment(n_samples=300, width=8, depth=1, epochs=2, split_seed=0, ensemble=2)


def test_the_ensembles_prediction_is_the_mean_of_its_nets() -> None:
    ds = load_for(TINY)
    (run,) = train_group([TINY], ds)
    data = km.MemberData.of(TINY, ds)
    shape = km.shape_of(TINY, data)
    fitter = km.fitter_for(shape, TINY, data.regression)
    probs = []
    for net in range(TINY.ensemble):
        seed = ensemble.net_seed(TINY.seed, net)
        fitter.load(km.initial_weights(TINY, shape, seed), TINY)
        km.fit(fitter, data, data.x, seed, range(TINY.epochs))
        probs.append(km.softmax(fitter.predict(data.x[data.val_idx])))
    loss, acc = km.metrics(np.mean(probs, axis=0), data.y[data.val_idx], False, probabilities=True)
    last = run.frame("epochs").iloc[-1]
    assert last["val_loss"] == loss and last["val_accuracy"] == acc
    nets = run.frame("nets")
    assert len(nets) == 2 and nets["seed"].nunique() == 2
    assert loss <= nets["val_loss"].mean()  # cross-entropy is convex: the mean predicts no worse
    assert run.summary["n_params"] == 2 * run.summary["net_params"]


def test_net_zero_is_the_net_a_single_run_of_the_seed_trains() -> None:
    ds = load_for(TINY)
    (run,) = train_group([TINY], ds)
    (single,) = train_group([dataclasses.replace(TINY, ensemble=1, probes=True)], ds)
    assert run.frame("nets")["val_loss"].iloc[0] == single.summary["final_val_loss"]
