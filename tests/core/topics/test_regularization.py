"""core.topics.regularization on hand-made frames and specs: each number follows its inputs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from core import measures
from core.spec import Comparison, Experiment
from core.topics import regularization as tr

BASE = Experiment(n_samples=300, width=16, epochs=3)


# -- variant sets of the regularization page ----------------------------------------------------------------
def test_regularization_set_builds_five_labelled_variants_that_stack_in_one_group() -> None:
    vs = tr.regularization_set(
        dataclasses.replace(BASE, l2=0.5, dropout=0.2), l1=1e-3, l2=1e-2, dropout=0.3, seeds=2
    )
    assert vs.labels == ["none", "L1", "L2", "L1+L2", "dropout"]
    knobs = {label: (e.l1, e.l2, e.dropout) for label, e in vs.named}
    assert knobs == {"none": (0, 0, 0), "L1": (1e-3, 0, 0), "L2": (0, 1e-2, 0), "L1+L2": (1e-3, 1e-2, 0),
                     "dropout": (0, 0, 0.3)}  # fmt: skip
    assert vs.n_members == 10 and [m.seed for m in vs.members()[:2]] == [0, 1]
    assert len({m.group_key for m in vs.members()}) == 1  # per-member knobs only: one stacked model
    assert set(vs.varied) == {"l1", "l2", "dropout"}


def test_zero_strength_variants_are_left_out_instead_of_duplicating_none() -> None:
    assert tr.regularization_set(BASE, 0.0, 1e-3, 0.0, 1).labels == ["none", "L2"]


# -- batch size ----------------------------------------------------------------------------------
def test_full_batch_is_the_training_split() -> None:
    assert tr.full_batch(1000, 0.2) == 800
    assert tr.full_batch(301, 0.2) == 241


def test_linear_rule_scales_lr_from_the_baseline_batch_and_keeps_labels() -> None:
    c = Comparison.of(dataclasses.replace(BASE, n_samples=1000, batch_size=32, learning_rate=0.1),
                      {"batch_size": (8, 32, 128, 5000)}, seeds=2)  # fmt: skip
    vs = tr.lr_scaled(c)
    rates = {label: e.learning_rate for label, e in vs.named}
    assert rates == pytest.approx(
        {"batch_size=8": 0.025, "batch_size=32": 0.1, "batch_size=128": 0.4, "batch_size=5000": 2.5}
    )  # 5000 is clamped to the 800 training rows, and so is its rate
    assert vs.n_members == 8 and set(vs.varied) == {"batch_size", "learning_rate"}


def epochs_frame(seconds: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for key, values in seconds.items():
        variant, seed = key.split("|")
        for i, s in enumerate(values, start=1):
            rows.append({"key": key, "variant": variant, "seed": int(seed), "epoch": i, "seconds": s,
                         "val_accuracy": min(1.0, 0.3 * i), "val_loss": 1.0 / i})  # fmt: skip
    return pd.DataFrame(rows)


def test_epoch_times_take_the_compile_out_of_the_first_epoch() -> None:
    ep = epochs_frame({"a|0": [5.0, 5.1, 5.2, 5.35], "b|0": [0.4]})
    t = measures.epoch_times(ep).set_index("key")
    assert t.loc["a|0", "time_per_epoch"] == pytest.approx(0.1)
    assert t.loc["a|0", "overhead"] == pytest.approx(4.9)
    # one epoch has no epoch-to-epoch difference: NaN (core.measures' rule, shared with the claims),
    # not the first epoch's compile-laden time; and no overhead is taken off its clock
    assert math.isnan(t.loc["b|0", "time_per_epoch"]) and t.loc["b|0", "overhead"] == 0
    clock = tr.training_clock(ep)
    assert clock.loc[clock["key"] == "a|0", "seconds"].tolist() == pytest.approx([0.1, 0.2, 0.3, 0.45])
    assert measures.epoch_times(pd.DataFrame()).empty


def test_with_steps_counts_optimizer_steps_per_run() -> None:
    ep = epochs_frame({"small|0": [1, 2], "large|0": [1, 2]})
    summary = pd.DataFrame({"key": ["small|0", "large|0"], "steps_per_epoch": [100, 1]})
    assert tr.with_steps(ep, summary)["step"].tolist() == [100, 200, 1, 2]


def test_seed_spread_ignores_diverged_seeds_and_counts_them() -> None:
    summary = pd.DataFrame({
        "variant": ["a"] * 3 + ["b"] * 3,
        "final_val_accuracy": [0.9, 0.92, 0.94, 0.5, 0.9, math.nan],
        "diverged": [False, False, False, False, False, True],
    })  # fmt: skip
    s = tr.seed_spread(summary, "final_val_accuracy", order=["b", "a"]).set_index("variant")
    assert list(s.index) == ["b", "a"]
    assert s.loc["a", "range"] == pytest.approx(0.04) and s.loc["a", "std"] == pytest.approx(0.02)
    assert (
        s.loc["b", "seeds"] == 2 and s.loc["b", "diverged"] == 1 and s.loc["b", "range"] == pytest.approx(0.4)
    )


def test_batch_table_reads_steps_update_norms_and_noise() -> None:
    summary = pd.DataFrame({
        "key": ["small|0", "large|0"], "variant": ["small", "large"], "seed": [0, 0], "batch_size_used": [8, 512],
        "steps_per_epoch": [100, 2], "final_train_loss": [0.1, 0.3], "final_val_loss": [0.3, 0.4],
        "final_val_accuracy": [0.9, 0.8], "diverged": [False, False], "learning_rate": [0.1, 0.1],
    })  # fmt: skip
    steps = pd.DataFrame({
        "key": ["small|0"] * 4 + ["large|0"] * 4, "variant": ["small"] * 4 + ["large"] * 4, "seed": 0,
        "epoch": 1, "update_norm": [0.1, 0.3, 0.1, 0.3, 0.5, 0.5, 0.5, np.nan],
    })  # fmt: skip
    t = tr.batch_table(summary, epochs_frame({"small|0": [1, 2], "large|0": [1, 1.5]}), steps).set_index(
        "variant"
    )
    assert t.loc["small", "update_norm"] == pytest.approx(0.2) and t.loc[
        "large", "update_norm"
    ] == pytest.approx(0.5)
    assert t.loc["large", "update_noise"] == pytest.approx(0.0) and t.loc["small", "update_noise"] > 0.5
    assert t.loc["small", "update_per_epoch"] == pytest.approx(20.0)
    assert t.loc["large", "time_per_epoch"] == pytest.approx(0.5)
    assert t.loc["small", "generalization_gap"] == pytest.approx(0.2)
    unvaried = tr.batch_table(summary.drop(columns="learning_rate"), pd.DataFrame(), steps)
    assert "learning_rate" not in unvaried and math.isnan(unvaried["time_per_epoch"].iloc[0])
    norms = tr.update_norm_by_epoch(steps)
    assert norms.set_index("key")["update_norm"].to_dict() == pytest.approx({"small|0": 0.2, "large|0": 0.5})


# -- regularization cost -------------------------------------------------------------------------
def cost_summary(times: dict[str, list[float]], group_size: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, seconds = [], {}
    for variant, per_epoch in times.items():
        for seed, t in enumerate(per_epoch):
            key = f"{variant}|{seed}"
            rows.append({"key": key, "variant": variant, "seed": seed, "group_size": group_size})
            seconds[key] = [3.0 + t * i for i in range(4)]
    return pd.DataFrame(rows), epochs_frame(seconds)


def test_cost_finding_holds_only_beyond_the_run_to_run_spread() -> None:
    summary, ep = cost_summary({"none": [0.10, 0.11], "L1": [0.20, 0.21], "L2": [0.10, 0.12]})
    table = tr.cost_table(summary, ep)
    assert table["alone"].all()
    assert table.set_index("key").loc["L1|0", "relative"] == pytest.approx(0.2 / 0.105)
    assert tr.cost_finding(table)["outcome"] == "holds"
    same, ep = cost_summary({"none": [0.1], "L1": [0.1, 0.102], "L2": [0.1, 0.101]})
    finding = tr.cost_finding(tr.cost_table(same, ep))
    assert finding["outcome"] == "does not hold" and "ratio 1.00" in finding["sentence"]
    mixed, ep = cost_summary({"none": [0.1], "L1": [0.1, 0.2], "L2": [0.09, 0.11]})
    assert tr.cost_finding(tr.cost_table(mixed, ep))["outcome"] == "inconclusive"


def test_stacked_runs_are_not_used_as_timings() -> None:
    summary, ep = cost_summary({"none": [0.1], "L1": [0.3], "L2": [0.1]}, group_size=3)
    table = tr.cost_table(summary, ep)
    assert not table["alone"].any()
    assert tr.cost_finding(table)["outcome"] == "inconclusive"


def test_cost_set_is_none_l1_l2_without_dropout() -> None:
    vs = tr.cost_set(dataclasses.replace(BASE, dropout=0.5), 1e-3, 1e-2, seeds=3)
    assert vs.labels == ["none", "L1", "L2"] and all(e.dropout == 0 for _, e in vs.named)


# -- batch normalization -------------------------------------------------------------------------
def lr_runs(rows: list[tuple[str, float, int, float, bool]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(arm, lr, seed, final train loss, diverged) -> summary, steps (first loss 2.3)."""
    columns = ["batch_norm", "learning_rate", "seed", "final_train_loss", "diverged"]
    summary = pd.DataFrame(rows, columns=columns)
    summary.insert(0, "key", [f"{a}|{lr}|{s}" for a, lr, s, *_ in rows])
    steps = pd.DataFrame({"key": summary["key"], "step": 0, "loss": 2.3})
    return summary, steps


def test_largest_stable_lr_needs_every_seed_to_train() -> None:
    summary, steps = lr_runs([
        ("none", 0.1, 0, 0.2, False), ("none", 0.1, 1, 0.3, False),
        ("none", 1.0, 0, 0.2, False), ("none", 1.0, 1, np.nan, True),  # one seed blew up
        ("before", 0.1, 0, 0.2, False), ("before", 0.1, 1, 0.2, False),
        ("before", 1.0, 0, 0.4, False), ("before", 1.0, 1, 0.5, False),
        ("before", 10.0, 0, 2.3, False), ("before", 10.0, 1, 2.2, False),  # stuck at chance: not stable
    ])  # fmt: skip
    stability = tr.lr_stability(summary, steps)
    edges = tr.stable_edges(stability).set_index("batch_norm")
    assert edges.loc["none", "largest_stable_lr"] == 0.1 and edges.loc["none", "first_unstable_lr"] == 1.0
    assert (
        edges.loc["before", "largest_stable_lr"] == 1.0 and edges.loc["before", "first_unstable_lr"] == 10.0
    )
    nothing, steps = lr_runs([("none", 1.0, 0, np.nan, True)])
    assert math.isnan(tr.stable_edges(tr.lr_stability(nothing, steps))["largest_stable_lr"].iloc[0])


def test_init_spread_is_range_of_per_init_means_and_infinite_when_one_diverged() -> None:
    summary = pd.DataFrame({
        "batch_norm": ["none"] * 4 + ["before"] * 4,
        "init": ["small", "small", "large", "large"] * 2,
        "final_val_loss": [0.5, 0.7, 2.0, 2.2, 0.3, 0.3, 0.35, np.nan],
        "diverged": [False] * 7 + [True],
    })  # fmt: skip
    s = tr.init_spread(summary).set_index("batch_norm")
    assert s.loc["none", "spread"] == pytest.approx(1.5) and s.loc["none", "worst_init"] == "large"
    assert s.loc["none", "best_init"] == "small" and s.loc["none", "diverged"] == 0
    assert s.loc["before", "spread"] == pytest.approx(0.05)  # one large seed survived
    summary.loc[6, "diverged"] = True
    s = tr.init_spread(summary).set_index("batch_norm")
    assert math.isinf(s.loc["before", "spread"]) and s.loc["before", "worst_init"] == "large"


def test_gaps_is_val_minus_train_loss() -> None:
    g = measures.with_gaps(pd.DataFrame({"final_val_loss": [0.5, np.nan], "final_train_loss": [0.2, 0.1]}))
    assert g["generalization_gap"].iloc[0] == pytest.approx(0.3) and math.isnan(
        g["generalization_gap"].iloc[1]
    )
