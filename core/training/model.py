"""The stacked MLP: K members of one shape as tensors with a leading member axis.

A member's kernel for layer l is kernels[l][k] ([fan_in, fan_out]); every op below is batched
over k and never mixes members, so member k's numbers are exactly those of a lone network.
Initial weights are drawn in NumPy from the member's own seed, which makes them independent of
which other members share the group and lets tests hand the very same weights to Keras.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.measures import n_params as count_params
from core.spec import Experiment
from core.training.device import tf

# The initial weights are drawn in NumPy (TF-free: core.export_exact draws them too).
from core.training.draws import INIT_SALT, TRUNCATED_STD, init_kernel, init_member  # noqa: F401
from core.training.optim import div_by_sqrt

BN_MOMENTUM = 0.99  # Keras BatchNormalization defaults
BN_EPSILON = 1e-3
LEAKY_SLOPE = 0.2  # keras.activations.leaky_relu default negative_slope (the layer defaults to 0.3)
UNIT_24 = 1.0 / 2**24  # the top 24 hash bits scaled to [0, 1): exactly representable in float32


@dataclass(frozen=True)
class Shape:
    """What makes networks stackable: layer sizes and structural switches."""

    n_features: int
    n_outputs: int
    width: int
    depth: int
    activation: str
    batch_norm: str
    residual: bool

    @classmethod
    def of(cls, e: Experiment, n_features: int, n_outputs: int) -> Shape:
        r = e.resolved()
        return cls(n_features, n_outputs, r.width, r.depth, r.activation, r.batch_norm, r.residual)

    @property
    def sizes(self) -> list[int]:
        return [self.n_features] + [self.width] * self.depth + [self.n_outputs]

    @property
    def layer_names(self) -> list[str]:
        return [f"dense_{i + 1}" for i in range(self.depth)] + ["output"]

    @property
    def n_params(self) -> int:
        return count_params(
            self.n_features, self.n_outputs, self.width, self.depth, self.batch_norm, self.residual
        )


def activate(name: str, z: tf.Tensor) -> tf.Tensor:
    if name == "relu":
        return tf.nn.relu(z)
    if name == "leaky_relu":
        return tf.nn.leaky_relu(z, alpha=LEAKY_SLOPE)
    if name == "elu":
        return tf.nn.elu(z)
    if name == "tanh":
        return tf.tanh(z)
    if name == "sigmoid":
        return tf.sigmoid(z)
    return z


def uniform_hash(seeds: tf.Tensor, counter: tf.Tensor, shape: tuple[int, int]) -> tf.Tensor:
    """Counter-based uniform [K, *shape] in [0, 1): row k depends only on seeds[k] and counter.

    tf.random's stateless ops take one seed per call; hashing (seed, counter, position) with
    integer mixing gives every member its own stream inside one batched op, so dropout masks do
    not depend on the group a member trains in.
    """
    u32 = tf.uint32
    n = shape[0] * shape[1]
    pos = tf.cast(tf.range(n), u32)[None, :]
    x = tf.cast(seeds, u32)[:, None] * tf.constant(0x9E3779B1, u32)
    x = x ^ (tf.cast(counter, u32) * tf.constant(0x85EBCA77, u32)) ^ (pos * tf.constant(0xC2B2AE3D, u32))
    for mult in (0x7FEB352D, 0x846CA68B):  # "lowbias32" finalizer
        x = x ^ tf.bitwise.right_shift(x, tf.constant(16, u32))
        x = x * tf.constant(mult, u32)
    x = x ^ tf.bitwise.right_shift(x, tf.constant(16, u32))
    u = tf.cast(tf.bitwise.right_shift(x, tf.constant(8, u32)), tf.float32) * UNIT_24
    return tf.reshape(u, (-1, *shape))


@tf.custom_gradient
def over_batch(v: tf.Tensor, like: tf.Tensor):
    """v [K, W] repeated over the batch axis of `like` [K, B, W], with a member-local gradient.

    Why: the gradient of a plain broadcast (v[:, None, :]) is a reduction over the middle axis
    of [K, B, W], and TensorFlow's CPU kernel for that sums a member's column in an order that
    depends on where the member sits in the stack. Summing a transposed copy over its last axis
    reduces each member's rows on their own, so a member's numbers do not depend on its group.
    """

    def grad(upstream: tf.Tensor):
        return batch_sum(upstream), tf.zeros_like(like)

    return tf.broadcast_to(v[:, None, :], tf.shape(like)), grad


def batch_sum(t: tf.Tensor) -> tf.Tensor:
    """Sum of [K, B, W] over the batch axis -> [K, W], member by member (see over_batch)."""
    return tf.reduce_sum(tf.transpose(t, [0, 2, 1]), axis=2)


def forward(
    shape: Shape,
    kernels: list[tf.Tensor],
    biases: list[tf.Tensor],
    bn: list[dict[str, tf.Tensor]],
    x: tf.Tensor,
    training: bool,
    dropout: tf.Tensor | None = None,
    seeds: tf.Tensor | None = None,
    counter: tf.Tensor | None = None,
) -> tuple[tf.Tensor, list[tuple[tf.Tensor, tf.Tensor]]]:
    """Logits [K, B, out] for inputs [K, B, in], and each BN layer's batch (mean, var).

    bn[l] holds gamma, beta, moving_mean, moving_var ([K, width]); in training the batch
    statistics are used and returned so the caller can update the moving averages.
    """
    h = x
    stats = []
    for layer in range(shape.depth):
        z = tf.matmul(h, kernels[layer])
        z = z + over_batch(biases[layer], z)
        if shape.batch_norm == "before":
            z, s = _batch_norm(z, bn[layer], training)
            stats.append(s)
        a = activate(shape.activation, z)
        if shape.batch_norm == "after":
            a, s = _batch_norm(a, bn[layer], training)
            stats.append(s)
        if training and dropout is not None:
            rate = dropout[:, None, None]
            u = uniform_hash(seeds, counter * shape.depth + layer, (a.shape[1], a.shape[2]))
            a = tf.where(u >= rate, a / (1.0 - rate), 0.0)
        if shape.residual and layer > 0:
            a = h + a
        h = a
    logits = tf.matmul(h, kernels[-1])
    return logits + over_batch(biases[-1], logits), stats


def _batch_norm(z: tf.Tensor, p: dict[str, tf.Tensor], training: bool) -> tuple[tf.Tensor, tuple]:
    """Batch normalization; gamma / sqrt rather than rsqrt because sqrt and division are exactly
    rounded in every code path, so a member's result does not depend on its place in the stack."""
    batch = tf.cast(tf.shape(z)[1], z.dtype)
    if training:
        mean = batch_sum(z) / batch
        centered = z - over_batch(mean, z)
        var = batch_sum(tf.square(centered)) / batch
    else:
        mean, var = p["moving_mean"], p["moving_var"]
        centered = z - over_batch(mean, z)
    inv = div_by_sqrt(p["gamma"], tf.sqrt(var + BN_EPSILON))
    return centered * over_batch(inv, z) + over_batch(p["beta"], z), (mean, var)
