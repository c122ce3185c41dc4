"""`python -m core landscape`: the JSON contract of issue 16, and runs stored before weights were
kept (retrained once, their numbers unchanged)."""

from __future__ import annotations

import json

from core.__main__ import main
from core.runner import run_comparison
from core.spec import Comparison, Experiment
from core.store import RunStore
from core.weights import weights_of

TINY = ["--set", "epochs=3", "--set", "n_samples=300", "--set", "width=16"]


def test_landscape_json_contract(capsys) -> None:
    code = main(["landscape", *TINY, "--vary", "batch_size=16,128", "--json", "--no-store"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    curve = out["interpolation"]
    assert (
        {"alphas", "train_loss", "val_loss"} <= set(curve)
        and 0.0 in curve["alphas"]
        and 1.0 in curve["alphas"]
    )
    assert len(curve["train_loss"]) == len(curve["alphas"]) == len(curve["val_loss"])
    assert {"offsets", "train_loss"} <= set(out["slice"]) and 0.0 in out["slice"]["offsets"]
    grid = out["slice2d"]["train_loss"]
    assert len(grid) == len(out["slice2d"]["offsets"]) == len(grid[0])
    assert isinstance(out["sharpness"], float)
    assert [r["variant"] for r in out["runs"]] == ["batch_size=16", "batch_size=128"]
    assert (
        out["between"]["from"]["variant"] == "batch_size=16"
        and out["between"]["to"]["variant"] == "batch_size=128"
    )
    # the line from run 0 starts at run 0's own final train loss
    assert (
        out["between"]["train_loss"][out["between"]["alphas"].index(0.0)]
        == curve["train_loss"][curve["alphas"].index(1.0)]
    )


def test_a_bad_member_exits_2_before_training(capsys) -> None:
    assert main(["landscape", *TINY, "--member", "5", "--no-store"]) == 2
    assert "--member" in capsys.readouterr().err


def test_runs_stored_without_weights_are_retrained_once(tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("WHATIF_STORE", str(path))
    comparison = Comparison.of(Experiment(epochs=3, n_samples=300, width=16), {}, 1)
    store = RunStore(path)
    before = run_comparison(comparison, store).runs[0]
    store._conn().execute("DELETE FROM weights")  # as a store written before weights were kept
    assert weights_of(store.get(before.key)) is None
    assert main(["landscape", *TINY, "--no-2d", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "slice2d" not in out
    assert weights_of(store.get(before.key)) is not None
    assert store.get(before.key).summary["final_train_loss"] == before.summary["final_train_loss"]
