"""What every backend implements and reports: the `Backend` protocol and its two callbacks.

Its own module (not core.backends' package root) so each implementation can import it without
importing the package that imports the implementations: no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the CLI imports this module for --backend: no pandas/numpy at start-up
    import numpy as np

    from core.results import RunResult
    from core.spec import Experiment

GroupProgress = Callable[[int, int, int], None]  # (group index, epochs done, epochs total)
GroupDone = Callable[[int, "list[RunResult]"], None]  # (group index, its runs), as each group finishes


class Backend(Protocol):
    """Trains stacked groups; the same members give the same numbers on every backend."""

    name: str

    def train_groups(
        self,
        groups: Sequence[Sequence[Experiment]],
        progress: GroupProgress | None = None,
        lr_tables: Sequence[np.ndarray | None] | None = None,
        on_done: GroupDone | None = None,
    ) -> list[list[RunResult]]:
        """One list of RunResults per group, in member order. lr_tables (one [steps, members]
        table or None per group) turns a group into an LR range test (core.lr_range)."""
        ...
