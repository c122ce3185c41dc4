"""The stacked MLP: K members of one shape as tensors with a leading member axis.

A member's kernel for layer l is kernels[l][k] ([fan_in, fan_out]); every op below is batched
over k and never mixes members, so member k's numbers are exactly those of a lone network.
Initial weights are drawn in NumPy from the member's own seed, which makes them independent of
which other members share the group and lets tests hand the very same weights to Keras.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.spec import Experiment
from core.training.device import tf

BN_MOMENTUM = 0.99  # Keras BatchNormalization defaults
BN_EPSILON = 1e-3
LEAKY_SLOPE = 0.2  # keras.activations.leaky_relu default negative_slope (the layer defaults to 0.3)
TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated at +-2 (Keras VarianceScaling)
NORMAL_STD = {"normal_small": 0.01, "normal_large": 1.0}


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
        s = self.sizes
        dense = sum(a * b + b for a, b in zip(s[:-1], s[1:]))
        return dense + (2 * self.width * self.depth if self.batch_norm != "none" else 0)


def init_kernel(init: str, fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """One kernel with Keras' initializer semantics (he/lecun are truncated normals)."""
    if init == "glorot_uniform":
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (fan_in, fan_out))
    if init in NORMAL_STD:
        return rng.normal(0.0, NORMAL_STD[init], (fan_in, fan_out))
    scale = 2.0 if init == "he_normal" else 1.0
    std = np.sqrt(scale / fan_in) / TRUNCATED_STD
    z = rng.standard_normal((fan_in, fan_out))
    while (bad := np.abs(z) > 2).any():
        z[bad] = rng.standard_normal(int(bad.sum()))
    return z * std


def init_member(e: Experiment, shape: Shape) -> dict[str, list[np.ndarray]]:
    """Initial parameters of one member, from its seed alone (float32)."""
    rng = np.random.default_rng([e.seed, 7919])
    sizes = shape.sizes
    kernels = [init_kernel(e.init, a, b, rng).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(b, np.float32) for b in sizes[1:]]
    return {"kernels": kernels, "biases": biases}


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
    u = tf.cast(tf.bitwise.right_shift(x, tf.constant(8, u32)), tf.float32) * (1.0 / 16777216.0)
    return tf.reshape(u, (-1, *shape))


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
        z = tf.matmul(h, kernels[layer]) + biases[layer][:, None, :]
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
    return tf.matmul(h, kernels[-1]) + biases[-1][:, None, :], stats


def _batch_norm(z: tf.Tensor, p: dict[str, tf.Tensor], training: bool) -> tuple[tf.Tensor, tuple]:
    if training:
        mean = tf.reduce_mean(z, axis=1)
        var = tf.reduce_mean(tf.square(z - mean[:, None, :]), axis=1)
    else:
        mean, var = p["moving_mean"], p["moving_var"]
    inv = tf.math.rsqrt(var + BN_EPSILON) * p["gamma"]
    return (z - mean[:, None, :]) * inv[:, None, :] + p["beta"][:, None, :], (mean, var)
