"""The LR range test on real data: a curve, suggestions inside the sweep, and no leaking state."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.lr_range import run_lr_range
from core.runner import train
from core.spec import Experiment

SMALL = Experiment(n_samples=500, width=32, depth=2, epochs=2)


def test_range_test_finds_a_sane_lr_and_stops_at_the_blow_up():
    plain, with_bn = run_lr_range([SMALL, dataclasses.replace(SMALL, batch_norm="before")], 1e-5, 100.0, 120)
    for test in (plain, with_bn):
        r = test.result
        assert r.stopped_early  # 100 is far past any usable LR for SGD+momentum on digits
        lo, hi = r.lrs[0], r.lrs[-1]
        assert all(lo <= v <= hi for v in r.suggestions.values())
        assert 1e-4 < r.suggestions["steepest"] < 10
        assert np.all(np.isfinite(r.smoothed))
    assert plain.result.losses[:5] != with_bn.result.losses[:5]  # two networks, two curves, one call


def test_nothing_leaks_into_later_runs():
    before = train([SMALL])[0].frames["steps"]["loss"].to_numpy()
    run_lr_range([SMALL])
    after = train([SMALL])[0].frames["steps"]["loss"].to_numpy()
    np.testing.assert_array_equal(before, after)
