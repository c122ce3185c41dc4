"""core.weights and the trainer's weights: what the landscape and the exact export read.

One real training (digits, 2 epochs, batch norm so every kind of array is there) checks that the
trainer hands back each real member's weights; the encoding tests use hand-made arrays.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from core.data import load_for
from core.spec import Experiment
from core.weights import RunWeights, decode, encode

LAYERS = ["dense_1", "dense_2", "output"]


def made(width: int = 8, n_in: int = 4, n_out: int = 3, bn: bool = False, seed: int = 0) -> RunWeights:
    """Hand-made weights of a depth-2 MLP in core.weights order."""
    rng = np.random.default_rng(seed)
    sizes = [n_in, width, width, n_out]
    arrays, extra = [], {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        arrays += [rng.normal(size=(a, b)).astype(np.float32), rng.normal(size=b).astype(np.float32)]
        if bn and i < 2:
            arrays += [np.ones(b, np.float32), np.zeros(b, np.float32)]
            extra[f"{LAYERS[i]}/moving_mean"] = rng.normal(size=b).astype(np.float32)
            extra[f"{LAYERS[i]}/moving_var"] = rng.uniform(0.5, 2, size=b).astype(np.float32)
    final = [a + np.float32(0.1) for a in arrays]
    return RunWeights(list(LAYERS), arrays, final, extra)


@pytest.fixture(scope="module")
def trained():
    from core.training.model import Shape, init_member
    from core.training.trainer import GroupTrainer

    members = [Experiment(n_samples=400, epochs=2, seed=s, batch_norm="before") for s in (3, 4)]
    ds = load_for(members[0])
    trainer = GroupTrainer(members, ds)
    assert len(trainer.stack) > len(members)  # the padding member this test must not see
    results = trainer.run()
    shape = Shape.of(members[0], ds.n_features, ds.n_classes)
    return results, [init_member(m, shape) for m in members]


def test_the_trainer_returns_each_real_members_initial_and_final_weights(trained) -> None:
    results, inits = trained
    assert len(results) == 2
    for run, init in zip(results, inits):
        w = run.weights
        assert isinstance(w, RunWeights) and w.layer_names == ["dense_1", "dense_2", "output"]
        for got, want in zip(w.of_kind("kernel", "initial"), init["kernels"]):
            assert got.dtype == np.float32 and np.array_equal(got, want)  # bit-exact
        # the final kernels are the ones the weights frame measured at the last epoch
        frame = run.frames["weights"]
        last = frame[frame["epoch"] == frame["epoch"].max()].sort_values("layer")
        norms = [np.linalg.norm(k) for k in w.of_kind("kernel", "final")]
        np.testing.assert_allclose(norms, last["weight_norm"].to_numpy(), rtol=1e-5)
        assert set(w.extra) == {f"dense_{i}/{k}" for i in (1, 2) for k in ("moving_mean", "moving_var")}
        assert not np.array_equal(w.extra["dense_1/moving_var"], np.ones(64))  # trained statistics
    a, b = (r.weights.final[0] for r in results)
    assert not np.array_equal(a, b)  # each member its own weights, not a padding copy


def test_weights_travel_with_a_pickled_run(trained) -> None:
    """The worker and Ray backends pickle RunResult between processes."""
    run = trained[0][0]
    back = pickle.loads(pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL))
    assert all(np.array_equal(x, y) for x, y in zip(back.weights.initial, run.weights.initial))
    assert all(np.array_equal(x, y) for x, y in zip(back.weights.final, run.weights.final))


def test_encoding_keeps_every_array_bit_for_bit() -> None:
    w = made(bn=True)
    back = decode(encode(w))
    assert back.layer_names == w.layer_names and back.array_names == w.array_names
    for got, want in [*zip(back.initial, w.initial), *zip(back.final, w.final)]:
        assert got.dtype == np.float32 and np.array_equal(got, want)
    assert set(back.extra) == set(w.extra)


def test_above_the_cap_final_weights_drop_to_float16_and_initial_stay_exact() -> None:
    w = made(width=64)
    full = len(encode(w))
    halved = encode(w, cap=full - 1)
    assert halved is not None and len(halved) < full
    back = decode(halved)
    assert all(a.dtype == np.float16 for a in back.final)
    assert all(np.array_equal(a, b) for a, b in zip(back.initial, w.initial))
    np.testing.assert_allclose(back.final[0], w.final[0], rtol=1e-3)
    assert encode(w, cap=full // 3) is None  # the initial weights alone do not fit: not stored


def test_names_and_keras_order() -> None:
    w = made(bn=True)
    assert w.array_names[:4] == ["dense_1/kernel", "dense_1/bias", "dense_1/gamma", "dense_1/beta"]
    assert w.array_names[-2:] == ["output/kernel", "output/bias"]
    keras = w.keras_order("initial")
    # per hidden layer kernel, bias, gamma, beta, moving mean (zeros), moving var (ones)
    assert len(keras) == 2 * 6 + 2
    assert np.array_equal(keras[4], np.zeros(8)) and np.array_equal(keras[5], np.ones(8))
    assert np.array_equal(w.keras_order("final")[4], w.extra["dense_1/moving_mean"])
    plain = made(bn=False)
    assert not plain.batch_norm and len(plain.keras_order()) == 6
    assert plain.n_params == sum(a.size for a in plain.initial)
