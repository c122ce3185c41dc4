"""Per-step learning-rate and momentum tables, computed in NumPy before training.

The stacked trainer takes one row of learning rates and momenta per step ([steps, K]), so any
mix of schedules can share one compiled step, and the LR range test is just another table.
Formulas follow the Keras schedules (CosineDecay, ExponentialDecay) and Smith (2018) for one_cycle and cyclic.
"""

from __future__ import annotations

import numpy as np

from core.spec import Experiment

STEP_DROPS = (0.5, 0.75)  # step decay: x0.1 at half and at three quarters of training
ONE_CYCLE_WARMUP = 0.3  # fraction of steps spent warming up to the peak LR
ONE_CYCLE_DIV = 25.0  # start LR = peak / 25 (fastai's default)
ONE_CYCLE_FINAL_DIV = 1e4  # final LR = start / 1e4: the annihilation phase
ONE_CYCLE_MOMENTUM = (0.95, 0.85)  # momentum cycles inversely to the LR (Smith 2018)
CYCLIC_HALF_EPOCHS = 2  # triangular half-cycle of 2 epochs (Smith: 2-10 x steps per epoch)
CYCLIC_DIV = 10.0  # triangular between lr / 10 and lr
EXPONENTIAL_RATE = 0.5  # exponential: x0.5 per lr_half_life epochs (a half-life reads better than a rate)


def _cos_ramp(start: float, end: float, t: np.ndarray) -> np.ndarray:
    return end + (start - end) * 0.5 * (1 + np.cos(np.pi * t))


def schedule(e: Experiment, steps_per_epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """Learning rate and momentum for every step of `e`'s training: two float32 [steps] arrays."""
    total = e.epochs * steps_per_epoch
    t = np.arange(total, dtype=np.float64)
    lr = np.full(total, e.learning_rate, dtype=np.float64)
    mom = np.full(total, e.resolved().momentum, dtype=np.float64)
    if e.lr_schedule == "step":
        for drop in STEP_DROPS:
            lr[t >= int(drop * total)] *= 0.1
    elif e.lr_schedule == "cosine":
        lr = e.learning_rate * 0.5 * (1 + np.cos(np.pi * t / max(total, 1)))
    elif e.lr_schedule == "one_cycle":
        warm = max(int(ONE_CYCLE_WARMUP * total), 1)
        start = e.learning_rate / ONE_CYCLE_DIV
        up = np.minimum(t / warm, 1.0)
        down = np.clip((t - warm) / max(total - warm, 1), 0.0, 1.0)
        lr = np.where(
            t < warm,
            _cos_ramp(start, e.learning_rate, up),
            _cos_ramp(e.learning_rate, start / ONE_CYCLE_FINAL_DIV, down),
        )
        if mom[0] > 0:  # cycle momentum only for optimizers that use it
            high, low = ONE_CYCLE_MOMENTUM
            mom = np.where(t < warm, _cos_ramp(high, low, up), _cos_ramp(low, high, down))
    elif e.lr_schedule == "cyclic":
        half = CYCLIC_HALF_EPOCHS * steps_per_epoch
        phase = np.abs((t / half) % 2 - 1)  # 1 -> 0 -> 1 over a full cycle
        low = e.learning_rate / CYCLIC_DIV
        lr = low + (e.learning_rate - low) * (1 - phase)
    elif e.lr_schedule == "exponential":
        # Keras ExponentialDecay(lr, decay_steps=half_life * steps_per_epoch, decay_rate=0.5),
        # not staircased: the rate halves smoothly every lr_half_life epochs.
        lr = e.learning_rate * EXPONENTIAL_RATE ** (t / (e.lr_half_life * steps_per_epoch))
    return lr.astype(np.float32), mom.astype(np.float32)
