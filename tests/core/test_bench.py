"""core.bench's compute floor: the FLOPs of K members come from the real data shape and split."""

from __future__ import annotations

import math

from core import bench
from core.data import load_for, split_sizes
from core.spec import Experiment


def test_the_floor_counts_steps_and_evaluation_from_the_real_data_shape() -> None:
    e = Experiment(dataset="digits", n_samples=300, width=8, depth=1, batch_size=32, epochs=2)
    members = [
        e,
        Experiment(dataset="digits", n_samples=300, width=8, depth=1, batch_size=32, epochs=2, seed=1),
    ]
    floor = bench.compute_floor(members)
    ds = load_for(e)
    n_train, n_val = split_sizes(ds, e.n_samples, e.val_fraction)
    macs = ds.n_features * 8 + 8 * ds.n_classes  # 64 pixels -> 8 units -> 10 digits
    steps = n_train // 32  # the trainer drops the partial batch
    assert floor["train_gflop"] * 1e9 == 6 * macs * steps * 32 * 2 * 2
    assert floor["eval_gflop"] * 1e9 == 2 * macs * (n_train + n_val) * 2 * 2
    assert math.isfinite(floor["sgemm_gflops"]) and floor["sgemm_gflops"] > 0
    total = (floor["train_gflop"] + floor["eval_gflop"]) / floor["sgemm_gflops"]
    assert math.isclose(floor["floor_s"], total, rel_tol=1e-9)
