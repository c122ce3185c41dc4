"""Benchmark: replaying a stored, page-sized comparison never imports TensorFlow, and how fast it is.

    .venv/bin/python tests/bench_replay.py [--repeat 5]

Trains the home page's default comparison (its quick what-if at full size: 4 learning rates x
2 seeds, 10 epochs on digits) into a temporary store, then starts a FRESH Python process that
replays it through core.runner.run_comparison and through AppTests of pages/home.py and
pages/history.py, and prints the seconds. The fresh process matters: the parent imported
TensorFlow to train, so only a new process can show that a replay does not. That check is an
assertion; the timings are printed, not asserted (this is a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# What the fresh process runs: replay through core, then the pages, timing each step.
REPLAY = r"""
import json, statistics, sys, time
start = time.perf_counter()
from core.runner import run_comparison
from core.spec import Comparison
from core.store import RunStore
imports = time.perf_counter() - start
comparison = Comparison.from_dict(json.loads(sys.argv[1]))
repeat = int(sys.argv[2])
store = RunStore()
core_s = []
for _ in range(repeat):
    t = time.perf_counter()
    result = run_comparison(comparison, store)
    core_s.append(time.perf_counter() - t)
    assert result.replayed == len(result.runs) == comparison.n_members, "not a full replay"
from streamlit.testing.v1 import AppTest
pages = {}
for page in ("pages/home.py", "pages/history.py"):
    times = []
    for _ in range(repeat):
        at = AppTest.from_file(page, default_timeout=120)
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        assert not at.exception, at.exception
        assert at.get("vega_lite_chart"), f"{page} drew no chart"
    pages[page] = times
tf = "tensorflow" in sys.modules or "keras" in sys.modules
print(json.dumps({
    "core_imports_s": imports,
    "core_replay_s": core_s,
    "pages_s": pages,
    "tensorflow_imported": tf,
}))
assert not tf, "replaying imported TensorFlow"
"""


def home_default():
    """The home page's quick what-if default at full size (pages/home.py: Preset(Experiment(
    epochs=10), {knob: QUICK_KNOBS[knob]}, seeds=2) with the first knob, learning_rate)."""
    from core.spec import Comparison, Experiment

    return Comparison.of(Experiment(epochs=10), {"learning_rate": (0.001, 0.01, 0.1, 1.0)}, seeds=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="replays per measurement")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="whatif-bench-"))
    try:
        measure(tmp, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(tmp: Path, repeat: int) -> None:
    env = {**os.environ, "WHATIF_STORE": str(tmp / "runs.sqlite"), "WHATIF_DATA_DIR": str(tmp / "data")}
    env.pop("WHATIF_QUICK", None)  # the real page default, not the tests' tiny one
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.update({k: env[k] for k in ("WHATIF_STORE", "WHATIF_DATA_DIR", "TF_CPP_MIN_LOG_LEVEL")})
    os.environ.pop("WHATIF_QUICK", None)

    from core.runner import run_comparison
    from core.store import RunStore

    comparison = home_default()
    t = time.perf_counter()
    result = run_comparison(comparison, RunStore())
    cold = time.perf_counter() - t
    print(f"cold: trained {len(result.runs)} runs (home default) in {cold:.1f} s, TensorFlow import included")

    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", REPLAY, json.dumps(comparison.to_dict()), str(repeat)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - t
    if out.returncode != 0:
        print(out.stdout[-2000:], out.stderr[-4000:], sep="\n")
        raise SystemExit(f"replay process failed (exit {out.returncode})")
    figures = json.loads(out.stdout.strip().splitlines()[-1])

    def fmt(values: list[float]) -> str:
        return f"first {values[0]:.3f} s, then best {min(values[1:] or values):.3f} s"

    print(f"fresh process: {wall:.1f} s wall in all, core imports {figures['core_imports_s']:.2f} s")
    print(f"replay through core.runner.run_comparison: {fmt(figures['core_replay_s'])}")
    for page, times in figures["pages_s"].items():
        print(f"replay through AppTest of {page}: {fmt(times)}")
    print(f"'tensorflow' in sys.modules after the replays: {figures['tensorflow_imported']}")
    assert figures["tensorflow_imported"] is False


if __name__ == "__main__":
    main()
