"""Claim VG5: an averaged ensemble of shallow networks can stand in for one deep network.

The deep network is VG1's deep sigmoid net (core.claims.vanishing); the ensemble is ENSEMBLE_NETS
sigmoid nets of ENSEMBLE_DEPTH hidden layers each (core.training.ensemble: mean of their softmax
outputs), their width chosen so that all of them together hold about as many weights as the deep
net (core.topics.wide_deep.budget_width, the wide-vs-deep page's budget matching). Two parts, both
seed by seed: the ensemble's validation accuracy (loss for regression data) is higher, and its
nets' first layers get more gradient than the deep net's first layer (in decades, as VG1-VG2).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.claims.vanishing import DECADE_MARGIN, VG_DEPTH, VG_WIDTH
from core.claims.wide_deep import ACC_MARGIN, data_shape
from core.measures import n_params
from core.results import ComparisonResult
from core.spec import Comparison
from core.topics.wide_deep import budget_width

ENSEMBLE_NETS = 3  # "several": three averaged nets, the smallest ensemble with a majority
ENSEMBLE_DEPTH = 2  # "shorter": two hidden layers, a quarter of the deep net's depth
VG5_EPOCHS = 8  # passes per net (the deep net gets the same): both see the data equally often


def preset_vg5(dataset: str, fast: bool) -> list[Comparison]:
    f, o = data_shape(dataset)
    deep = runs.exp(dataset, fast, VG5_EPOCHS, depth=VG_DEPTH, width=VG_WIDTH, activation="sigmoid")
    budget = n_params(f, o, VG_WIDTH, VG_DEPTH) / ENSEMBLE_NETS
    width = budget_width(round(budget), ENSEMBLE_DEPTH, f, o)
    shallow = dataclasses.replace(deep, depth=ENSEMBLE_DEPTH, width=width, ensemble=ENSEMBLE_NETS)
    return [runs.of(deep), runs.of(shallow)]


def single_net_score(ens: pd.DataFrame, lower: bool) -> float:
    """One averaged net's own score, mean over nets and seeds (NaN where not recorded)."""
    col = "member_val_loss" if lower else "member_val_accuracy"
    return runs.mean_of(ens, col) if col in ens else math.nan


def rule_vg5(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    deep, ens = t[t["ensemble"] == 1], t[t["ensemble"] > 1]
    col, lower = runs.accuracy_or_loss(t)
    unit = "nats of validation loss" if lower else "validation accuracy"
    margin = runs.LOSS_MARGIN if lower else ACC_MARGIN
    better, worse = (deep, ens) if lower else (ens, deep)
    score = runs.column_test(better, worse, col, margin, unit, label="the ensemble scores better")
    log_grad = runs.paired_test(
        np.log10(runs.by_seed(ens, "grad_norm_first_layer")),
        np.log10(runs.by_seed(deep, "grad_norm_first_layer")),
        DECADE_MARGIN,
        "decades of first-layer gradient",
        label="the ensemble's first layers get more gradient",
    )
    n = {
        "ensemble": f"{ENSEMBLE_NETS} x ({ENSEMBLE_DEPTH}x{int(ens['width'].iloc[0])})" if len(ens) else None,
        "deep": f"{VG_DEPTH}x{VG_WIDTH}",
        "params_ensemble": int(ens["n_params"].iloc[0]) if len(ens) else None,
        "params_deep": int(deep["n_params"].iloc[0]) if len(deep) else None,
        "score_ensemble": runs.mean_of(ens, col),
        "score_deep": runs.mean_of(deep, col),
        "score_single_shallow_net": single_net_score(ens, lower),
        "first_layer_grad_ensemble": runs.mean_of(ens, "grad_norm_first_layer"),
        "first_layer_grad_deep": runs.mean_of(deep, "grad_norm_first_layer"),
        "did_not_train_deep": runs.failed_text(deep) if len(deep) else None,
    }
    what = col.replace("final_val_", "validation ")
    text = (
        f"an average of {n['ensemble']} sigmoid nets ({n['params_ensemble']} weights) reached {what} "
        f"{sig3(n['score_ensemble'])} (one of its nets alone {sig3(n['score_single_shallow_net'])}), one "
        f"{n['deep']} sigmoid net ({n['params_deep']} weights) {sig3(n['score_deep'])} "
        f"({n['did_not_train_deep']} runs did not train); mean first-layer gradient norm "
        f"{sig3(n['first_layer_grad_ensemble'])} vs {sig3(n['first_layer_grad_deep'])}"
    )
    return runs.combined((score, log_grad), n, text)


CLAIMS = (
    Claim(
        "VG5",
        "vanishing",
        "Averaging several shallower networks can replace one deep network, without the deep net's vanishing "
        "gradients.",
        f"Equal parameter budget: the mean prediction of {ENSEMBLE_NETS} sigmoid nets of {ENSEMBLE_DEPTH} layers "
        f"vs one {VG_DEPTH}-layer sigmoid net: validation accuracy and first-layer gradient norm (in decades), "
        "seed by seed.",
        preset_vg5,
        rule_vg5,
        stats.PAIRED_T,
        "validation accuracy",
        ACC_MARGIN,
        "one point of accuracy is the least difference a practitioner would act on; half a decade (about 3x) "
        "for the gradient part",
    ),
)
