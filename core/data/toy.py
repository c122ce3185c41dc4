"""Toy 2-D worlds (moons, circles, spiral, xor, gaussians; bumps, a regression surface): fixed
worlds whose two axes can be drawn."""

from __future__ import annotations

import functools
import math

import numpy as np

from core.data.base import Dataset, freeze

TOY_SEED = 0  # the toy world is fixed; only the split varies with the member seed
GAUSSIAN_STD_PER_NOISE = 4.0  # noise 0.2 -> cluster_std 0.8: blobs that touch but stay apart
# bumps: five Gaussian bumps (x, y, height) of width BUMP_WIDTH and a gentle ripple over the
# square [-BUMPS_RANGE, BUMPS_RANGE]^2: smooth, a few hills and valleys, nothing a linear or a
# tiny net can fit. Heights of both signs so neither a constant nor one ReLU ramp is close.
BUMPS = ((-1.0, -1.0, 1.0), (1.0, 1.0, 1.0), (-1.0, 1.0, -1.0), (1.0, -1.0, -0.7), (0.0, 0.0, 0.6))
BUMP_WIDTH = 0.5
RIPPLE = (0.3, 2.0, 1.5)  # amplitude * sin(2 x1) * cos(1.5 x2)
BUMPS_RANGE = 2.0
BUMPS_REFERENCE_GRID = 201  # the target is scaled to mean 0, SD 1 over this grid of the square


@functools.lru_cache(maxsize=32)
def load_toy(name: str, n: int, noise: float) -> Dataset:
    """Generate a toy world with the FIXED seed TOY_SEED.

    The dataset is "the world" being learned: if it changed with the member seed, seed-to-seed
    spread would mix model variance with data variance and every decision-boundary picture
    would show different points. The member seed only changes the split.
    """
    from sklearn.datasets import make_blobs, make_circles, make_moons

    rng = np.random.default_rng(TOY_SEED)
    if name == "moons":
        x, y = make_moons(n_samples=n, noise=noise, random_state=TOY_SEED)
    elif name == "circles":
        x, y = make_circles(n_samples=n, noise=noise, factor=0.5, random_state=TOY_SEED)
    elif name == "spiral":
        x, y = _spiral(n, noise, rng)
    elif name == "xor":
        x, y = _xor(n, noise, rng)
    elif name == "gaussians":
        centers = np.array([[0.0, 2.0], [-math.sqrt(3), -1.0], [math.sqrt(3), -1.0]])
        x, y = make_blobs(
            n_samples=n, centers=centers, cluster_std=GAUSSIAN_STD_PER_NOISE * noise, random_state=TOY_SEED
        )
    elif name == "bumps":
        return _bumps(n, noise, rng)
    else:  # pragma: no cover - guarded by load_dataset
        raise ValueError(name)
    n_classes = 3 if name == "gaussians" else 2
    return freeze(
        Dataset(
            name=name,
            x=np.ascontiguousarray(x, dtype=np.float32),
            y=np.asarray(y, dtype=np.int32),
            n_classes=n_classes,
            feature_names=("x1", "x2"),
            class_names=tuple(str(k) for k in range(n_classes)),
        )
    )


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved arms of 1.5 turns, radius 0..2: arms ~0.67 apart, moons-like scale, so
    the same `noise` means a comparable amount of overlap across toy datasets."""
    y = np.arange(n) % 2
    t = rng.uniform(0.05, 1.0, size=n)  # skip the centre, where both arms meet
    theta = 3 * math.pi * t + math.pi * y
    r = 2.0 * t
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    x += noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return x[order], y[order]


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrant clusters (uniform in 0.1..1 from each axis), label 1 where x1*x2 < 0.

    Labels come from the clean points, then jitter is added, so `noise` blurs the border the
    same way it does for moons and circles.
    """
    quadrant = np.arange(n) % 4
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)[quadrant]
    x = signs * rng.uniform(0.1, 1.0, size=(n, 2))
    y = (signs[:, 0] * signs[:, 1] < 0).astype(np.int32)
    x += noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return x[order], y[order]


def _bumps_raw(x: np.ndarray) -> np.ndarray:
    x1, x2 = x[..., 0].astype(np.float64), x[..., 1].astype(np.float64)
    hills = sum(h * np.exp(-((x1 - u) ** 2 + (x2 - v) ** 2) / (2 * BUMP_WIDTH**2)) for u, v, h in BUMPS)
    amplitude, f1, f2 = RIPPLE
    return hills + amplitude * np.sin(f1 * x1) * np.cos(f2 * x2)


@functools.lru_cache(maxsize=1)
def _bumps_moments() -> tuple[float, float]:
    g = np.linspace(-BUMPS_RANGE, BUMPS_RANGE, BUMPS_REFERENCE_GRID)
    values = _bumps_raw(np.stack(np.meshgrid(g, g), -1))
    return float(values.mean()), float(values.std())


def bumps_target(x: np.ndarray) -> np.ndarray:
    """The noiseless bumps surface at points x [..., 2], scaled to mean 0 and SD 1 over the
    square: a mean squared error on it then reads as the share of the target's variance left
    unexplained, and `noise` is in units of the target's SD. Pages draw it beside a fit."""
    mean, sd = _bumps_moments()
    return (_bumps_raw(np.asarray(x)) - mean) / sd


def _bumps(n: int, noise: float, rng: np.random.Generator) -> Dataset:
    """Regression: points uniform over the square, target = bumps_target + noise * N(0, 1)."""
    x = rng.uniform(-BUMPS_RANGE, BUMPS_RANGE, size=(n, 2))
    y = bumps_target(x) + noise * rng.standard_normal(n)
    return freeze(
        Dataset(
            name="bumps",
            x=np.ascontiguousarray(x, dtype=np.float32),
            y=np.asarray(y, dtype=np.float32),
            n_classes=0,
            feature_names=("x1", "x2"),
            class_names=(),
        )
    )
