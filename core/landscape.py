"""The loss landscape around a run, in NumPy: the loss at many weight points of one network at once.

Why NumPy and not the trainer: the server process that draws pages never imports TensorFlow, and
a landscape is only forward passes. Every point of a line or a slice is one weight set of the same
shape, so a whole slice is one stacked evaluation: arrays with a leading point axis, pushed
through the MLP with batched matmuls (`losses`), a 25x25 slice in a few seconds on a CPU.

What is computed (references in the docstrings below):
- `interpolation`: the loss along the straight line from the initial to the final weights,
  alpha in [-0.25, 1.25] with 0 and 1 exact (Goodfellow, Vinyals & Saxe 2015);
- `between`: the same line between two runs' final weights (e.g. small- vs large-batch solutions);
- `slice_1d`, `slice_2d`: the loss around the final weights along filter-normalized random
  directions (Li et al. 2018);
- `sharpness`: the largest rise of the training loss within a radius along such directions
  (after Keskar et al. 2017).

The losses are the trainer's own end-of-epoch evaluation, reproduced: the same (transformed) pool
and split, the same input scaling, the same fixed subset of training rows (core.training.draws.eval_subset, a
TensorFlow-free module; validation: all of it), inference mode (no dropout, batch norm from its moving statistics). At alpha = 1 the line
therefore gives the stored final train/val loss (tests/core/test_landscape.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from core.data import Dataset, load_for, make_split, noisy_labels
from core.data.transforms import fit_scaler, transformed
from core.spec import Experiment
from core.training import draws  # NumPy only: the trainer's draws without TensorFlow
from core.weights import RunWeights

# The trainer's forward pass, repeated here because core.training.model imports TensorFlow; the
# tests assert they equal core.training.model.BN_EPSILON / LEAKY_SLOPE.
BN_EPSILON = 1e-3  # Keras BatchNormalization default
LEAKY_SLOPE = 0.2
# Alphas of the initial->final line: -0.25 to 1.25 in steps of 0.05; integers over 20, so 0 and 1
# are exact (the endpoints must be the stored runs themselves, not 1e-17 away).
ALPHA_STEP_DIVISOR = 20
ALPHAS = np.arange(-5, 26) / ALPHA_STEP_DIVISOR
# Slices span [-1, 1] filter norms as in Li et al.'s figures; 2 * SLICE_HALF + 1 points per axis
# (25), offsets k / SLICE_HALF so 0 is exact.
SLICE_HALF = 12
# Points x examples x units held at once (float32): ~64 MB per activation, whatever the slice.
CHUNK_FLOATS = 16 * 2**20
DIRECTION_SALT = 31337  # mixed into the run's seed: directions unrelated to its other draws


@dataclass(frozen=True, eq=False)
class EvalSet:
    """Standardized inputs [n, F] (float32) and labels [n] of one evaluation split."""

    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True, eq=False)
class Problem:
    """What a loss needs besides the weights: the network's structure and its two splits."""

    activation: str
    batch_norm: str
    residual: bool
    regression: bool
    train: EvalSet
    val: EvalSet


def problem(e: Experiment, ds: Dataset | None = None) -> Problem:
    """The run's evaluation data exactly as the trainer builds it for its end-of-epoch metrics."""
    ds = transformed(ds if ds is not None else load_for(e), e.input_transform)
    split = make_split(ds, e.n_samples, e.val_fraction, e.effective_split_seed)
    scaler = fit_scaler(ds, split, e.scaling)
    labels = noisy_labels(ds, split, e.label_noise, e.seed)
    train_idx = draws.eval_subset(e.seed, split.train_idx)  # the trainer's own train-metric rows
    center = np.asarray(scaler.center, np.float32)
    inv_scale = np.asarray(1.0 / scaler.scale, np.float32)
    y_dtype = np.float32 if ds.is_regression else np.int64

    def inputs(idx: np.ndarray) -> np.ndarray:
        """As the trainer's step computes them: (x - center) * (1 / scale) in float32 for the
        affine scalings; a quantile map's scaled copy as is."""
        if not scaler.affine:
            return scaler(ds.x[idx])
        return ((np.asarray(ds.x[idx], np.float32) - center) * inv_scale).astype(np.float32)

    def part(idx: np.ndarray) -> EvalSet:
        return EvalSet(inputs(idx), labels[idx].astype(y_dtype))

    r = e.resolved()
    return Problem(
        r.activation, r.batch_norm, r.residual, ds.is_regression, part(train_idx), part(split.val_idx)
    )


# -- weight points -----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Points:
    """P weight sets of one network: `params` in core.weights order, each [P, ...]; `moving` the
    BN moving statistics by name, each [P, width]."""

    params: list[np.ndarray]
    moving: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return int(self.params[0].shape[0])


def single(weights: RunWeights, which: str = "final") -> Points:
    """One weight set as a stack of one point."""
    params = [np.asarray(a, np.float32)[None] for a in getattr(weights, which)]
    return Points(params, {k: np.asarray(v, np.float32)[None] for k, v in weights.moving(which).items()})


def _blend(a: np.ndarray, b: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """(1 - alpha) a + alpha b for every alpha, as [P, ...] (float64 maths, float32 result, so
    alpha = 0 and alpha = 1 give a and b bit for bit)."""
    t = alphas.reshape(-1, *([1] * a.ndim))
    a64, b64 = np.asarray(a, np.float64)[None], np.asarray(b, np.float64)[None]
    return ((1 - t) * a64 + t * b64).astype(np.float32)


def line(
    start: list[np.ndarray],
    end: list[np.ndarray],
    moving_start: dict[str, np.ndarray],
    moving_end: dict[str, np.ndarray],
    alphas: np.ndarray,
) -> Points:
    """Points on the straight line start -> end. The BN moving statistics move along with the
    weights (at 0 and 1 they are the runs' own, so the endpoints are the runs as evaluated);
    a variance that extrapolation would make negative is held at 0."""
    params = [_blend(a, b, alphas) for a, b in zip(start, end, strict=True)]
    moving = {name: _blend(moving_start[name], moving_end[name], alphas) for name in moving_start}
    for name in moving:
        if name.endswith("moving_var"):
            moving[name] = np.maximum(moving[name], 0.0)
    return Points(params, moving)


def filter_normalized(weights: RunWeights, rng: np.random.Generator) -> list[np.ndarray]:
    """A random Gaussian direction, filter-normalized as Li et al. (2018) do: each filter of a
    kernel (here a unit's column of fan-in weights, [fan_in, fan_out][:, j]) is rescaled to the
    norm of the same filter of the final weights. Biases and batch-norm gamma/beta get no
    direction (Li et al.'s "biasbn" setting), and the BN moving statistics stay those of the
    final weights: a point is the trained network with its kernels moved."""
    out = []
    for w in weights.final:
        w = np.asarray(w, np.float64)
        if w.ndim < 2:
            out.append(np.zeros_like(w))
            continue
        d = rng.standard_normal(w.shape)
        d_norm = np.linalg.norm(d, axis=0, keepdims=True)
        out.append(d / np.where(d_norm > 0, d_norm, 1.0) * np.linalg.norm(w, axis=0, keepdims=True))
    return out


def directions(weights: RunWeights, count: int, seed: int) -> list[list[np.ndarray]]:
    """`count` filter-normalized directions drawn from `seed` (deterministic)."""
    rng = np.random.default_rng([seed, DIRECTION_SALT])
    return [filter_normalized(weights, rng) for _ in range(count)]


def around(weights: RunWeights, dirs: list[list[np.ndarray]], coords: np.ndarray) -> Points:
    """Points final + sum_j coords[p, j] * dirs[j] for coords [P, len(dirs)], moving statistics
    fixed at the final ones."""
    coords = np.asarray(coords, np.float64)
    params = []
    for i, w in enumerate(weights.final):
        stacked = np.stack([d[i] for d in dirs])  # [D, ...]
        shift = np.tensordot(coords, stacked, axes=(1, 0))
        params.append((np.asarray(w, np.float64)[None] + shift).astype(np.float32))
    n = len(coords)
    moving = {k: np.repeat(np.asarray(v, np.float32)[None], n, 0) for k, v in weights.extra.items()}
    return Points(params, moving)


# -- the stacked forward pass ---------------------------------------------------------------------------
def _activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    return z


def _dense(h: np.ndarray, kernels: np.ndarray) -> np.ndarray:
    """h @ kernel for every point: h [n, in] shared by all points (the first layer) goes through
    one BLAS call against the kernels side by side; h [P, n, in] is a batched matmul."""
    if h.ndim == 3:
        return np.matmul(h, kernels)
    n_points, fan_in, fan_out = kernels.shape
    side_by_side = kernels.transpose(1, 0, 2).reshape(fan_in, n_points * fan_out)
    return np.ascontiguousarray((h @ side_by_side).reshape(len(h), n_points, fan_out).transpose(1, 0, 2))


def _batch_norm(z: np.ndarray, gamma, beta, mean, var) -> np.ndarray:
    """Inference-mode BN as the trainer computes it: gamma / sqrt(var + eps), then scale and shift."""
    inv = gamma / np.sqrt(var + BN_EPSILON)
    return (z - mean[:, None, :]) * inv[:, None, :] + beta[:, None, :]


def logits(prob: Problem, pts: Points, x: np.ndarray) -> np.ndarray:
    """Logits [P, n, out] of every point for the shared inputs x [n, F]."""
    per_layer = 4 if prob.batch_norm != "none" else 2
    depth = (len(pts.params) - 2) // per_layer
    h = x
    for layer in range(depth):
        p = pts.params[layer * per_layer : (layer + 1) * per_layer]
        z = _dense(h, p[0]) + p[1][:, None, :]
        name = f"dense_{layer + 1}"
        bn = (
            (p[2], p[3], pts.moving[f"{name}/moving_mean"], pts.moving[f"{name}/moving_var"])
            if per_layer == 4
            else ()
        )
        if prob.batch_norm == "before":
            z = _batch_norm(z, *bn)
        a = _activate(prob.activation, z)
        if prob.batch_norm == "after":
            a = _batch_norm(a, *bn)
        if prob.residual and layer > 0:
            a = h + a
        h = a
    return np.matmul(h, pts.params[-2]) + pts.params[-1][:, None, :]


def _mean_loss(prob: Problem, out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean loss per point [P]: cross-entropy of the logits, or squared error (regression)."""
    out = out.astype(np.float64)
    if prob.regression:
        return np.mean(np.square(out[..., 0] - y[None]), axis=1)
    top = out.max(axis=-1, keepdims=True)
    log_z = np.log(np.exp(out - top).sum(axis=-1)) + top[..., 0]
    picked = np.take_along_axis(out, np.broadcast_to(y[None, :, None], (*out.shape[:2], 1)), -1)[..., 0]
    return np.mean(log_z - picked, axis=1)


def losses(prob: Problem, pts: Points, split: str = "train") -> np.ndarray:
    """The mean loss of every point on the train subset or the validation split, [P] (float64).
    Points go through in chunks that bound memory; NaN where a point's loss is not finite."""
    data: EvalSet = getattr(prob, split)
    widest = max(max(a.shape[-1] for a in pts.params), data.x.shape[1])
    chunk = max(1, CHUNK_FLOATS // max(1, len(data.x) * widest))
    out = np.empty(pts.n)
    # One BLAS thread: every matmul here is small (one point's batch), where OpenBLAS's threads
    # cost more than they give (measured on this 2-core CPU: 2 vs 18 GFLOP per CPU-second).
    with (
        threadpool_limits(limits=1, user_api="blas"),
        np.errstate(over="ignore", invalid="ignore", divide="ignore"),
    ):
        for lo in range(0, pts.n, chunk):
            part = Points(
                [a[lo : lo + chunk] for a in pts.params],
                {k: v[lo : lo + chunk] for k, v in pts.moving.items()},
            )
            out[lo : lo + chunk] = _mean_loss(prob, logits(prob, part, data.x), data.y)
    return np.where(np.isfinite(out), out, np.nan)


# -- what a page and the CLI show --------------------------------------------------------------------
# Sharpness (after Keskar et al. 2017, with random filter-normalized directions instead of their
# optimizer inside a box): the largest rise of the training loss over SHARP_DIRECTIONS directions,
# both signs, at SHARP_RADII fractions of SHARP_EPSILON. EPSILON = a quarter of every filter's
# norm: Li et al.'s filter-normalized plots separate sharp from flat minima within about
# 0.1-0.5 of the norm, and a quarter sits inside that range without leaving the basin.
SHARP_EPSILON = 0.25
SHARP_DIRECTIONS = 16
SHARP_RADII = (0.25, 0.5, 0.75, 1.0)


def interpolation(weights: RunWeights, prob: Problem, alphas: np.ndarray = ALPHAS) -> dict[str, list[float]]:
    """Loss along initial -> final (Goodfellow et al. 2015): alpha 0 is the untrained network,
    1 the trained one. A monotone fall with no bump says nothing blocked the straight path."""
    pts = line(weights.initial, weights.final, weights.moving("initial"), weights.moving("final"), alphas)
    return _curve("alphas", alphas, prob, pts)


def between(
    a: RunWeights, b: RunWeights, prob: Problem, alphas: np.ndarray = ALPHAS
) -> dict[str, list[float]]:
    """Loss along the line from run a's final weights (alpha 0) to run b's (alpha 1), evaluated on
    a's data (the two runs must share their network shape and split)."""
    if [x.shape for x in a.final] != [x.shape for x in b.final]:
        raise ValueError("the two runs have different network shapes: no straight line between them")
    pts = line(a.final, b.final, a.moving("final"), b.moving("final"), alphas)
    return _curve("alphas", alphas, prob, pts)


def _curve(axis: str, values: np.ndarray, prob: Problem, pts: Points) -> dict[str, list[float]]:
    return {
        axis: [float(v) for v in values],
        "train_loss": _listed(losses(prob, pts, "train")),
        "val_loss": _listed(losses(prob, pts, "val")),
    }


def _listed(values: np.ndarray) -> list[float]:
    return [float(v) for v in values]


def offsets(half: int = SLICE_HALF) -> np.ndarray:
    """-1 ... 1 in 2 * half + 1 steps, 0 exact."""
    return np.arange(-half, half + 1) / half


def slice_1d(weights: RunWeights, prob: Problem, seed: int, half: int = SLICE_HALF) -> dict[str, list[float]]:
    """Loss along one filter-normalized random direction through the final weights (Li et al.)."""
    steps = offsets(half)
    pts = around(weights, directions(weights, 1, seed), steps[:, None])
    return _curve("offsets", steps, prob, pts)


def slice_2d(weights: RunWeights, prob: Problem, seed: int, half: int = SLICE_HALF) -> dict[str, list]:
    """Training loss on a (2 * half + 1)^2 grid over two filter-normalized directions; `train_loss`
    is row-major: rows follow the second direction (y), columns the first (x)."""
    steps = offsets(half)
    gx, gy = np.meshgrid(steps, steps)
    coords = np.stack([gx.ravel(), gy.ravel()], axis=1)
    loss = losses(prob, around(weights, directions(weights, 2, seed), coords), "train")
    return {
        "offsets": [float(v) for v in steps],
        "train_loss": [_listed(row) for row in loss.reshape(len(steps), len(steps))],
    }


def sharpness(weights: RunWeights, prob: Problem, seed: int, epsilon: float = SHARP_EPSILON) -> float:
    """Largest rise of the training loss (nats) over SHARP_DIRECTIONS filter-normalized directions,
    both signs, at radii up to epsilon (a fraction of every filter's norm), one stacked evaluation.
    NaN when the weights or their losses are not finite (a diverged run has no minimum)."""
    if not all(np.isfinite(a).all() for a in weights.final):
        return float("nan")
    dirs = directions(weights, SHARP_DIRECTIONS, seed)
    radii = epsilon * np.array(SHARP_RADII)
    coords = np.zeros((1 + 2 * len(dirs) * len(radii), len(dirs)))  # row 0: the final weights
    row = 1
    for j in range(len(dirs)):
        for r in (*radii, *-radii):
            coords[row, j] = r
            row += 1
    loss = losses(prob, around(weights, dirs, coords), "train")
    if not np.isfinite(loss[0]):
        return float("nan")
    return float(np.nanmax(loss[1:]) - loss[0])


def report(weights: RunWeights, prob: Problem, seed: int, two_d: bool = True) -> dict:
    """The JSON contract of `python -m core landscape` for one run: interpolation, 1-D slice,
    2-D slice (unless two_d is False) and sharpness."""
    out: dict = {"interpolation": interpolation(weights, prob), "slice": slice_1d(weights, prob, seed)}
    if two_d:
        out["slice2d"] = slice_2d(weights, prob, seed)
    out["sharpness"] = sharpness(weights, prob, seed)
    return out
