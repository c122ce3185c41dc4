"""The local backend: today's path, every group trained in this process one after another.

TensorFlow is imported on the first call only (core.training), so a process that only replays
stored runs never pays for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.backends.base import GroupDone, GroupProgress
from core.results import RunResult
from core.spec import Experiment


def train_chunk(
    members: Sequence[Experiment],
    ds=None,
    progress=None,
    lr_table: np.ndarray | None = None,
) -> list[RunResult]:
    """Train one stacked group with the shared trainer; `ds` is loaded here when not given.
    Also the body of a Ray task, so both backends run exactly the same code."""
    from core.data import load_for
    from core.training.families import train_group

    if ds is None:
        e = members[0]
        ds = load_for(e)
    return train_group(members, ds, progress=progress, lr_table=lr_table)


class LocalBackend:
    """Groups in sequence, in this process."""

    name = "local"

    def train_groups(
        self,
        groups: Sequence[Sequence[Experiment]],
        progress: GroupProgress | None = None,
        lr_tables: Sequence[np.ndarray | None] | None = None,
        on_done: GroupDone | None = None,
    ) -> list[list[RunResult]]:
        out = []
        for index, group in enumerate(groups):

            def on_epoch(done: int, total: int, index=index) -> None:
                if progress is not None:
                    progress(index, done, total)

            results = train_chunk(group, progress=on_epoch, lr_table=lr_tables[index] if lr_tables else None)
            if on_done is not None:
                on_done(index, results)
            out.append(results)
        return out
