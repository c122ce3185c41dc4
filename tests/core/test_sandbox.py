"""Optimizer sandbox: problems, Keras-3 update rules, closed forms and the MO measurements."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.sandbox import (
    ADAM_BETA_2,
    EPSILON,
    OPTIMIZERS,
    RMSPROP_RHO,
    Quadratic,
    Rosenbrock,
    closed_form,
    contour_grid,
    heavy_ball_rate,
    momentum_converges,
    oscillation,
    paths,
    run_path,
    stability_map,
    steps_to_tolerance,
)

RAVINE = Quadratic(condition=100.0, rotation_deg=30.0)


# --- problems -------------------------------------------------------------------------------------


@pytest.mark.parametrize("problem", [Quadratic(condition=7.0, rotation_deg=25.0, lam_max=3.0), Rosenbrock()])
def test_grad_matches_finite_differences(problem) -> None:
    p, h = np.array([0.3, -0.7]), 1e-6
    numeric = [(problem.value(p + h * e) - problem.value(p - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(problem.grad(p), numeric, rtol=1e-6, atol=1e-6)


def test_quadratic_is_vectorized_and_has_the_requested_spectrum() -> None:
    q = Quadratic(condition=10.0, rotation_deg=40.0, lam_max=2.0)
    assert q.eigenvalues == (2.0, 0.2)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.matrix), [0.2, 2.0])
    across, along = q.eigenvectors
    np.testing.assert_allclose(q.matrix @ across, 2.0 * across)
    np.testing.assert_allclose(q.matrix @ along, 0.2 * along)
    grid = np.random.default_rng(0).normal(size=(4, 5, 2))
    assert q.value(grid).shape == (4, 5) and q.grad(grid).shape == (4, 5, 2)
    assert q.value(grid[1, 2]) == pytest.approx(q.value(grid)[1, 2])


def test_rosenbrock_minimum() -> None:
    r = Rosenbrock()
    assert r.minimum == (1.0, 1.0)
    assert r.value(np.array([1.0, 1.0])) == 0.0
    np.testing.assert_array_equal(r.grad(np.array([1.0, 1.0])), [0.0, 0.0])
    assert r.value(np.array(r.default_start)) > 0
    _, along = r.eigenvectors  # valley floor y = x^2 has slope 2 at x = 1
    assert abs(along @ np.array([1.0, 2.0]) / math.sqrt(5.0)) == pytest.approx(1.0, abs=1e-2)


# --- update rules (Keras 3) -----------------------------------------------------------------------


def test_sgd_momentum_and_nesterov_match_keras_formulas_for_two_steps() -> None:
    q, lr, b = Quadratic(condition=4.0, rotation_deg=15.0), 0.1, 0.8
    x0 = np.array(q.default_start)
    xs = {name: run_path(q, name, lr, b, steps=2, tol=0)[["x0", "x1"]].to_numpy() for name in OPTIMIZERS}
    g0 = q.grad(x0)
    np.testing.assert_allclose(xs["sgd"][1], x0 - lr * g0)
    m1 = -lr * g0
    np.testing.assert_allclose(xs["momentum"][1], x0 + m1)
    m2 = b * m1 - lr * q.grad(x0 + m1)
    np.testing.assert_allclose(xs["momentum"][2], x0 + m1 + m2)
    n1 = x0 + b * m1 - lr * g0
    np.testing.assert_allclose(xs["nesterov"][1], n1)
    m2 = b * m1 - lr * q.grad(n1)
    np.testing.assert_allclose(xs["nesterov"][2], n1 + b * m2 - lr * q.grad(n1))


def test_rmsprop_and_adam_first_step_match_keras_formulas() -> None:
    q, lr, b1 = Quadratic(condition=10.0, rotation_deg=30.0), 0.05, 0.7
    x0 = np.array(q.default_start)
    g = q.grad(x0)
    v = (1 - RMSPROP_RHO) * g**2
    rms = run_path(q, "rmsprop", lr, steps=1, tol=0)[["x0", "x1"]].to_numpy()[1]
    np.testing.assert_allclose(rms, x0 - lr * g / np.sqrt(v + EPSILON))
    m, v = (1 - b1) * g, (1 - ADAM_BETA_2) * g**2
    alpha = lr * math.sqrt(1 - ADAM_BETA_2) / (1 - b1)
    adam = run_path(q, "adam", lr, momentum=b1, steps=1, tol=0)[["x0", "x1"]].to_numpy()[1]
    np.testing.assert_allclose(adam, x0 - alpha * m / (np.sqrt(v) + EPSILON))
    np.testing.assert_allclose(adam, x0 - lr * np.sign(g), rtol=1e-4)  # Adam's first step is ~lr*sign(g)


def test_run_path_shape_and_validation() -> None:
    df = run_path(RAVINE, "adam", 0.1, steps=10, tol=0)
    assert list(df.columns) == ["step", "x0", "x1", "loss"] and list(df["step"]) == list(range(11))
    assert df.attrs["status"] == "max_steps"
    for kwargs in ({"optimizer": "lion"}, {"learning_rate": 0.0}, {"momentum": 1.0}, {"steps": 0}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            run_path(**{"problem": RAVINE, "optimizer": "sgd", "learning_rate": 0.1, **kwargs})


def test_gd_stability_edge_is_two_over_lam_max() -> None:
    q = Quadratic(condition=10.0, rotation_deg=20.0, lam_max=2.0)
    edge = closed_form(q)["gd_max_lr"]
    below = run_path(q, "sgd", 0.98 * edge, steps=1000)
    above = run_path(q, "sgd", 1.02 * edge, steps=1000)
    assert below.attrs["status"] == "converged"
    assert above.attrs["status"] == "diverged" and np.abs(above[["x0", "x1"]].iloc[-1]).max() > 1e6


def test_paths_long_form() -> None:
    lrs = {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "rmsprop": 0.01, "adam": 0.05}
    df = paths(Quadratic(), OPTIMIZERS, lrs, momentum=0.9, steps=30)
    assert set(df["optimizer"]) == set(OPTIMIZERS) and "step" in df.columns
    assert set(df.attrs["status"]) == set(OPTIMIZERS)


# --- closed forms ---------------------------------------------------------------------------------


def test_closed_form_condition_100() -> None:
    cf = closed_form(Quadratic(condition=100.0))
    assert cf["gd_max_lr"] == pytest.approx(2.0)
    assert cf["gd_optimal_lr"] == pytest.approx(2.0 / 1.01)
    assert cf["gd_rate"] == pytest.approx(99 / 101)
    assert cf["momentum_optimal_lr"] == pytest.approx((2 / 1.1) ** 2)
    assert cf["momentum_optimal_beta"] == pytest.approx((9 / 11) ** 2)
    assert cf["momentum_rate"] == pytest.approx(9 / 11)


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_momentum_converges_boundary(beta: float) -> None:
    lam = 3.0
    edge = (2 + 2 * beta) / lam
    assert momentum_converges(edge * (1 - 1e-4), beta, lam)
    assert not momentum_converges(edge * (1 + 1e-4), beta, lam)
    assert not momentum_converges(0.0, beta, lam)


def test_momentum_converges_equals_the_interval_rule() -> None:
    lam = 1.0
    for lr in np.linspace(0.01, 4.5, 37):
        for beta in np.linspace(0.0, 0.95, 11):
            assert momentum_converges(lr, beta, lam) == (lr * lam < 2 + 2 * beta), (lr, beta)


def test_optimal_momentum_beats_optimal_gd_and_matches_closed_form_rates() -> None:
    cf = closed_form(RAVINE)
    gd = run_path(RAVINE, "sgd", cf["gd_optimal_lr"], steps=3000)
    hb = run_path(RAVINE, "momentum", cf["momentum_optimal_lr"], cf["momentum_optimal_beta"], steps=3000)
    gd_steps, hb_steps = steps_to_tolerance(gd, 1e-6), steps_to_tolerance(hb, 1e-6)
    assert gd_steps is not None and hb_steps is not None and hb_steps * 4 < gd_steps

    def measured_rate(df, k: int) -> float:  # error ~ sqrt(loss) contracts by `rate` per step
        loss = df["loss"].to_numpy()
        return (loss[-1] / loss[-1 - k]) ** (1 / (2 * k))

    assert measured_rate(gd, 100) == pytest.approx(cf["gd_rate"], abs=0.005)
    # Optimal heavy ball is critically damped (t * rate^t), so the measured rate is a bit above.
    assert cf["momentum_rate"] <= measured_rate(hb, 20) < cf["momentum_rate"] + 0.03
    theory = heavy_ball_rate(cf["momentum_optimal_lr"], cf["momentum_optimal_beta"], RAVINE.lam_max)
    assert float(theory) == pytest.approx(cf["momentum_rate"], rel=1e-6)


def test_stability_map() -> None:
    q = Quadratic(condition=10.0, lam_max=1.0)
    lrs, betas = np.linspace(0.1, 4.0, 9), np.array([0.0, 0.5, 0.9])
    df = stability_map(q, lrs, betas)
    assert len(df) == 27 and list(df.columns) == ["lr", "beta", "rate", "converges"]
    assert (df["converges"] == (df["rate"] < 1)).all()
    gd = df[df["beta"] == 0.0]
    assert (gd["converges"] == (gd["lr"] < 2.0)).all()


# --- MO measurements and contour grid -------------------------------------------------------------


def test_larger_lr_oscillates_more_across_the_ravine_without_momentum() -> None:
    """MO2: below 1/lam_max GD slides in without crossing; above it, amplitude grows with lr."""
    q = Quadratic(condition=10.0, rotation_deg=35.0)
    osc = [oscillation(run_path(q, "sgd", lr, steps=500), q) for lr in (0.5, 1.5, 1.9)]
    assert osc[0]["sign_flips"] == 0 and osc[0]["flip_amplitude"] == 0.0
    amps = [o["flip_amplitude"] for o in osc]
    ratios = [o["ratio"] for o in osc]
    assert amps[0] < amps[1] < amps[2] and ratios[0] < ratios[1] < ratios[2]
    assert osc[0]["across_path"] == pytest.approx(1.0)  # straight in: |across offset| of the start


def test_momentum_at_matched_effective_lr_damps_the_zigzag() -> None:
    """MO1: near GD's edge, heavy ball at lr*(1-beta) crosses less than GD at lr."""
    q = Quadratic(condition=10.0)
    gd = oscillation(run_path(q, "sgd", 1.9, steps=500), q)
    hb = oscillation(run_path(q, "momentum", 0.19, momentum=0.9, steps=500), q)
    assert hb["ratio"] < gd["ratio"] / 3 and hb["flip_amplitude"] < gd["flip_amplitude"]


def test_contour_grid() -> None:
    df = contour_grid(RAVINE, (-2.0, 2.0), (-2.0, 2.0), n=21)
    assert len(df) == 21 * 21 and list(df.columns) == ["x0", "x1", "loss", "log10_loss"]
    assert df["loss"].min() == 0.0 and np.isfinite(df["log10_loss"]).all()
    row = df.iloc[100]
    assert row["loss"] == pytest.approx(float(RAVINE.value(np.array([row["x0"], row["x1"]]))))
