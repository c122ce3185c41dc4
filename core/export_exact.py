"""The "exact" export: a plain-Keras script plus a run file that replay one explorer run step for step.

The plain export (core.export.keras_snippet) lets Keras draw its own initial weights and batch
order, so its numbers only come close to the run it came from. Here the script starts from the
run's own initial weights, uses the run's own split and (noisy) labels, and feeds the training
rows in the run's own order, with the same update rules (core.training.optim copies Keras'); so
its per-epoch losses match the stored run to float32 rounding (the tolerance of the trainer's
own Keras parity tests, tests/core/training/test_keras_parity.py).

No stored weights are needed: the trainer's initial weights, split and epoch order are pure
NumPy functions of the Experiment (core.training.draws, core.data), so the run file is computed
here, without TensorFlow, for any run of the stacked MLP family, stored or not.
"""

from __future__ import annotations

import io
import textwrap
import zipfile
from dataclasses import dataclass

import numpy as np

from core.constants import BUNDLED_DATASETS, CSV_PREFIX, DOWNLOADED_DATASETS, TOY_DATASETS
from core.data import load_for, make_split, noisy_labels
from core.export import imports_for, join_blocks, model_blocks, pool_lines
from core.export_optimizer import lit, optimizer_blocks
from core.spec import KNOBS, Experiment
from core.training import draws
from core.training.families import family
from core.training.schedules import ONE_CYCLE_MOMENTUM

__all__ = ["exact_script", "exact_unavailable", "exact_zip", "run_file", "run_file_name"]

# The pools the script loads row for row as the explorer does (toy worlds by the same formulas,
# scikit-learn and Keras files in their own order); bumps has no generator in the script yet.
EXACT_DATASETS = (*(d for d in TOY_DATASETS if d != "bumps"), *BUNDLED_DATASETS, *DOWNLOADED_DATASETS)
_COMMENT_WIDTH = 96
_RUN_DROPOUT = "RunDropout(dropout, i)"  # the replay's dropout layer (see _dropout_blocks)
PREDICT_BATCH = 1024  # rows per forward pass when measuring: any size gives the same numbers


@dataclass(frozen=True)
class _Sizes:
    """Layer sizes, what draws.init_member reads (model.Shape needs TensorFlow)."""

    sizes: list[int]


# -- public ----------------------------------------------------------------------------------
def exact_unavailable(e: Experiment) -> str | None:
    """Why this run cannot be replayed exactly by a script (None: it can)."""
    r = e.resolved()
    fam = family(r)
    if fam != "stacked":
        return f"the {fam} family trains with its own procedure; the exact export covers the plain MLP"
    if r.dataset.startswith(CSV_PREFIX):
        return "an upload is parsed by the explorer, the script would read your CSV itself: rows may differ"
    if r.dataset not in EXACT_DATASETS:
        return f"the script has no generator for {r.dataset} yet"
    if r.input_transform != "none" or r.scaling != "standard":
        return "the script standardizes inputs with the training rows' mean and std only"
    return None


def run_file_name(e: Experiment) -> str:
    """The run file's name, which the script opens: one per run key."""
    return f"whatif-{e.resolved().key}.npz"


def exact_script(e: Experiment) -> str:
    """The script (as text) that replays run `e` from its run file (`run_file`).

    Each epoch prints `epoch=N train_loss=... val_loss=... val_accuracy=...`, the explorer's
    epochs-table numbers, so a reader (or a test) can compare the two curves line by line.
    """
    reason = exact_unavailable(e)
    if reason:
        raise ValueError(f"no exact export for this run: {reason}")
    r = e.resolved()
    blocks = [
        _settings(r),
        pool_lines(r, regression=False, unknown_task=False),
        _run_data(r),
        *_dropout_blocks(r),
        *model_blocks(r, regression=False, features="x.shape[1]", initializer=False, dropout=_RUN_DROPOUT),
        _load_weights(),
        *optimizer_blocks(r, steps_line=None),
        _compile(),
        _measure(),
        _train(),
    ]
    body = join_blocks(blocks)
    return f"{_header(r)}\n\n{imports_for(body)}\n\n{body}\n"


def run_file(e: Experiment) -> bytes:
    """The run file (.npz): initial weights kernel_i/bias_i per Dense layer, the split (pool rows
    train_idx, val_idx), the train-metric rows (train_eval_idx) and, with label noise, the
    training rows' labels (train_labels). Loads the run's data (seconds for MNIST)."""
    r = e.resolved()
    ds = load_for(r)
    split = make_split(ds, r.n_samples, r.val_fraction, r.effective_split_seed)
    n_outputs = 1 if ds.is_regression else ds.n_classes
    init = draws.init_member(r, _Sizes([ds.n_features] + [r.width] * r.depth + [n_outputs]))
    arrays: dict[str, np.ndarray] = {
        "train_idx": split.train_idx,
        "val_idx": split.val_idx,
        "train_eval_idx": draws.eval_subset(r.seed, split.train_idx).astype(np.int32),
    }
    for i, (kernel, bias) in enumerate(zip(init["kernels"], init["biases"])):
        arrays[f"kernel_{i}"], arrays[f"bias_{i}"] = kernel, bias
    if r.label_noise > 0:
        arrays["train_labels"] = noisy_labels(ds, split, r.label_noise, r.seed)[split.train_idx]
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def exact_zip(e: Experiment) -> bytes:
    """The download: the script and its run file side by side in one zip."""
    name = run_file_name(e).removesuffix(".npz")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}.py", exact_script(e))
        z.writestr(f"{name}.npz", run_file(e))
    return out.getvalue()


# -- pieces of the script --------------------------------------------------------------------
def _not_reproduced(r: Experiment) -> list[str]:
    """What the script still does differently from the explorer, said rather than hidden."""
    gaps = []
    if r.lr_schedule == "one_cycle" and r.momentum > 0:
        high, low = ONE_CYCLE_MOMENTUM
        gaps.append(
            f"one_cycle's momentum cycle ({high} -> {low} -> {high}): a Keras optimizer's momentum"
            f" is a fixed number, here the knob's {lit(r.momentum)}."
        )
    return gaps


def _header(r: Experiment) -> str:
    knobs = " ".join(f"{name}={lit(getattr(r, name))}" for name in KNOBS)
    wrap = textwrap.TextWrapper(
        _COMMENT_WIDTH, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False
    )
    about = (
        "It starts from the run's own initial weights, split and labels (kept in RUN_FILE, downloaded"
        " with this script: keep the two in one folder) and feeds the training rows in the run's own"
        " order: each epoch a permutation drawn from (seed, epoch), of which the first"
        " steps_per_epoch * batch_size rows are used. The remaining len(train_idx) % batch_size rows,"
        " a partial batch, are skipped that epoch, as the explorer skips them (it keeps every"
        " batch the same shape); each epoch's permutation skips other rows. The update rules"
        " are Keras', which the explorer copies, so each epoch's losses match the explorer's"
        " epochs table to float32 rounding (its own Keras parity tests allow 0.2%)."
    )
    if r.dropout > 0:
        about += " Dropout drops the units the explorer dropped at each step (RunDropout), not Keras' draws."
    gaps = _not_reproduced(r)
    lines = [
        "# One run of the hyperparameter what-if explorer, replayed exactly with plain Keras 3.",
        f"# Run key {r.key}. Knobs:",
        *textwrap.wrap(
            knobs, _COMMENT_WIDTH, initial_indent="#   ", subsequent_indent="#   ", break_on_hyphens=False
        ),
        "#",
        "# Requirements: pip install keras tensorflow scikit-learn",
        "#",
        *wrap.wrap(about),
        "#",
        *([*wrap.wrap("Not reproduced: " + " ".join(gaps)), "#"] if gaps else []),
        *wrap.wrap(
            "A run that diverged in the explorer was frozen at the step its loss blew up; this"
            " script trains on, so the curves agree up to that step."
        ),
    ]
    return "\n".join(lines)


def _settings(r: Experiment) -> str:
    return "\n".join(
        [
            f"seed = {r.seed}  # drew the initial weights in RUN_FILE and draws the batch order below",
            f"batch_size = {r.batch_size}",
            f"epochs = {r.epochs}",
            *(
                [f"dropout = {lit(r.dropout)}  # with the explorer's masks: see RunDropout"]
                if r.dropout > 0
                else []
            ),
            f'RUN_FILE = "whatif-{r.key}.npz"',
            f"ORDER_SALT = {draws.ORDER_SALT}  # the explorer's fixed salt for the batch-order stream",
        ]
    )


def _run_data(r: Experiment) -> str:
    lines = [
        "run = np.load(RUN_FILE)",
        'train_idx, val_idx = run["train_idx"], run["val_idx"]  # rows of x: the run\'s subsample and split',
        f'eval_idx = run["train_eval_idx"]  # the <= {draws.TRAIN_EVAL_CAP} training rows its train_loss is measured on',
    ]
    if r.label_noise > 0:
        lines += [
            "y = y.copy()",
            f'y[train_idx] = run["train_labels"]  # label_noise={lit(r.label_noise)}: the run\'s replaced labels',
        ]
    lines += [
        "# Standardize as the explorer does: training rows' statistics, applied in float32.",
        'x = x.astype("float32")',
        'mean = x[train_idx].astype("float64").mean(axis=0)',
        'std = x[train_idx].astype("float64").std(axis=0)',
        "std[std < 1e-12] = 1.0  # a constant feature (e.g. an always-black pixel) is left as is",
        'x = (x - mean.astype("float32")) * (1.0 / std.astype("float32"))',
        "batch_size = min(batch_size, len(train_idx))",
        "steps_per_epoch = len(train_idx) // batch_size  # whole batches only (see the header)",
    ]
    return "\n".join(lines)


def _dropout_blocks(r: Experiment) -> list[str]:
    """The explorer's dropout: the same units dropped at the same step (Keras' Dropout would draw
    its own masks). A copy of core.training.model.uniform_hash, one member at a time."""
    if r.dropout <= 0:
        return []
    uniform = [
        "def dropout_uniform(counter, rows, cols):",
        '    """A uniform number in [0, 1) per unit of a batch, hashed from (seed, counter, position):',
        '    the explorer\'s dropout stream, so the same units are dropped at the same step."""',
        "    u32 = tf.uint32",
        "    pos = tf.cast(tf.range(rows * cols), u32)",
        "    x = tf.constant(seed, u32) * tf.constant(0x9E3779B1, u32)",
        "    x = x ^ (counter * tf.constant(0x85EBCA77, u32)) ^ (pos * tf.constant(0xC2B2AE3D, u32))",
        '    for mult in (0x7FEB352D, 0x846CA68B):  # the "lowbias32" finalizer',
        "        x = x ^ tf.bitwise.right_shift(x, tf.constant(16, u32))",
        "        x = x * tf.constant(mult, u32)",
        "    x = x ^ tf.bitwise.right_shift(x, tf.constant(16, u32))",
        "    u = tf.cast(tf.bitwise.right_shift(x, tf.constant(8, u32)), tf.float32) / 2**24",
        "    return tf.reshape(u, (rows, cols))",
    ]
    layer = [
        "class RunDropout(layers.Layer):",
        '    """Dropout with the explorer\'s masks for hidden layer i: a unit is kept where its',
        '    number is >= rate (and scaled by 1 / (1 - rate)), as in the explorer."""',
        "",
        "    def __init__(self, rate, i):",
        "        super().__init__()",
        '        self.rate, self.i = tf.constant(rate, "float32"), i',
        "",
        "    def call(self, a, training=False):",
        "        if not training:",
        "            return a",
        f"        # the step being taken (the optimizer's update count) x {r.depth} hidden layers + this one",
        f"        counter = tf.cast(optimizer.iterations * {r.depth} + self.i, tf.uint32)",
        "        u = dropout_uniform(counter, tf.shape(a)[0], tf.shape(a)[1])",
        "        return tf.where(u >= self.rate, a / (1.0 - self.rate), 0.0)",
    ]
    return ["\n".join(uniform), "\n".join(layer)]


def _load_weights() -> str:
    return "\n".join(
        [
            "# The run's initial weights (Keras would draw others): a kernel and a bias per Dense layer.",
            "dense_layers = [layer for layer in model.layers if isinstance(layer, layers.Dense)]",
            "for i, layer in enumerate(dense_layers):",
            '    layer.set_weights([run[f"kernel_{i}"], run[f"bias_{i}"]])',
        ]
    )


def _compile() -> str:
    return "\n".join(
        [
            "loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)",
            "model.compile(optimizer=optimizer, loss=loss_fn)",
        ]
    )


def _measure() -> str:
    return "\n".join(
        [
            "def measured(rows):",
            '    """(loss, accuracy) on these rows as the explorer measures them: the data loss alone',
            '    (no L1/L2 penalty), batch norm with its moving averages."""',
            f"    logits = model.predict(x[rows], batch_size={PREDICT_BATCH}, verbose=0)",
            "    return float(loss_fn(y[rows], logits)), float(np.mean(logits.argmax(axis=1) == y[rows]))",
        ]
    )


def _train() -> str:
    return "\n".join(
        [
            "for epoch in range(epochs):",
            "    # The run's batch order; shuffle=False keeps it.",
            "    order = np.random.default_rng([seed, epoch, ORDER_SALT]).permutation(train_idx)",
            "    order = order[: steps_per_epoch * batch_size]",
            "    model.fit(x[order], y[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)",
            "    train_loss, _ = measured(eval_idx)",
            "    val_loss, val_accuracy = measured(val_idx)",
            "    print(",
            '        f"epoch={epoch + 1} train_loss={train_loss:.7g} val_loss={val_loss:.7g} "',
            '        f"val_accuracy={val_accuracy:.4f}"',
            "    )",
        ]
    )
