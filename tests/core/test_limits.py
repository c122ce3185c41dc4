"""The memory guard (issue 13 defect 1): the estimate follows the data's real shape, refuses
before anything is allocated, and is held to the measured peak of a real training."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.data import register_csv
from core.data.upload import MAX_CSV_COLUMNS, csv_columns
from core.limits import estimate_memory_mb
from core.spec import Comparison, Experiment

REPO = Path(__file__).resolve().parents[2]
FACTOR = 2.0  # the estimate lies within [measured / FACTOR, measured * FACTOR]


def wide_csv(columns: int, rows: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, columns)).round(3)
    y = rng.integers(0, 10, rows)
    head = ",".join(f"f{j}" for j in range(columns)) + ",label\n"
    body = "".join(",".join(map(str, r)) + f",{c}\n" for r, c in zip(x.tolist(), y.tolist(), strict=True))
    return (head + body).encode()


def test_the_estimate_uses_the_uploads_real_width():
    """The old guard assumed 784 features whatever the data: a wide upload now costs more than
    a narrow one of the same rows, and the refusal comes before any training."""
    narrow = register_csv(wide_csv(10, 300), "label")
    wide = register_csv(wide_csv(MAX_CSV_COLUMNS - 1, 300), "label")
    base = Experiment(width=1024, depth=2, n_samples=300)
    small = estimate_memory_mb([dataclasses.replace(base, dataset=narrow, depth=1)] * 8)
    large = estimate_memory_mb([dataclasses.replace(base, dataset=wide, depth=1)] * 8)
    extra_columns = MAX_CSV_COLUMNS - 1 - 10
    first_layer_and_gradients_mb = 2 * 4 * 8 * extra_columns * 1024 / 2**20  # float32, 8 members
    assert large - small >= first_layer_and_gradients_mb
    assert estimate_memory_mb([dataclasses.replace(base, dataset="digits")]) < estimate_memory_mb(
        [dataclasses.replace(base, dataset="mnist")]
    )
    with pytest.raises(ValueError, match="needs about"):
        Comparison.of(dataclasses.replace(base, dataset=wide), {"learning_rate": [0.1, 0.01]}, seeds=8)


def test_uploads_are_capped_in_columns():
    too_wide = wide_csv(MAX_CSV_COLUMNS, 3)  # + the label column
    with pytest.raises(ValueError, match=f"the limit is {MAX_CSV_COLUMNS:,}"):
        csv_columns(too_wide)
    with pytest.raises(ValueError, match=f"the limit is {MAX_CSV_COLUMNS:,}"):
        register_csv(too_wide, "label")


PROBE = """
import json, os, sys, threading, time
import tensorflow  # its import is not the training's memory
from core.data import load_dataset
from core.limits import estimate_memory_mb
from core.runner import train
from core.spec import Comparison, Experiment

name, rows, width, depth, seeds = sys.argv[1], *(int(a) for a in sys.argv[2:6])
load_dataset(name)
c = Comparison.of(Experiment(dataset=name, n_samples=rows, width=width, depth=depth, epochs=2), {}, seeds)

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

base = rss(); peak = [base]; done = threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss()); time.sleep(0.005)
t = threading.Thread(target=sample); t.start()
train(c.members())
done.set(); t.join()
print(json.dumps({"estimate": estimate_memory_mb(c.members()), "measured": peak[0] - base}))
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="RSS is read from /proc")
@pytest.mark.parametrize(("width", "depth", "seeds"), [(1024, 1, 4), (1024, 2, 8)])
def test_the_estimate_is_within_a_factor_of_the_measured_peak(width, depth, seeds):
    """A real training in a fresh process (RSS sampled every 5 ms, after TensorFlow's import):
    shapes where the data's width dominates, as with the wide upload of the issue."""
    rows = 800
    name = register_csv(wide_csv(MAX_CSV_COLUMNS - 1, rows, seed=1), "label")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = [name, str(rows), str(width), str(depth), str(seeds)]
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"estimate {got['estimate']:.0f} MB, measured peak rise {got['measured']:.0f} MB")
    assert got["measured"] / FACTOR <= got["estimate"] <= got["measured"] * FACTOR, got
