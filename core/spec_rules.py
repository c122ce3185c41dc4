"""The rules an Experiment's knobs obey: the allowed values of each choice knob, the ranges, and
which knobs a model family does not use. Kept apart from core.spec (the knobs and identities) so
each reads in one sitting; core.spec calls `validate` on construction and re-exports the choices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.constants import CSV_PREFIX, DATASETS, SEQUENCE_DATASETS
from core.limits import MAX_DEPTH, MAX_EPOCHS, MAX_SAMPLES, MAX_WIDTH

if TYPE_CHECKING:
    from core.spec import Experiment

ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid", "linear")
BATCH_NORM = ("none", "before", "after")
INITS = ("glorot_uniform", "he_normal", "lecun_normal", "normal_small", "normal_large")
LR_SCHEDULES = ("constant", "step", "cosine", "one_cycle", "cyclic", "exponential")
MODELS = ("mlp", "rnn", "lstm")  # rnn = Keras SimpleRNN; recurrent models read a sequence dataset
INPUT_TRANSFORMS = ("none", "lognormal", "outliers")  # heavy-tailed / skewed copies of the inputs
SCALINGS = ("standard", "robust", "quantile", "none")  # how inputs are scaled before the net
MAX_SEQ_LEN = 200
# Knobs a training procedure does not implement, refused by name rather than silently ignored.
NOT_IN_FAMILY = {
    "recurrent": ("dropout", "l1", "l2"),
    "layerwise": ("dropout", "clipnorm", "clipvalue"),
    "ensemble": ("dropout", "clipnorm", "clipvalue"),
    "probes": ("dropout", "clipnorm", "clipvalue"),
}
MAX_ENSEMBLE = 8
MAX_LABEL_NOISE = 0.9  # some labels must stay true, or there is nothing left to learn


def check(ok: bool, name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ValueError(f"{name}={value!r} is not allowed: {name} must be {allowed}")


def finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def validate(e: Experiment, types: Mapping[str, type], choices: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse an Experiment with any value outside its knob's type, choices or range, naming the
    knob and what is allowed (called by Experiment.__post_init__ with the spec's knob types)."""
    for name, kind in types.items():
        value = getattr(e, name)
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(e, name, float(value))  # 1 is a fine spelling of 1.0
            ok = True
        check(ok, name, value, f"a {kind.__name__}")
    for name, allowed in choices.items():
        check(getattr(e, name) in allowed, name, getattr(e, name), "one of " + ", ".join(allowed))
    d = e.dataset
    check(
        d in DATASETS or (d.startswith(CSV_PREFIX) and len(d) > len(CSV_PREFIX)),
        "dataset",
        d,
        "one of " + ", ".join(DATASETS) + " (or an uploaded CSV)",
    )
    check(4 <= e.n_samples <= MAX_SAMPLES, "n_samples", e.n_samples, f"between 4 and {MAX_SAMPLES:,}")
    check(finite(e.noise) and 0 <= e.noise <= 2, "noise", e.noise, "between 0 and 2")
    check(
        finite(e.val_fraction) and 0.05 <= e.val_fraction <= 0.5,
        "val_fraction",
        e.val_fraction,
        "between 0.05 and 0.5",
    )
    check(1 <= e.width <= MAX_WIDTH, "width", e.width, f"an integer from 1 to {MAX_WIDTH}")
    check(1 <= e.depth <= MAX_DEPTH, "depth", e.depth, f"an integer from 1 to {MAX_DEPTH}")
    check(finite(e.dropout) and 0 <= e.dropout < 1, "dropout", e.dropout, "at least 0 and below 1")
    for name in ("l1", "l2", "weight_decay"):
        v = getattr(e, name)
        check(finite(v) and 0 <= v <= 1, name, v, "between 0 and 1")
    check(
        finite(e.learning_rate) and e.learning_rate > 0,
        "learning_rate",
        e.learning_rate,
        "a positive finite number (huge values are allowed: divergence is a result)",
    )
    check(finite(e.momentum) and 0 <= e.momentum < 1, "momentum", e.momentum, "at least 0 and below 1")
    check(1 <= e.batch_size <= MAX_SAMPLES, "batch_size", e.batch_size, f"from 1 to {MAX_SAMPLES:,}")
    check(1 <= e.epochs <= MAX_EPOCHS, "epochs", e.epochs, f"an integer from 1 to {MAX_EPOCHS}")
    for name in ("clipnorm", "clipvalue"):
        v = getattr(e, name)
        check(finite(v) and v >= 0, name, v, "0 (off) or a positive number")
    if e.clipnorm > 0 and e.clipvalue > 0:
        raise ValueError(
            f"clipnorm={e.clipnorm} and clipvalue={e.clipvalue} cannot both be set "
            "(Keras optimizers take one or the other); set one of them to 0"
        )
    check(0 <= e.seed < 2**31, "seed", e.seed, "an integer from 0 to 2^31-1")
    check(
        -1 <= e.split_seed < 2**31,
        "split_seed",
        e.split_seed,
        "-1 (follow seed) or an integer from 0 to 2^31-1",
    )
    check(
        finite(e.label_noise) and 0 <= e.label_noise <= MAX_LABEL_NOISE,
        "label_noise",
        e.label_noise,
        f"between 0 and {MAX_LABEL_NOISE}",
    )
    validate_families(e)


def validate_families(e: Experiment) -> None:
    """The model-family knobs: a recurrent model needs a sequence dataset, and the families do not
    combine (each is its own training procedure)."""
    check(2 <= e.seq_len <= MAX_SEQ_LEN, "seq_len", e.seq_len, f"an integer from 2 to {MAX_SEQ_LEN}")
    check(1 <= e.ensemble <= MAX_ENSEMBLE, "ensemble", e.ensemble, f"an integer from 1 to {MAX_ENSEMBLE}")
    check(
        finite(e.lr_half_life) and e.lr_half_life > 0,
        "lr_half_life",
        e.lr_half_life,
        "a positive number of epochs",
    )
    if e.model != "mlp" and e.dataset not in SEQUENCE_DATASETS:
        raise ValueError(
            f"model={e.model} reads sequences: use it with dataset {' or '.join(SEQUENCE_DATASETS)}"
        )
    families = [
        name
        for name, on in (
            ("model", e.model != "mlp"),
            ("layerwise", e.layerwise),
            ("ensemble", e.ensemble > 1),
            ("probes", e.probes),
        )
        if on
    ]
    if len(families) > 1:
        raise ValueError(f"{' and '.join(families)} are separate training procedures: set only one of them")
    family = e.family
    unused = [k for k in NOT_IN_FAMILY.get(family, ()) if getattr(e, k) > 0]
    if family in ("layerwise", "ensemble", "probes") and e.residual and e.depth >= 2:
        unused.append("residual")
    if family == "recurrent" and (e.input_transform, e.scaling) != ("none", "standard"):
        unused.append("input_transform/scaling")  # sequences are generated already scaled
    if unused:
        raise ValueError(f"{family} training does not use {', '.join(unused)}: set them to 0 / off")
