"""core.topics.gradients on hand-made frames: each rule the gradient pages apply, one case at a time."""

import math

import numpy as np
import pandas as pd
import pytest

from core.results import ComparisonResult, RunResult
from core.spec import Comparison, Experiment
from core.topics import gradients as tg


def layers_frame(norms_by_run: dict[tuple[str, int], list[float]], steps: int = 3) -> pd.DataFrame:
    """Per (variant, seed) a list of per-layer gradient norms, repeated over `steps` steps."""
    rows = []
    for (variant, seed), norms in norms_by_run.items():
        for step in range(steps):
            for layer, g in enumerate(norms):
                name = "output" if layer == len(norms) - 1 else f"dense_{layer + 1}"
                rows.append(dict(key=f"{variant}{seed}", variant=variant, seed=seed, step=step, epoch=1,
                                 layer=layer, layer_name=name, grad_norm=g))  # fmt: skip
    return pd.DataFrame(rows)


def run(e: Experiment, steps=None, epochs=None, weights=None, layers=None, **summary) -> RunResult:
    frames = {"steps": steps if steps is not None else pd.DataFrame(), "epochs": epochs if epochs is not None
              else pd.DataFrame(), "weights": weights if weights is not None else pd.DataFrame(),
              "layers": layers if layers is not None else pd.DataFrame()}  # fmt: skip
    return RunResult(e, {"diverged": False, "diverged_step": -1, "steps_per_epoch": 10, **summary}, frames)


def steps_frame(losses, grad=1.0, clipped=False) -> pd.DataFrame:
    n = len(losses)
    return pd.DataFrame({"step": range(n), "epoch": [s // 10 + 1 for s in range(n)], "loss": losses,
                         "grad_norm": grad, "clipped": clipped})  # fmt: skip


# -- vanishing ------------------------------------------------------------------------------------
def test_layer_ratios_flag_layers_below_1e5_of_the_last():
    df = layers_frame({("sigmoid", 0): [1e-7, 1e-3, 1.0], ("sigmoid", 1): [4e-7, 1e-3, 1.0],
                       ("relu", 0): [0.5, 0.8, 1.0]})  # fmt: skip
    r = tg.layer_ratios(df)
    sig = r[r["variant"] == "sigmoid"].set_index("layer")
    assert sig.loc[0, "ratio"] == pytest.approx(2e-7)  # geometric mean of 1e-7 and 4e-7
    assert list(sig["flagged"]) == [True, False, False] and sig.loc[0, "flagged_runs"] == 2
    assert not r[r["variant"] == "relu"]["flagged"].any()
    s = tg.vanishing_summary(r, ["relu", "sigmoid"])
    assert list(s["variant"]) == ["relu", "sigmoid"]
    row = s.set_index("variant").loc["sigmoid"]
    assert row["flagged_layers"] == "dense_1" and row["n_flagged"] == 1 and row["n_layers"] == 3
    assert row["first_last_ratio"] == pytest.approx(2e-7)
    assert s.set_index("variant").loc["relu", "flagged_layers"] == "none"


def test_layer_ratios_of_nothing_is_an_empty_frame():
    assert tg.layer_ratios(pd.DataFrame()).empty
    assert tg.vanishing_summary(tg.layer_ratios(pd.DataFrame())).empty


# -- exploding: each signal -------------------------------------------------------------------------
def test_nan_fires_at_the_first_non_finite_loss_or_the_divergence_step():
    f = tg.detect_nan(steps_frame([2.3, 2.0, float("nan")]), {"steps_per_epoch": 10})
    assert f.fired and f.step == 2 and f.epoch == 1
    f = tg.detect_nan(
        steps_frame([2.3, 400.0]), {"diverged": True, "diverged_step": 1, "steps_per_epoch": 10}
    )
    assert f.fired and f.step == 1 and "run stopped" in f.evidence
    assert not tg.detect_nan(steps_frame([2.3, 2.0, 1.5]), {}).fired


def test_unstable_ignores_minibatch_noise_and_catches_a_jump():
    calm = [2.3, 2.1, 2.2, 1.9, 2.0, 1.7, 1.8, 1.6] * 3
    assert not tg.detect_unstable(steps_frame(calm)).fired
    f = tg.detect_unstable(steps_frame([*calm, 9.0, 1.5]))
    assert f.fired and f.step == len(calm) and "2 such jumps" in f.evidence  # up, and back down


def test_weights_fire_on_fast_growth_or_a_huge_weight():
    def weights(norms, peaks):
        return pd.DataFrame({"epoch": range(1, len(norms) + 1), "layer": 0, "weight_norm": norms,
                             "weight_max_abs": peaks})  # fmt: skip

    assert not tg.detect_weights(weights([10, 10.5, 11], [1, 1, 1])).fired
    f = tg.detect_weights(weights([10, 10.5, 20], [1, 1, 2]))
    assert f.fired and f.epoch == 3 and f.step is None and f.when == "epoch 3"
    assert tg.detect_weights(weights([10, 10.5], [1, 150])).epoch == 2
    assert not tg.detect_weights(pd.DataFrame()).fired


def test_grads_need_every_layer_above_one_for_a_streak():
    above = layers_frame({("a", 0): [2.0, 3.0]}, steps=25)
    f = tg.detect_grads(above)
    assert f.fired and f.step == tg.GRAD_STREAK - 1
    one_below = layers_frame({("a", 0): [0.5, 3.0]}, steps=25)
    assert not tg.detect_grads(one_below).fired
    short = layers_frame({("a", 0): [2.0, 3.0]}, steps=2)  # stopped early: all its steps count
    assert tg.detect_grads(short).step == 1


def test_poor_loss_is_no_better_than_guessing_the_class_shares():
    chance = tg.chance_loss([0.5, 0.5])
    assert chance == pytest.approx(math.log(2))
    epochs = pd.DataFrame({"epoch": [1, 2], "train_loss": [0.6, 0.3]})
    assert not tg.detect_poor(epochs, pd.DataFrame(), chance).fired
    f = tg.detect_poor(pd.DataFrame({"epoch": [1, 2], "train_loss": [5.0, 0.3]}), pd.DataFrame(), chance)
    assert f.fired and f.epoch == 1
    f = tg.detect_poor(pd.DataFrame(), steps_frame([50.0, 80.0]), chance)  # no epoch finished
    assert f.fired and f.epoch == 1
    assert not tg.detect_poor(epochs, pd.DataFrame(), None).fired  # regression: no chance level


def test_detection_table_has_one_row_per_run_and_a_column_per_signal():
    e = Experiment(epochs=1)
    blown = run(e, steps_frame([2.3, float("nan")], grad=1e6), diverged=True, diverged_step=1)
    fine = run(Experiment(epochs=1, seed=1), steps_frame([2.3, 2.0, 1.8]),
               epochs=pd.DataFrame({"epoch": [1], "train_loss": [1.0]}))  # fmt: skip
    result = ComparisonResult(Comparison.of(e, {}, 2), [blown, fine])
    t = tg.detection_table(result, math.log(10))
    assert list(t["seed"]) == [0, 1] and set(tg.SIGNALS.values()) <= set(t.columns)
    assert t.loc[0, tg.SIGNALS["nan"]] == "step 1 (epoch 1)" and t.loc[1, tg.SIGNALS["nan"]] == "—"
    assert t.loc[0, "signals"] >= 1 and t.loc[1, "signals"] == 0


# -- clipping -----------------------------------------------------------------------------------------
def test_clip_table_suggests_the_90th_percentile_and_warns_above_half():
    base = Experiment(epochs=1)
    off = run(base, steps_frame([1.0] * 10, grad=np.arange(1.0, 11.0)))
    clipped = run(
        base.__class__(epochs=1, clipnorm=1.0), steps_frame([1.0] * 10, clipped=[True] * 6 + [False] * 4)
    )
    c = Comparison.of(base, {"clipnorm": (0.0, 1.0)})
    t = tg.clip_table(ComparisonResult(c, [off, clipped])).set_index("variant")
    assert t.loc["clipnorm=0", "suggested_clipnorm"] == pytest.approx(np.quantile(np.arange(1, 11), 0.9))
    assert t.loc["clipnorm=0", "setting"] == "off" and math.isnan(t.loc["clipnorm=0", "clipped_share"])
    assert t.loc["clipnorm=1", "clipped_share"] == pytest.approx(0.6) and t.loc["clipnorm=1", "warn"]
    assert not t.loc["clipnorm=0", "warn"]


# -- variant sets -------------------------------------------------------------------------------------
def test_expand_applies_each_fix_to_each_variant_and_skips_clashes():
    base = Experiment(batch_size=64, epochs=1)
    vs, skipped = tg.expand(Comparison.of(base, {}, 2), tg.fixes(base))
    assert vs.labels == ["baseline", "clipnorm=1", "clipvalue=0.5", "batch_size=16", "l2=0.01"]
    assert vs.n_members == 10 and not skipped
    assert dict(vs.named)["clipvalue=0.5"].clipnorm == 0 and dict(vs.named)["batch_size=16"].batch_size == 16
    c = Comparison.of(base, {"learning_rate": (0.01, 0.1), "l2": (0.0, 0.01)})
    vs, skipped = tg.expand(c, tg.fixes(base))
    assert "baseline · learning_rate=0.01, l2=0" in vs.labels
    assert any(s.startswith("l2=0.01") for s in skipped)  # it would override the varied l2
    assert len(vs.labels) == 4 * 4  # baseline + three fixes, each over the 4 variants


def test_expand_drops_a_change_that_is_already_the_baseline():
    base = Experiment(l2=0.01, epochs=1)
    vs, _ = tg.expand(Comparison.of(base), tg.fixes(base))
    assert "l2=0.01" not in vs.labels and len(vs.labels) == 4


# -- wide vs deep ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("features", "outputs", "width", "depth", "bn"),
    [(64, 10, 256, 1, False), (2, 2, 13, 8, False), (30, 2, 7, 3, True), (784, 10, 1, 1, False)],
)
def test_n_params_matches_the_model(features, outputs, width, depth, bn):
    from core.training.model import Shape

    shape = Shape(features, outputs, width, depth, "relu", "before" if bn else "none", False)
    assert tg.n_params(features, outputs, width, depth, bn) == shape.n_params


@pytest.mark.parametrize(("features", "outputs", "wide"), [(64, 10, 256), (2, 2, 256), (13, 3, 512)])
def test_equal_budget_pairs_match_within_a_few_percent(features, outputs, wide):
    pairs = tg.equal_budget(wide, (8, 1, 2, 4), features, outputs)
    assert [p.depth for p in pairs] == [1, 2, 4, 8]
    assert pairs[0].width == wide and pairs[0].off == 0
    widths = [p.width for p in pairs]
    assert widths == sorted(widths, reverse=True)  # deeper = narrower
    for p in pairs:
        assert p.matched, p
        assert p.n_params == tg.n_params(features, outputs, p.width, p.depth)
        for w in (p.width - 1, p.width + 1):  # no neighbouring width is closer
            if w >= 1:
                assert abs(tg.n_params(features, outputs, w, p.depth) - pairs[0].n_params) >= abs(
                    p.n_params - pairs[0].n_params
                )
    assert tg.pair_changes(pairs)["2 × " + str(pairs[1].width)] == {"depth": 2, "width": pairs[1].width}


def test_budget_width_is_clamped_to_the_allowed_widths():
    assert tg.budget_width(10**9, 1, 64, 10) == 1024
    assert tg.budget_width(1, 4, 64, 10) == 1


def test_fit_table_reports_the_gap():
    e = Experiment(epochs=1)
    runs = [RunResult(e.__class__(epochs=1, seed=s), {"final_train_accuracy": 1.0, "final_val_accuracy": v,
                      "n_params": 100, "diverged": False}) for s, v in ((0, 0.8), (1, 0.9))]  # fmt: skip
    t = tg.fit_table(ComparisonResult(Comparison.of(e, {}, 2), runs))
    assert t.loc[0, "accuracy_gap"] == pytest.approx(0.15) and t.loc[0, "seeds"] == 2


# -- random labels -------------------------------------------------------------------------------------
def test_shuffled_labels_keep_inputs_and_class_shares_and_are_deterministic(tmp_path, monkeypatch):
    from core import data

    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype(np.float32)
    y = np.repeat([0, 1, 2], 20)
    raw = tg.shuffled_labels_csv(x, y)
    assert raw == tg.shuffled_labels_csv(x, y)
    name = data.register_csv(raw, tg.LABEL_COLUMN)
    ds = data.load_dataset(name)
    np.testing.assert_allclose(ds.x, x, rtol=1e-6)
    assert sorted(np.bincount(ds.y)) == [20, 20, 20]
    assert (ds.y != y).mean() > 0.4  # most labels moved: the link input -> label is gone
    assert tg.class_shares(y) == pytest.approx([1 / 3] * 3)


def test_memorization_table_finds_the_first_epoch_at_100_percent():
    e = Experiment(epochs=3)
    runs = []
    for seed, accs in ((0, [0.5, 0.9, 1.0]), (1, [0.4, 0.7, 0.95])):
        epochs = pd.DataFrame({"epoch": [1, 2, 3], "train_accuracy": accs, "val_accuracy": 0.1})
        runs.append(RunResult(Experiment(epochs=3, seed=seed), {"final_train_accuracy": accs[-1],
                              "final_val_accuracy": 0.1, "diverged": False}, {"epochs": epochs}))  # fmt: skip
    t = tg.memorization_table(ComparisonResult(Comparison.of(e, {}, 2), runs), chance=0.1)
    row = t.iloc[0]
    assert row["epochs_to_100"] == 3 and row["memorized"] == "1 of 2" and row["chance"] == 0.1
