"""core.variants: labelled multi-knob variant sets, and the RunPlan protocol they share with Comparison."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from core.results import ComparisonResult, LabelledResult, RunResult, labelled
from core.spec import Comparison, Experiment
from core.variants import RunPlan, VariantSet

BASE = Experiment(n_samples=300, width=16, epochs=3)


def fake_run(e: Experiment, **summary) -> RunResult:
    epochs = pd.DataFrame(
        {"epoch": [1, 2], "train_loss": [1.0, 0.5], "val_loss": [1.2, 0.8], "seconds": [2.0, 2.5]}
    )
    return RunResult(
        e, {"final_train_loss": 0.5, "final_val_loss": 0.8, "diverged": False, **summary}, {"epochs": epochs}
    )


def test_comparison_and_variant_set_are_both_run_plans() -> None:
    vs = VariantSet.of({"a": BASE, "b": dataclasses.replace(BASE, l2=0.01)}, seeds=3)
    c = Comparison.of(BASE, {"l2": [0.0, 0.01]}, seeds=3)
    assert isinstance(vs, RunPlan) and isinstance(c, RunPlan)
    # the same seed repetition: a set of a comparison's variants has the comparison's members
    assert vs.members() == c.members() and vs.n_members == c.n_members == 6


@pytest.mark.parametrize(
    ("named", "seeds", "message"),
    [
        ({}, 1, "at least one variant"),
        ({"a": BASE, "b": BASE}, 1, "are the same run"),
        ({"a": BASE}, 0, "seeds"),
        ({f"v{i}": dataclasses.replace(BASE, l2=i / 100) for i in range(9)}, 8, "the limit is 64"),
    ],
)
def test_variant_set_refuses_bad_sets_with_a_message(named, seeds, message) -> None:
    with pytest.raises(ValueError, match=message):
        VariantSet.of(named, seeds)


def test_labelled_result_uses_the_set_labels_and_varied_columns() -> None:
    vs = VariantSet.of({"plain": BASE, "penalized": dataclasses.replace(BASE, l2=0.01)}, seeds=2)
    # a stored run comes back resolved (noise=0 for real data): it must still find its label
    runs = [fake_run(m.resolved(), seconds=1.0) for m in vs.members()]
    result = labelled(ComparisonResult(vs, runs, replayed=4))
    assert isinstance(result, LabelledResult) and result.replayed == 4
    summary = result.summary()
    assert list(summary["variant"]) == ["plain", "plain", "penalized", "penalized"]
    assert list(summary["l2"]) == [0.0, 0.0, 0.01, 0.01]
    assert result.variant_order() == ["plain", "penalized"]
    assert set(result.frame("epochs")["variant"]) == {"plain", "penalized"}
    assert labelled(result) is result  # idempotent
    plain = ComparisonResult(Comparison.of(BASE), [fake_run(BASE)])
    assert labelled(plain) is plain and labelled(None) is None


def test_variant_set_runs_through_the_runner_like_a_comparison(tmp_path) -> None:
    from core.runner import run_comparison
    from core.store import RunStore

    small = dataclasses.replace(BASE, n_samples=120, epochs=2)
    vs = VariantSet.of(
        {
            "none": small,
            "L1": dataclasses.replace(small, l1=1e-3),
            "L2": dataclasses.replace(small, l2=1e-3),
            "L1+L2": dataclasses.replace(small, l1=1e-3, l2=1e-3),
            "dropout": dataclasses.replace(small, dropout=0.2),
        }
    )
    with RunStore(tmp_path / "runs.sqlite") as store:
        first = labelled(run_comparison(vs, store))
        again = labelled(run_comparison(vs, store))
    assert first.summary()["group_size"].tolist() == [5] * 5  # one stacked model
    assert again.replayed == 5 and list(again.summary()["variant"]) == vs.labels
