"""Take a run out of the explorer: a plain-Keras script for one member, JSON for a comparison.

The explorer trains with its own stacked trainer, which a user cannot copy into their own
project. `keras_snippet` writes the same run in the vocabulary they already know
(`keras.Sequential` + `compile` + `fit`, data straight from scikit-learn or keras.datasets), with
no dependency on this package, so a result seen in the app can be checked, extended or shipped
elsewhere. The snippet is meant to be read: only the lines a knob needs are emitted, and every
place where plain Keras cannot do exactly what the explorer does says so in a comment. Keras draws
its own initial weights and batch order here, so the numbers come close; core.export_exact writes
the script that replays the run itself (its weights, split and order, from a run file).

Nothing here imports TensorFlow: exporting is a string operation the app offers on every page.
"""

from __future__ import annotations

import json
import textwrap

from core.constants import CSV_PREFIX, NORMAL_STD, SEQUENCE_DATASETS, TOY_DATASETS
from core.data import GAUSSIAN_STD_PER_NOISE, TOY_SEED, DataUnavailable, load_dataset
from core.export_optimizer import KERAS_OPTIMIZER, lit, optimizer_blocks
from core.spec import KNOBS, Comparison, Experiment

__all__ = ["KERAS_OPTIMIZER", "comparison_json", "keras_snippet"]
_SKLEARN_LOADERS = {"digits": "load_digits", "breast_cancer": "load_breast_cancer", "wine": "load_wine"}
_KERAS_DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
_COMMENT_WIDTH = 96


# -- public ----------------------------------------------------------------------------------
def plain_unavailable(e: Experiment) -> str | None:
    """Why the plain script cannot rerun this run (None: it can). It writes the stacked MLP on the
    datasets it has generators for; a family with its own procedure, a generated world it has no
    formula for or an input transform it does not apply would make a script of a different run."""
    r = e.resolved()
    if r.family != "stacked":
        return f"the {r.family} family trains with its own procedure; the script writes the plain MLP"
    if r.dataset in ("bumps", *SEQUENCE_DATASETS):
        return f"the script has no generator for {r.dataset} yet"
    if (r.input_transform, r.scaling) != ("none", "standard"):
        return "the script standardizes raw inputs; this run's input transform or scaling is not written out"
    return None


def keras_snippet(e: Experiment) -> str:
    """A self-contained Python script (as text) that reruns member `e` with plain Keras 3.

    It prints `val_loss=...` (and `val_accuracy=...` for classification) as its last line, so
    a caller, or a test, can tell that it ran to the end. Raises ValueError (plain_unavailable's
    reason) for a run it cannot write.
    """
    why = plain_unavailable(e)
    if why:
        raise ValueError(f"no Keras script for this run: {why}")
    r = e.resolved()
    regression = _csv_regression(r.dataset) if r.dataset.startswith(CSV_PREFIX) else False
    blocks = [
        _settings(r),
        _data(r, bool(regression), regression is None),
        _split(r, bool(regression)),
        *model_blocks(r, bool(regression)),
        *optimizer_blocks(r),
        _train(bool(regression)),
    ]
    body = join_blocks(blocks)
    return f"{_header(r)}\n\n{imports_for(body)}\n\n{body}\n"


def comparison_json(comparison: Comparison) -> str:
    """The comparison as pretty JSON: what `Comparison.from_dict` reads back (and the CLI takes),
    indented so that it can be read and edited by hand before being shared."""
    return json.dumps(comparison.to_dict(), indent=2) + "\n"


# -- pieces of the script --------------------------------------------------------------------
def _header(r: Experiment) -> str:
    knobs = " ".join(f"{name}={lit(getattr(r, name))}" for name in KNOBS)
    lines = [
        "# One run of the hyperparameter what-if explorer, rewritten with plain Keras 3.",
        f"# Run key {r.key}. Knobs:",
        *textwrap.wrap(
            knobs, _COMMENT_WIDTH, initial_indent="#   ", subsequent_indent="#   ", break_on_hyphens=False
        ),
        "#",
        "# Requirements: pip install keras tensorflow scikit-learn"
        + (" pandas" if r.dataset.startswith(CSV_PREFIX) else ""),
        "#",
        "# Numbers match the explorer closely but not bit for bit: the explorer draws the same",
        "# n_samples subsample and stratified split (same seed, same rows), but Keras draws its",
        "# own initial weights, dropout masks and batch order; the explorer drops the last partial",
        "# batch of every epoch (fixed tensor shapes) while Keras trains on it; and the explorer",
        "# freezes a run whose loss explodes, while Keras keeps going (with NaNs).",
    ]
    return "\n".join(lines)


def imports_for(body: str) -> str:
    """Import only what the body uses, so the script's first lines say what it depends on."""
    stdlib = ["import math"] if "math." in body else []
    third = ["import keras"]
    if "np." in body:
        third.append("import numpy as np")
    if "pd." in body:
        third.append("import pandas as pd")
    if "tf." in body:
        third.append("import tensorflow as tf")
    if "layers." in body:
        third.append("from keras import layers")
    sk_data = sorted(
        name
        for name in (
            "load_breast_cancer",
            "load_digits",
            "load_wine",
            "make_blobs",
            "make_circles",
            "make_moons",
        )
        if f"{name}(" in body
    )
    if sk_data:
        third.append(f"from sklearn.datasets import {', '.join(sk_data)}")
    if "train_test_split(" in body:
        third.append("from sklearn.model_selection import train_test_split")
    return "\n\n".join("\n".join(group) for group in (stdlib, third) if group)


def _settings(r: Experiment) -> str:
    lines = [f"seed = {r.seed}"]
    if r.split_seed >= 0:
        lines.append(f"split_seed = {r.split_seed}  # the subsample and train/val split come from this seed")
    if r.dataset not in TOY_DATASETS:
        lines.append(f"n_samples = {r.n_samples}  # at most this many examples are used")
    lines += [
        f"val_fraction = {lit(r.val_fraction)}",
        f"batch_size = {r.batch_size}",
        f"epochs = {r.epochs}",
        "keras.utils.set_random_seed(seed)  # Python, NumPy and backend RNGs: weights, dropout, order",
    ]
    return "\n".join(lines)


def _toy_data(name: str, n: int, noise: float) -> str:
    """The toy world generated as the explorer does (same seed, same formulas)."""
    lines = [
        f"# {name}: a 2-D toy world generated with a fixed seed ({TOY_SEED}), as in the explorer;",
        "# the run's seed only changes which points land in the validation split.",
    ]
    if name == "moons":
        lines.append(f"x, y = make_moons(n_samples={n}, noise={lit(noise)}, random_state={TOY_SEED})")
    elif name == "circles":
        lines.append(
            f"x, y = make_circles(n_samples={n}, noise={lit(noise)}, factor=0.5, random_state={TOY_SEED})"
        )
    elif name == "gaussians":
        lines += [
            "x, y = make_blobs(",
            f"    n_samples={n},",
            "    centers=[[0.0, 2.0], [-np.sqrt(3), -1.0], [np.sqrt(3), -1.0]],  # an equilateral triangle",
            f"    cluster_std={lit(GAUSSIAN_STD_PER_NOISE * noise)},  # {lit(GAUSSIAN_STD_PER_NOISE)} x noise",
            f"    random_state={TOY_SEED},",
            ")",
        ]
    else:
        lines += [f"rng = np.random.default_rng({TOY_SEED})", f"n, noise = {n}, {lit(noise)}"]
        if name == "spiral":
            lines += [
                "# Two interleaved arms of 1.5 turns, radius 0..2 (the centre, where they meet, is skipped).",
                "y = np.arange(n) % 2",
                "t = rng.uniform(0.05, 1.0, size=n)",
                "theta = 3 * np.pi * t + np.pi * y",
                "x = np.stack([2.0 * t * np.cos(theta), 2.0 * t * np.sin(theta)], axis=1)",
            ]
        else:  # xor
            lines += [
                "# Four quadrant clusters; label 1 where x1 * x2 < 0 (taken before the jitter).",
                "signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=float)[np.arange(n) % 4]",
                "x = signs * rng.uniform(0.1, 1.0, size=(n, 2))",
                "y = (signs[:, 0] * signs[:, 1] < 0).astype(int)",
            ]
        lines += [
            "x += noise * rng.standard_normal(x.shape)",
            "order = rng.permutation(n)",
            "x, y = x[order], y[order]",
        ]
    lines.append(f"n_classes = {3 if name == 'gaussians' else 2}")
    return "\n".join(lines)


def _data(r: Experiment, regression: bool, unknown_task: bool) -> str:
    if r.dataset in TOY_DATASETS:
        return pool_lines(r, regression, unknown_task)
    stratify = "" if regression else " stratify=y,"
    subsample = [
        "if len(x) > n_samples:  # the explorer draws its n_samples subsample first, with the run's seed",
        f"    x, _, y, _ = train_test_split(x, y, train_size=n_samples,{stratify} random_state={_split_seed(r)})",
    ]
    return "\n".join([pool_lines(r, regression, unknown_task), *subsample])


def pool_lines(r: Experiment, regression: bool, unknown_task: bool) -> str:
    """Lines that load the whole pool as x, y (and n_classes), rows in the explorer's order."""
    name = r.dataset
    if name in TOY_DATASETS:
        return _toy_data(name, r.n_samples, r.noise)
    if name in _SKLEARN_LOADERS:
        lines = [
            f"x, y = {_SKLEARN_LOADERS[name]}(return_X_y=True)  # bundled with scikit-learn: no download",
            "n_classes = len(np.unique(y))",
        ]
    elif name in _KERAS_DATASETS:
        lines = [
            "# The explorer pools Keras' train and test parts and holds out its own validation split.",
            f"(x_a, y_a), (x_b, y_b) = keras.datasets.{_KERAS_DATASETS[name]}.load_data()",
            'x = np.concatenate([x_a, x_b]).reshape(-1, 28 * 28).astype("float32") / 255.0',
            "y = np.concatenate([y_a, y_b])",
            "n_classes = 10",
        ]
    else:
        lines = [
            f'LABEL_COLUMN = "label"  # <- the name of your label column (not stored with {name})',
            'df = pd.read_csv("your.csv")  # the table you uploaded to the explorer',
            'x = df.drop(columns=[LABEL_COLUMN]).to_numpy(dtype="float32")',
        ]
        if regression:
            lines.append('y = df[LABEL_COLUMN].to_numpy(dtype="float32")  # a numeric target: regression')
        else:
            if unknown_task:
                lines += [
                    "# The upload is not on this machine, so this assumes classification; for a target",
                    '# with non-integer numbers use y = df[LABEL_COLUMN].to_numpy(dtype="float32"), a',
                    '# Dense(1) output and loss="mse", and drop stratify= from the splits.',
                ]
            lines += [
                "classes, y = np.unique(df[LABEL_COLUMN].to_numpy(), return_inverse=True)  # ids 0..k-1",
                "n_classes = len(classes)",
            ]
    return "\n".join(lines)


def _split(r: Experiment, regression: bool) -> str:
    if regression:
        size, stratify = "round(len(x) * val_fraction)", ""
        note = "# Hold-out split as in the explorer (which rounds its size to the nearest row)."
    else:
        size, stratify = "max(round(len(x) * val_fraction), n_classes)", "stratify=y, "
        note = "# Stratified hold-out as in the explorer: rounded to a row, at least one per class."
    return "\n".join(
        [
            note,
            f"n_val = {size}",
            "x_train, x_val, y_train, y_val = train_test_split(",
            f"    x, y, test_size=n_val, {stratify}random_state={_split_seed(r)}",
            ")",
            "# Standardize with the training rows' statistics only: validation must not leak in.",
            "mean, std = x_train.mean(axis=0), x_train.std(axis=0)",
            "std[std < 1e-12] = 1.0  # a constant feature (e.g. an always-black pixel) is left as is",
            'x_train = ((x_train - mean) / std).astype("float32")',
            'x_val = ((x_val - mean) / std).astype("float32")',
            *_label_noise(r, regression),
        ]
    )


def _split_seed(r: Experiment) -> str:
    return "split_seed" if r.split_seed >= 0 else "seed"


def _label_noise(r: Experiment, regression: bool) -> list[str]:
    """Lines replacing a share of the training labels; the same share as the explorer, not the
    same rows (the explorer draws them over its pool's row numbers)."""
    if r.label_noise <= 0:
        return []
    replace = (
        "y_train[rows] = rng.choice(y_train, len(rows))  # another training target"
        if regression
        else "y_train[rows] = (y_train[rows] + rng.integers(1, n_classes, len(rows))) % n_classes"
    )
    return [
        "# label_noise: this share of the TRAINING labels is replaced (a class by a different class);",
        "# validation keeps the true labels.",
        f"label_noise = {lit(r.label_noise)}",
        "rng = np.random.default_rng(seed)",
        "rows = rng.choice(len(y_train), round(label_noise * len(y_train)), replace=False)",
        "y_train = y_train.copy()",
        replace,
    ]


def model_blocks(
    r: Experiment,
    regression: bool,
    features: str = "x_train.shape[1]",
    initializer: bool = True,
    dropout: str | None = None,
) -> list[str]:
    """The network as Keras layers (a `dense` helper first when the layers need arguments).

    For a script that replays a run: `initializer=False` leaves out the initializer (it loads its
    initial weights), and `dropout` is the expression of its own dropout layer, which may read
    the hidden layer's index `i` (0-based).
    """
    dense_kwargs = _dense_kwargs(r, initializer)
    gets = "initializer and penalty" if initializer else "penalty"
    blocks: list[str] = []
    if dense_kwargs:
        helper = [
            "def dense(units, activation=None):",
            f'    """Every Dense layer, the output included, gets the run\'s {gets}."""',
            "    return layers.Dense(",
            "        units,",
            "        activation=activation,",
            *(f"        {kw}," for kw in dense_kwargs),
            "    )",
        ]
        blocks.append("\n".join(helper))
    dense = "dense" if dense_kwargs else "layers.Dense"
    act = None if r.activation == "linear" else f'"{r.activation}"'
    lines: list[str] = []
    if r.activation == "leaky_relu":
        lines.append(
            '# "leaky_relu" is keras.activations.leaky_relu, negative slope 0.2 (LeakyReLU() has 0.3).'
        )
    hidden = _hidden_layer(r, dense, act, dropout)
    i = "i" if dropout and r.dropout > 0 else "_"  # the layer index, when the dropout reads it
    outputs = "1" if regression else "n_classes"
    out_note = "  # one linear output: regression" if regression else "  # logits: the loss applies softmax"
    if r.residual:
        indexed = i == "i"
        call = "hidden(h, i)" if indexed else "hidden(h)"
        first = "h = hidden(inputs, 0)" if indexed else "h = hidden(inputs)"
        rest = f"range(1, {r.depth})" if indexed else f"range({r.depth - 1})"
        block = [
            f"def {call}:",
            f'    """One hidden layer: {" -> ".join(step for step, _ in hidden)}."""',
            *(f"    h = {code}(h)" for _, code in hidden),
            "    return h",
        ]
        blocks.append("\n".join(block))
        lines += [
            f"inputs = keras.Input(shape=({features},))",
            first,
            f"for {i} in {rest}:  # hidden layers 2..{r.depth} add their input back: h + hidden(h)",
            f"    h = layers.Add()([h, {call}])",
            f"outputs = {dense}({outputs})(h){out_note}",
            "model = keras.Model(inputs, outputs)",
        ]
    else:
        lines += [
            f"model = keras.Sequential([keras.Input(shape=({features},))])",
            f"for {i} in range({r.depth}):  # hidden layers of width {r.width}",
            *(f"    model.add({code})" for _, code in hidden),
            f"model.add({dense}({outputs})){out_note}",
        ]
    lines.append("model.summary()")
    return [*blocks, "\n".join(lines)]


def _hidden_layer(r: Experiment, dense: str, act: str | None, dropout: str | None) -> list[tuple[str, str]]:
    """(description, layer expression) of one hidden layer, in the explorer's order:
    Dense -> [BN] -> activation -> [BN] -> [Dropout]."""
    steps: list[tuple[str, str]] = []
    if r.batch_norm == "before":
        steps += [
            ("Dense", f"{dense}({r.width})"),
            ("BatchNormalization", "layers.BatchNormalization()"),
            (r.activation, f'layers.Activation("{r.activation}")'),
        ]
    else:
        activation = f", activation={act}" if act else ""
        steps.append((f"Dense({r.activation})", f"{dense}({r.width}{activation})"))
        if r.batch_norm == "after":
            steps.append(("BatchNormalization", "layers.BatchNormalization()"))
    if r.dropout > 0:
        steps.append(("Dropout", dropout or f"layers.Dropout({lit(r.dropout)})"))
    return steps


def _dense_kwargs(r: Experiment, initializer: bool = True) -> list[str]:
    kwargs = []
    if initializer and r.init in NORMAL_STD:
        # A fresh initializer per layer: one unseeded Keras initializer object reused would
        # hand every layer the same values.
        kwargs.append(f"kernel_initializer=keras.initializers.RandomNormal(stddev={lit(NORMAL_STD[r.init])})")
    elif initializer and r.init != "glorot_uniform":  # Keras' default needs no line
        kwargs.append(f'kernel_initializer="{r.init}"')
    if r.l1 > 0 and r.l2 > 0:
        kwargs.append(f"kernel_regularizer=keras.regularizers.L1L2(l1={lit(r.l1)}, l2={lit(r.l2)})")
    elif r.l1 > 0:
        kwargs.append(f"kernel_regularizer=keras.regularizers.L1({lit(r.l1)})")
    elif r.l2 > 0:
        kwargs.append(f"kernel_regularizer=keras.regularizers.L2({lit(r.l2)})")
    return kwargs


def _train(regression: bool) -> str:
    if regression:
        loss, metrics, last = '"mse"', "", "print(f\"val_loss={history.history['val_loss'][-1]:.4f}\")"
    else:
        loss = "keras.losses.SparseCategoricalCrossentropy(from_logits=True)"
        metrics = '    metrics=["accuracy"],\n'
        last = "\n".join(
            [
                "print(",
                "    f\"val_loss={history.history['val_loss'][-1]:.4f} \"",
                "    f\"val_accuracy={history.history['val_accuracy'][-1]:.4f}\"",
                ")",
            ]
        )
    return (
        f"model.compile(\n    optimizer=optimizer,\n    loss={loss},\n{metrics})\n"
        "history = model.fit(\n"
        "    x_train,\n    y_train,\n    validation_data=(x_val, y_val),\n"
        "    batch_size=batch_size,\n    epochs=epochs,\n    verbose=2,\n)\n"
        f"{last}"
    )


# -- helpers ---------------------------------------------------------------------------------
def join_blocks(blocks: list[str]) -> str:
    """Blocks separated PEP 8's way (two blank lines around a def or class, one otherwise), so
    the script is already formatted when the user pastes it into a formatted code base."""
    out = ""
    for i, block in enumerate(blocks):
        if i:
            wide = _is_definition(block) or _is_definition(blocks[i - 1])
            out += "\n\n\n" if wide else "\n\n"
        out += block
    return out


def _is_definition(block: str) -> bool:
    code = [line for line in block.splitlines() if line and not line.startswith("#")]
    return bool(code) and code[0].startswith(("def ", "class "))


def _csv_regression(name: str) -> bool | None:
    """Whether an uploaded table has a numeric (regression) target; None when the upload is not
    on this machine, in which case the snippet assumes classification and says so."""
    try:
        return load_dataset(name).is_regression
    except (DataUnavailable, ValueError, OSError):
        return None
