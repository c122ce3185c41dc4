"""ui.share: a comparison survives the URL round trip; a bad or hostile link is refused with a
message (ValueError), never an exception of another kind and never an eval."""

import pytest

from core.limits import MAX_WIDTH
from core.spec import Comparison, Experiment
from ui import share

PRESET = Comparison.of(Experiment(epochs=15), {"learning_rate": (0.001, 0.01, 0.1)}, seeds=3)


def as_query(params: dict) -> dict[str, list[str]]:
    """What st.query_params.get_all gives back: every value a list of strings."""
    return {k: v if isinstance(v, list) else [v] for k, v in params.items()}


@pytest.mark.parametrize(
    "comparison",
    [
        PRESET,
        Comparison.of(Experiment(epochs=15, width=128), {"learning_rate": (0.001, 0.01, 0.1)}, seeds=3),
        Comparison.of(Experiment(epochs=15), {"batch_size": (16, 256)}, seeds=1),
        Comparison.of(Experiment(epochs=15, optimizer="adam", residual=True, depth=4), {}, seeds=2),
        Comparison.of(
            Experiment(epochs=15, dataset="moons", noise=0.3),
            {"learning_rate": (0.5, 2e-05), "activation": ("tanh", "relu")},
            seeds=3,
        ),
        Comparison.of(Experiment(epochs=15, learning_rate=1e-7, clipnorm=0.5), {"dropout": (0.0, 0.5)}, 3),
    ],
    ids=["preset", "baseline-knob", "vary-other", "no-vary", "two-knobs", "tiny-floats"],
)
def test_round_trip(comparison):
    params = share.encode(comparison, PRESET)
    assert share.decode(as_query(params), PRESET) == comparison


def test_preset_encodes_to_nothing_and_only_changes_are_written():
    assert share.encode(PRESET, PRESET) == {}
    changed = Comparison.of(Experiment(epochs=15, width=128), dict(PRESET.vary), seeds=3)
    assert share.encode(changed, PRESET) == {"width": "128"}


def test_foreign_params_are_ignored():
    params = {"utm_source": ["chat"], "fbclid": ["x" * 5000], "width": ["32"]}
    assert share.decode(params, PRESET).baseline.width == 32


@pytest.mark.parametrize(
    "params, words",
    [
        ({"width": [str(MAX_WIDTH * 100)]}, "width"),
        ({"width": ["-1"]}, "width"),
        ({"width": ["12.5"]}, "width"),
        ({"dataset": ["nope"]}, "dataset"),
        ({"learning_rate": ["nan"]}, "learning_rate"),
        ({"learning_rate": ["inf"]}, "learning_rate"),
        ({"learning_rate": ["1e999"]}, "learning_rate"),
        ({"optimizer": ["__import__('os')"]}, "optimizer"),
        ({"vary": ["__import__:1"]}, "vary"),
        ({"vary": ["learning_rate"]}, "vary"),
        ({"vary": ["learning_rate:"]}, "learning_rate"),
        ({"vary": ["learning_rate:abc"]}, "learning_rate"),
        ({"vary": ["seed:1,2"]}, "seed"),
        ({"vary": ["width:8", "depth:1", "dropout:0.1"]}, "two"),
        ({"vary": ["learning_rate:" + ",".join(str(i) for i in range(1, 70))]}, "runs"),
        ({"seeds": ["-5"]}, "seeds"),
        ({"seeds": ["0"]}, "seeds"),
        ({"seeds": ["1000"]}, "seeds"),
        ({"epochs": ["9" * 400]}, "too long"),
        ({"vary": ["learning_rate:" + "1," * 200]}, "too long"),
        ({"clipnorm": ["1"], "clipvalue": ["1"]}, "clipnorm"),
    ],
)
def test_hostile_or_invalid_links_are_refused_with_a_message(params, words):
    with pytest.raises(ValueError) as err:
        share.decode(params, PRESET)
    assert words in str(err.value)
    assert len(str(err.value)) < 500  # a message for a person, not a dump of the input


def test_fractional_seeds_message_names_seeds():
    with pytest.raises(ValueError, match="seeds"):
        share.decode({"seeds": ["3.5"]}, PRESET)
