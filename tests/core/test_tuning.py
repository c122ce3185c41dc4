"""core.tuning: every variant at its own best learning rate, picked on one validation half and
reported on the other. Real tiny training (digits, 300 examples, 2 epochs) plus pure checks."""

from __future__ import annotations

import dataclasses
import math
import statistics

import pytest

from core.results import RunResult
from core.spec import Comparison, Experiment
from core.store import RunStore
from core.tuning import (
    REPORT_LOSS,
    SELECT_LOSS,
    GridError,
    TuningPlan,
    _variant_row,
    grid_around,
    parse_grid,
    run_tuning,
)
from core.variants import VariantSet

TINY = Experiment(n_samples=300, width=16, epochs=2)
GRID = (0.01, 0.1, 1.0)


@pytest.fixture(scope="module")
def tuned():
    plan = Comparison.of(TINY, {"optimizer": ["momentum", "adam"]}, seeds=2)
    return run_tuning(TuningPlan(plan, GRID))


def test_expands_variant_by_rate_by_seed(tuned):
    members = tuned.tplan.expanded.members()
    assert len(members) == 2 * len(GRID) * 2
    assert {m.learning_rate for m in members} == set(GRID)
    assert len(tuned.result.runs) == len(members)


def test_chosen_rate_is_the_argmin_of_mean_select_loss(tuned):
    cells = tuned.tplan.cell_of
    for row in tuned.rows:
        means = {}
        for rate in GRID:
            runs = [
                r
                for r in tuned.result.runs
                if cells[r.key].variant == row["label"] and cells[r.key].rate == rate
            ]
            assert len(runs) == 2
            if not any(r.did_not_train for r in runs):
                means[rate] = statistics.fmean(r.summary[SELECT_LOSS] for r in runs)
        assert means, "at least one rate trains on every seed"
        assert row["tuned_learning_rate"] == min(means, key=means.get)
        assert row["select_val_loss"] == pytest.approx(means[row["tuned_learning_rate"]])


def test_report_half_is_disjoint_from_the_select_half(tuned):
    """The halves partition the validation split: their size-weighted mean is the whole split's
    loss (it would not be for overlapping or incomplete halves), and they differ."""
    for run in tuned.result.runs:
        if run.diverged:
            continue
        s, n = run.summary, run.summary["n_val"]
        n_select, n_report = math.ceil(n / 2), n // 2  # even and odd positions
        whole = (n_select * s[SELECT_LOSS] + n_report * s[REPORT_LOSS]) / n
        assert whole == pytest.approx(s["final_val_loss"], rel=1e-5)
        assert s[SELECT_LOSS] != s[REPORT_LOSS]


def test_rows_carry_the_numbers_at_the_tuned_rate(tuned):
    cells = tuned.tplan.cell_of
    for row in tuned.rows:
        at = [r for r in tuned.result.runs if cells[r.key].variant == row["label"]]
        at = [r for r in at if r.experiment.learning_rate == row["tuned_learning_rate"]]
        assert row["final_val_loss"] == pytest.approx(
            statistics.fmean(r.summary["final_val_loss"] for r in at)
        )
        assert row["report_val_loss"] == pytest.approx(statistics.fmean(r.summary[REPORT_LOSS] for r in at))
        assert row["widen_grid"] == (row["tuned_learning_rate"] in (GRID[0], GRID[-1]))
        assert row["held_out"]


def test_replays_from_the_store_and_backfills_runs_without_halves(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    tplan = TuningPlan(VariantSet.of({"plain": TINY}, seeds=1), GRID)
    first = run_tuning(tplan, store)
    # A run stored before the trainer measured the halves: strip them and store it again.
    old = first.result.runs[0]
    stripped = {k: v for k, v in old.summary.items() if k not in (SELECT_LOSS, REPORT_LOSS)}
    stripped = {k: v for k, v in stripped.items() if not k.startswith("final_val_accuracy_")}
    store.put_many([RunResult(old.experiment, stripped, old.frames)])
    again = run_tuning(tplan, store)
    assert again.result.replayed == len(GRID)
    assert SELECT_LOSS in store.get_many([old.key])[old.key].summary  # retrained once and stored
    assert again.rows[0]["tuned_learning_rate"] == first.rows[0]["tuned_learning_rate"]
    assert again.rows[0]["report_val_loss"] == first.rows[0]["report_val_loss"]  # bit-identical


def _cells(scores):
    return [
        {
            "select_val_loss": s,
            "report_val_loss": s,
            "report_val_accuracy": None,
            "held_out": True,
            "seeds": 1,
        }
        for s in scores
    ]


@pytest.mark.parametrize(
    "scores, rate, edge",
    [([0.9, 0.5, 0.7], 0.1, None), ([0.4, 0.5, 0.7], 0.01, "lowest"), ([0.9, 0.5, 0.2], 1.0, "highest"),
     ([None, 0.5, None], 0.1, None), ([None, None, None], None, None)],
)  # fmt: skip
def test_edge_flag_and_failed_rates(scores, rate, edge):
    row = _variant_row("v", {}, _cells(scores), GRID)
    assert row["tuned_learning_rate"] == rate
    assert row["edge"] == edge and row["widen_grid"] == (edge is not None)


@pytest.mark.parametrize(
    "grid, needle",
    [("0.1,abc,1", "not a number"), ("0.1,-1,1", "positive"), ("0.1,inf,1", "positive"),
     ("0.1,0.1,1", "at least 3"), (",".join(str(0.01 * i) for i in range(1, 14)), "at most")],
)  # fmt: skip
def test_bad_grids_are_refused(grid, needle):
    with pytest.raises(GridError, match=needle):
        parse_grid(grid)


def test_grid_around_is_log_spaced_and_centred():
    grid = grid_around(0.03)
    assert len(grid) == 5 and grid[2] == 0.03
    ratios = [b / a for a, b in zip(grid, grid[1:])]
    assert all(r == pytest.approx(10**0.5, rel=0.05) for r in ratios)


def test_refuses_a_plan_that_varies_the_rate_or_exceeds_the_member_limit():
    with pytest.raises(GridError, match="varies learning_rate"):
        TuningPlan(Comparison.of(TINY, {"learning_rate": [0.1, 1]}), GRID)
    big = Comparison.of(TINY, {"width": [4, 8, 16, 32]}, seeds=5)
    with pytest.raises(GridError, match="limit"):
        TuningPlan(big, (*GRID, 3.0, 10.0))


def test_a_variant_set_keeps_its_labels():
    named = {"narrow": TINY, "wide": dataclasses.replace(TINY, width=32)}
    tplan = TuningPlan(VariantSet.of(named, seeds=1), GRID)
    assert [c.variant for c in tplan.cells] == ["narrow"] * 3 + ["wide"] * 3


def test_tuned_claim_results_hold_each_arm_at_its_own_rate():
    """core.tuned_claims: each arm's runs are those at its tuned rate, seed for seed, in the
    preset's member order, so the claim's own rule can decide from them."""
    from core.tuned_claims import tuned_results

    c = Comparison.of(TINY, {"batch_norm": ["none", "before"]}, seeds=2)
    result, arms = tuned_results(c, None)
    assert [a["variant"] for a in arms] == [{"batch_norm": "none"}, {"batch_norm": "before"}]
    assert [(r.experiment.batch_norm, r.experiment.seed) for r in result.runs] == [
        (m.batch_norm, m.seed) for m in c.members()
    ]
    for arm, runs in zip(arms, (result.runs[:2], result.runs[2:])):
        assert arm["tuned_learning_rate"] in grid_around(TINY.learning_rate)
        assert {r.experiment.learning_rate for r in runs} == {arm["tuned_learning_rate"]}


def test_untunable_claims_are_refused():
    from core.tuned_claims import check_tunable

    with pytest.raises(ValueError, match="cannot be LR-tuned"):
        check_tunable("BN2")  # varies the learning rate itself


def test_a_variant_without_halves_is_picked_on_the_whole_split_and_says_so(tuned):
    """A run stored before the halves existed (replayed in the app, which does not backfill):
    that variant is picked on the whole validation split at every rate alike, nothing is
    reported as held out; the other variant keeps its halves."""
    from core.results import ComparisonResult
    from core.tuning import analyze

    first = tuned.result.runs[0]
    stripped = RunResult(first.experiment, {k: v for k, v in first.summary.items() if k != SELECT_LOSS})
    result = ComparisonResult(tuned.result.comparison, [stripped, *tuned.result.runs[1:]])
    again = analyze(tuned.tplan, result)
    label = tuned.tplan.cell_of[first.key].variant
    row = next(r for r in again.rows if r["label"] == label)
    other = next(r for r in again.rows if r["label"] != label)
    assert not row["held_out"] and row["report_val_loss"] is None
    cells = [t for t in again.table if t["variant"] == label and t["select_val_loss"] is not None]
    assert row["tuned_learning_rate"] == min(cells, key=lambda t: t["select_val_loss"])["learning_rate"]
    assert other["held_out"] and other == next(r for r in tuned.rows if r["label"] == other["label"])


def test_range_test_grid_is_centred_on_the_range_tests_suggestion():
    from core.lr_range import run_lr_range
    from core.measures import round_lr
    from core.tuning import GRID_DIGITS, RANGE_SUGGESTION, range_test_grid

    steps = 40  # a short sweep: the grid's construction, not the suggestion's quality, is tested
    grid = range_test_grid(TINY, num_iter=steps)
    suggestion = run_lr_range([TINY], num_iter=steps)[0].result.suggestions[RANGE_SUGGESTION]
    assert len(grid) == 5 and grid[2] == round_lr(suggestion, GRID_DIGITS)  # deterministic sweep


def test_adams_tuned_rate_sits_below_sgds_on_digits():
    """The Playbook's point in one number: tuned fairly, adaptive Adam wants a far smaller rate than
    plain SGD (their best rates differ by orders of magnitude, so any fixed rate favours one)."""
    plan = Comparison.of(
        Experiment(n_samples=600, width=32, epochs=4), {"optimizer": ["sgd", "adam"]}, seeds=2
    )
    tuned = run_tuning(TuningPlan(plan, (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)))
    rate = {row["label"]: row["tuned_learning_rate"] for row in tuned.rows}
    sgd, adam = (next(r for label, r in rate.items() if name in label) for name in ("sgd", "adam"))
    assert adam < sgd, rate
