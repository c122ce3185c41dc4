"""The optimizer and learning-rate schedule of the exported Keras script (see core.export).

Apart from core.export because it is its own subject: how each optimizer knob and schedule is
spelled in Keras, with the defaults the explorer shares with Keras named once in core.constants.
"""

from __future__ import annotations

from core.constants import ADAM_BETA_2, OPTIMIZER_EPSILON, RMSPROP_RHO
from core.spec import Experiment
from core.training.schedules import (
    CYCLIC_DIV,
    CYCLIC_HALF_EPOCHS,
    EXPONENTIAL_RATE,
    ONE_CYCLE_DIV,
    ONE_CYCLE_FINAL_DIV,
    ONE_CYCLE_MOMENTUM,
    ONE_CYCLE_WARMUP,
    STEP_DROPS,
)

KERAS_OPTIMIZER = {
    "sgd": "SGD",
    "momentum": "SGD",
    "nesterov": "SGD",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "adamw": "AdamW",
}


def lit(value: object) -> str:
    """A knob value as Python source (strings bare, for the header): repr keeps floats exact."""
    return repr(value) if isinstance(value, float) else str(value)


# The plain script's steps per epoch: Keras' fit also trains the partial last batch.
KERAS_STEPS = "steps_per_epoch = math.ceil(len(x_train) / batch_size)  # Keras also trains the partial batch"


def _schedule_lines(r: Experiment, lr: str, steps_line: str | None) -> tuple[list[str], list[str]]:
    """(class blocks, lines) that define `learning_rate` for a non-constant schedule."""
    if r.lr_schedule == "constant":
        return [], []
    lines = [*([steps_line] if steps_line else []), "total_steps = epochs * steps_per_epoch"]
    blocks: list[str] = []
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
    elif r.lr_schedule == "exponential":
        lines += [
            f"# Halved smoothly every lr_half_life={lit(r.lr_half_life)} epochs (not in steps).",
            "learning_rate = keras.optimizers.schedules.ExponentialDecay(",
            f"    {lr}, decay_steps={lit(r.lr_half_life)} * steps_per_epoch, decay_rate={EXPONENTIAL_RATE}",
            ")",
        ]
    elif r.lr_schedule == "cyclic":
        blocks.append(_cyclic_class())
        lines.append(
            f"learning_rate = Triangular({lr}, half_cycle_steps={CYCLIC_HALF_EPOCHS} * steps_per_epoch)"
        )
    return blocks, lines


_EPS_TEXT = str(OPTIMIZER_EPSILON).replace("e-0", "e-")  # 1e-7 as Keras' docs write it


def _optimizer_args(r: Experiment) -> tuple[list[str], list[str]]:
    """(keyword arguments, comment lines) of the Keras optimizer beyond the learning rate."""
    args: list[str] = []
    lines: list[str] = []
    if r.optimizer in ("momentum", "nesterov"):
        args.append(f"momentum={lit(r.momentum)}")
        if r.optimizer == "nesterov":
            args.append("nesterov=True")
    elif r.optimizer == "rmsprop":
        lines.append(f"# rho={RMSPROP_RHO} and epsilon={_EPS_TEXT} are Keras' defaults, as in the explorer.")
    elif r.optimizer in ("adam", "adamw"):
        args.append(f"beta_1={lit(r.momentum)}")
        lines.append(
            f"# beta_1 is the explorer's momentum knob; beta_2={ADAM_BETA_2}, epsilon={_EPS_TEXT}:"
            " Keras' defaults."
        )
    if r.optimizer == "adamw" or r.weight_decay > 0:
        args.append(f"weight_decay={lit(r.weight_decay)}")
        if r.optimizer == "adamw" and r.weight_decay == 0:
            lines.append("# weight_decay=0.0 spelled out: AdamW's own default is 0.004.")
    if r.clipnorm > 0:
        args.append(f"clipnorm={lit(r.clipnorm)}")
        lines.append(
            "# clipnorm clips each gradient tensor on its own (not their global norm), as the explorer does."
        )
    if r.clipvalue > 0:
        args.append(f"clipvalue={lit(r.clipvalue)}")
    return args, lines


def optimizer_blocks(r: Experiment, steps_line: str | None = KERAS_STEPS) -> list[str]:
    """Script blocks (schedule classes, then the optimizer lines) for the run's optimizer;
    `steps_line` defines steps_per_epoch for a schedule (None: the script already has it)."""
    lr = lit(r.learning_rate)
    blocks, lines = _schedule_lines(r, lr, steps_line)
    lr_arg = lr if r.lr_schedule == "constant" else "learning_rate"
    extra, notes = _optimizer_args(r)
    args = [f"learning_rate={lr_arg}", *extra]
    lines += notes
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
        f"        start = self.peak / {lit(div)}",
        "        up = keras.ops.minimum(t / self.warm, 1.0)",
        "        down = keras.ops.clip((t - self.warm) / max(self.total_steps - self.warm, 1), 0.0, 1.0)",
        "",
        "        def ramp(a, b, x):  # cosine from a (x=0) to b (x=1)",
        "            return b + (a - b) * 0.5 * (1.0 + keras.ops.cos(math.pi * x))",
        "",
        f"        fall = ramp(self.peak, start / {lit(final)}, down)",
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
            f"# the knob's {lit(r.momentum)}: expect a somewhat different curve than in the explorer.",
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
        f"        low = self.peak / {lit(CYCLIC_DIV)}",
        "        return low + (self.peak - low) * (1.0 - phase)",
        "",
        "    def get_config(self):",
        '        return {"peak": self.peak, "half_cycle_steps": self.half_cycle_steps}',
    ]
    return "\n".join(lines)
