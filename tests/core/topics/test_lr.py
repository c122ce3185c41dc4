"""core.topics.lr on hand-made frames: each reading follows the numbers it is given."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from core import measures
from core.sandbox import Quadratic, paths
from core.topics import lr as topics_lr


def run_frames(losses: dict[str, list[float]], finals: dict[str, float], diverged=()) -> tuple:
    """steps + summary frames for runs named '<variant>|<seed>'."""
    steps, summary = [], []
    for name, values in losses.items():
        variant, seed = name.split("|")
        steps.append(pd.DataFrame({"key": name, "step": np.arange(len(values)), "loss": values}))
        summary.append(
            {
                "key": name,
                "variant": variant,
                "seed": int(seed),
                "diverged": name in diverged,
                "final_train_loss": finals[name],
            }
        )
    return pd.concat(steps, ignore_index=True), pd.DataFrame(summary)


def smooth_descent(start=2.3, end=0.05, n=200, noise=0.02, seed=0) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(np.geomspace(start, end, n) * (1 + noise * rng.standard_normal(n)))


def test_classifies_converging_oscillating_and_diverged_from_their_own_numbers() -> None:
    rng = np.random.default_rng(1)
    wild = list(np.abs(1.0 + 0.8 * rng.standard_normal(200)))  # survives, jumps around
    wild[0] = 2.3
    stuck = [2.3, 2.1, 9.0, 30.0, 6.0] + [2.31] * 195  # blew up, then sat at chance
    slow = list(np.linspace(2.3, 2.2, 200))  # tiny LR: barely moves, but steadily
    steps, summary = run_frames(
        {"a|0": smooth_descent(), "b|0": wild, "c|0": stuck, "d|0": slow, "e|0": [2.3, 50.0]},
        {"a|0": 0.05, "b|0": 0.9, "c|0": 2.31, "d|0": 2.2, "e|0": math.nan},
        diverged={"e|0"},
    )
    runs = topics_lr.classify_runs(steps, summary).set_index("key")
    assert runs.loc["a|0", "status"] == "converging"
    assert runs.loc["b|0", "status"] == "oscillating"
    assert runs.loc["c|0", "status"] == "diverged" and "blew up" in runs.loc["c|0", "reason"]
    assert runs.loc["d|0", "status"] == "converging"
    assert runs.loc["e|0", "status"] == "diverged"
    assert runs.loc["a|0", "volatility"] < 0.15 < runs.loc["b|0", "volatility"]


def test_a_run_collapsed_at_chance_is_diverged_like_on_every_other_page() -> None:
    """No blow-up, no volatility, but stuck at ln 10: core.results marks it collapsed, and the LR
    page must not call it converging while the summary tables count it as not trained."""
    flat = [2.3026] * 200
    steps, summary = run_frames({"x|0": flat, "y|0": flat}, {"x|0": 2.3026, "y|0": 2.3026})
    summary["collapsed"] = [True, False]
    runs = topics_lr.classify_runs(steps, summary).set_index("key")
    assert runs.loc["x|0", "status"] == "diverged" and "chance" in runs.loc["x|0", "reason"]
    assert runs.loc["y|0", "status"] == "converging"


def test_thresholds_move_the_verdict() -> None:
    rng = np.random.default_rng(2)
    mild = list(np.abs(1.0 + 0.25 * rng.standard_normal(100)))
    mild[0] = 2.0
    steps, summary = run_frames({"x|0": mild}, {"x|0": 0.9})
    vol = topics_lr.classify_runs(steps, summary)["volatility"].iloc[0]
    strict = topics_lr.classify_runs(steps, summary, topics_lr.Thresholds(oscillation=vol / 2))
    loose = topics_lr.classify_runs(steps, summary, topics_lr.Thresholds(oscillation=vol * 2))
    assert strict["status"].iloc[0] == "oscillating" and loose["status"].iloc[0] == "converging"


def test_variant_status_is_the_majority_and_ties_go_to_the_worse() -> None:
    runs = pd.DataFrame(
        {
            "key": list("abcde"),
            "variant": ["lr=0.1", "lr=0.1", "lr=1", "lr=1", "lr=1"],
            "seed": [0, 1, 0, 1, 2],
            "status": ["converging", "diverged", "oscillating", "oscillating", "converging"],
            "volatility": [0.05, np.nan, 0.3, 0.4, 0.1],
            "final_loss": [0.1, np.nan, 0.5, 0.6, 0.2],
        }
    )
    v = topics_lr.classify_variants(runs, ["lr=0.1", "lr=1"]).set_index("variant")
    assert v.loc["lr=0.1", "status"] == "diverged"  # 1-1 tie: the worse one
    assert v.loc["lr=1", "status"] == "oscillating" and v.loc["lr=1", "oscillating"] == 2
    assert v.loc["lr=0.1", "final_loss"] == pytest.approx(0.1)  # diverged seed left out
    assert topics_lr.divergence_edge(v.reset_index(), {"lr=0.1": 0.1, "lr=1": 1.0}) == 0.1
    assert topics_lr.divergence_edge(v.reset_index().iloc[1:], {"lr=1": 1.0}) is None


def epochs_frame(curves: dict[str, list[float]]) -> pd.DataFrame:
    parts = []
    for name, values in curves.items():
        variant, seed = name.split("|")
        parts.append(
            pd.DataFrame(
                {
                    "key": name,
                    "variant": variant,
                    "seed": int(seed),
                    "epoch": np.arange(1, len(values) + 1),
                    "train_loss": values,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_epochs_to_target_and_the_lr2_reading() -> None:
    ep = epochs_frame(
        {
            "lr=0.01|0": [1.0, 0.5, 0.3, 0.2, 0.09],
            "lr=0.01|1": [1.0, 0.4, 0.2, 0.08, 0.05],
            "lr=0.1|0": [0.3, 0.09, 0.05, 0.04, 0.03],
            "lr=0.1|1": [0.2, 0.1, 0.05, 0.04, 0.03],
            "lr=0.001|0": [2.0, 1.9, 1.8, 1.7, 1.6],
        }
    )
    per_run = measures.epochs_to_target(ep, 0.1).set_index("key")
    assert per_run.loc["lr=0.01|0", "epochs"] == 5 and per_run.loc["lr=0.1|1", "epochs"] == 2
    assert not per_run.loc["lr=0.001|0", "reached"] and math.isnan(per_run.loc["lr=0.001|0", "epochs"])
    summary = ep.drop_duplicates("key")[["key", "variant", "seed"]]
    values = {"lr=0.001": 0.001, "lr=0.01": 0.01, "lr=0.1": 0.1}
    table = measures.target_table(per_run.reset_index(), summary, list(values), values).set_index("variant")
    assert table.loc["lr=0.01", "epochs"] == 4.5 and table.loc["lr=0.01", "hi"] == 5
    assert table.loc["lr=0.001", "reached"] == 0 and "0 of 1" in table.loc["lr=0.001", "note"]
    assert topics_lr.slower_when_smaller(table.reset_index()) is True
    flipped = table.reset_index().assign(value=[0.001, 0.1, 0.01])  # now the larger LR is slower
    assert topics_lr.slower_when_smaller(flipped) is False


def test_gap_stops_at_the_divergence_edge() -> None:
    summary = pd.DataFrame(
        {
            "key": ["a", "b", "c", "d"],
            "variant": ["lr=0.01", "lr=0.1", "lr=0.3", "lr=1"],
            "seed": 0,
            "learning_rate": [0.01, 0.1, 0.3, 1.0],
            "final_train_loss": [0.01, 0.05, 0.2, 2.30],
            "final_val_loss": [0.30, 0.25, 0.30, 2.31],
        }
    )
    runs = pd.DataFrame(
        {"key": list("abcd"), "status": ["converging", "converging", "oscillating", "diverged"]}
    )
    gaps = topics_lr.gap_to_edge(summary, runs, "learning_rate", edge=1.0).set_index("key")
    assert list(gaps["included"]) == [True, True, True, False]
    assert gaps.loc["a", "gap"] == pytest.approx(0.29)
    assert topics_lr.gap_trend(gaps.reset_index(), "learning_rate") == pytest.approx(-1.0)
    everything = topics_lr.gap_to_edge(summary, runs.assign(status="converging"), "learning_rate", None)
    assert everything["included"].all()


def test_range_frames_and_trial_lrs() -> None:
    result = SimpleNamespace(
        lrs=[1e-4, 1e-3, 1e-2, 1e-1],
        losses=[2.3, 2.0, 1.0, 1.5],
        smoothed=[2.3, 2.1, 1.2, 1.3],
        suggestions={"steepest": 1e-2, "valley": 1e-3, "minimum": 1e-3},
        stopped_early=True,
    )
    curves, sugg = topics_lr.range_frames([SimpleNamespace(result=result)], ["base"])
    assert list(curves.columns[:4]) == ["run", "lr", "loss", "smoothed"] and len(curves) == 4
    assert set(sugg["name"]) == {"steepest", "valley", "minimum"} and sugg["stopped_early"].all()
    assert sugg.set_index("name").loc["steepest", "loss"] == pytest.approx(1.2)
    assert topics_lr.trial_lrs(0.012345) == (0.0012, 0.012, 0.12)
    with pytest.raises(ValueError):
        topics_lr.round_lr(0.0)


def test_best_variant_ignores_diverged_seeds() -> None:
    summary = pd.DataFrame(
        {
            "variant": ["x", "x", "y", "y"],
            "diverged": [False, True, False, False],
            "final_val_loss": [0.1, np.nan, 0.2, 0.3],
        }
    )
    best, agg = topics_lr.best_variant(summary)
    assert best == "x" and agg.set_index("variant").loc["x", "diverged"] == 1
    assert topics_lr.best_variant(summary.assign(diverged=True))[0] is None


def test_sandbox_table_and_swing_grow_with_lr_without_momentum() -> None:
    q = Quadratic(condition=20.0, rotation_deg=30.0)
    df = paths(q, ["sgd", "momentum"], 1.5, 0.9, steps=300, tol=1e-6)
    table = topics_lr.sandbox_table(df, q, 1e-6).set_index("optimizer")
    assert table.loc["momentum", "steps_to_tol"] is not None
    assert table.loc["momentum", "crossings"] > table.loc["sgd", "crossings"]  # same α: more zig-zag
    sweep = topics_lr.oscillation_sweep(q, [0.5, 1.2, 1.6, 1.9, 2.5], [0.0], steps=100)
    across = sweep.set_index("lr")["across"]
    assert across[0.5] == pytest.approx(1.0, rel=1e-3)  # no overshoot: straight across
    assert across[1.2] < across[1.6] < across[1.9]  # MO2 without momentum
    assert across[1.6] == pytest.approx(1.6 / (2 - 1.6), rel=1e-2)  # the closed form
    assert sweep.set_index("lr").loc[2.5, "diverged"] and math.isinf(across[2.5])


def test_best_per_row_and_decay_table() -> None:
    rows = []
    for n, best in ((200, 1e-2), (2000, 1e-4)):
        for wd in (0.0, 1e-4, 1e-2):
            for seed in (0, 1):
                loss = 0.5 + abs(math.log10(wd + 1e-6) - math.log10(best)) * 0.1 + seed * 0.001
                rows.append(
                    {
                        "n_samples": n,
                        "weight_decay": wd,
                        "seed": seed,
                        "final_val_loss": loss,
                        "diverged": False,
                    }
                )
    best = topics_lr.best_per_row(pd.DataFrame(rows), "weight_decay", "n_samples").set_index("n_samples")
    assert best.loc[200, "best_weight_decay"] == 1e-2 and best.loc[2000, "best_weight_decay"] == 1e-4
    assert best.loc[200, "runner_up_gap"] > 0

    summary = pd.DataFrame(
        {
            "key": list("abcd"),
            "weight_decay": [0, 0.01, 0, 0.01],
            "l2": [0, 0, 0.005, 0.005],
            "final_val_loss": [0.3, 0.2, 0.25, 0.22],
            "final_train_loss": [0.01, 0.05, 0.04, 0.06],
        }
    )
    weights = pd.DataFrame(
        {"key": list("aabbccdd"), "epoch": [1, 2] * 4, "weight_norm": [9, 10, 9, 5, 9, 6, 9, 4]}
    )
    table = topics_lr.decay_table(summary, weights, "adam").set_index("method")
    assert list(table.index) == ["none", "decoupled weight decay", "L2 penalty", "both"]
    assert table.loc["decoupled weight decay", "weight_norm"] == 5 and (table["optimizer"] == "adam").all()
