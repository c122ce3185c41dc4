"""LR range-test analysis: sweep, smoothing, truncation and the three suggestions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.lr_finder import (
    BETA,
    DEFAULT_END_LR,
    DEFAULT_NUM_ITER,
    DEFAULT_START_LR,
    SUGGESTIONS,
    LossSmoother,
    analyze,
    lr_sweep,
    smoothing_beta,
)

C = -3.0  # log10 of the lr where the synthetic loss falls fastest


def synthetic(num_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """A sigmoid drop centred at 10**C, then a loss that explodes beyond ~0.3."""
    lrs = lr_sweep(num_iter=num_iter)
    x = np.log10(lrs)
    return lrs, 2.0 - np.tanh(x - C) + np.exp(3.0 * (x + 0.5))


def ema(losses: np.ndarray, beta: float) -> np.ndarray:
    avg, out = 0.0, []
    for i, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta ** (i + 1)))
    return np.array(out)


# --- lr_sweep -------------------------------------------------------------------------------------


def test_sweep_endpoints_and_geometric_spacing() -> None:
    lrs = lr_sweep()
    assert len(lrs) == DEFAULT_NUM_ITER
    assert lrs[0] == DEFAULT_START_LR and lrs[-1] == DEFAULT_END_LR
    assert np.all(np.diff(lrs) > 0)
    ratios = lrs[1:] / lrs[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"start_lr": 0.0}, "start_lr"),
        ({"start_lr": -1e-3}, "start_lr"),
        ({"start_lr": math.nan}, "start_lr"),
        ({"end_lr": 1e-8}, "end_lr"),
        ({"end_lr": math.inf}, "end_lr"),
        ({"num_iter": 4}, "num_iter"),
        ({"num_iter": 10.5}, "num_iter"),
    ],
)
def test_sweep_validation_names_the_argument(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        lr_sweep(**kwargs)


# --- smoothing and truncation ---------------------------------------------------------------------


def test_bias_corrected_ema_centred() -> None:
    """The stored curve is the mean of the forward and the backward bias-corrected EMA: no pull
    towards 0 at either end, and no lag (each direction's lag cancels the other's)."""
    losses = np.array([3.0, 2.5, 2.7, 2.0, 1.9, 1.8])
    result = analyze(lr_sweep(num_iter=6), losses, beta=0.9)
    assert min(losses) <= result.smoothed[0] <= max(losses)  # no pull towards 0
    np.testing.assert_allclose(result.smoothed, (ema(losses, 0.9) + ema(losses[::-1], 0.9)[::-1]) / 2)
    assert not result.stopped_early and result.losses == list(losses)
    # a straight descent: a causal EMA sits beta/(1-beta) = 9 steps behind (0.09 above here);
    # away from the ends, where both directions are in steady state, the centred one is on it
    ramp = np.linspace(3.0, 1.0, 200)
    smoothed = np.array(analyze(lr_sweep(num_iter=200), ramp, beta=0.9).smoothed)
    np.testing.assert_allclose(smoothed[60:140], ramp[60:140], atol=1e-3)
    assert np.all(ema(ramp, 0.9)[60:140] - ramp[60:140] > 0.08)


def test_smoothing_window_follows_the_sweep_length() -> None:
    spans = [1 / (1 - smoothing_beta(n)) for n in (20, 100, 400, 4000)]
    assert spans == sorted(spans) and spans[-1] == pytest.approx(1 / (1 - BETA))
    assert spans[2] == pytest.approx(400 * 0.025)  # 2.5% of a 400-step sweep


def test_truncates_before_first_point_over_stop_factor_times_best() -> None:
    lrs, losses = synthetic()
    result = analyze(lrs, losses, beta=BETA)
    smooth = ema(losses, BETA)  # the stop rule reads the causal EMA, as it would online
    over = smooth > 4.0 * np.minimum.accumulate(smooth)
    stop = int(np.argmax(over))
    assert over.any() and result.stopped_early
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) == stop
    kept = ema(np.array(result.losses), BETA)
    assert max(kept) <= 4.0 * min(kept)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_stops_at_first_non_finite_loss(bad: float) -> None:
    lrs = lr_sweep(num_iter=50)
    losses = np.linspace(2.0, 1.0, 50)
    losses[30] = bad
    result = analyze(lrs, losses)
    assert result.stopped_early and len(result.lrs) == 30
    assert all(math.isfinite(v) for v in result.smoothed)


def test_divergence_on_first_batch_falls_back_to_smallest_lr() -> None:
    lrs = lr_sweep(num_iter=10)
    result = analyze(lrs, [math.nan] * 10)
    assert result.stopped_early and result.lrs == []
    assert result.suggestions == dict.fromkeys(SUGGESTIONS, lrs[0])


def test_online_smoother_matches_analyze() -> None:
    lrs, losses = synthetic()
    smoother = LossSmoother()
    online = []
    for loss in losses:
        value, diverged = smoother.update(loss)
        if diverged:
            break
        online.append(value)
    # online and offline stop at the same step; online is the causal EMA the stop rule reads
    assert len(online) == len(analyze(lrs, losses, beta=BETA).smoothed)
    np.testing.assert_allclose(online, ema(losses[: len(online)], BETA))


# --- suggestions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_steepest_finds_the_sigmoid_centre(beta: float) -> None:
    lrs, losses = synthetic()
    steepest = analyze(lrs, losses, beta=beta).suggestions["steepest"]
    assert 10**C / 1.5 < steepest < 10**C * 1.5


def cliff(num_iter: int, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Loss falls fastest at 10**CLIFF_CENTRE and blows up from 10**CLIFF_EDGE, half a decade on:
    the shape of a short momentum sweep on digits, where the good rates sit close to the edge."""
    lrs = lr_sweep(num_iter=num_iter)
    x = np.log10(lrs)
    loss = 2.3 - (np.tanh(3 * (x - CLIFF_CENTRE)) + 1) + np.where(x > CLIFF_EDGE, 50 * (x - CLIFF_EDGE), 0.0)
    return lrs, loss * (1 + noise * np.random.default_rng(0).standard_normal(num_iter))


CLIFF_CENTRE, CLIFF_EDGE = -1.5, -1.0


@pytest.mark.parametrize("num_iter", [100, 150, 400])
@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_smoothing_does_not_push_steepest_towards_the_edge(num_iter: int, noise: float) -> None:
    """Short or long sweep, clean or noisy: steepest stays at the true steepest descent (within
    0.15 decades), well before the blow-up; so does the minimum's tenfold margin."""
    lrs, losses = cliff(num_iter, noise)
    result = analyze(lrs, losses)
    assert abs(math.log10(result.suggestions["steepest"]) - CLIFF_CENTRE) < 0.15
    assert result.suggestions["steepest"] < 10**CLIFF_EDGE / 2
    assert result.suggestions["minimum"] < 10**CLIFF_EDGE / 10


def test_default_smoothing_stays_on_the_descent() -> None:
    lrs, losses = synthetic()
    result = analyze(lrs, losses)
    best_lr = result.lrs[int(np.argmin(result.smoothed))]
    assert 10**C / 1.5 < result.suggestions["steepest"] < best_lr


def test_minimum_is_lr_at_lowest_smoothed_loss_over_ten() -> None:
    lrs, losses = synthetic()
    result = analyze(lrs, losses, beta=0.5)
    expected = result.lrs[int(np.argmin(result.smoothed))] / 10
    assert result.suggestions["minimum"] == pytest.approx(expected)


def test_valley_lies_on_the_decreasing_stretch() -> None:
    lrs, losses = synthetic()
    result = analyze(lrs, losses, beta=0.5)
    smooth = np.array(result.smoothed)
    i = result.lrs.index(result.suggestions["valley"])
    assert 0 < i < int(np.argmin(smooth))
    assert smooth[i + 1] < smooth[i] < smooth[i - 1]


def test_valley_midpoint_of_noisy_plateau_then_drop() -> None:
    """Flat-with-noise start, then a clean drop of 20 points: valley is inside the drop."""
    rng = np.random.default_rng(0)
    flat = 2.0 + 0.01 * rng.standard_normal(30)
    drop = np.linspace(1.9, 0.5, 20)
    losses = np.concatenate([flat, drop, np.full(10, 0.6)])
    lrs = lr_sweep(num_iter=len(losses))
    valley = analyze(lrs, losses, beta=0.0, skip_start=0, skip_end=0).suggestions["valley"]
    assert lrs[30] <= valley <= lrs[49]


def test_suggestions_clamped_into_the_tested_range() -> None:
    lrs = lr_sweep(num_iter=40)
    losses = np.linspace(1.0, 1.5, 40)  # best at the very first lr: minimum/10 would fall below it
    suggestions = analyze(lrs, losses).suggestions
    assert suggestions["minimum"] == lrs[0]
    assert all(lrs[0] <= v <= lrs[-1] for v in suggestions.values())


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_degenerate_curves_never_raise(n: int) -> None:
    lrs = np.geomspace(1e-4, 1e-1, n)
    for losses in (np.ones(n), np.linspace(1.0, 0.5, n)):
        result = analyze(lrs, losses)
        assert set(result.suggestions) == set(SUGGESTIONS)
        assert all(lrs[0] <= v <= lrs[-1] for v in result.suggestions.values())


@pytest.mark.parametrize(("lrs", "losses"), [([], []), ([1e-3, 1e-2], [1.0]), ([1e-3], [])])
def test_empty_or_mismatched_input_raises(lrs: list, losses: list) -> None:
    with pytest.raises(ValueError):
        analyze(lrs, losses)


def test_to_dict_is_json_serializable() -> None:
    lrs, losses = synthetic()
    result = analyze(lrs, losses)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(data) == {"lrs", "losses", "smoothed", "suggestions", "stopped_early"}
    assert set(data["suggestions"]) == set(SUGGESTIONS)
    assert data["stopped_early"] is True and len(data["lrs"]) == len(result.lrs)
