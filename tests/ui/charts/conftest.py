"""Shared frames of the chart-builder tests: assertions on the Vega-Lite dict of hand-built long-form frames.

The frames mimic ComparisonResult.frame(): three learning-rate variants x three seeds, where
lr=10 seed 2 diverges in epoch 3 (a NaN/inf tail, then no rows) and lr=10 seed 1 blows up at the
very first step (only non-finite values), as the trainer records them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

LRS = (0.01, 0.1, 10.0)
VARIANTS = [f"learning_rate={lr:g}" for lr in LRS]
SEEDS = (0, 1, 2)
EPOCHS, STEPS_PER_EPOCH, LAYERS = 10, 10, 3
DIVERGED = "lr10-s2"  # diverges during epoch 3 (step 25)
INSTANT = "lr10-s1"  # non-finite from the first step


def key(lr: float, seed: int) -> str:
    return f"lr{lr:g}-s{seed}"


def members() -> Iterator[tuple[str, str, float, int]]:
    for lr, label in zip(LRS, VARIANTS, strict=True):
        for seed in SEEDS:
            yield key(lr, seed), label, lr, seed


def identity(k: str, label: str, lr: float, seed: int) -> dict[str, Any]:
    return {"key": k, "variant": label, "seed": seed, "learning_rate": lr}


@pytest.fixture(scope="module")
def epochs() -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        for epoch in range(1, EPOCHS + 1):
            loss = 1.0 / (epoch * (1 + lr)) + 0.01 * seed
            if k == DIVERGED and epoch >= 3:
                loss = math.inf if epoch == 3 else math.nan
                if epoch > 3:
                    break
            if k == INSTANT:
                loss = math.nan
                if epoch > 1:
                    break
            rows.append(
                {**identity(k, label, lr, seed), "epoch": epoch, "train_loss": loss * 0.8, "val_loss": loss,
                 "train_accuracy": 0.5, "val_accuracy": 0.4, "lr": lr, "seconds": 0.5 * epoch}
            )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def summary(epochs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        mine = epochs[epochs["key"] == k]
        diverged = k in (DIVERGED, INSTANT)
        last = mine.iloc[-1]
        rows.append(
            {**identity(k, label, lr, seed), "final_train_loss": math.nan if diverged else last["train_loss"],
             "final_val_loss": math.nan if diverged else last["val_loss"], "final_train_accuracy": math.nan,
             "final_val_accuracy": math.nan, "diverged": diverged, "diverged_step": {DIVERGED: 25, INSTANT: 0}.get(k, -1),
             "diverged_epoch": {DIVERGED: 3, INSTANT: 1}.get(k, -1), "seconds": 5.0}
        )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def steps() -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        for step in range(EPOCHS * STEPS_PER_EPOCH):
            if (k == DIVERGED and step > 25) or (k == INSTANT and step > 0):
                break
            bad = (k == DIVERGED and step == 25) or k == INSTANT
            rows.append(
                {**identity(k, label, lr, seed), "step": step, "epoch": step // STEPS_PER_EPOCH + 1,
                 "loss": math.inf if bad else 2.0 / (1 + step) + 0.01 * seed, "grad_norm": 1.0 + 0.1 * step + seed,
                 "update_norm": 0.1, "clipped": False, "lr": lr, "momentum": 0.9}
            )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def layers() -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        for step in range(0, 60, 2):
            for layer in range(LAYERS):
                grad = 10.0 ** (layer - 2) * (1 + seed)  # first layer 100x smaller than the last
                rows.append(
                    {**identity(k, label, lr, seed), "step": step, "epoch": step // 10 + 1, "layer": layer,
                     "layer_name": f"dense_{layer}", "grad_norm": math.nan if k == INSTANT else grad}
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def weights() -> pd.DataFrame:
    rows = []
    for k, label, lr, seed in members():
        last = 3 if k == DIVERGED else EPOCHS
        for epoch in range(1, last + 1):
            for layer in range(LAYERS):
                sparsity = 0.1 * layer + (0.5 if epoch == last else 0.0) + 0.01 * seed
                rows.append(
                    {**identity(k, label, lr, seed), "epoch": epoch, "layer": layer, "layer_name": f"dense_{layer}",
                     "weight_norm": 1.0, "sparsity": sparsity, "weight_max_abs": 1.0}
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def histograms() -> pd.DataFrame:
    rows = []
    edges = np.linspace(-1, 1, 21)
    for k, label, lr, seed in members():
        for layer in range(LAYERS):
            for i in range(20):
                rows.append(
                    {**identity(k, label, lr, seed), "layer": layer, "layer_name": f"dense_{layer}",
                     "bin_start": edges[i], "bin_end": edges[i + 1], "count": 100 if i == 10 else seed}
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def boundary() -> pd.DataFrame:
    g = np.linspace(-2, 2, 20)
    x0, x1 = (a.ravel() for a in np.meshgrid(g, g))
    parts = []
    for k, label, lr, seed in members():
        prob = 1 / (1 + np.exp(-(x0 + x1) * (1 + seed)))
        parts.append(pd.DataFrame({**identity(k, label, lr, seed), "x0": x0, "x1": x1, "prob": prob,
                                   "predicted": (prob > 0.5).astype(int)}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)
