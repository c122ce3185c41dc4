"""The command line is a contract: names, JSON keys and exit codes are relied upon."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from core.__main__ import main
from tests.conftest import ROOT

COMPARE_KEYS = {
    "variant", "seeds", "final_train_loss", "final_val_loss", "final_train_accuracy", "final_val_accuracy",
    "diverged", "grad_norm_first_layer", "grad_norm_last_layer", "weight_sparsity", "seconds",
}  # fmt: skip
TINY = ["--set", "epochs=2", "--set", "n_samples=300", "--set", "width=16"]


def test_compare_json_contract(capsys, tmp_path):
    out = tmp_path / "epochs.csv"
    code = main(
        ["compare", *TINY, "--vary", "learning_rate=0.01,100", "--seeds", "2", "--json", "--out", str(out)]
    )
    assert code == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["variant"] for r in records] == [{"learning_rate": 0.01}, {"learning_rate": 100.0}]
    for r in records:
        assert set(r) == COMPARE_KEYS
        assert r["seeds"] == 2
    sane, wild = records
    assert sane["diverged"] == 0 and 0 < sane["final_val_loss"] < 5
    assert wild["diverged"] == 2 and wild["final_val_loss"] is None  # no fake number for diverged runs
    csv = pd.read_csv(out)
    assert {"variant", "seed", "epoch", "train_loss", "val_loss"} <= set(csv.columns)
    assert len(csv[csv["variant"] == "learning_rate=0.01"]) == 2 * 2  # 2 seeds x 2 epochs


def test_compare_cartesian_product_and_table(capsys):
    assert main(["compare", *TINY, "--vary", "learning_rate=0.01,0.1", "--vary", "dropout=0,0.5"]) == 0
    text = capsys.readouterr().out
    for label in ("learning_rate=0.01, dropout=0", "learning_rate=0.1, dropout=0.5"):
        assert label in text


def test_lr_find_json_contract(capsys):
    assert main(["lr-find", "--set", "n_samples=400", "--set", "width=16", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record) == {"lrs", "losses", "smoothed", "suggestions", "stopped_early"}
    assert set(record["suggestions"]) == {"steepest", "valley", "minimum"}
    lo, hi = min(record["lrs"]), max(record["lrs"])
    assert all(lo <= v <= hi for v in record["suggestions"].values())
    assert len(record["lrs"]) == len(record["losses"]) == len(record["smoothed"])


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["compare", "--set", "width=0"], "width"),
        (["compare", "--set", "activation=swish"], "activation"),
        (["compare", "--set", "batch_norm=sideways"], "batch_norm"),
        (["compare", "--set", "learning_rate=-1"], "learning_rate"),
        (["compare", "--dataset", "imagenet"], "dataset"),
        (["compare", "--set", "colour=red"], "colour"),
        (["compare", "--vary", "width=8,2000"], "width"),
        (["compare", "--set", "dropout=1"], "dropout"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and needle in err[0]


def test_bad_input_from_the_shell_has_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "core", "compare", "--set", "width=0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "width" in proc.stderr
    assert "tensorflow" not in proc.stderr.lower()  # refused before anything heavy was loaded


def test_claim_json_contract(capsys):
    assert main(["claim", "MO2", "--json"]) == 0  # decided in the NumPy sandbox: no training
    record = json.loads(capsys.readouterr().out)
    assert set(record) == {"id", "dataset", "verdict", "numbers", "sentence"}
    assert record["id"] == "MO2" and record["dataset"] == "digits"
    assert record["verdict"] in ("holds", "does not hold", "inconclusive")
    assert record["numbers"] and record["sentence"].startswith(record["verdict"])


def test_unknown_claim_lists_the_ids(capsys):
    assert main(["claim", "XX9"]) == 2
    err = capsys.readouterr().err
    assert "XX9" in err and "LR1" in err and "WVD2" in err
