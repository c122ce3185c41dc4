"""core.landscape on real small runs: the line's endpoints are the stored runs, directions are
filter-normalized, a converged run sits at the bottom of its slice, and everything is
deterministic. One stacked training (digits, 600 samples, 12 epochs) serves the whole file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import landscape
from core.data import load_for
from core.spec import Experiment

REPO = Path(__file__).resolve().parents[2]
CONVERGED_EPOCHS = 12  # digits at 600 samples: training loss well below 0.05 by then


@pytest.fixture(scope="module")
def group():
    """Two seeds of a converged run, a batch-norm tanh run (all kinds of arrays) and runs on
    transformed, differently scaled inputs (the landscape must see the inputs the trainer saw)."""
    from core.training.trainer import GroupTrainer

    members = [Experiment(n_samples=600, epochs=CONVERGED_EPOCHS, seed=s) for s in (0, 1)]
    bn = [Experiment(n_samples=600, epochs=3, seed=2, batch_norm="after", activation="tanh", residual=True)]
    # the data knobs: heavy-tailed copies of the inputs, scaled by a quantile map or robustly
    quantile = [Experiment(n_samples=600, epochs=2, seed=3, input_transform="lognormal", scaling="quantile")]
    robust = [Experiment(n_samples=600, epochs=2, seed=4, input_transform="outliers", scaling="robust")]
    out = []
    for g in (members, bn, quantile, robust):
        trainer = GroupTrainer(g, load_for(g[0]))
        out.append((trainer, trainer.run()))
    return out


def runs(group):
    return [run for _, results in group for run in results]


def test_alpha_one_gives_the_stored_final_losses(group) -> None:
    for run in runs(group):
        curve = landscape.interpolation(run.weights, landscape.problem(run.experiment))
        at_one = curve["alphas"].index(1.0)
        assert curve["train_loss"][at_one] == pytest.approx(run.summary["final_train_loss"], rel=1e-5)
        assert curve["val_loss"][at_one] == pytest.approx(run.summary["final_val_loss"], rel=1e-5)


def test_alpha_zero_gives_the_untrained_networks_loss(group) -> None:
    """The trainer's own evaluation of its initial state, in TensorFlow, vs the NumPy pass."""
    from core.training.step import compiled

    for trainer, results in group:
        state, data = trainer._initial_state(), trainer._data_tensors()
        metrics = trainer._evaluate(compiled(trainer.static)[1], state, data)
        for i, run in enumerate(results):
            curve = landscape.interpolation(run.weights, landscape.problem(run.experiment))
            at_zero = curve["alphas"].index(0.0)
            assert curve["train_loss"][at_zero] == pytest.approx(metrics["train_loss"][i], rel=1e-5)
            assert curve["val_loss"][at_zero] == pytest.approx(metrics["val_loss"][i], rel=1e-5)


def test_alphas_span_the_issue_range_with_exact_endpoints() -> None:
    alphas = list(landscape.ALPHAS)
    assert alphas[0] == -0.25 and alphas[-1] == 1.25 and 0.0 in alphas and 1.0 in alphas


def test_a_direction_has_the_weights_filter_norms(group) -> None:
    run = runs(group)[2]  # batch norm: gamma/beta must get no direction
    (direction,) = landscape.directions(run.weights, 1, seed=5)
    for name, d, w in zip(run.weights.array_names, direction, run.weights.final):
        if name.endswith("/kernel"):
            np.testing.assert_allclose(np.linalg.norm(d, axis=0), np.linalg.norm(w, axis=0), rtol=1e-6)
            assert not np.allclose(d / np.linalg.norm(d, axis=0), w / np.linalg.norm(w, axis=0))
        else:
            assert not d.any(), f"{name} must not move (Li et al.: biases and BN parameters stay)"


def test_a_converged_run_sits_at_the_bottom_of_its_slices(group) -> None:
    run = runs(group)[0]
    prob = landscape.problem(run.experiment)
    one = landscape.slice_1d(run.weights, prob, seed=0)
    assert one["offsets"][int(np.argmin(one["train_loss"]))] == 0.0
    assert one["train_loss"][one["offsets"].index(0.0)] == pytest.approx(
        run.summary["final_train_loss"], rel=1e-5
    )
    two = np.array(landscape.slice_2d(run.weights, prob, seed=0)["train_loss"])
    assert two.shape == (25, 25) and np.unravel_index(np.argmin(two), two.shape) == (12, 12)


def test_sharpness_is_a_rise_and_deterministic(group) -> None:
    run = runs(group)[0]
    prob = landscape.problem(run.experiment)
    value = landscape.sharpness(run.weights, prob, seed=0)
    assert value > 0 and value == landscape.sharpness(run.weights, prob, seed=0)
    assert landscape.sharpness(run.weights, prob, seed=0, epsilon=0.05) < value  # a smaller ball
    assert landscape.slice_1d(run.weights, prob, 3) == landscape.slice_1d(run.weights, prob, 3)
    assert landscape.slice_1d(run.weights, prob, 3) != landscape.slice_1d(run.weights, prob, 4)


def test_the_line_between_two_runs_ends_at_each_run(group) -> None:
    a, b = runs(group)[:2]
    prob_a = landscape.problem(a.experiment)
    curve = landscape.between(a.weights, b.weights, prob_a)
    assert curve["train_loss"][curve["alphas"].index(0.0)] == pytest.approx(
        a.summary["final_train_loss"], rel=1e-5
    )
    at_b = landscape.interpolation(b.weights, prob_a)["train_loss"][curve["alphas"].index(1.0)]
    assert curve["train_loss"][curve["alphas"].index(1.0)] == pytest.approx(at_b, rel=1e-9)
    with pytest.raises(ValueError, match="shape"):
        landscape.between(a.weights, runs(group)[2].weights, prob_a)


def test_the_trainers_forward_constants_are_the_ones_repeated_here() -> None:
    from core.training import model

    assert landscape.BN_EPSILON == model.BN_EPSILON and landscape.LEAKY_SLOPE == model.LEAKY_SLOPE


def test_import_does_not_load_tensorflow() -> None:
    code = (
        "import core.landscape, core.landscape_runs, core.landscape_cli, core.weights, sys; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)
