"""Wide-vs-deep claims WVD1-WVD2, on a small training set with an equally large validation set.

WVD1's memorization arm trains both networks on labels replaced at random (label_noise: the
training labels only; validation untouched): how well a network fits labels that carry no
signal is memorization, measured directly (Zhang et al. 2017).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.constants import TOY_DATASETS
from core.limits import MAX_WIDTH
from core.measures import n_params
from core.results import ComparisonResult
from core.spec import Comparison
from core.spec_rules import MAX_LABEL_NOISE

WVD_DEEP_DEPTH = 4
WVD_DEEP_WIDTHS = (64, 48, 32, 16)  # the widest deep net whose equal-budget wide twin fits MAX_WIDTH
WVD1_EPOCHS = 20
ACC_MARGIN = 0.01  # accuracy: one point is the least difference a practitioner would act on
WVD2_WIDTHS, WVD2_DEPTHS = (16, 256), (1, 6)


def data_shape(dataset: str) -> tuple[int, int]:
    """(features, outputs) without TensorFlow: the data pool is cached by core.data."""
    from core.data import load_dataset

    ds = load_dataset(dataset, runs.TOY_N if dataset in TOY_DATASETS else runs.REAL_N)
    return ds.n_features, 1 if ds.is_regression else ds.n_classes


def wide_width(features: int, outputs: int, budget: int) -> int:
    return max(1, round((budget - outputs) / (features + 1 + outputs)))


def preset_wvd1(dataset: str, fast: bool) -> list[Comparison]:
    f, o = data_shape(dataset)
    for w in WVD_DEEP_WIDTHS:
        budget = n_params(f, o, w, WVD_DEEP_DEPTH)
        if wide_width(f, o, budget) <= MAX_WIDTH:
            break
    base = runs.overfit_exp(dataset, fast, WVD1_EPOCHS)
    deep = dataclasses.replace(base, depth=WVD_DEEP_DEPTH, width=w)
    wide = dataclasses.replace(base, depth=1, width=min(MAX_WIDTH, wide_width(f, o, budget)))
    noisy = {"label_noise": (0.0, MAX_LABEL_NOISE)}
    return [runs.of(wide, noisy), runs.of(deep, noisy)]


def rule_wvd1(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    acc = pd.to_numeric(t["final_val_accuracy"], errors="coerce").notna().any()
    clean, noisy = runs.select(t, label_noise=0.0), t[t["label_noise"] > 0]
    wide, deep = clean[clean["depth"] == 1], clean[clean["depth"] > 1]
    if acc:
        gen = runs.column_test(
            deep,
            wide,
            "final_val_accuracy",
            ACC_MARGIN,
            "validation accuracy",
            label="the deep net generalizes better",
        )
    else:
        gen = runs.column_test(
            wide,
            deep,
            "final_val_loss",
            runs.LOSS_MARGIN,
            "nats of validation loss",
            label="the deep net generalizes better",
        )
    parts = [gen]
    n_wide, n_deep = noisy[noisy["depth"] == 1], noisy[noisy["depth"] > 1]
    if acc and len(n_wide) and len(n_deep):
        parts.append(
            runs.column_test(
                n_wide,
                n_deep,
                "final_train_accuracy",
                ACC_MARGIN,
                "training accuracy on random labels",
                label="the wide net memorizes random labels better",
            )
        )
    col = "final_val_accuracy" if acc else "final_val_loss"
    n = {
        "wide_units": int(wide["width"].iloc[0]) if len(wide) else None,
        "deep_shape": f"{WVD_DEEP_DEPTH}x{int(deep['width'].iloc[0])}" if len(deep) else None,
        "params_wide": int(wide["n_params"].iloc[0]) if len(wide) else None,
        "params_deep": int(deep["n_params"].iloc[0]) if len(deep) else None,
        "val_wide": runs.mean_of(wide, col),
        "val_deep": runs.mean_of(deep, col),
        "random_label_train_acc_wide": runs.mean_of(n_wide, "final_train_accuracy") if acc else None,
        "random_label_train_acc_deep": runs.mean_of(n_deep, "final_train_accuracy") if acc else None,
    }
    text = (
        f"with {n['params_wide']} vs {n['params_deep']} weights, 1x{n['wide_units']} reached validation "
        f"{col.replace('final_val_', '')} {sig3(n['val_wide'])} and {n['deep_shape']} {sig3(n['val_deep'])}; with "
        f"{sig3(100 * MAX_LABEL_NOISE)}% of the training labels random they fit the training set to "
        f"{sig3(n['random_label_train_acc_wide'])} vs {sig3(n['random_label_train_acc_deep'])} accuracy"
    )
    return Outcome(stats.combine(parts), n, text, tuple(parts))


def preset_wvd2(dataset: str, fast: bool) -> list[Comparison]:
    return [runs.of(runs.overfit_exp(dataset, fast, 15), {"width": WVD2_WIDTHS, "depth": WVD2_DEPTHS})]


def rule_wvd2(results: list[ComparisonResult]) -> Outcome:
    t = runs.with_gap(runs.table(results))
    (w0, w1), (d0, d1) = runs.values(t, "width"), runs.values(t, "depth")

    def gap(w: int, d: int) -> pd.Series:
        return runs.by_seed(runs.select(t, width=w, depth=d), "gap")

    wider = [runs.paired_diff(gap(w1, d), gap(w0, d)) for d in (d0, d1)]
    deeper = [runs.paired_diff(gap(w, d1), gap(w, d0)) for w in (w0, w1)]
    parts = (
        stats.paired([x for d in wider for x in d], runs.LOSS_MARGIN, "nats of gap", label="widening"),
        stats.paired([x for d in deeper for x in d], runs.LOSS_MARGIN, "nats of gap", label="deepening"),
    )
    n = {f"gap_{w}x{d}": float(gap(w, d).mean()) for w in (w0, w1) for d in (d0, d1)}
    cells = ", ".join(
        f"{w} units x {d} layer{'s' if d > 1 else ''} {sig3(n[f'gap_{w}x{d}'])}"
        for w in (w0, w1)
        for d in (d0, d1)
    )
    text = f"the gap (validation minus training loss) on 300 training examples was {cells}"
    return runs.combined(parts, n, text)


CLAIMS = (
    Claim(
        "WVD1",
        "wide_deep",
        "A very wide shallow network memorizes but generalizes worse than a deep one with the same number of "
        "weights.",
        "Equal parameter budget (1 wide layer vs 4 layers), 300 training and 300 validation examples: "
        "validation accuracy seed by seed; and how well each fits training labels that are 90% random.",
        preset_wvd1,
        rule_wvd1,
        stats.PAIRED_T,
        "validation accuracy",
        ACC_MARGIN,
        "one point of accuracy is the least difference a practitioner would act on",
    ),
    Claim(
        "WVD2",
        "wide_deep",
        "Very wide and very deep networks both risk memorizing instead of generalizing.",
        "Generalization gap over a width x depth grid (16 vs 256 units, 1 vs 6 layers) on 300 training and "
        "300 validation examples, compared seed by seed.",
        preset_wvd2,
        rule_wvd2,
        stats.PAIRED_T,
        "nats of gap",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
    ),
)
