"""Keras optimizer semantics for stacked members: every hyperparameter is a [K] tensor.

Written out rather than borrowed from keras.optimizers because a Keras optimizer holds one
learning rate for all its variables, while a stacked group needs one per member. The update
rules are copied from Keras 3 (sgd.py, rmsprop.py, adam.py, base_optimizer.py) so that an exported
Keras snippet means the same thing: gradients are clipped first (clipnorm per tensor, clipvalue
per element), then decoupled weight decay (W -= W * weight_decay * lr), then the update.
"""

from __future__ import annotations

from core.constants import ADAM_BETA_2, RMSPROP_RHO
from core.constants import OPTIMIZER_EPSILON as EPSILON
from core.training.device import tf


def div_by_sqrt(x: tf.Tensor, root: tf.Tensor) -> tf.Tensor:
    """x / root for root = tf.sqrt(...) > 0, kept an exact division.

    Grappler rewrites Div(x, Sqrt(y)) into x * Rsqrt(y); the vectorized rsqrt is approximate and
    its last elements take an exact scalar path, so a member's numbers would depend on where it
    sits in the stack. DivNoNan is not rewritten (and equals x / root, as root is never 0).
    """
    return tf.math.divide_no_nan(x, root)


def per_member(v: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """Reshape a [K] vector to broadcast against a [K, ...] tensor."""
    return tf.reshape(v, [-1] + [1] * (len(like.shape) - 1))


def member_norm(t: tf.Tensor) -> tf.Tensor:
    """L2 norm of each member's slice of a [K, ...] tensor -> [K]."""
    return tf.sqrt(tf.reduce_sum(tf.square(t), axis=list(range(1, len(t.shape)))))


def clip(
    grads: list[tf.Tensor],
    norms: list[tf.Tensor],
    clipnorm: tf.Tensor,
    clipvalue: tf.Tensor,
    use_norm: bool,
    use_value: bool,
) -> tuple[list[tf.Tensor], tf.Tensor]:
    """Keras clipnorm/clipvalue per member (0 = off), given each gradient's [K] norms.
    Returns the clipped gradients and [K] 'clipping fired on some tensor this step'."""
    fired = tf.zeros_like(clipnorm, dtype=tf.bool)
    out = []
    for g, n in zip(grads, norms):
        if use_norm:
            on = clipnorm > 0
            fired |= on & (n > clipnorm)
            scale = tf.where(on, clipnorm / tf.maximum(n, tf.where(on, clipnorm, 1.0)), 1.0)
            g = g * per_member(scale, g)
        if use_value:
            cv = per_member(clipvalue, g)
            on = cv > 0
            big = tf.reduce_any(tf.abs(g) > cv, axis=list(range(1, len(g.shape))))
            fired |= (clipvalue > 0) & big
            g = tf.where(on, tf.clip_by_value(g, -cv, cv), g)
        out.append(g)
    return out, fired


def slot_names(optimizer: str) -> tuple[str, ...]:
    """Per-variable optimizer state each optimizer keeps (all zeros at the start)."""
    return {  # keys: core.constants.OPTIMIZERS
        "sgd": (),
        "momentum": ("m",),
        "nesterov": ("m",),
        "rmsprop": ("v",),
        "adam": ("m", "v"),
        "adamw": ("m", "v"),
    }[optimizer]


def update(
    optimizer: str,
    w: tf.Tensor,
    g: tf.Tensor,
    slots: dict[str, tf.Tensor],
    lr: tf.Tensor,
    momentum: tf.Tensor,
    bias_correction: tuple[tf.Tensor, tf.Tensor] | None = None,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """One Keras update of variable w ([K, ...]) with gradient g; lr and momentum are [K].

    For Adam, `momentum` is beta_1 and bias_correction holds this step's (beta_1^t, beta_2^t).
    """
    lr_b, mom_b = per_member(lr, w), per_member(momentum, w)
    if optimizer == "sgd":
        return w - lr_b * g, {}
    if optimizer in ("momentum", "nesterov"):
        m = mom_b * slots["m"] - lr_b * g
        step = mom_b * m - lr_b * g if optimizer == "nesterov" else m
        return w + step, {"m": m}
    if optimizer == "rmsprop":
        v = RMSPROP_RHO * slots["v"] + (1 - RMSPROP_RHO) * tf.square(g)
        return w - div_by_sqrt(lr_b * g, tf.sqrt(v + EPSILON)), {"v": v}
    beta_1_power, beta_2_power = bias_correction
    alpha = lr * tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    m = slots["m"] + (g - slots["m"]) * (1 - mom_b)
    v = slots["v"] + (tf.square(g) - slots["v"]) * (1 - ADAM_BETA_2)
    return w - per_member(alpha, w) * m / (tf.sqrt(v) + EPSILON), {"m": m, "v": v}
