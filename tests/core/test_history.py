"""core.history (tests/core/test_core_history.py: the page test owns test_history.py): filtering stored
runs, finding what differs, and overlay frames for any runs."""

import math

import pandas as pd
import pytest

from core import history
from core.results import RunResult
from core.spec import Experiment


def listing(rows: list[dict]) -> pd.DataFrame:
    """Rows shaped like RunStore.list_runs(): key, created, knobs, scalar summary fields."""
    out = []
    for i, changes in enumerate(rows):
        e = Experiment(**{k: v for k, v in changes.items() if k in Experiment.__dataclass_fields__})
        extra = {k: v for k, v in changes.items() if k not in Experiment.__dataclass_fields__}
        out.append({"key": f"{i:024d}", "created": 1_700_000_000.0 + i, **e.to_dict(), **extra})
    return pd.DataFrame(out)


def run(key_seed: int = 0, epochs: int = 2, diverged: bool = False, **knobs) -> RunResult:
    e = Experiment(seed=key_seed, **knobs)
    frame = pd.DataFrame({"epoch": range(1, epochs + 1), "val_loss": [1.0 / (i + 1) for i in range(epochs)]})
    summary = {"final_val_loss": float("nan") if diverged else 0.5, "diverged": diverged, "diverged_step": 3}
    return RunResult(e, summary, {"epochs": frame})


def test_value_text_is_short_and_stable():
    assert history.value_text(0.1) == "0.1"
    assert history.value_text(1e-4) == "0.0001"
    assert history.value_text(True) == "True"
    assert history.value_text(float("nan")) == ""
    assert history.value_text(None) == ""


def test_varying_lists_only_knobs_that_differ_in_knob_order():
    runs = listing([{"learning_rate": 0.1, "seed": 0}, {"learning_rate": 0.01, "seed": 1, "width": 8}])
    assert history.varying(runs) == ["width", "learning_rate", "seed"]
    assert history.varying(runs, exclude=("seed",)) == ["width", "learning_rate"]
    assert history.varying(runs.iloc[:1]) == []


def test_value_options_sort_numbers_numerically():
    runs = listing([{"learning_rate": v} for v in (0.1, 10.0, 0.001, 0.1)])
    assert history.value_options(runs, "learning_rate") == ["0.001", "0.1", "10"]
    assert history.value_options(runs, "nope") == []
    cats = listing([{"optimizer": o} for o in ("sgd", "adam", "sgd")])
    assert history.value_options(cats, "optimizer") == ["adam", "sgd"]


def test_apply_filters_and_empty_choice_means_all():
    runs = listing(
        [{"learning_rate": 0.1, "dataset": "moons"}, {"learning_rate": 0.01}, {"learning_rate": 0.1}]
    )
    assert len(history.apply_filters(runs, {})) == 3
    assert len(history.apply_filters(runs, {"learning_rate": []})) == 3
    picked = history.apply_filters(runs, {"learning_rate": ["0.1"], "dataset": ["digits"]})
    assert list(picked["key"]) == [runs["key"][2]]
    assert history.apply_filters(runs, {"learning_rate": ["5"]}).empty


def test_metric_columns_put_the_main_ones_first_and_skip_flags():
    runs = listing(
        [{"grad_norm_first_layer": 1.0, "final_val_loss": 0.3, "diverged": False, "device": "CPU"}]
    )
    assert history.metric_columns(runs) == ["final_val_loss", "grad_norm_first_layer"]


def test_numeric_knobs_put_varying_first():
    runs = listing([{"learning_rate": 0.1}, {"learning_rate": 0.01}])
    knobs = history.numeric_knobs(runs)
    assert knobs[0] == "learning_rate"
    assert "optimizer" not in knobs and "residual" not in knobs and "width" in knobs


def test_spans_decades():
    assert history.spans_decades(pd.Series([0.001, 0.1]))
    assert not history.spans_decades(pd.Series([0.01, 0.05]))
    assert not history.spans_decades(pd.Series([0.0, 10.0]))  # a zero cannot go on a log axis


def test_table_frame_is_newest_first_with_what_differs_up_front():
    runs = listing(
        [{"learning_rate": 0.1, "final_val_loss": 0.4}, {"learning_rate": 0.01, "final_val_loss": 0.2}]
    )
    table = history.table_frame(runs)
    assert list(table.columns[:5]) == ["run", "created", "dataset", "learning_rate", "final_val_loss"]
    assert table["key"].iloc[0] == runs["key"].iloc[1]
    assert table["run"].iloc[0] == runs["key"].iloc[1][: history.SHORT_KEY]
    assert set(runs.columns) <= set(table.columns)  # every knob and field is still there
    assert history.table_frame(runs.iloc[:0]).empty


def test_run_labels_name_what_differs():
    runs = [run(0, learning_rate=0.1), run(1, learning_rate=0.1), run(0, learning_rate=0.01)]
    labels = history.run_labels(runs)
    assert labels[0] == f"{runs[0].key[:8]} · learning_rate=0.1, seed=0"
    assert len(set(labels)) == 3
    pooled = history.run_labels(runs, pool_seeds=True)
    assert pooled == ["learning_rate=0.1", "learning_rate=0.1", "learning_rate=0.01"]
    assert history.run_labels([run(0)], pool_seeds=True) == ["digits"]


def test_overlay_frame_fits_the_curves_chart():
    runs = [run(0, learning_rate=0.1), run(1, learning_rate=0.1, epochs=3, diverged=True)]
    ov = history.overlay(runs)
    assert list(ov.epochs.columns[:3]) == ["key", "variant", "seed"]
    assert len(ov.epochs) == 5 and ov.order == history.run_labels(runs)
    assert list(ov.summary["diverged"]) == [False, True]
    pooled = history.overlay(runs, pool_seeds=True)
    assert pooled.order == ["digits"] and set(pooled.epochs["variant"]) == {"digits"}


@pytest.mark.parametrize("frames", [{}, {"epochs": pd.DataFrame()}])
def test_overlay_of_runs_without_epochs_is_empty_not_an_error(frames):
    r = RunResult(Experiment(), {"final_val_loss": math.nan}, frames)
    ov = history.overlay([r])
    assert ov.epochs.empty and len(ov.summary) == 1
