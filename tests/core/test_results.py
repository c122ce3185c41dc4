"""RunResult / ComparisonResult: who did not train (diverged or collapsed), and exports that keep every run."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from core.__main__ import main
from core.results import ComparisonResult, RunResult
from core.spec import Comparison, Experiment

BASE = Experiment(dataset="digits", n_samples=300, width=16, epochs=4)
CHANCE_10 = math.log(10)


def run_of(e: Experiment, train_loss: list[float], diverged_epoch: int = -1) -> RunResult:
    """A hand-made run of a 10-class dataset: epoch rows, and a summary the trainer would write."""
    epochs = pd.DataFrame(
        {
            "epoch": np.arange(1, len(train_loss) + 1),
            "train_loss": train_loss,
            "val_loss": train_loss,
            "seconds": np.arange(1, len(train_loss) + 1, dtype=float),
        }
    )
    diverged = diverged_epoch >= 1
    summary = {
        "diverged": diverged,
        "diverged_step": 10 * diverged_epoch if diverged else -1,
        "diverged_epoch": diverged_epoch,
        "final_train_loss": math.nan if diverged else train_loss[-1],
        "final_val_loss": math.nan if diverged else train_loss[-1],
        "n_classes": 10,
    }
    return RunResult(e, summary, {"epochs": epochs})


def hand_made() -> ComparisonResult:
    c = Comparison.of(BASE, {"learning_rate": [0.01, 1.0, 100.0]})
    good, dead, wild = c.members()
    runs = [
        run_of(good, [2.0, 1.0, 0.5, 0.3]),
        run_of(dead, [2.4, CHANCE_10, CHANCE_10 * 1.02, CHANCE_10 * 0.99]),  # sat at chance
        run_of(wild, [2.0], diverged_epoch=2),  # finished epoch 1, blew up in epoch 2
    ]
    return ComparisonResult(c, runs)


def test_a_run_at_chance_level_collapsed_and_did_not_train() -> None:
    result = hand_made()
    good, dead, wild = result.runs
    assert not good.collapsed and not good.did_not_train
    assert dead.collapsed and dead.did_not_train and not dead.diverged
    assert wild.did_not_train and not wild.collapsed  # diverged is counted as such, not as collapse
    s = result.summary().set_index("variant")
    assert s["collapsed"].tolist() == [False, True, False]
    assert s["did_not_train"].tolist() == [False, True, True]
    records = {r["variant"]["learning_rate"]: r for r in result.aggregate()}
    assert records[1.0]["diverged"] == 1 and records[1.0]["collapsed"] == 1
    assert records[1.0]["final_val_loss"] is None  # no mean over a run that did not train
    assert records[0.01]["diverged"] == 0 and records[0.01]["final_val_loss"] == 0.3


def test_regression_runs_never_collapse() -> None:
    run = run_of(BASE, [CHANCE_10] * 4)
    run.summary["n_classes"] = 0
    assert not run.collapsed


def test_export_keeps_a_diverged_run_up_to_where_it_stopped() -> None:
    out = hand_made().export_epochs()
    per_run = out.groupby("variant").size().to_dict()
    assert per_run == {"learning_rate=0.01": 4, "learning_rate=1": 4, "learning_rate=100": 2}
    stop = out[out["variant"] == "learning_rate=100"].set_index("epoch")
    assert stop.loc[1, "train_loss"] == 2.0 and math.isnan(stop.loc[2, "train_loss"])
    assert stop["diverged"].all() and out.loc[out["variant"] == "learning_rate=1", "collapsed"].all()
    assert list(out.columns[:4]) == ["key", "variant", "seed", "learning_rate"]


def test_cli_csv_keeps_diverged_runs(tmp_path, capsys) -> None:
    """2 variants x 2 seeds x 8 epochs, one variant diverging: its runs keep the rows up to their
    stop (their diverged_epoch each) instead of vanishing from the CSV."""
    out = tmp_path / "epochs.csv"
    argv = ["compare", "--set", "epochs=8", "--set", "n_samples=300", "--set", "width=16"]
    argv += ["--vary", "learning_rate=0.01,100", "--seeds", "2", "--no-store", "--json", "--out", str(out)]
    assert main(argv) == 0
    records = {r["variant"]["learning_rate"]: r for r in json.loads(capsys.readouterr().out)}
    csv = pd.read_csv(out)
    rows = csv.groupby(["variant", "seed"]).size()
    assert (rows["learning_rate=0.01"] == 8).all()
    wild = csv[csv["variant"] == "learning_rate=100"]
    assert records[100.0]["diverged"] == 2 and wild["seed"].nunique() == 2  # both diverged, both kept
    for _, g in wild.groupby("seed"):
        assert g["diverged"].all() and g["epoch"].tolist() == list(range(1, len(g) + 1))
        assert math.isnan(g["train_loss"].iloc[-1])  # the epoch it stopped in has no metrics
    assert len(csv) > 2 * 8  # before: the diverged variant's runs were missing altogether
