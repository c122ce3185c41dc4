"""core.measures on hand-made frames: each measurement and the edge cases it decides for everyone."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import measures as m


def epochs_frame(curves: dict[str, list[float]], metric: str = "train_loss") -> pd.DataFrame:
    """key "variant|seed" -> metric per epoch (1-based), seconds = 1 + 0.5 x epoch."""
    rows = []
    for key, values in curves.items():
        variant, seed = key.split("|")
        for i, v in enumerate(values, start=1):
            rows.append(
                {
                    "key": key,
                    "variant": variant,
                    "seed": int(seed),
                    "epoch": i,
                    metric: v,
                    "seconds": 1.0 + 0.5 * i,
                }
            )
    return pd.DataFrame(rows)


def summary_of(keys: list[str], failed: set[str] = frozenset()) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": keys,
            "variant": [k.split("|")[0] for k in keys],
            "seed": [int(k.split("|")[1]) for k in keys],
            "diverged": [k in failed for k in keys],
        }
    )


# -- epochs to target ----------------------------------------------------------------------------
def test_epochs_to_target_per_run_and_the_table() -> None:
    ep = epochs_frame({"a|0": [1.0, 0.5, 0.09], "a|1": [1.0, 0.08, 0.05], "b|0": [2.0, 1.9, 1.8]})
    per_run = m.epochs_to_target(ep, 0.1).set_index("key")
    assert per_run.loc["a|0", "epochs"] == 3 and per_run.loc["a|1", "epochs"] == 2
    assert not per_run.loc["b|0", "reached"] and math.isnan(per_run.loc["b|0", "epochs"])
    table = m.target_table(per_run.reset_index(), order=["b", "a"]).set_index("variant")
    assert list(table.index) == ["b", "a"]
    assert table.loc["a", "epochs"] == 2.5 and table.loc["a", "lo"] == 2 and table.loc["a", "hi"] == 3
    assert table.loc["b", "reached"] == 0 and "0 of 1" in table.loc["b", "note"]


def test_accuracy_targets_are_reached_from_below() -> None:
    ep = epochs_frame({"a|0": [0.3, 0.6, 0.9]}, metric="val_accuracy")
    per_run = m.epochs_to_target(ep, 0.6, "val_accuracy", lower_is_better=False)
    assert per_run["epochs"].iloc[0] == 2


def test_a_run_that_did_not_train_never_reaches_the_target() -> None:
    # c|0 touched the target in epoch 2 and then blew up; d|0 blew up before its first epoch end
    ep = epochs_frame({"c|0": [1.0, 0.05], "a|0": [1.0, 0.05, 0.04]})
    summary = summary_of(["a|0", "c|0", "d|0"], failed={"c|0", "d|0"})
    per_run = m.epochs_to_target(ep, 0.1, summary=summary).set_index("key")
    assert per_run.loc["a|0", "reached"] and per_run.loc["a|0", "epochs"] == 2
    assert not per_run.loc["c|0", "reached"] and not per_run.loc["d|0", "reached"]
    table = m.target_table(per_run.reset_index(), summary).set_index("variant")
    assert table.loc["d", "seeds"] == 1 and table.loc["d", "reached"] == 0


def test_censoring_puts_never_at_one_past_the_end() -> None:
    per_run = pd.DataFrame({"epochs": [3.0, math.nan], "reached": [True, False]})
    assert m.censored_epochs(per_run, 8).tolist() == [3.0, 9.0]


def test_mean_over_seeds_waits_for_every_seed() -> None:
    ep = epochs_frame({"a|0": [1.0, 0.05, 0.04, 0.03], "a|1": [1.0, 0.5, 0.2, 0.05]})
    mean, per_seed = m.epochs_to_target_over_seeds(ep, 0.1, "train_loss", True, 4)
    assert per_seed == {0: 2, 1: 4} and mean == 4  # mean curve: 1.0, 0.275, 0.12, 0.04
    # a seed that stopped (diverged) after epoch 2 keeps the mean from ever arriving
    short = ep[~((ep["key"] == "a|1") & (ep["epoch"] > 2))]
    mean, per_seed = m.epochs_to_target_over_seeds(short, 0.1, "train_loss", True, 4)
    assert mean is None and per_seed[1] is None
    # and a seed flagged as not trained counts as not reached even where its curve got there
    failed = summary_of(["a|0", "a|1"], failed={"a|0"})
    _, per_seed = m.epochs_to_target_over_seeds(ep, 0.1, "train_loss", True, 4, summary=failed)
    assert per_seed[0] is None and per_seed[1] == 4


# -- gaps, times, parameters ------------------------------------------------------------------------
def test_generalization_and_accuracy_gaps() -> None:
    s = pd.DataFrame(
        {
            "final_val_loss": [0.5, np.nan],
            "final_train_loss": [0.2, 0.1],
            "final_train_accuracy": [1.0, 0.9],
            "final_val_accuracy": [0.8, 0.9],
        }
    )
    g = m.with_gaps(s)
    assert g["generalization_gap"].iloc[0] == pytest.approx(0.3) and math.isnan(
        g["generalization_gap"].iloc[1]
    )
    assert g["accuracy_gap"].tolist() == pytest.approx([0.2, 0.0])
    assert "generalization_gap" not in m.with_gaps(pd.DataFrame({"x": [1]}))


def test_epoch_time_is_the_median_after_the_first_and_nan_for_one_epoch() -> None:
    ep = pd.DataFrame(
        {
            "key": ["a"] * 4 + ["b"],
            "variant": "v",
            "seed": 0,
            "epoch": [1, 2, 3, 4, 1],
            "seconds": [5.0, 5.1, 5.2, 9.0, 0.4],
        }
    )
    t = m.epoch_times(ep).set_index("key")
    assert t.loc["a", "time_per_epoch"] == pytest.approx(0.1)  # the 3.8 s hiccup is ignored
    assert t.loc["a", "overhead"] == pytest.approx(4.9)
    assert math.isnan(t.loc["b", "time_per_epoch"]) and t.loc["b", "overhead"] == 0
    assert m.seconds_per_epoch(ep)["a"] == pytest.approx(0.1)
    assert m.epoch_times(pd.DataFrame()).empty


def test_parameter_count() -> None:
    # 4 -> 3 -> 3 -> 2: (4*3+3) + (3*3+3) + (3*2+2) = 35; batch norm adds 2 x 3 per hidden layer
    assert m.n_params(4, 2, 3, 2) == 35
    assert m.n_params(4, 2, 3, 2, batch_norm="before") == m.n_params(4, 2, 3, 2, True) == 47
    assert m.n_params(4, 2, 3, 2, batch_norm="none", residual=True) == 35


# -- loss shape ---------------------------------------------------------------------------------------
def test_initial_loss_and_volatility() -> None:
    steps = pd.DataFrame(
        {"key": ["a"] * 4 + ["b"] * 2, "step": [1, 0, 2, 3, 0, 1], "loss": [2.0, 2.4, 1.0, 3.0, np.nan, 5.0]}
    )
    first = m.initial_loss(steps)
    assert first["a"] == 2.4 and math.isnan(first["b"])  # b blew up on its first batch
    assert m.mean_initial_loss(steps) == 2.4
    # a in step order: 2.4, 2.0, 1.0, 3.0 -> changes -0.4, -1.0, 2.0
    assert m.volatility([2.4, 2.0, 1.0, 3.0]) == pytest.approx(np.std([-0.4, -1.0, 2.0]))
    assert m.volatility_by_run(steps)["a"] == pytest.approx(np.std([-0.4, -1.0, 2.0]))
    assert m.relative_volatility([2.4, 2.0, 1.0, 3.0]) == pytest.approx(np.std([-0.4, -1.0, 2.0]) / 2.4)
    assert math.isnan(m.volatility([1.0, 2.0]))  # one change has no spread to speak of


def test_round_lr_names_a_stable_run() -> None:
    assert m.round_lr(0.0231847) == m.round_lr(0.0231849) == 0.023
    with pytest.raises(ValueError):
        m.round_lr(0.0)


def test_ordering_of_variants() -> None:
    df = pd.DataFrame({"variant": ["c", "x", "a", "b"], "n": [1, 2, 3, 4]})
    assert m.ordered(df, ["a", "b", "c"])["variant"].tolist() == ["a", "b", "c", "x"]
    assert m.variant_order(["c", "x", "a"], ["a", "zz", "c"]) == ["a", "c", "x"]


# -- chance and collapse -------------------------------------------------------------------------------
def test_chance_level() -> None:
    assert m.chance_loss(10) == pytest.approx(math.log(10)) and math.isnan(m.chance_loss(0))
    assert m.prior_loss([0.5, 0.5]) == pytest.approx(math.log(2))
    assert m.prior_loss([0.9, 0.1]) < math.log(2) and m.prior_loss(None) is None


def test_collapse_is_a_tail_at_chance() -> None:
    chance = math.log(10)
    ep = epochs_frame(
        {
            "dead|0": [2.2, 2.4, 2.31, 2.30, 2.29, 2.32, 2.30, 2.31],  # stuck at ln 10
            "ok|0": [2.2, 1.0, 0.5, 0.3, 0.2, 0.15, 0.1, 0.08],
            "late|0": [0.5, 0.3, 0.2, 0.2, 0.2, 0.2, 2.3, 2.31],  # trained, then fell to chance
            "dip|0": [2.3, 2.3, 2.3, 2.3, 2.3, 2.3, 1.5, 1.0],  # at chance for a while, then learned
            "nan|0": [2.3, 2.3, 2.3, 2.3, 2.3, 2.3, 2.3, np.nan],
            "slow|0": [2.30, 2.28, 2.26, 2.24, 2.22, 2.20, 2.18, 2.16],  # tiny LR: creeping down
        }
    )
    c = m.collapsed(ep, 10)
    assert c.to_dict() == {
        "dead|0": True,
        "ok|0": False,
        "late|0": True,
        "dip|0": False,
        "nan|0": False,
        "slow|0": False,
    }
    assert not m.collapsed(ep, 0).any()  # regression has no chance level
    assert m.is_collapsed([2.4, chance * 1.09], 10) and not m.is_collapsed([2.4, chance * 1.11], 10)
    assert not m.is_collapsed([chance], 10)  # one epoch: stuck or just starting, nobody can tell
