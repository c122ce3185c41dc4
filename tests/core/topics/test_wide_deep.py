"""core.topics.wide_deep on hand-made frames: equal parameter budgets and random-label memorization."""

import numpy as np
import pandas as pd
import pytest

from core.measures import n_params
from core.results import ComparisonResult, RunResult
from core.spec import Comparison, Experiment
from core.topics import wide_deep as tw


# -- wide vs deep ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("features", "outputs", "width", "depth", "bn"),
    [(64, 10, 256, 1, False), (2, 2, 13, 8, False), (30, 2, 7, 3, True), (784, 10, 1, 1, False)],
)
def test_n_params_matches_the_model(features, outputs, width, depth, bn):
    from core.training.model import Shape

    shape = Shape(features, outputs, width, depth, "relu", "before" if bn else "none", False)
    assert n_params(features, outputs, width, depth, bn) == shape.n_params


@pytest.mark.parametrize(("features", "outputs", "wide"), [(64, 10, 256), (2, 2, 256), (13, 3, 512)])
def test_equal_budget_pairs_match_within_a_few_percent(features, outputs, wide):
    pairs = tw.equal_budget(wide, (8, 1, 2, 4), features, outputs)
    assert [p.depth for p in pairs] == [1, 2, 4, 8]
    assert pairs[0].width == wide and pairs[0].off == 0
    widths = [p.width for p in pairs]
    assert widths == sorted(widths, reverse=True)  # deeper = narrower
    for p in pairs:
        assert p.matched, p
        assert p.n_params == n_params(features, outputs, p.width, p.depth)
        for w in (p.width - 1, p.width + 1):  # no neighbouring width is closer
            if w >= 1:
                assert abs(n_params(features, outputs, w, p.depth) - pairs[0].n_params) >= abs(
                    p.n_params - pairs[0].n_params
                )
    assert tw.pair_changes(pairs)["2 × " + str(pairs[1].width)] == {"depth": 2, "width": pairs[1].width}


def test_budget_width_is_clamped_to_the_allowed_widths():
    assert tw.budget_width(10**9, 1, 64, 10) == 1024
    assert tw.budget_width(1, 4, 64, 10) == 1


def test_fit_table_reports_the_gap():
    e = Experiment(epochs=1)
    runs = [RunResult(e.__class__(epochs=1, seed=s), {"final_train_accuracy": 1.0, "final_val_accuracy": v,
                      "n_params": 100, "diverged": False}) for s, v in ((0, 0.8), (1, 0.9))]  # fmt: skip
    t = tw.fit_table(ComparisonResult(Comparison.of(e, {}, 2), runs))
    assert t.loc[0, "accuracy_gap"] == pytest.approx(0.15) and t.loc[0, "seeds"] == 2


# -- random labels -------------------------------------------------------------------------------------
def test_shuffled_labels_keep_inputs_and_class_shares_and_are_deterministic(tmp_path, monkeypatch):
    from core import data

    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype(np.float32)
    y = np.repeat([0, 1, 2], 20)
    raw = tw.shuffled_labels_csv(x, y)
    assert raw == tw.shuffled_labels_csv(x, y)
    name = data.register_csv(raw, tw.LABEL_COLUMN)
    ds = data.load_dataset(name)
    np.testing.assert_allclose(ds.x, x, rtol=1e-6)
    assert sorted(np.bincount(ds.y)) == [20, 20, 20]
    assert (ds.y != y).mean() > 0.4  # most labels moved: the link input -> label is gone
    assert tw.class_shares(y) == pytest.approx([1 / 3] * 3)


def test_memorization_table_finds_the_first_epoch_at_100_percent():
    e = Experiment(epochs=3)
    runs = []
    for seed, accs in ((0, [0.5, 0.9, 1.0]), (1, [0.4, 0.7, 0.95])):
        epochs = pd.DataFrame({"epoch": [1, 2, 3], "train_accuracy": accs, "val_accuracy": 0.1})
        runs.append(RunResult(Experiment(epochs=3, seed=seed), {"final_train_accuracy": accs[-1],
                              "final_val_accuracy": 0.1, "diverged": False}, {"epochs": epochs}))  # fmt: skip
    t = tw.memorization_table(ComparisonResult(Comparison.of(e, {}, 2), runs), chance=0.1)
    row = t.iloc[0]
    assert row["epochs_to_100"] == 3 and row["memorized"] == "1 of 2" and row["chance"] == 0.1
