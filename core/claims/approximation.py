"""Claim WVD3: one hidden layer, wide enough, can fit any reasonable function.

Universal approximation (Cybenko 1989, Hornik 1991) is a theorem about width, so the test holds
everything else fixed: the bumps world (core.data.toy: a smooth surface of five Gaussian hills
and a ripple over the plane, scaled to SD 1), no target noise (the claim is about fitting the
function, and noise would put a floor under the training error that is not the network's
doing), one hidden layer of width 4 ... 1024, Adam, the same epochs for every width. The
measurement is the training error, not the validation error: approximation is about what the
network can represent, not about generalization. Because the target has variance 1, the mean
squared error reads as the share of the target's variance the fit leaves unexplained.

Two parts, both must hold (it is physics: if they fail, suspect the instrument first):
- the error falls with width: narrowest minus widest, paired by seed;
- toward zero: the widest leaves less than NEAR_ZERO of the variance (a one-sided test of
  NEAR_ZERO minus its error, as BN5 tests "less than the margin").
"""

from __future__ import annotations

import math

import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.results import ComparisonResult
from core.spec import Comparison

WVD3_DATASET = "bumps"
WVD3_WIDTHS = (4, 16, 64, 256, 1024)  # x4 apart, up to the explorer's widest layer (MAX_WIDTH)
WVD3_EPOCHS = 60  # the same budget for every width: 60 x 12 Adam steps on 400 points
WVD3_LR = 0.01  # Adam's usual rate for a small regression net (10x Keras' 1e-3 default: 60 epochs)
WVD3_BATCH = 32
MSE_MARGIN = 0.01  # share of the target's variance: 1% (R² 0.99 vs 1.0) is the least that matters
NEAR_ZERO = 0.05  # "toward zero": the widest explains at least 95% of the variance (R² >= 0.95)
UNIT = "share of target variance (train MSE)"


def preset_wvd3(dataset: str, fast: bool) -> list[Comparison]:
    """On `dataset` as given: core.claims resolves it to the claim's own data (bumps) first."""
    base = runs.exp(
        dataset,
        fast,
        WVD3_EPOCHS,
        depth=1,
        noise=0.0,
        optimizer="adam",
        learning_rate=WVD3_LR,
        batch_size=WVD3_BATCH,
    )
    return [runs.of(base, {"width": WVD3_WIDTHS})]


def rule_wvd3(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    t = t.assign(score=runs.loss_or_start(t, "final_train_loss", results))
    widths = runs.values(t, "width")

    def err(width: int) -> pd.Series:
        return runs.by_seed(runs.select(t, width=width), "score")

    narrow, wide = err(min(widths)), err(max(widths))
    parts = (
        runs.paired_test(narrow, wide, MSE_MARGIN, UNIT, label="the training error falls with width"),
        stats.paired(
            runs.finite(NEAR_ZERO - wide).to_numpy(float),
            MSE_MARGIN,
            UNIT,
            label=f"the widest leaves less than {sig3(NEAR_ZERO)} of the variance",
        ),
    )
    n: dict = {f"train_mse_width_{w}": runs.mean_of(runs.select(t, width=w), "score") for w in widths}
    n["val_mse_widest"] = runs.mean_of(runs.select(t, width=max(widths)), "final_val_loss")
    n["did_not_train"] = runs.failed_text(t)
    listing = ", ".join(f"{w} units {sig3(n[f'train_mse_width_{w}'])}" for w in widths)
    r2 = 1 - n[f"train_mse_width_{max(widths)}"]
    text = (
        f"one hidden layer fitting a smooth bumpy 2-D surface (no noise, target SD 1), the training mean "
        f"squared error after the same {int(t['epochs'].max()) if len(t) else 0} epochs was {listing} "
        f"(R² of the widest {sig3(r2) if math.isfinite(r2) else 'n/a'})"
    )
    return runs.combined(parts, n, text)


CLAIMS = (
    Claim(
        "WVD3",
        "wide_deep",
        "A single hidden layer, if it is wide enough, can fit any reasonable function.",
        f"A smooth 2-D regression surface (bumps, no noise, SD 1): training mean squared error of one hidden "
        f"layer of {', '.join(str(w) for w in WVD3_WIDTHS)} units after the same training; it must fall from the "
        f"narrowest to the widest (paired by seed) and the widest must leave less than {NEAR_ZERO:.0%} of the "
        "target's variance unexplained.",
        preset_wvd3,
        rule_wvd3,
        stats.PAIRED_T,
        UNIT,
        MSE_MARGIN,
        "the target has variance 1, so 0.01 is 1% of it (R² 0.99 vs 1): less is no practical difference",
        own_dataset=WVD3_DATASET,
    ),
)
