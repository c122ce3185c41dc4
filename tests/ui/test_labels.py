"""ui.labels: one short label scheme, its key, and results that carry it (with cached frames)."""

from __future__ import annotations

import pandas as pd

from core.results import ComparisonResult, RunResult
from core.spec import Comparison, Experiment
from ui.labels import legend_key, short, shorten


def test_short_labels_abbreviate_each_knob_once() -> None:
    assert short("learning_rate=0.01, momentum=0.9") == "lr 0.01 · mom 0.9"
    assert short("batch_norm=before, learning_rate=0.3") == "BN before · lr 0.3"
    assert short("clipnorm=1 · learning_rate=0.1") == "clipnorm 1 · lr 0.1"
    assert short("baseline") == "baseline" and short("L1+L2") == "L1+L2"
    assert short(short("weight_decay=0.001")) == "wd 0.001"  # idempotent


def test_legend_key_spells_out_the_abbreviations_used() -> None:
    assert (
        legend_key(["lr 0.01 · mom 0.9", "BN before"])
        == "lr = learning_rate · mom = momentum · BN = batch_norm"
    )
    assert legend_key(["baseline"]) == ""


def fake_result() -> ComparisonResult:
    comparison = Comparison.of(Experiment(epochs=2), {"learning_rate": (0.01, 0.1)}, 1)
    runs = []
    for e in comparison.members():
        frames = {"epochs": pd.DataFrame({"epoch": [1, 2], "train_loss": [2.0, 1.0], "val_loss": [2.1, 1.2]})}
        runs.append(RunResult(e, {"diverged": False, "final_train_loss": 1.0, "final_val_loss": 1.2}, frames))
    return ComparisonResult(comparison, runs)


def test_a_shortened_result_labels_frames_summary_and_order_alike() -> None:
    result = shorten(fake_result())
    assert result.variant_order() == ["lr 0.01", "lr 0.1"]
    assert list(result.summary()["variant"]) == ["lr 0.01", "lr 0.1"]
    assert set(result.frame("epochs")["variant"]) == {"lr 0.01", "lr 0.1"}
    assert shorten(result) is result


def test_cached_frames_are_copies() -> None:
    result = shorten(fake_result())
    first = result.summary()
    first["variant"] = "changed"
    assert list(result.summary()["variant"]) == ["lr 0.01", "lr 0.1"]  # the cache kept its own
