"""The command line is a contract: names, JSON keys and exit codes are relied upon."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from core.__main__ import INTERRUPTED, main
from core.data.upload import MAX_CSV_COLUMNS
from tests.conftest import ROOT

COMPARE_KEYS = {
    "variant", "seeds", "final_train_loss", "final_val_loss", "final_train_accuracy", "final_val_accuracy",
    "diverged", "collapsed", "grad_norm_first_layer", "grad_norm_last_layer", "weight_sparsity", "seconds",
}  # fmt: skip
STARTUP_S = 12  # TensorFlow's import and the first epochs: Ctrl-C lands mid-training
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
        (["compare", "--vary", "width=8", "--vary", "width=16"], "width is given twice"),
        (["compare", "--set", "width=8", "--set", "width=16"], "width is given twice"),
        (["compare", "--label", "y"], "--label needs --csv"),
        (["compare", "--csv", "/no/such/file.csv", "--label", "y"], "no such file"),
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
    assert {"id", "dataset", "verdict", "numbers", "sentence", "test", "effect", "ci"} <= set(record)
    assert record["id"] == "MO2" and record["dataset"] == "digits"
    assert record["verdict"] in ("holds", "does not hold", "inconclusive")
    assert record["numbers"] and record["sentence"].startswith("On digits")
    assert record["verdict"] not in record["sentence"]  # the badge says it, the sentence does not
    assert {"p_value", "seeds", "margin", "unit"} <= set(record)


def test_unknown_claim_lists_the_ids(capsys):
    assert main(["claim", "XX9"]) == 2
    err = capsys.readouterr().err
    assert "XX9" in err and "LR1" in err and "WVD2" in err


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if anything starts training: refusals must come first."""
    import core.runner

    def refuse(*args, **kwargs):
        raise AssertionError("trained before refusing")

    monkeypatch.setattr(core.runner, "run_comparison", refuse)


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_out_is_checked_before_training(where, tmp_path, capsys, no_training):
    out = tmp_path / "nope" / "epochs.csv" if where == "missing folder" else tmp_path
    assert main(["compare", *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --out")


def test_bench_with_zero_epochs_errors_before_its_header(capsys):
    assert main(["bench", "--epochs", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: --epochs")


def test_ctrl_c_exits_with_one_line(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "WHATIF_STORE": str(tmp_path / "runs.sqlite")}
    argv = [sys.executable, "-m", "core", "compare", "--set", "epochs=200", "--set", "n_samples=1500"]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    time.sleep(STARTUP_S)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == INTERRUPTED, err[-2000:]
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("interrupted")] == [err.splitlines()[-1]]


def csv_file(tmp_path, columns: int, rows: int = 40):
    head = ",".join(f"f{j}" for j in range(columns)) + ",label\n"
    body = "".join(",".join(str((i * j) % 7) for j in range(columns)) + f",{i % 2}\n" for i in range(rows))
    path = tmp_path / f"data{columns}.csv"
    path.write_text(head + body)
    return path


def test_compare_on_the_users_csv(tmp_path, capsys):
    path = csv_file(tmp_path, 4)
    assert main(["compare", "--csv", str(path), "--label", "label", *TINY, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["seeds"] == 1


@pytest.mark.parametrize(
    "columns, extra, needle",
    [
        (MAX_CSV_COLUMNS + 1, [], f"the limit is {MAX_CSV_COLUMNS:,}"),  # the app's column cap
        (MAX_CSV_COLUMNS - 1, ["--set", "width=1024", "--seeds", "32"], "needs about"),  # memory guard
    ],
)
def test_the_users_csv_goes_through_the_apps_caps(tmp_path, capsys, no_training, columns, extra, needle):
    path = csv_file(tmp_path, columns, rows=40)
    assert main(["compare", "--csv", str(path), "--label", "label", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err
