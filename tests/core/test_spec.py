"""Experiment and Comparison: validation that names the knob, limits that say what to shrink,
and keys that identify a run no matter how it was spelled."""

from __future__ import annotations

import dataclasses

import pytest

from core.limits import MAX_MEMBERS, estimate_memory_mb
from core.spec import KNOBS, Comparison, Experiment, variant_label

DESIGN_KNOBS = [
    "dataset",
    "n_samples",
    "noise",
    "val_fraction",
    "width",
    "depth",
    "activation",
    "batch_norm",
    "dropout",
    "residual",
    "init",
    "l1",
    "l2",
    "weight_decay",
    "optimizer",
    "learning_rate",
    "momentum",
    "lr_schedule",
    "batch_size",
    "epochs",
    "clipnorm",
    "clipvalue",
    "seed",
    "split_seed",
    "label_noise",
    "model",
    "seq_len",
    "layerwise",
    "ensemble",
    "probes",
    "input_transform",
    "scaling",
    "lr_half_life",
]


def test_knob_names_are_the_design_contract():
    assert list(KNOBS) == DESIGN_KNOBS


@pytest.mark.parametrize(
    "knob, value, allowed",
    [
        ("learning_rate", 0.0, "positive"),
        ("learning_rate", -0.1, "positive"),
        ("learning_rate", float("nan"), "positive"),
        ("learning_rate", float("inf"), "positive"),
        ("activation", "swish", "relu"),
        ("batch_norm", "sideways", "before"),
        ("width", 0, "1 to 1024"),
        ("width", 1025, "1 to 1024"),
        ("depth", 33, "1 to 32"),
        ("epochs", 201, "1 to 200"),
        ("dropout", 1.0, "below 1"),
        ("dataset", "imagenet", "digits"),
        ("n_samples", 70_001, "70,000"),
        ("optimizer", "lion", "adam"),
        ("init", "zeros", "he_normal"),
        ("lr_schedule", "linear_decay", "one_cycle"),
        ("momentum", 1.0, "below 1"),
        ("clipnorm", -1.0, "positive"),
        ("val_fraction", 0.51, "between 0.05 and 0.5"),
        ("split_seed", -2, "-1 (follow seed)"),
        ("label_noise", 0.95, "between 0 and 0.9"),
        ("label_noise", -0.1, "between 0 and 0.9"),
        ("label_noise", float("nan"), "between 0 and 0.9"),
    ],
)
def test_invalid_values_name_knob_value_and_allowed(knob, value, allowed):
    with pytest.raises(ValueError) as err:
        Experiment(**{knob: value})
    message = str(err.value)
    assert knob in message and allowed in message


def test_huge_learning_rate_is_a_legitimate_experiment():
    assert Experiment(learning_rate=1e6).learning_rate == 1e6


def test_clipnorm_and_clipvalue_are_exclusive_like_keras():
    with pytest.raises(ValueError, match=r"clipnorm.*clipvalue"):
        Experiment(clipnorm=1.0, clipvalue=0.5)


def test_from_dict_parses_strings_and_refuses_unknown_knobs():
    e = Experiment.from_dict({"learning_rate": "0.1", "residual": "true", "width": "32", "dataset": "wine"})
    assert (e.learning_rate, e.residual, e.width, e.dataset) == (0.1, True, 32, "wine")
    with pytest.raises(ValueError, match="colour"):
        Experiment.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match="width"):
        Experiment.from_dict({"width": "3.5"})
    with pytest.raises(ValueError, match="residual"):
        Experiment.from_dict({"residual": "maybe"})


def test_key_is_stable_and_ignores_knobs_that_cannot_matter():
    a = Experiment(optimizer="sgd", momentum=0.9)
    b = Experiment(optimizer="sgd", momentum=0.0)
    assert a.key == b.key  # sgd has no momentum: one run, one stored result
    assert Experiment().key == Experiment().key
    assert Experiment(seed=1).key != Experiment(seed=2).key
    assert Experiment(learning_rate=0.1).key != Experiment(learning_rate=0.2).key
    assert len(Experiment().key) == 24


def test_comparison_members_are_the_cartesian_product_times_seeds():
    c = Comparison.of(
        Experiment(seed=10), {"learning_rate": [0.1, 0.01], "batch_size": ["16", "64"]}, seeds=3
    )
    members = c.members()
    assert len(members) == c.n_members == 12
    assert {m.seed for m in members} == {10, 11, 12}
    assert c.variants()[1] == {"learning_rate": 0.1, "batch_size": 64}
    assert variant_label(c.variants()[1]) == "learning_rate=0.1, batch_size=64"
    assert Comparison.from_dict(c.to_dict()) == c


def test_comparison_limits_say_what_to_shrink():
    with pytest.raises(ValueError, match=r"limit is 64.*fewer"):
        Comparison.of(Experiment(), {"learning_rate": [0.1 * i for i in range(1, 23)]}, seeds=3)
    with pytest.raises(ValueError, match="at most two"):
        Comparison.of(Experiment(), {"width": [8], "depth": [1], "dropout": [0.1]})
    with pytest.raises(ValueError, match="seeds"):
        Comparison.of(Experiment(), {}, seeds=MAX_MEMBERS + 1)


def test_memory_budget_refuses_with_a_message(monkeypatch):
    big = Experiment(dataset="mnist", n_samples=60_000, width=1024, depth=32, batch_size=4096)
    assert estimate_memory_mb([big] * 16) > 1024
    with pytest.raises(ValueError, match="shrink width, depth, batch_size"):
        Comparison.of(big, {"learning_rate": [0.1, 0.01]}, seeds=8)
    monkeypatch.setenv("WHATIF_MEMORY_MB", "1000000")
    assert Comparison.of(big, {"learning_rate": [0.1, 0.01]}, seeds=8).n_members == 16


def test_resolved_experiment_is_what_the_key_hashes():
    e = Experiment(dataset="digits", noise=0.7)
    assert e.resolved().noise == 0.0
    assert dataclasses.replace(e, noise=0.1).key == e.key


def test_new_knobs_at_their_defaults_keep_the_run_key_json():
    """Runs stored before split_seed and label_noise existed must keep their keys' JSON."""
    text = Experiment().to_json()
    assert "split_seed" not in text and "label_noise" not in text
    assert Experiment(split_seed=-1, label_noise=0.0).key == Experiment().key
    assert Experiment(split_seed=3).key != Experiment().key
    assert Experiment(label_noise=0.2).key != Experiment().key
    assert '"label_noise":0.2' in Experiment(label_noise=0.2).to_json()


def test_split_seed_follows_seed_unless_set_and_val_fraction_reaches_half():
    assert Experiment(seed=4).effective_split_seed == 4
    assert Experiment(seed=4, split_seed=0).effective_split_seed == 0
    assert Experiment(val_fraction=0.5).val_fraction == 0.5
    assert Experiment.from_dict({"split_seed": "7", "label_noise": "0.3"}).label_noise == 0.3


def test_new_knobs_at_their_defaults_keep_old_keys():
    """Knobs added for the model families leave every earlier run's key as it was."""
    e = Experiment()
    assert '"model"' not in e.to_json() and '"scaling"' not in e.to_json()
    assert Experiment(lr_half_life=2.0).key == e.key  # only the exponential schedule reads it
    assert Experiment(seq_len=10).key == e.key  # only sequence datasets read it
    assert Experiment(scaling="robust").key != e.key


def test_family_knobs_are_checked():
    with pytest.raises(ValueError, match="sequence"):
        Experiment(model="lstm")  # digits is not a sequence dataset
    with pytest.raises(ValueError, match="only one"):
        Experiment(layerwise=True, ensemble=2)
    with pytest.raises(ValueError, match="ensemble"):
        Experiment(ensemble=99)
    with pytest.raises(ValueError, match="seq_len"):
        Experiment(dataset="adding", model="rnn", seq_len=1)


def test_families_refuse_knobs_they_do_not_use_and_recurrent_keys_ignore_the_mlp_body():
    with pytest.raises(ValueError, match="does not use dropout"):
        Experiment(layerwise=True, dropout=0.2)
    with pytest.raises(ValueError, match="does not use l2"):
        Experiment(dataset="adding", model="lstm", l2=1e-3)
    lstm = Experiment(dataset="adding", model="lstm")
    assert Experiment(dataset="adding", model="lstm", activation="sigmoid", depth=5).key == lstm.key
    assert lstm.family == "recurrent" and Experiment(ensemble=3).family == "ensemble"
