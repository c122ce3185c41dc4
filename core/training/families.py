"""Which trainer trains a group: the stacked MLP trainer, or one of the other model families.

Most runs are MLPs that stack into one model (core.training.trainer). A few claims of the notes
need a different training procedure — recurrent nets over sequences, level-by-level training,
averaged ensembles, linear probes on hidden layers. Each lives in its own module with the same
entry point, `train_group(members, ds, progress, lr_table) -> list[RunResult]`, and produces the
same RunResult frames (plus its own), so the runner, the store, the backends and the pages need
nothing new. Members of one group share a family: `family` reads only group knobs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

import numpy as np

from core.data import Dataset
from core.results import RunResult
from core.spec import Experiment

# family name -> the module that trains it (imported on first use only)
MODULES = {
    "recurrent": "core.training.recurrent",
    "layerwise": "core.training.layerwise",
    "ensemble": "core.training.ensemble",
    "probes": "core.training.probes",
}


def family(e: Experiment) -> str:
    """'stacked' for the plain MLP; else the name of the procedure the run's knobs ask for."""
    return e.family


def train_group(
    members: Sequence[Experiment],
    ds: Dataset,
    progress: Callable[[int, int], None] | None = None,
    lr_table: np.ndarray | None = None,
) -> list[RunResult]:
    """Train one group of members (equal group knobs) with its family's trainer."""
    name = family(members[0])
    if name == "stacked":
        from core.training.trainer import GroupTrainer

        return GroupTrainer(list(members), ds).run(progress=progress, lr_table=lr_table)
    if lr_table is not None and name != "recurrent":  # the net-by-net families have no step table
        raise ValueError(f"the LR range test runs on the stacked network, not with the {name} family")
    module = importlib.import_module(MODULES[name])
    return module.train_group(list(members), ds, progress=progress, lr_table=lr_table)
