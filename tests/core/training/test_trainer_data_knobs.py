"""The stacked trainer with the data knobs: input_transform, scaling, and regression on bumps.

Small and real (a few hundred rows, 2-3 epochs): the scaled inputs the network sees, group
independence when each member reads its own quantile-scaled copy, and the fitted surface frame.
"""

from __future__ import annotations

import numpy as np

from core.data import load_for
from core.data.transforms import fit_scaler, transformed
from core.spec import Experiment
from core.training.trainer import GRID, GroupTrainer


def train(members: list[Experiment]):
    return GroupTrainer(members, load_for(members[0])).run()


def test_the_network_sees_the_scaled_transformed_pool() -> None:
    e = Experiment(n_samples=300, epochs=1, input_transform="lognormal", scaling="robust")
    trainer = GroupTrainer([e], load_for(e))
    heavy = transformed(load_for(e), "lognormal")
    np.testing.assert_array_equal(trainer.ds.x, heavy.x)
    rows = trainer.splits[0].val_idx[:5]
    expected = fit_scaler(heavy, trainer.splits[0], "robust")(heavy.x[rows])
    np.testing.assert_array_equal(trainer.standardized(0, rows), expected)


def test_quantile_members_read_their_own_copy_and_stay_group_independent() -> None:
    """Seeds with their own splits get their own quantile map; a member's numbers are the same
    alone as in a group (where the pool holds one scaled copy per split)."""
    base = Experiment(n_samples=300, epochs=2, input_transform="outliers", scaling="quantile")
    members = [Experiment(**{**base.to_dict(), "seed": s}) for s in range(3)]
    trainer = GroupTrainer(members, load_for(base))
    assert len(set(trainer.row_offsets.tolist())) == 3  # three splits, three copies
    together = trainer.run()
    alone = train([members[1]])[0]
    assert together[1].summary["final_val_loss"] == alone.summary["final_val_loss"]
    np.testing.assert_array_equal(
        together[1].frame("epochs")["train_loss"].to_numpy(), alone.frame("epochs")["train_loss"].to_numpy()
    )
    shared = Experiment(**{**base.to_dict(), "split_seed": 0})
    assert set(
        GroupTrainer([shared, Experiment(**{**shared.to_dict(), "seed": 1})], load_for(shared)).row_offsets
    ) == {0}


def test_bumps_regression_trains_with_mse_and_draws_the_fitted_value() -> None:
    e = Experiment(dataset="bumps", n_samples=300, noise=0.0, depth=1, width=64, optimizer="adam",
                   learning_rate=0.01, epochs=3)  # fmt: skip
    run = train([e])[0]
    epochs = run.frame("epochs")
    assert epochs["train_loss"].iloc[-1] < epochs["train_loss"].iloc[0]  # the MSE falls
    assert epochs["val_accuracy"].isna().all()  # regression: no accuracy
    surface = run.frame("boundary")
    assert list(surface.columns) == ["x0", "x1", "value"] and len(surface) == GRID * GRID
    assert np.isfinite(surface["value"]).all() and surface["value"].std() > 0
