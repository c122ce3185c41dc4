"""The LR range test (Smith 2015; fastai's lr_find; keras_lr_finder) run on the stacked trainer.

The learning rate grows exponentially every step while the raw per-batch loss is recorded
(not Keras' running epoch mean, which lags and hides the blow-up). core.lr_finder turns the
curve into suggestions. Each test starts from fresh weights and optimizer state and nothing is
kept afterwards, so no state leaks into the runs that follow. Members that share a network
shape sweep at once; e.g. with and without batch norm run as two groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.lr_finder import DEFAULT_END_LR, DEFAULT_NUM_ITER, DEFAULT_START_LR, LRFindResult, analyze, lr_sweep
from core.runner import groups_of
from core.spec import Experiment


@dataclass
class RangeTest:
    experiment: Experiment
    result: LRFindResult


def run_lr_range(
    experiments: list[Experiment],
    start_lr: float = DEFAULT_START_LR,
    end_lr: float = DEFAULT_END_LR,
    num_iter: int = DEFAULT_NUM_ITER,
) -> list[RangeTest]:
    """One range test per experiment (its learning_rate and schedule are ignored)."""
    from core import backends

    lrs = lr_sweep(start_lr, end_lr, num_iter)
    out: dict[str, RangeTest] = {}
    for group in groups_of(experiments):
        table = np.repeat(lrs[:, None], len(group), axis=1).astype(np.float32)
        for run in backends.train_group(group, lr_table=table):
            steps = run.frames["steps"]
            losses = np.full(num_iter, np.nan)
            losses[steps["step"].to_numpy()] = steps["loss"].to_numpy()
            out[run.key] = RangeTest(run.experiment, analyze(lrs, losses))
    return [out[e.key] for e in experiments]
