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
    return f
