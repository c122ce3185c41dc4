"""Claim BN6: for strongly non-Gaussian inputs, scaling the data first may beat batch norm.

The inputs are a heavy-tailed, skewed copy of the dataset (input_transform="lognormal": every
feature through exp of its z-score, in units spread over two decades; core.data.transforms), the
same world for every seed. Two ways to cope with it are compared on one network:
- scale the data beforehand, fitted on the training rows: robust (median/IQR) or quantile (each
  feature mapped to a standard normal), no BN;
- feed the raw values and let BN normalize: BN before every hidden activation. The model has no
  BN layer on the input itself; BN on the first hidden layer's pre-activations is the nearest it
  has (they are a linear mix of the raw inputs, renormalized per batch).
Standard (z-score) scaling without BN trains too, as the everyday baseline shown beside them; the
verdict needs both the robust and the quantile arm to beat BN on raw inputs.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.results import ComparisonResult
from core.spec import Comparison

BN6_TRANSFORM = "lognormal"  # the heavy-tailed, skewed copy (the "outliers" copy is the other choice)
BN6_SCALINGS = ("robust", "quantile")  # the scalings the notes' advice is about
BN6_BASELINE = "standard"  # shown for reference, not part of the verdict
BN6_EPOCHS = 10  # digits reaches its plateau within 10 epochs at the default rate (BN1's setting)
BN6_BN = "before"  # the common placement (BN4 compares placements)


def preset_bn6(dataset: str, fast: bool) -> list[Comparison]:
    base = runs.exp(dataset, fast, BN6_EPOCHS, input_transform=BN6_TRANSFORM)
    return [
        runs.of(base, {"scaling": (BN6_BASELINE, *BN6_SCALINGS)}),
        runs.of(dataclasses.replace(base, scaling="none", batch_norm=BN6_BN)),
    ]


def rule_bn6(results: list[ComparisonResult]) -> Outcome:
    """Per seed: validation loss of BN on raw inputs minus that of each scaling without BN
    (positive = scaling first did better). A run that did not train scores its starting loss."""
    t = runs.table(results)
    t = t.assign(score=runs.loss_or_start(t, "final_val_loss", results))
    bn = runs.select(t, scaling="none", batch_norm=BN6_BN)
    plain = runs.select(t, batch_norm="none")

    def arm(scaling: str) -> pd.DataFrame:
        return runs.select(plain, scaling=scaling)

    parts = tuple(
        runs.column_test(
            bn,
            arm(s),
            "score",
            runs.LOSS_MARGIN,
            "nats of validation loss",
            label=f"{s} scaling beats BN on raw inputs",
        )
        for s in BN6_SCALINGS
    )
    n = {f"val_loss_{s}": runs.mean_of(arm(s), "score") for s in (BN6_BASELINE, *BN6_SCALINGS)}
    n["val_loss_bn_raw"] = runs.mean_of(bn, "score")
    n |= {f"did_not_train_{s}": runs.failed_text(arm(s)) for s in (BN6_BASELINE, *BN6_SCALINGS)}
    n["did_not_train_bn_raw"] = runs.failed_text(bn)
    text = (
        f"on a heavy-tailed ({BN6_TRANSFORM}) copy of the inputs, the final validation loss was "
        f"{sig3(n['val_loss_robust'])} with robust scaling and {sig3(n['val_loss_quantile'])} with quantile "
        f"scaling (no BN), vs {sig3(n['val_loss_bn_raw'])} with BN on the raw values "
        f"(z-score scaling without BN: {sig3(n['val_loss_standard'])}; runs that did not train, scored at "
        f"their starting loss: {n['did_not_train_bn_raw']} with BN on raw values)"
    )
    return runs.combined(parts, n, text)


CLAIMS = (
    Claim(
        "BN6",
        "batch_norm",
        "When the inputs are far from Gaussian, scaling the data beforehand may work better than "
        "relying on batch normalization.",
        "On a heavy-tailed, skewed copy of the inputs (each feature through exp of its z-score, in units "
        "spread over two decades): final validation loss of the network without BN fed robust-scaled "
        "(median/IQR) or quantile-scaled (to a normal) inputs vs the same network fed the raw values with "
        "BN before each activation, paired by seed; both scalings must win.",
        preset_bn6,
        rule_bn6,
        stats.PAIRED_T,
        "nats of validation loss",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here",
    ),
)
