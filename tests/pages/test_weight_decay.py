"""Weight-decay page: the default WD sweep renders and replays, a changed sweep runs, the grids
train from their button into heatmaps with the best cell per row, decoupled vs L2 gives its
table, and a claim gets a verdict."""

import json

from tests.app_helpers import assert_replayed, assert_verdict, opened, specs
from ui.labels import short

PAGE = "pages/weight_decay.py"


def test_defaults_render_and_replay(app_test):
    at = opened(app_test, PAGE)
    text = json.dumps(specs(at))
    assert "weight_decay" in text and "val_loss" in text
    assert_replayed(app_test(PAGE).run(), 10)


def test_changed_sweep_runs(app_test):
    at = app_test(PAGE).run()
    at.text_input(key="weight_decay.values0").input("0, 0.1")
    at.number_input(key="weight_decay.seeds").set_value(1)
    next(b for b in at.button if b.label == "Run" and b.form_id == "weight_decay.form").click().run()
    assert not at.exception, at.exception
    summary = next(
        d.value for d in at.dataframe if "diverged" in d.value.columns and "seeds" in d.value.columns
    )
    assert list(summary["variant"]) == [short("weight_decay=0"), short("weight_decay=0.1")]


def test_grids_and_decoupled_vs_l2(app_test):
    at = app_test(PAGE).run()
    at.button(key="weight_decay.grid_go").click().run()
    assert not at.exception, at.exception
    heatmaps = [s for s in specs(at) if '"weight_decay' in json.dumps(s) and '"best' in json.dumps(s)]
    assert len(heatmaps) == 3  # × n_samples, × width, × LR policy
    best = [d.value for d in at.dataframe if "best_weight_decay" in d.value.columns]
    assert [b.columns[0] for b in best] == ["n_samples", "width", "schedule"]
    assert list(best[2]["schedule"]) == ["constant, lr 0.05", "one_cycle, peak 0.2"]
    next(b for b in at.button if b.form_id == "weight_decay.dec_form").click().run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "method" in d.value.columns)
    assert set(table["optimizer"]) == {"sgd (lr 0.1)", "adam (lr 0.001)"}
    sgd = table[table["optimizer"] == "sgd (lr 0.1)"].set_index("method")
    # Under plain SGD, decoupled λ and an L2 penalty λ/2 are the same update.
    assert (
        abs(sgd.loc["decoupled weight decay", "final_val_loss"] - sgd.loc["L2 penalty", "final_val_loss"])
        < 1e-3
    )


def test_claim_run_gives_a_verdict(app_test):
    assert_verdict(app_test(PAGE).run(), "WD1")
