"""Where stacked groups train: this process (`local`) or a Ray cluster (`ray`), behind one interface.

Why an interface: the runner's promises (replay before training, one training per run key, the
driver as the only writer of the store) do not depend on where the arithmetic happens. A backend
only answers "train these groups, report progress, return RunResults", so the runner, the LR
range test, the claims engine and the bench stay the same whichever backend is selected.

Selection, first that applies: `select(name)` (the CLI's `--backend`), the `WHATIF_BACKEND`
environment variable (the app), else `local`. The Ray backend is optional (requirements-cluster.txt):
asking for it without Ray installed is a ValueError that says what to install.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from core.backends.base import Backend

if TYPE_CHECKING:  # the CLI imports this module for --backend: no pandas/numpy at start-up
    import numpy as np

    from core.results import RunResult
    from core.spec import Experiment

BACKEND_ENV = "WHATIF_BACKEND"
BACKENDS = ("local", "ray", "worker")

_selected: str | None = None
_instances: dict[str, Backend] = {}
_lock = threading.Lock()


def select(name: str | None) -> None:
    """Choose the backend for this process (None: back to WHATIF_BACKEND / local)."""
    global _selected
    if name is not None:
        _check(name)
    _selected = name


def selected_name() -> str:
    return _selected or os.environ.get(BACKEND_ENV, "").strip().lower() or "local"


def get() -> Backend:
    """The selected backend (created once per process: a Ray backend holds a cluster connection)."""
    name = _check(selected_name())
    with _lock:
        if name not in _instances:
            _instances[name] = _create(name)
        return _instances[name]


def train_group(
    members: Sequence[Experiment],
    progress: Callable[[int, int], None] | None = None,
    lr_table: np.ndarray | None = None,
) -> list[RunResult]:
    """Train one stacked group on the selected backend (runner.train and lr_range call this)."""
    on_epoch = None if progress is None else (lambda _group, done, total: progress(done, total))
    return get().train_groups([members], on_epoch, [lr_table])[0]


def add_cli_option(parser: argparse.ArgumentParser) -> None:
    """`--backend local|ray` for a subcommand that trains; main() passes the value to select()."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help=f"where groups train (default: ${BACKEND_ENV} or local; ray needs requirements-cluster.txt)",
    )


def _check(name: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; backends are: {', '.join(BACKENDS)}")
    return name


def _create(name: str) -> Backend:
    if name == "worker":  # a separate process owns TensorFlow (core.backends.worker)
        from core.backends.worker import WorkerBackend

        return WorkerBackend()
    if name == "ray":
        from core.backends.ray_backend import RayBackend

        return RayBackend()
    from core.backends.local import LocalBackend

    return LocalBackend()
