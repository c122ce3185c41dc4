"""Vanishing-gradient claims VG1-VG2: mean kernel-gradient norm of the first vs the last layer.

The measurement is in decades (log10 of first/last): a gradient ratio is multiplicative, and
"vanishing" in the notes' sense means orders of magnitude, so half a decade is the margin.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.results import ComparisonResult
from core.spec import Comparison, Experiment

VG_DEPTH = 8
VG_WIDTH = 32
VG_EPOCHS = 5
VANISHING_DECADES = 1.0  # "vanishing": the first layer's gradient at least 10x smaller
DECADE_MARGIN = 0.5  # half a decade (~3x) is the least gain or loss worth the name


def vg_base(dataset: str, fast: bool) -> Experiment:
    return runs.exp(dataset, fast, VG_EPOCHS, depth=VG_DEPTH, width=VG_WIDTH)


def preset_vg1(dataset: str, fast: bool) -> list[Comparison]:
    return [runs.of(dataclasses.replace(vg_base(dataset, fast), activation="sigmoid"))]


def preset_vg2(dataset: str, fast: bool) -> list[Comparison]:
    """VG1's sigmoid runs (the same keys: a store replays them), ReLU, sigmoid + residual."""
    residual = dataclasses.replace(vg_base(dataset, fast), activation="sigmoid", residual=True)
    return [*preset_vg1(dataset, fast), runs.of(vg_base(dataset, fast)), runs.of(residual)]


def log_ratio(rows: pd.DataFrame) -> pd.Series:
    """Per seed: log10(first-layer / last-layer gradient norm), NaN where not measurable."""
    r = runs.by_seed(rows, "grad_norm_first_layer") / runs.by_seed(rows, "grad_norm_last_layer")
    return np.log10(r.where(r > 0))


def rule_vg1(results: list[ComparisonResult]) -> Outcome:
    lr = runs.finite(log_ratio(runs.select(runs.table(results), activation="sigmoid", residual=False)))
    ev = stats.paired((-VANISHING_DECADES - lr).to_numpy(float), DECADE_MARGIN, "decades below 1/10")
    n = {
        "first_over_last": 10 ** float(lr.mean()) if len(lr) else None,
        "depth": VG_DEPTH,
        "smallest_seed": 10 ** float(lr.min()) if len(lr) else None,
        "largest_seed": 10 ** float(lr.max()) if len(lr) else None,
    }
    text = (
        f"in a {VG_DEPTH}-layer sigmoid network the first layer's gradient norm was {sig3(n['first_over_last'])}x "
        f"the last layer's (geometric mean; seeds {sig3(n['smallest_seed'])} to {sig3(n['largest_seed'])}; "
        f"vanishing means below 0.1)"
    )
    return Outcome(ev, n, text)


def rule_vg2(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    sig = log_ratio(runs.select(t, activation="sigmoid", residual=False))
    relu = log_ratio(runs.select(t, activation="relu", residual=False))
    res = log_ratio(runs.select(t, activation="sigmoid", residual=True))
    parts = (
        runs.paired_test(relu, sig, DECADE_MARGIN, "decades of gradient ratio", label="ReLU"),
        runs.paired_test(res, sig, DECADE_MARGIN, "decades of gradient ratio", label="residual connections"),
    )

    def ratio(s: pd.Series) -> float | None:
        s = runs.finite(s)
        return 10 ** float(s.mean()) if len(s) else None

    n = {"ratio_sigmoid": ratio(sig), "ratio_relu": ratio(relu), "ratio_sigmoid_residual": ratio(res)}
    text = (
        f"first/last-layer gradient ratio in {VG_DEPTH} layers: sigmoid {sig3(n['ratio_sigmoid'])}, ReLU "
        f"{sig3(n['ratio_relu'])}, sigmoid with residual connections {sig3(n['ratio_sigmoid_residual'])} "
        f"(geometric means over seeds)"
    )
    return runs.combined(parts, n, text)


CLAIMS = (
    Claim(
        "VG1",
        "vanishing",
        "In a deep sigmoid network the early layers get vanishing gradients.",
        f"Ratio of the first to the last layer's kernel-gradient norm in a {VG_DEPTH}-layer sigmoid network: "
        "vanishing if at least 10x smaller, tested in decades over seeds.",
        preset_vg1,
        rule_vg1,
        stats.PAIRED_T,
        "decades below 1/10",
        DECADE_MARGIN,
        "half a decade (about 3x) is the least change in a gradient ratio worth the name",
    ),
    Claim(
        "VG2",
        "vanishing",
        "ReLU and residual connections fix vanishing gradients.",
        "The same first/last gradient ratio for ReLU and for sigmoid with residual connections, compared "
        "with plain sigmoid seed by seed (in decades).",
        preset_vg2,
        rule_vg2,
        stats.PAIRED_T,
        "decades of gradient ratio",
        DECADE_MARGIN,
        "half a decade (about 3x) is the least change in a gradient ratio worth the name",
    ),
)
