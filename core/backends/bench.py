"""`python -m core bench --backend ray`: local vs Ray wall time on one workload, and Ray's costs.

Why these figures: on a 2-core machine Ray cannot beat local by much (two tasks at once at best,
and every worker imports TensorFlow once); what matters is that the same numbers come back, what
a task costs, and how a workload splits into tasks, which is what a cluster then spreads out.
The workload is two datasets x (2 widths x 2 learning rates x 2 seeds): 4 stacked groups.
Both sides are timed cold (tracing included) and again warm. Prints seconds; asserts nothing.
"""

from __future__ import annotations

import time

from core.spec import Comparison, Experiment

DATASETS = ("digits", "moons")
BASE = Experiment(n_samples=600, depth=2, epochs=5)
VARY = {"width": (16, 32), "learning_rate": (0.01, 0.1)}
SEEDS = 2
NOOP_TASKS = 20  # enough round trips for a stable mean, few enough to take about a second


def workload() -> list[list[Experiment]]:
    """The stacked groups of one comparison per dataset."""
    from core.runner import groups_of

    groups = []
    for name in DATASETS:
        comparison = Comparison.of(Experiment(**{**BASE.to_dict(), "dataset": name}), VARY, SEEDS)
        groups += groups_of(comparison.members())
    return groups


def _noop() -> None:
    """A task that does nothing: its round trip is Ray's own cost per task."""


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run() -> dict[str, float]:
    """Measure and return the figures (printed by main())."""
    from core.backends.local import LocalBackend
    from core.backends.ray_backend import RayBackend

    groups = workload()
    local = LocalBackend()
    figures = {"groups": len(groups), "runs": sum(len(g) for g in groups)}
    figures["local_cold_s"] = _timed(lambda: local.train_groups(groups))  # TF import + tracing
    figures["local_warm_s"] = _timed(lambda: local.train_groups(groups))
    backend = RayBackend()
    figures["ray_init_s"] = backend.init_seconds
    figures["ray_cold_s"] = _timed(lambda: backend.train_groups(groups))  # workers import TF
    figures["ray_warm_s"] = _timed(lambda: backend.train_groups(groups))
    noop = backend.ray.remote(num_cpus=1)(_noop)
    backend.ray.get(noop.remote())  # a worker for it exists before the clock starts
    figures["noop_task_ms"] = (
        _timed(lambda: [backend.ray.get(noop.remote()) for _ in range(NOOP_TASKS)]) * 1000 / NOOP_TASKS
    )
    figures["ratio_warm_ray_vs_local"] = figures["ray_warm_s"] / figures["local_warm_s"]
    figures["ratio_cold_ray_vs_local"] = figures["ray_cold_s"] / figures["local_cold_s"]
    return figures


def main() -> int:
    import os

    print(
        f"backend bench on {os.cpu_count()} CPU(s): {len(DATASETS)} datasets x "
        f"{' x '.join(f'{len(v)} {k}' for k, v in VARY.items())} x {SEEDS} seeds, {BASE.epochs} epochs"
    )
    f = run()
    print(f"  {f['runs']} runs in {f['groups']} stacked groups (one Ray task each)")
    print(f"  local, cold (TF import + tracing)  {f['local_cold_s']:7.2f} s")
    print(f"  local, warm                        {f['local_warm_s']:7.2f} s")
    print(f"  ray.init (local cluster)           {f['ray_init_s']:7.2f} s")
    print(
        f"  ray, cold (workers import TF)      {f['ray_cold_s']:7.2f} s  = {f['ratio_cold_ray_vs_local']:.2f} x local cold"
    )
    print(
        f"  ray, warm (workers reused)         {f['ray_warm_s']:7.2f} s  = {f['ratio_warm_ray_vs_local']:.2f} x local warm"
    )
    print(f"  per-task overhead (no-op round trip, mean of {NOOP_TASKS})  {f['noop_task_ms']:.1f} ms")
    return 0
