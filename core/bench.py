"""`python -m core bench`: what stacking buys, as ratios measured in one process.

Baseline: ONE plain `keras.Model.fit` of one variant (default compile settings, validation every
epoch like ours). Contender: the whole 8-variant learning-rate comparison through the stacked
trainer. Both are timed cold (tracing included) after a shared TensorFlow warm-up, because a
person clicking Run pays the cold cost. Prints ratios; asserts nothing about seconds.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from core.spec import Comparison, Experiment

BENCH = Experiment(
    dataset="digits", width=128, depth=3, activation="relu", batch_size=32, epochs=30, optimizer="momentum"
)
LRS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


# Multiply-adds per example and dense layer, times these: forward 2 FLOPs, backward 4 (the
# gradient with respect to the inputs and to the weights), evaluation forward only.
TRAIN_FLOPS_PER_MAC = 6
EVAL_FLOPS_PER_MAC = 2
SGEMM_N = 1024  # a square float32 matmul big enough to reach the CPU's sustained rate
SGEMM_REPEATS = 5


def compute_floor(members: list[Experiment]) -> dict[str, float]:
    """What K members' training needs at the very least: their dense-layer FLOPs (train steps
    without the dropped partial batch, plus the per-epoch evaluation on train and validation
    splits) and those FLOPs at this machine's sgemm rate, measured now. The trainer's wall time
    over this floor is the overhead to hunt: per-step dispatch, records, small-matrix shapes."""
    from core.data import load_for, split_sizes

    e = members[0]
    ds = load_for(e)
    n_train, n_val = split_sizes(ds, e.n_samples, e.val_fraction)
    outputs = 1 if ds.is_regression else ds.n_classes
    sizes = [ds.n_features] + [e.width] * e.depth + [outputs]
    macs = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
    steps = n_train // e.batch_size
    train = TRAIN_FLOPS_PER_MAC * macs * steps * e.batch_size * e.epochs * len(members)
    evaluate = EVAL_FLOPS_PER_MAC * macs * (n_train + n_val) * e.epochs * len(members)
    rate = sgemm_flops_per_second()
    return {
        "train_gflop": train / 1e9,
        "eval_gflop": evaluate / 1e9,
        "sgemm_gflops": rate / 1e9,
        "floor_s": (train + evaluate) / rate,
    }


def sgemm_flops_per_second() -> float:
    """Best of a few SGEMM_N-square float32 matmuls through TensorFlow (the trainer's own kernels)."""
    from core.training.device import tf

    a = tf.random.stateless_normal((SGEMM_N, SGEMM_N), seed=(1, 2))
    tf.matmul(a, a).numpy()  # first call pays for the kernel's set-up
    best = float("inf")
    for _ in range(SGEMM_REPEATS):
        start = time.perf_counter()
        tf.matmul(a, a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * SGEMM_N**3 / best


def _stacked_seconds(members: list[Experiment]) -> float:
    from core.runner import train

    start = time.perf_counter()
    train(members)
    return time.perf_counter() - start


def run(epochs: int = BENCH.epochs, sizes: tuple[int, ...] = (1, 8, 32)) -> dict[str, float]:
    """Measure and return the figures (also printed by main())."""
    from core.training.device import tf
    from core.training.keras_baseline import keras_fit_seconds

    tf.reduce_sum(tf.ones((8, 8)))  # TensorFlow start-up is paid here, by neither side
    base = dataclasses.replace(BENCH, epochs=epochs)
    comparison = Comparison.of(base, {"learning_rate": LRS})
    fit = keras_fit_seconds(dataclasses.replace(base, learning_rate=0.01))
    stacked = _stacked_seconds(comparison.members())
    figures = {
        "keras_fit_1_variant_s": fit,
        "stacked_8_variants_s": stacked,
        "ratio_8_stacked_vs_1_fit": stacked / fit,
    }
    for k in sizes:
        lrs = np.geomspace(1e-3, 0.2, k)
        members = [dataclasses.replace(base, learning_rate=float(lr), seed=i) for i, lr in enumerate(lrs)]
        figures[f"stacked_k{k}_s"] = _stacked_seconds(members)
        if k == max(sizes):
            floor = compute_floor(members)
            figures.update({f"floor_k{k}_{name}": value for name, value in floor.items()})
            figures[f"floor_k{k}_ratio"] = figures[f"stacked_k{k}_s"] / floor["floor_s"]
    for k in sizes:
        figures[f"cost_k{k}_vs_k1"] = figures[f"stacked_k{k}_s"] / figures[f"stacked_k{sizes[0]}_s"]
    return figures


def main(epochs: int = BENCH.epochs) -> dict[str, float]:
    from core.training.device import device_name

    print(
        f"benchmark on {device_name()}: digits, {BENCH.depth} x {BENCH.width} relu, batch 32, {epochs} epochs, momentum SGD"
    )
    f = run(epochs)
    print(f"  one plain keras.Model.fit (1 variant)      {f['keras_fit_1_variant_s']:7.2f} s")
    print(f"  stacked trainer, 8 learning rates at once  {f['stacked_8_variants_s']:7.2f} s")
    print(
        f"  ratio (8 stacked / 1 plain fit)            {f['ratio_8_stacked_vs_1_fit']:7.2f}  (target <= 1.0)"
    )
    for key, value in f.items():
        if key.startswith("cost_k"):
            k = key.split("_")[1][1:]
            print(f"  K = {k:>2} members: {f[f'stacked_k{k}_s']:6.2f} s = {value:5.2f} x K = 1")
    for key in [k for k in f if k.startswith("floor_k") and k.endswith("_floor_s")]:
        k = key.split("_")[1]
        print(
            f"  {k.upper()} compute floor: {f[f'floor_{k}_train_gflop']:.0f} GFLOP of steps + "
            f"{f[f'floor_{k}_eval_gflop']:.0f} GFLOP of evaluation at {f[f'floor_{k}_sgemm_gflops']:.0f} "
            f"GFLOP/s (sgemm, measured now) = {f[key]:.2f} s; the trainer took "
            f"{f[f'floor_{k}_ratio']:.2f} x its floor"
        )
    return f
