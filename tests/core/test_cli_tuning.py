"""`compare --tune-lr`: the JSON contract of tuned rows and the one-line refusal of a bad grid."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.__main__ import main
from tests.core.test_cli import COMPARE_KEYS, TINY

TUNED_KEYS = {
    "tuned_learning_rate", "grid", "edge", "widen_grid", "select_val_loss", "report_val_loss",
    "report_val_accuracy", "held_out",
}  # fmt: skip
GRID = [0.01, 0.1, 1.0]


def test_compare_tune_lr_json_contract(capsys, tmp_path):
    out = tmp_path / "epochs.csv"
    argv = ["compare", *TINY, "--vary", "optimizer=momentum,adam", "--seeds", "2"]
    code = main([*argv, "--tune-lr", ",".join(map(str, GRID)), "--json", "--out", str(out)])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["variant"] for r in rows] == [{"optimizer": "momentum"}, {"optimizer": "adam"}]
    for r in rows:
        assert set(r) == COMPARE_KEYS | TUNED_KEYS
        assert r["grid"] == GRID and r["seeds"] == 2 and r["held_out"] is True
        assert r["tuned_learning_rate"] in GRID
        assert r["widen_grid"] == (r["tuned_learning_rate"] in (GRID[0], GRID[-1]))
        assert r["edge"] == {GRID[0]: "lowest", GRID[-1]: "highest"}.get(r["tuned_learning_rate"])
        assert r["diverged"] == 0 and r["final_val_loss"] is not None  # the chosen rate trained
    csv = pd.read_csv(out)  # every run of the grid, with its rate as a column
    assert sorted(set(csv["learning_rate"])) == GRID and set(csv["seed"]) == {0, 1}


def test_compare_tune_lr_table_replays(capsys):
    argv = ["compare", *TINY, "--vary", "optimizer=momentum,adam", "--seeds", "2", "--tune-lr", "0.01,0.1,1"]
    assert main(argv) == 0  # the JSON test above stored these runs (same test store)
    text = capsys.readouterr().out
    assert "tuned lr" in text and "report loss" in text and "optimizer=adam" in text


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--tune-lr", "0.1"], "at least 3"),
        (["--tune-lr", "0.1,0.1,0.1"], "at least 3"),
        (["--tune-lr", "0.01,fast,1"], "not a number"),
        (["--tune-lr", "0.01,-0.1,1"], "positive"),
        (["--tune-lr", "0.01,nan,1"], "positive"),
        (["--vary", "learning_rate=0.1,1", "--tune-lr", "0.01,0.1,1"], "varies learning_rate"),
        (["--vary", "width=4,8,16,32", "--seeds", "5", "--tune-lr", "0.01,0.1,1,3"], "limit"),
    ],
)
def test_bad_grid_exits_2_with_one_line(extra, needle, capsys):
    assert main(["compare", *TINY, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and needle in err[0]


def test_claim_tune_lr_refuses_an_untunable_claim(capsys):
    assert main(["claim", "LR1", "--tune-lr"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be LR-tuned" in err[0]
