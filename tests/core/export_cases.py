"""The runs tests/core/test_export.py exports, and the child-process runner that executes them.

Kept apart from the tests so the test module reads as checks; data and the runner script only.
"""

from __future__ import annotations

import dataclasses
import re

from core.spec import Experiment

# 300 digits -> 240 training rows = 8 batches of 32: a whole epoch is a fraction of a second.
BASE = Experiment(n_samples=300, width=16, depth=2, epochs=1)

# One knob at a time from BASE (the first row), then a few rows that combine the remaining
# code paths, so every branch of the exporter runs without paying ~1 s per extra snippet.
CASES: dict[str, dict] = {
    "defaults": {},
    "adam": {"optimizer": "adam", "learning_rate": 0.005},
    "nesterov": {"optimizer": "nesterov"},
    "rmsprop": {"optimizer": "rmsprop", "learning_rate": 0.005},
    "bn_before": {"batch_norm": "before"},
    "bn_after": {"batch_norm": "after"},
    "dropout": {"dropout": 0.3},
    "residual": {"residual": True, "depth": 3},
    "l1": {"l1": 1e-4},
    "l2": {"l2": 1e-3},
    "weight_decay": {"weight_decay": 1e-3},
    "clipnorm": {"clipnorm": 1.0},
    "clipvalue": {"clipvalue": 0.5},
    "step": {"lr_schedule": "step"},
    "cosine": {"lr_schedule": "cosine"},
    "one_cycle": {"lr_schedule": "one_cycle"},
    "cyclic": {"lr_schedule": "cyclic"},
    "exponential": {"lr_schedule": "exponential", "lr_half_life": 0.5},
    "moons": {"dataset": "moons"},
    "wine": {"dataset": "wine", "batch_size": 16},
    "breast_cancer": {"dataset": "breast_cancer"},
    "spiral": {"dataset": "spiral"},
    "xor": {"dataset": "xor"},
    "gaussians": {"dataset": "gaussians"},
    "he_normal": {"init": "he_normal"},
    "normal_large": {"init": "normal_large", "learning_rate": 0.001},
    # combined rows: AdamW + decay + one_cycle (beta_1 note) + residual with BN and dropout + L1L2
    "adamw_one_cycle_residual": {
        "optimizer": "adamw",
        "learning_rate": 0.005,
        "weight_decay": 0.01,
        "lr_schedule": "one_cycle",
        "residual": True,
        "depth": 3,
        "batch_norm": "after",
        "dropout": 0.2,
        "l1": 1e-4,
        "l2": 1e-3,
    },
    "sgd_circles_leaky": {
        "optimizer": "sgd",
        "dataset": "circles",
        "activation": "leaky_relu",
        "init": "normal_small",
    },
    # the split from split_seed (check_data compares the training rows), noisy training labels
    "split_seed_label_noise": {"seed": 2, "split_seed": 5, "label_noise": 0.3},
    "adamw_no_decay_linear": {
        "optimizer": "adamw",
        "learning_rate": 0.005,
        "activation": "linear",
        "batch_norm": "before",
    },
}

# Exact replays (core.export_exact), few epochs each. Both drop a partial batch every epoch (the
# rows the explorer skips), and between them they cover what a replay must get right: BN moving
# averages, penalty and decay, schedules over whole batches only, the train-metric subset, the
# run's noisy labels, residual connections, clipping and the run's own dropout masks.
EXACT_CASES: dict[str, dict] = {
    # 1500 digits -> 1200 training rows = 37 batches of 32 + 16 skipped; train metrics on 1024 rows
    "exact_adam_bn_step": {
        "n_samples": 1500,
        "epochs": 2,
        "optimizer": "adam",
        "learning_rate": 0.005,
        "batch_norm": "before",
        "l2": 1e-3,
        "weight_decay": 1e-3,
        "lr_schedule": "step",
    },
    # 300 moons -> 240 training rows = 8 batches of 28 + 16 skipped
    "exact_moons_residual": {
        "dataset": "moons",
        "epochs": 3,
        "batch_size": 28,
        "optimizer": "nesterov",
        "learning_rate": 0.02,
        "residual": True,
        "depth": 3,
        "activation": "tanh",
        "init": "he_normal",
        "label_noise": 0.2,
        "lr_schedule": "cosine",
        "clipnorm": 1.0,
        "dropout": 0.2,  # the explorer's masks, step for step
    },
}
EPOCH_LINE = re.compile(r"epoch=(\d+) train_loss=(\S+) val_loss=(\S+) val_accuracy=(\S+)")

# Runs inside the child: exec every snippet given on the command line, report as JSON.
RUNNER = r"""
import contextlib, hashlib, io, json, math, sys, time, traceback
import numpy as np
import keras

def sha(a, dtype):
    return hashlib.sha256(np.ascontiguousarray(np.asarray(a, dtype)).tobytes()).hexdigest()

def describe(ns, rec):
    model, opt = ns["model"], ns["model"].optimizer
    config = opt.get_config()
    rec["optimizer"] = type(opt).__name__
    rec["config"] = {k: config.get(k) for k in (
        "momentum", "nesterov", "beta_1", "beta_2", "rho", "epsilon", "clipnorm", "clipvalue",
        "weight_decay")}
    rec["trainable"] = int(sum(math.prod(v.shape) for v in model.trainable_weights))
    rec["layers"] = [type(layer).__name__ for layer in model.layers]
    rec["n_penalties"] = len(model.losses)
    spe = ns.get("steps_per_epoch") or math.ceil(len(ns["x_train"]) / ns["batch_size"])
    rec["steps_per_epoch"] = spe
    lr = ns.get("learning_rate")
    n = 3 * spe * ns["epochs"]
    rec["lr"] = [float(lr(i)) for i in range(n)] if callable(lr) else [float(config["learning_rate"])] * n
    rec["n_train"], rec["n_val"] = len(ns["x_train"]), len(ns["x_val"])
    rec["mean"] = np.asarray(ns["mean"], np.float64).tolist()
    rec["x_sha"], rec["y_sha"] = sha(ns["x"], np.float32), sha(ns["y"], np.float64)

out_path, paths = sys.argv[1], sys.argv[2:]
results = {}
for path in paths:
    name = path.rsplit("/", 1)[-1][:-3]
    rec = {"error": None}
    start = time.perf_counter()
    printed = io.StringIO()
    try:
        ns = {"__name__": "__main__"}
        with contextlib.redirect_stdout(printed):
            exec(compile(open(path).read(), path, "exec"), ns)
        if not name.startswith("exact_"):  # an exact replay is judged by its printed curve
            describe(ns, rec)
    except BaseException:
        rec["error"] = traceback.format_exc()
    rec["stdout"] = printed.getvalue()
    rec["seconds"] = time.perf_counter() - start
    results[name] = rec
    keras.backend.clear_session()
with open(out_path, "w") as f:
    json.dump(results, f)
sys.exit(1 if any(r["error"] for r in results.values()) else 0)
"""


def experiment(name: str) -> Experiment:
    return dataclasses.replace(BASE, **(CASES | EXACT_CASES)[name])
