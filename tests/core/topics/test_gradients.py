"""core.topics.gradients on hand-made frames: each rule the gradient pages apply, one case at a time."""

import math

import numpy as np
import pandas as pd
import pytest

from core.measures import prior_loss
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
    chance = prior_loss([0.5, 0.5])
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
