"""Analysis half of the LR range test (Smith 2015; fastai / keras_lr_finder style).

The trainer sweeps the learning rate exponentially (`lr_sweep`) and records one raw loss per batch;
this module turns those raw losses into the curve the app draws and the suggestions it offers.
It is pure NumPy so the analysis can be unit-tested and replayed without TensorFlow.

Conventions (fixed here so the trainer, the chart and the tests agree):
- Smoothing is the bias-corrected EMA used by fastai and keras_lr_finder (without the correction
  the first points would be pulled towards 0 and look like a spurious plunge), with its window
  tied to the sweep's length (`smoothing_beta`): fastai's fixed beta = 0.98 averages over ~50
  steps, half of a 100-step sweep, which on digits moved the steepest suggestion 0.25-0.89
  decades to the right, past the divergence edge (issue 10, item 9).
- The curve stops at the first step whose causal smoothed loss exceeds `stop_factor` x the best
  smoothed loss so far, or whose raw loss is non-finite. That step is *excluded*: the kept curve
  ends just before it, so every stored value is finite (JSON-safe) and the suggestions never point
  into the blow-up. `LossSmoother` applies the same rule online (it can only look back).
- The stored `smoothed` curve, which the chart draws and the suggestions read, is *centred*: the
  mean of the forward and the backward bias-corrected EMA over the kept curve. A causal EMA
  trails the raw loss by beta / (1 - beta) steps, shifting every feature (the steepest descent,
  the minimum) towards larger rates, i.e. towards the blow-up; the two directions' lags cancel.
- Every suggestion is clamped into [lrs[0], lrs[-1]] of the kept curve: a suggestion the user never
  tested is not a suggestion.
- Data never makes `analyze` raise (flat, short or immediately-diverging curves fall back to the
  smallest tested lr); only empty input or mismatched lengths do. Bad *arguments* raise ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_START_LR = 1e-7
DEFAULT_END_LR = 10.0
# 400 steps: on digits (SGD + momentum, batch 32) the steepest suggestions then land at
# 0.023-0.033, all trainable; a 100-step sweep (2.3 epochs) tolerates large rates only briefly.
DEFAULT_NUM_ITER = 400
BETA = 0.98  # fastai's beta: the longest window used (a ~50-step average, on sweeps >= 2000 steps)
SPAN_FRACTION = 0.025  # the EMA averages over ~2.5% of the sweep: 10 steps of 400, 0.2 decades of lr
MIN_SPAN = 4.0  # but never fewer than ~4 steps: raw minibatch losses are too noisy to differentiate
STOP_FACTOR = 4.0
MIN_NUM_ITER = 5
SUGGESTIONS = ("steepest", "valley", "minimum")


def lr_sweep(
    start_lr: float = DEFAULT_START_LR, end_lr: float = DEFAULT_END_LR, num_iter: int = DEFAULT_NUM_ITER
) -> np.ndarray:
    """Exponential schedule start*(end/start)**(i/(num_iter-1)), i = 0..num_iter-1.

    Exponential because the interesting lrs span many decades; both endpoints are hit exactly so the
    chart's x-axis is the range the user asked for.
    """
    if not (math.isfinite(start_lr) and start_lr > 0):
        raise ValueError(f"start_lr must be a finite number > 0, got {start_lr!r}")
    if not (math.isfinite(end_lr) and end_lr > start_lr):
        raise ValueError(f"end_lr must be finite and > start_lr ({start_lr!r}), got {end_lr!r}")
    if isinstance(num_iter, bool) or int(num_iter) != num_iter or num_iter < MIN_NUM_ITER:
        raise ValueError(f"num_iter must be an integer >= {MIN_NUM_ITER}, got {num_iter!r}")
    frac = np.arange(int(num_iter)) / (int(num_iter) - 1)
    lrs = start_lr * (end_lr / start_lr) ** frac
    lrs[-1] = end_lr  # exact endpoint despite float rounding
    return lrs


def _check_smoothing_args(beta: float, stop_factor: float) -> None:
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    if not (math.isfinite(stop_factor) and stop_factor > 1.0):
        raise ValueError(f"stop_factor must be a finite number > 1, got {stop_factor!r}")


def smoothing_beta(num_iter: int) -> float:
    """The EMA beta for a sweep of num_iter steps: an average over SPAN_FRACTION of the sweep
    (at least MIN_SPAN steps, at most fastai's BETA), i.e. beta = 1 - 1/span. Tying the window to
    the sweep keeps the smoothing's reach a fixed share of the lr range however long the sweep."""
    span = min(max(MIN_SPAN, SPAN_FRACTION * max(int(num_iter), 1)), 1.0 / (1.0 - BETA))
    return 1.0 - 1.0 / span


def _ema(values: np.ndarray, beta: float) -> np.ndarray:
    """Bias-corrected EMA in array order."""
    out = np.empty(len(values))
    avg = 0.0
    for i, v in enumerate(values):
        avg = beta * avg + (1.0 - beta) * v
        out[i] = avg / (1.0 - beta ** (i + 1))
    return out


def centred_ema(values: Sequence[float] | np.ndarray, beta: float) -> np.ndarray:
    """Mean of the forward and the backward bias-corrected EMA: the same smoothing without the
    lag (a forward EMA reads a trend beta/(1-beta) steps late, a backward one as early)."""
    v = np.asarray(values, dtype=float)
    return (_ema(v, beta) + _ema(v[::-1], beta)[::-1]) / 2.0


class LossSmoother:
    """Online bias-corrected EMA plus the divergence rule; shared by the trainer and `analyze`."""

    def __init__(self, beta: float = BETA, stop_factor: float = STOP_FACTOR) -> None:
        _check_smoothing_args(beta, stop_factor)
        self.beta = beta
        self.stop_factor = stop_factor
        self._avg = 0.0
        self._n = 0
        self.best = math.inf

    def update(self, loss: float) -> tuple[float, bool]:
        """Feed one raw loss; return (smoothed loss, diverged). Diverged points belong to no curve."""
        loss = float(loss)
        if not math.isfinite(loss):
            return math.nan, True
        self._avg = self.beta * self._avg + (1.0 - self.beta) * loss
        self._n += 1
        smoothed = self._avg / (1.0 - self.beta**self._n)
        # The ratio rule only means "exploded" for positive losses; a negative best would trip at once.
        if self.best > 0 and math.isfinite(self.best) and smoothed > self.stop_factor * self.best:
            return smoothed, True
        self.best = min(self.best, smoothed)
        return smoothed, False


@dataclass
class LRFindResult:
    """The kept (possibly truncated) curve and the suggested learning rates."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestions: dict[str, float]
    stopped_early: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python, JSON-safe form (non-finite numbers become None) for the run store."""

        def clean(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "lrs": [clean(x) for x in self.lrs],
            "losses": [clean(x) for x in self.losses],
            "smoothed": [clean(x) for x in self.smoothed],
            "suggestions": {k: clean(v) for k, v in self.suggestions.items()},
            "stopped_early": bool(self.stopped_early),
        }


def _log_axis(lrs: np.ndarray) -> np.ndarray:
    """log10(lr) when that is a valid increasing axis, else the index (odd data must not raise)."""
    if np.all(np.isfinite(lrs)) and np.all(lrs > 0) and np.all(np.diff(lrs) > 0):
        return np.log10(lrs)
    return np.arange(len(lrs), dtype=float)


def _valley_index(losses: np.ndarray) -> int:
    """fastai's `valley` rule (ESRI's suggester), same arithmetic as fastai's `valley`.

    lds[i] is the length of the longest strictly decreasing subsequence ending at i (O(n^2) scan,
    with the inner loop vectorized); the valley is taken to end at the first i with the largest
    lds and to span lds[i] points before it. fastai describes the pick as "roughly 2/3 through the
    valley", but its index start + int(L/3) + int(L/6) is the *midpoint*; we keep fastai's numbers
    so suggestions match what fastai users see. fastai's start can reach -1 when the decrease
    begins at point 0 (which would wrap to the last point); it is clamped to 0 here.
    """
    n = len(losses)
    lds = np.ones(n, dtype=int)
    for i in range(1, n):
        higher = losses[:i] > losses[i]
        if higher.any():
            lds[i] = lds[:i][higher].max() + 1
    end = int(np.argmax(lds))
    start = max(end - int(lds[end]), 0)
    sections = (end - start) / 3
    return start + int(sections) + int(sections / 2)


def _suggest(
    lrs: np.ndarray, smoothed: np.ndarray, skip_start: int | None, skip_end: int | None
) -> dict[str, float]:
    """Steepest / valley on the curve trimmed of its noisy start and rising end; minimum on all of it."""
    n = len(lrs)
    lo, hi = float(np.min(lrs)), float(np.max(lrs))

    def clamp(x: float) -> float:
        return float(min(max(x, lo), hi))

    if n < 2:
        return {k: clamp(lrs[0]) for k in SUGGESTIONS}
    # Defaults scaled like fastai's num_it//10 and the usual 5-of-100 end skip.
    s0 = n // 10 if skip_start is None else max(int(skip_start), 0)
    s1 = n // 20 if skip_end is None else max(int(skip_end), 0)
    if n - s0 - s1 < 3:  # trimming would leave nothing to differentiate: use the whole curve
        s0, s1 = 0, 0
    window = slice(s0, n - s1)
    w_lrs, w_smooth = lrs[window], smoothed[window]
    slope = np.gradient(w_smooth, _log_axis(w_lrs))
    return {
        "steepest": clamp(w_lrs[int(np.argmin(slope))]),
        "valley": clamp(w_lrs[_valley_index(w_smooth)]),
        "minimum": clamp(lrs[int(np.argmin(smoothed))] / 10.0),
    }


def analyze(
    lrs: Sequence[float] | np.ndarray,
    losses: Sequence[float] | np.ndarray,
    beta: float | None = None,
    stop_factor: float = STOP_FACTOR,
    skip_start: int | None = None,
    skip_end: int | None = None,
) -> LRFindResult:
    """Smooth, truncate at divergence and suggest learning rates from one range-test sweep.

    skip_start / skip_end: points dropped from each end before "steepest" and "valley" are looked
    for (None = n//10 and n//20 of the kept curve, i.e. 10 and 5 for 100 points, as in fastai and
    keras_lr_finder). The start is noisy and the end is where the loss turns up again.
    beta: None = smoothing_beta(len(losses)). The stop rule runs on the causal EMA (as online);
    the kept curve is then smoothed centred (no lag), and the suggestions are read from that.
    """
    lr_arr = np.asarray(lrs, dtype=float).ravel()
    loss_arr = np.asarray(losses, dtype=float).ravel()
    if lr_arr.size == 0 or loss_arr.size == 0:
        raise ValueError("lrs and losses must not be empty")
    if lr_arr.size != loss_arr.size:
        raise ValueError(f"lrs and losses differ in length: {lr_arr.size} != {loss_arr.size}")
    if beta is None:
        beta = smoothing_beta(loss_arr.size)
    smoother = LossSmoother(beta, stop_factor)
    kept = 0
    for loss in loss_arr:
        if smoother.update(loss)[1]:
            break
        kept += 1
    stopped_early = kept < loss_arr.size
    if kept == 0:  # diverged on the very first batch: the only safe suggestion is the smallest lr
        first = float(lr_arr[0])
        return LRFindResult([], [], [], dict.fromkeys(SUGGESTIONS, first), True)
    k_lrs, k_smooth = lr_arr[:kept], centred_ema(loss_arr[:kept], beta)
    return LRFindResult(
        lrs=[float(x) for x in k_lrs],
        losses=[float(x) for x in loss_arr[:kept]],
        smoothed=[float(x) for x in k_smooth],
        suggestions=_suggest(k_lrs, k_smooth, skip_start, skip_end),
        stopped_early=stopped_early,
    )
