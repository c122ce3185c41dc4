"""Optimizer sandbox: Keras-3 update rules on 2-D toy losses, instant and TensorFlow-free.

The notes' momentum claims ("momentum damps the oscillation across a ravine", "GD diverges past
lr = 2/lam_max", ...) are about geometry, not about networks, so they are checked here on a
quadratic ravine f(x) = 0.5 x^T A x whose eigen-directions are known exactly, next to the closed
forms from Goh, "Why Momentum Really Works" (Distill 2017). Update rules copy Keras 3 line by line
(including where epsilon sits) so that what the sandbox shows is what `keras.optimizers` would do.

Directions: "across" the ravine is the lam_max (steep) eigenvector, "along" it the lam_min one.
With rotation_deg = 0, across is the x0 axis and the ravine runs along x1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from core.constants import ADAM_BETA_2, RMSPROP_RHO
from core.constants import OPTIMIZER_EPSILON as EPSILON
from core.constants import OPTIMIZERS as ALL_OPTIMIZERS

# A 2-D point has no weights to decay, so adamw would be adam here.
OPTIMIZERS = tuple(o for o in ALL_OPTIMIZERS if o != "adamw")
DIVERGENCE_LIMIT = 1e6
PATH_COLUMNS = ["step", "x0", "x1", "loss"]


class Problem(Protocol):
    """What the sandbox needs from a 2-D loss surface."""

    @property
    def minimum(self) -> tuple[float, float]: ...
    @property
    def default_start(self) -> tuple[float, float]: ...
    @property
    def eigenvectors(self) -> tuple[np.ndarray, np.ndarray]: ...
    def value(self, p: Any) -> np.ndarray: ...
    def grad(self, p: Any) -> np.ndarray: ...


@dataclass(frozen=True)
class Quadratic:
    """f(x) = 0.5 x^T A x with A = R diag(lam_max, lam_min) R^T and lam_min = lam_max / condition."""

    condition: float = 10.0
    rotation_deg: float = 0.0
    lam_max: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.condition) and self.condition >= 1.0):
            raise ValueError(f"condition must be a finite number >= 1, got {self.condition!r}")
        if not (math.isfinite(self.lam_max) and self.lam_max > 0):
            raise ValueError(f"lam_max must be a finite number > 0, got {self.lam_max!r}")
        if not math.isfinite(self.rotation_deg):
            raise ValueError(f"rotation_deg must be finite, got {self.rotation_deg!r}")

    @property
    def eigenvalues(self) -> tuple[float, float]:
        """(lam_max, lam_min): steep (across) then shallow (along) curvature."""
        return self.lam_max, self.lam_max / self.condition

    @property
    def rotation(self) -> np.ndarray:
        t = math.radians(self.rotation_deg)
        return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])

    @property
    def eigenvectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(across, along): unit eigenvectors of lam_max and lam_min (columns of R)."""
        r = self.rotation
        return r[:, 0], r[:, 1]

    @property
    def matrix(self) -> np.ndarray:
        r = self.rotation
        return r @ np.diag(self.eigenvalues) @ r.T

    @property
    def minimum(self) -> tuple[float, float]:
        return 0.0, 0.0

    @property
    def default_start(self) -> tuple[float, float]:
        """1 unit across and 4 along: far down the ravine with a visible offset across it."""
        across, along = self.eigenvectors
        x = 1.0 * across + 4.0 * along
        return float(x[0]), float(x[1])

    def value(self, p: Any) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        return 0.5 * np.einsum("...i,ij,...j->...", p, self.matrix, p)

    def grad(self, p: Any) -> np.ndarray:
        return np.asarray(p, dtype=float) @ self.matrix  # A is symmetric


@dataclass(frozen=True)
class Rosenbrock:
    """f(x, y) = (a - x)^2 + b (y - x^2)^2: a curved ravine, minimum 0 at (a, a^2)."""

    a: float = 1.0
    b: float = 100.0

    @property
    def minimum(self) -> tuple[float, float]:
        return self.a, self.a**2

    @property
    def default_start(self) -> tuple[float, float]:
        return -1.2, 1.0  # the classic start, across the bend from the minimum

    @property
    def hessian_at_minimum(self) -> np.ndarray:
        a, b = self.a, self.b
        return np.array([[2.0 + 8.0 * b * a * a, -4.0 * b * a], [-4.0 * b * a, 2.0 * b]])

    @property
    def eigenvalues(self) -> tuple[float, float]:
        """Curvatures at the minimum (the ravine bends, so they only hold locally)."""
        lam = np.linalg.eigvalsh(self.hessian_at_minimum)
        return float(lam[1]), float(lam[0])

    @property
    def eigenvectors(self) -> tuple[np.ndarray, np.ndarray]:
        """(across, along) at the minimum; along is the tangent of the y = x^2 valley floor."""
        _, vecs = np.linalg.eigh(self.hessian_at_minimum)
        return vecs[:, 1], vecs[:, 0]

    def value(self, p: Any) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        x, y = p[..., 0], p[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def grad(self, p: Any) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        x, y = p[..., 0], p[..., 1]
        dx = -2.0 * (self.a - x) - 4.0 * self.b * x * (y - x**2)
        dy = 2.0 * self.b * (y - x**2)
        return np.stack([dx, dy], axis=-1)


# --- optimizers: one Keras-3 update each; state is a dict of slot arrays ---------------------------

Step = Callable[[np.ndarray, np.ndarray, dict, int, float, float], np.ndarray]


def _sgd(x: np.ndarray, g: np.ndarray, s: dict, t: int, lr: float, beta: float) -> np.ndarray:
    return x - lr * g


def _momentum(x: np.ndarray, g: np.ndarray, s: dict, t: int, lr: float, beta: float) -> np.ndarray:
    s["m"] = beta * s["m"] - lr * g
    return x + s["m"]


def _nesterov(x: np.ndarray, g: np.ndarray, s: dict, t: int, lr: float, beta: float) -> np.ndarray:
    s["m"] = beta * s["m"] - lr * g
    return x + beta * s["m"] - lr * g


def _rmsprop(x: np.ndarray, g: np.ndarray, s: dict, t: int, lr: float, beta: float) -> np.ndarray:
    # Keras puts epsilon inside the square root; `beta` is unused (Keras RMSprop momentum=0).
    s["v"] = RMSPROP_RHO * s["v"] + (1.0 - RMSPROP_RHO) * g * g
    return x - lr * g / np.sqrt(s["v"] + EPSILON)


def _adam(x: np.ndarray, g: np.ndarray, s: dict, t: int, lr: float, beta: float) -> np.ndarray:
    # Keras folds bias correction into the step size and adds epsilon outside the square root.
    alpha = lr * math.sqrt(1.0 - ADAM_BETA_2**t) / (1.0 - beta**t)
    s["m"] = s["m"] + (g - s["m"]) * (1.0 - beta)
    s["v"] = s["v"] + (g * g - s["v"]) * (1.0 - ADAM_BETA_2)
    return x - alpha * s["m"] / (np.sqrt(s["v"]) + EPSILON)


_STEPS: dict[str, Step] = {
    "sgd": _sgd,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "rmsprop": _rmsprop,
    "adam": _adam,
}


def _validate(optimizer: str, learning_rate: float, momentum: float, steps: int) -> None:
    if optimizer not in _STEPS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")


def run_path(
    problem: Problem,
    optimizer: str,
    learning_rate: float,
    momentum: float = 0.9,
    start: tuple[float, float] | None = None,
    steps: int = 200,
    tol: float = 1e-6,
) -> pd.DataFrame:
    """Iterate one optimizer from `start` (default: problem.default_start); one row per step.

    Row 0 is the start. "momentum" is beta for sgd-momentum/nesterov and beta_1 for Adam; plain
    "sgd" and "rmsprop" ignore it. Stops after the first point with loss < tol ("converged") or
    with |x| > 1e6 ("diverged"; that point is kept so the chart shows it leaving, but a non-finite
    point is not). The outcome is in df.attrs["status"]: converged / diverged / max_steps.
    """
    _validate(optimizer, learning_rate, momentum, steps)
    update = _STEPS[optimizer]
    x = np.asarray(problem.default_start if start is None else start, dtype=float)
    state = {"m": np.zeros(2), "v": np.zeros(2)}
    rows = [(0, float(x[0]), float(x[1]), float(problem.value(x)))]
    status = "converged" if rows[0][3] < tol else "max_steps"
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            if status != "max_steps":
                break
            x = update(x, problem.grad(x), state, t, learning_rate, momentum)
            if not np.all(np.isfinite(x)):
                status = "diverged"
                break
            loss = float(problem.value(x))
            rows.append((t, float(x[0]), float(x[1]), loss))
            if np.max(np.abs(x)) > DIVERGENCE_LIMIT or not math.isfinite(loss):
                status = "diverged"
            elif loss < tol:
                status = "converged"
    df = pd.DataFrame(rows, columns=PATH_COLUMNS)
    df.attrs["status"] = status
    return df


def paths(
    problem: Problem,
    optimizers: Iterable[str],
    learning_rate: float | Mapping[str, float],
    momentum: float = 0.9,
    start: tuple[float, float] | None = None,
    steps: int = 200,
    tol: float = 1e-6,
) -> pd.DataFrame:
    """Long form of several run_path results with an "optimizer" column.

    learning_rate may be a mapping per optimizer, since Adam/RMSprop and SGD live at very
    different scales. df.attrs["status"] maps optimizer -> status.
    """
    frames, status = [], {}
    for name in optimizers:
        lr = learning_rate[name] if isinstance(learning_rate, Mapping) else learning_rate
        df = run_path(problem, name, lr, momentum, start, steps, tol)
        status[name] = df.attrs["status"]
        frames.append(df.assign(optimizer=name))
    empty = pd.DataFrame(columns=[*PATH_COLUMNS, "optimizer"])
    out = pd.concat(frames, ignore_index=True) if frames else empty
    out.attrs["status"] = status
    return out


def steps_to_tolerance(path_df: pd.DataFrame, tol: float) -> int | None:
    """First step whose loss is below tol, or None if the path never got there."""
    hit = path_df.loc[path_df["loss"] < tol, "step"]
    return int(hit.iloc[0]) if len(hit) else None


def oscillation(path_df: pd.DataFrame, problem: Problem) -> dict[str, Any]:
    """Zig-zag measurements of one path (MO1/MO2): how much of the motion goes across the ravine.

    across_path / along_path: total |displacement| projected on the lam_max / lam_min eigenvector.
    sign_flips: times the across coordinate (relative to the minimum) changes sign, i.e. crossings
    of the ravine floor; offsets below 1e-9 of the largest one count as 0, since a rotated ravine
    turns exact convergence into sign noise. flip_amplitude / max_flip_amplitude: mean / max half
    peak-to-peak (|c_before| + |c_after|) / 2 over those crossings; 0 without crossings.
    """
    across, along = problem.eigenvectors
    xy = path_df[["x0", "x1"]].to_numpy(dtype=float) - np.asarray(problem.minimum, dtype=float)
    steps = np.diff(xy, axis=0)
    across_path = float(np.abs(steps @ across).sum())
    along_path = float(np.abs(steps @ along).sum())
    c = xy @ across
    c = np.where(np.abs(c) <= 1e-9 * np.abs(c).max(initial=0.0), 0.0, c)
    flips = np.flatnonzero(c[:-1] * c[1:] < 0)
    half_swings = (np.abs(c[flips]) + np.abs(c[flips + 1])) / 2
    return {
        "across_path": across_path,
        "along_path": along_path,
        "ratio": across_path / along_path if along_path > 0 else None,
        "sign_flips": len(flips),
        "flip_amplitude": float(half_swings.mean()) if len(flips) else 0.0,
        "max_flip_amplitude": float(half_swings.max()) if len(flips) else 0.0,
    }


# --- closed forms for the quadratic (Goh 2017) -----------------------------------------------------


def closed_form(problem: Quadratic) -> dict[str, float]:
    """Optimal step sizes and per-step convergence rates (error contraction) for GD and heavy ball."""
    lam_max, lam_min = problem.eigenvalues
    k = lam_max / lam_min
    sk = math.sqrt(k)
    return {
        "gd_max_lr": 2.0 / lam_max,
        "gd_optimal_lr": 2.0 / (lam_max + lam_min),
        "gd_rate": (k - 1.0) / (k + 1.0),
        "momentum_optimal_lr": (2.0 / (math.sqrt(lam_max) + math.sqrt(lam_min))) ** 2,
        "momentum_optimal_beta": ((sk - 1.0) / (sk + 1.0)) ** 2,
        "momentum_rate": (sk - 1.0) / (sk + 1.0),
    }


def heavy_ball_rate(lr: Any, beta: Any, lam: float) -> np.ndarray:
    """Spectral radius of [[1 + beta - lr*lam, -beta], [1, 0]] (vectorized over lr and beta).

    Heavy ball on one eigen-direction is x_{t+1} = (1 + beta - lr*lam) x_t - beta x_{t-1}; the roots
    of z^2 - (1 + beta - lr*lam) z + beta decide whether it contracts (and how fast).
    """
    a, b = np.asarray(lr, dtype=float) * lam, np.asarray(beta, dtype=float)
    tr = 1.0 + b - a
    # tr^2 - 4b expanded so that a = 0 gives exactly (1 - b)^2 instead of a cancellation.
    disc = np.sqrt((1.0 - b) ** 2 - 2.0 * a * (1.0 + b) + a * a + 0j)
    return np.maximum(np.abs((tr + disc) / 2.0), np.abs((tr - disc) / 2.0))


def _stable(lr: Any, beta: Any, lam: float) -> np.ndarray:
    """Jury criterion for z^2 - (1 + b - a) z + b: |b| < 1 and |1 + b - a| < 1 + b.

    Mathematically the same as heavy_ball_rate < 1, but exact at the edges (a = 0, a = 2 + 2b),
    where the computed spectral radius is 1 +- rounding.
    """
    a, b = np.asarray(lr, dtype=float) * lam, np.asarray(beta, dtype=float)
    return (np.abs(b) < 1.0) & (a > 0.0) & (a < 2.0 + 2.0 * b)


def momentum_converges(lr: float, beta: float, lam: float) -> bool:
    """Exact heavy-ball stability on eigenvalue lam: spectral radius < 1, i.e. 0 < lr*lam < 2 + 2*beta."""
    return bool(_stable(lr, beta, lam))


def stability_map(problem: Quadratic, lrs: np.ndarray, betas: np.ndarray) -> pd.DataFrame:
    """Long form lr, beta, rate (worse of the two eigen-directions), converges; beta=0 is plain GD."""
    lr_grid, beta_grid = np.meshgrid(np.asarray(lrs, float), np.asarray(betas, float), indexing="ij")
    rate = np.maximum(*(heavy_ball_rate(lr_grid, beta_grid, lam) for lam in problem.eigenvalues))
    converges = np.logical_and(*(_stable(lr_grid, beta_grid, lam) for lam in problem.eigenvalues))
    return pd.DataFrame(
        {
            "lr": lr_grid.ravel(),
            "beta": beta_grid.ravel(),
            "rate": rate.ravel(),
            "converges": converges.ravel(),
        }
    )


def contour_grid(
    problem: Problem, x_range: tuple[float, float], y_range: tuple[float, float], n: int = 60
) -> pd.DataFrame:
    """n x n grid of the loss for contour/heatmap layers; log10_loss is floored at 1e-12 so a log
    colour scale never meets log(0) at the minimum."""
    gx, gy = np.meshgrid(np.linspace(*x_range, n), np.linspace(*y_range, n))
    loss = problem.value(np.stack([gx, gy], axis=-1))
    return pd.DataFrame(
        {
            "x0": gx.ravel(),
            "x1": gy.ravel(),
            "loss": loss.ravel(),
            "log10_loss": np.log10(np.maximum(loss.ravel(), 1e-12)),
        }
    )
