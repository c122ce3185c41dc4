"""Take a run out of the explorer: a plain-Keras script for one member, JSON for a comparison.

The explorer trains with its own stacked trainer, which a user cannot copy into their own
project. `keras_snippet` writes the same run in the vocabulary they already know
(`keras.Sequential` + `compile` + `fit`, data straight from scikit-learn or keras.datasets), with
no dependency on this package, so a result seen in the app can be checked, extended or shipped
elsewhere. The snippet is meant to be read: only the lines a knob needs are emitted, and every
place where plain Keras cannot do exactly what the explorer does says so in a comment.

Nothing here imports TensorFlow: exporting is a string operation the app offers on every page.
"""

from __future__ import annotations

import json
import textwrap

from core.data import GAUSSIAN_STD_PER_NOISE, TOY_SEED, DataUnavailable, load_dataset
from core.spec import CSV_PREFIX, KNOBS, TOY_DATASETS, Comparison, Experiment
from core.training.schedules import (
    CYCLIC_DIV,
    CYCLIC_HALF_EPOCHS,
    ONE_CYCLE_DIV,
    ONE_CYCLE_FINAL_DIV,
    ONE_CYCLE_MOMENTUM,
    ONE_CYCLE_WARMUP,
    STEP_DROPS,
)

# Mirrors core.training.model.NORMAL_STD; not imported because core.training.model imports TensorFlow.
NORMAL_STD = {"normal_small": 0.01, "normal_large": 1.0}
KERAS_OPTIMIZER = {
    "sgd": "SGD",
    "momentum": "SGD",
    "nesterov": "SGD",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
}
_SKLEARN_LOADERS = {"digits": "load_digits", "breast_cancer": "load_breast_cancer", "wine": "load_wine"}
_KERAS_DATASETS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
_COMMENT_WIDTH = 96


# -- public ----------------------------------------------------------------------------------
def keras_snippet(e: Experiment) -> str:
    """A self-contained Python script (as text) that reruns member `e` with plain Keras 3.

    It prints `val_loss=...` (and `val_accuracy=...` for classification) as its last line, so
    a caller, or a test, can tell that it ran to the end.
    """
    r = e.resolved()
    regression = _csv_regression(r.dataset) if r.dataset.startswith(CSV_PREFIX) else False
    blocks = [
        _settings(r),
        _data(r, bool(regression), regression is None),
        _split(r, bool(regression)),
        *_model(r, bool(regression)),
        *_optimizer(r),
        _train(bool(regression)),
    ]
    body = _join(blocks)
    return f"{_header(r)}\n\n{_imports(body)}\n\n{body}\n"


def comparison_json(comparison: Comparison) -> str:
    """The comparison as pretty JSON: what `Comparison.from_dict` reads back (and the CLI takes),
    indented so that it can be read and edited by hand before being shared."""
    return json.dumps(comparison.to_dict(), indent=2) + "\n"


# -- pieces of the script --------------------------------------------------------------------
def _header(r: Experiment) -> str:
    knobs = " ".join(f"{name}={_lit(getattr(r, name))}" for name in KNOBS)
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


def _imports(body: str) -> str:
    """Import only what the body uses, so the script's first lines say what it depends on."""
    stdlib = ["import math"] if "math." in body else []
    third = ["import keras"]
    if "np." in body:
        third.append("import numpy as np")
    if "pd." in body:
        third.append("import pandas as pd")
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
    third.append("from sklearn.model_selection import train_test_split")
    return "\n\n".join("\n".join(group) for group in (stdlib, third) if group)


def _settings(r: Experiment) -> str:
    lines = [f"seed = {r.seed}"]
    if r.dataset not in TOY_DATASETS:
        lines.append(f"n_samples = {r.n_samples}  # at most this many examples are used")
    lines += [
        f"val_fraction = {_lit(r.val_fraction)}",
        f"batch_size = {r.batch_size}",
        f"epochs = {r.epochs}",
        "keras.utils.set_random_seed(seed)  # Python, NumPy and backend RNGs: weights, dropout, order",
    ]
    return "\n".join(lines)


def _data(r: Experiment, regression: bool, unknown_task: bool) -> str:
    name, n, noise = r.dataset, r.n_samples, r.noise
    if name in TOY_DATASETS:
        lines = [
            f"# {name}: a 2-D toy world generated with a fixed seed ({TOY_SEED}), as in the explorer;",
            "# the run's seed only changes which points land in the validation split.",
        ]
        if name == "moons":
            lines.append(f"x, y = make_moons(n_samples={n}, noise={_lit(noise)}, random_state={TOY_SEED})")
        elif name == "circles":
            lines.append(
                f"x, y = make_circles(n_samples={n}, noise={_lit(noise)}, factor=0.5, random_state={TOY_SEED})"
            )
        elif name == "gaussians":
            lines += [
                "x, y = make_blobs(",
                f"    n_samples={n},",
                "    centers=[[0.0, 2.0], [-np.sqrt(3), -1.0], [np.sqrt(3), -1.0]],  # an equilateral triangle",
                f"    cluster_std={_lit(GAUSSIAN_STD_PER_NOISE * noise)},  # {_lit(GAUSSIAN_STD_PER_NOISE)} x noise",
                f"    random_state={TOY_SEED},",
                ")",
            ]
        else:
            lines += [f"rng = np.random.default_rng({TOY_SEED})", f"n, noise = {n}, {_lit(noise)}"]
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
    stratify = "" if regression else " stratify=y,"
    lines += [
        "if len(x) > n_samples:  # the explorer draws its n_samples subsample first, with the run's seed",
        f"    x, _, y, _ = train_test_split(x, y, train_size=n_samples,{stratify} random_state=seed)",
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
            f"    x, y, test_size=n_val, {stratify}random_state=seed",
            ")",
            "# Standardize with the training rows' statistics only: validation must not leak in.",
            "mean, std = x_train.mean(axis=0), x_train.std(axis=0)",
            "std[std < 1e-12] = 1.0  # a constant feature (e.g. an always-black pixel) is left as is",
            'x_train = ((x_train - mean) / std).astype("float32")',
            'x_val = ((x_val - mean) / std).astype("float32")',
        ]
    )


def _model(r: Experiment, regression: bool) -> list[str]:
    dense_kwargs = _dense_kwargs(r)
    blocks: list[str] = []
    if dense_kwargs:
        helper = [
            "def dense(units, activation=None):",
            '    """Every Dense layer, the output included, gets the run\'s initializer and penalty."""',
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
    hidden = _hidden_layer(r, dense, act)
    outputs = "1" if regression else "n_classes"
    out_note = "  # one linear output: regression" if regression else "  # logits: the loss applies softmax"
    if r.residual:
        block = [
            "def hidden(h):",
            f'    """One hidden layer: {" -> ".join(step for step, _ in hidden)}."""',
            *(f"    h = {code}(h)" for _, code in hidden),
            "    return h",
        ]
        blocks.append("\n".join(block))
        lines += [
            "inputs = keras.Input(shape=(x_train.shape[1],))",
            "h = hidden(inputs)",
            f"for _ in range({r.depth - 1}):  # hidden layers 2..{r.depth} add their input back: h + hidden(h)",
            "    h = layers.Add()([h, hidden(h)])",
            f"outputs = {dense}({outputs})(h){out_note}",
            "model = keras.Model(inputs, outputs)",
        ]
    else:
        lines += [
            "model = keras.Sequential([keras.Input(shape=(x_train.shape[1],))])",
            f"for _ in range({r.depth}):  # hidden layers of width {r.width}",
            *(f"    model.add({code})" for _, code in hidden),
            f"model.add({dense}({outputs})){out_note}",
        ]
    lines.append("model.summary()")
    return [*blocks, "\n".join(lines)]


def _hidden_layer(r: Experiment, dense: str, act: str | None) -> list[tuple[str, str]]:
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
        steps.append(("Dropout", f"layers.Dropout({_lit(r.dropout)})"))
    return steps


def _dense_kwargs(r: Experiment) -> list[str]:
    kwargs = []
    if r.init in NORMAL_STD:
        # A fresh initializer per layer: one unseeded Keras initializer object reused would
        # hand every layer the same values.
        kwargs.append(
            f"kernel_initializer=keras.initializers.RandomNormal(stddev={_lit(NORMAL_STD[r.init])})"
        )
    elif r.init != "glorot_uniform":  # Keras' default needs no line
        kwargs.append(f'kernel_initializer="{r.init}"')
    if r.l1 > 0 and r.l2 > 0:
        kwargs.append(f"kernel_regularizer=keras.regularizers.L1L2(l1={_lit(r.l1)}, l2={_lit(r.l2)})")
    elif r.l1 > 0:
        kwargs.append(f"kernel_regularizer=keras.regularizers.L1({_lit(r.l1)})")
    elif r.l2 > 0:
        kwargs.append(f"kernel_regularizer=keras.regularizers.L2({_lit(r.l2)})")
    return kwargs


def _optimizer(r: Experiment) -> list[str]:
    blocks: list[str] = []
    lines: list[str] = []
    lr = _lit(r.learning_rate)
    if r.lr_schedule != "constant":
        lines += [
            "steps_per_epoch = math.ceil(len(x_train) / batch_size)  # Keras also trains the partial batch",
            "total_steps = epochs * steps_per_epoch",
        ]
    if r.lr_schedule == "step":
        first, second = STEP_DROPS
        lines += [
            f"# x0.1 at {first:.0%} and at {second:.0%} of training. Keras switches *after* a boundary",
            "# step, hence the -1: the first reduced step is exactly int(fraction * total_steps).",
            "learning_rate = keras.optimizers.schedules.PiecewiseConstantDecay(",
            f"    boundaries=[int({first} * total_steps) - 1, int({second} * total_steps) - 1],",
            f"    values=[{lr}, {lr} * 0.1, {lr} * 0.1 * 0.1],",
            ")",
        ]
    elif r.lr_schedule == "cosine":
        lines.append(f"learning_rate = keras.optimizers.schedules.CosineDecay({lr}, decay_steps=total_steps)")
    elif r.lr_schedule == "one_cycle":
        blocks.append(_one_cycle_class())
        lines += _one_cycle_momentum_note(r)
        lines.append(f"learning_rate = OneCycle({lr}, total_steps)")
    elif r.lr_schedule == "cyclic":
        blocks.append(_cyclic_class())
        lines.append(
            f"learning_rate = Triangular({lr}, half_cycle_steps={CYCLIC_HALF_EPOCHS} * steps_per_epoch)"
        )

    lr_arg = lr if r.lr_schedule == "constant" else "learning_rate"
    args = [f"learning_rate={lr_arg}"]
    if r.optimizer in ("momentum", "nesterov"):
        args.append(f"momentum={_lit(r.momentum)}")
        if r.optimizer == "nesterov":
            args.append("nesterov=True")
    elif r.optimizer == "rmsprop":
        lines.append("# rho=0.9 and epsilon=1e-7 are Keras' defaults, as in the explorer.")
    elif r.optimizer in ("adam", "adamw"):
        args.append(f"beta_1={_lit(r.momentum)}")
        lines.append("# beta_1 is the explorer's momentum knob; beta_2=0.999, epsilon=1e-7: Keras' defaults.")
    if r.optimizer == "adamw" or r.weight_decay > 0:
        args.append(f"weight_decay={_lit(r.weight_decay)}")
        if r.optimizer == "adamw" and r.weight_decay == 0:
            lines.append("# weight_decay=0.0 spelled out: AdamW's own default is 0.004.")
    if r.clipnorm > 0:
        args.append(f"clipnorm={_lit(r.clipnorm)}")
        lines.append(
            "# clipnorm clips each gradient tensor on its own (not their global norm), as the explorer does."
        )
    if r.clipvalue > 0:
        args.append(f"clipvalue={_lit(r.clipvalue)}")
    name = KERAS_OPTIMIZER[r.optimizer]
    call = f"optimizer = keras.optimizers.{name}({', '.join(args)})"
    if len(call) > 100:
        call = "\n".join([f"optimizer = keras.optimizers.{name}(", *(f"    {a}," for a in args), ")"])
    lines.append(call)
    if r.weight_decay > 0:
        lines.append(
            'optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])  # decay kernels only'
        )
    return [*blocks, "\n".join(lines)]


def _one_cycle_class() -> str:
    """core.training.schedules' one_cycle LR as a Keras schedule, computed per step like the explorer."""
    warm, div, final = ONE_CYCLE_WARMUP, ONE_CYCLE_DIV, ONE_CYCLE_FINAL_DIV
    lines = [
        "class OneCycle(keras.optimizers.schedules.LearningRateSchedule):",
        f'    """Smith\'s one-cycle: a cosine rise from peak/{div:g} to peak over the first {warm:.0%} of',
        f'    the steps, then a cosine fall to peak/{div:g}/{final:g}."""',
        "",
        "    def __init__(self, peak, total_steps):",
        "        self.peak, self.total_steps = peak, total_steps",
        f"        self.warm = max(int({warm} * total_steps), 1)",
        "",
        "    def __call__(self, step):",
        '        t = keras.ops.cast(step, "float32")',
        f"        start = self.peak / {_lit(div)}",
        "        up = keras.ops.minimum(t / self.warm, 1.0)",
        "        down = keras.ops.clip((t - self.warm) / max(self.total_steps - self.warm, 1), 0.0, 1.0)",
        "",
        "        def ramp(a, b, x):  # cosine from a (x=0) to b (x=1)",
        "            return b + (a - b) * 0.5 * (1.0 + keras.ops.cos(math.pi * x))",
        "",
        f"        fall = ramp(self.peak, start / {_lit(final)}, down)",
        "        return keras.ops.where(t < self.warm, ramp(start, self.peak, up), fall)",
        "",
        "    def get_config(self):",
        '        return {"peak": self.peak, "total_steps": self.total_steps}',
    ]
    return "\n".join(lines)


def _one_cycle_momentum_note(r: Experiment) -> list[str]:
    """Why the snippet's momentum does not cycle: said in the script rather than hidden."""
    lines = []
    if r.momentum > 0:  # resolved: 0 for the optimizers without momentum, which cycle nothing
        high, low = ONE_CYCLE_MOMENTUM
        beta = "beta_1" if r.optimizer in ("adam", "adamw") else "momentum"
        lines += [
            f"# The explorer also cycles {beta} {high} -> {low} -> {high} against the LR. A Keras",
            f"# optimizer's {beta} is a fixed number that no schedule can drive, so here it stays at",
            f"# the knob's {_lit(r.momentum)}: expect a somewhat different curve than in the explorer.",
        ]
    return lines


def _cyclic_class() -> str:
    """core.training.schedules' triangular cyclic LR as a Keras schedule."""
    lines = [
        "class Triangular(keras.optimizers.schedules.LearningRateSchedule):",
        f'    """Smith\'s triangular cyclic LR: linearly peak -> peak/{CYCLIC_DIV:g} -> peak, one half cycle',
        f'    every half_cycle_steps ({CYCLIC_HALF_EPOCHS} epochs), starting at the peak."""',
        "",
        "    def __init__(self, peak, half_cycle_steps):",
        "        self.peak, self.half_cycle_steps = peak, half_cycle_steps",
        "",
        "    def __call__(self, step):",
        '        t = keras.ops.cast(step, "float32")',
        "        phase = keras.ops.abs(keras.ops.mod(t / self.half_cycle_steps, 2.0) - 1.0)  # 1 -> 0 -> 1",
        f"        low = self.peak / {_lit(CYCLIC_DIV)}",
        "        return low + (self.peak - low) * (1.0 - phase)",
        "",
        "    def get_config(self):",
        '        return {"peak": self.peak, "half_cycle_steps": self.half_cycle_steps}',
    ]
    return "\n".join(lines)


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
def _join(blocks: list[str]) -> str:
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


def _lit(value: object) -> str:
    """A knob value as Python source (strings bare, for the header): repr keeps floats exact."""
    return repr(value) if isinstance(value, float) else str(value)


def _csv_regression(name: str) -> bool | None:
    """Whether an uploaded table has a numeric (regression) target; None when the upload is not
    on this machine, in which case the snippet assumes classification and says so."""
    try:
        return load_dataset(name).is_regression
    except (DataUnavailable, ValueError, OSError):
        return None
