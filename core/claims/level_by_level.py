"""Claim VG4: level-by-level training beats end-to-end training of a deep net whose gradients vanish.

The setting is VG1's deep sigmoid network (core.claims.vanishing), where end-to-end training
starves the early layers. One arm trains it level by level (core.training.layerwise: each level a
shallow net of its own on the frozen outputs of the levels below, then the whole net fine-tuned),
the other end to end (the plain stacked MLP); both get the same total number of passes over the
data, the same schedule, data order and initial weights. Deciding measurement: final validation
loss, seed by seed (a run that did not train counts at its untrained loss: runs.loss_or_start).
"""

from __future__ import annotations

import dataclasses

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.claims.vanishing import VG_DEPTH, VG_WIDTH
from core.results import ComparisonResult
from core.spec import Comparison

VG4_EPOCHS = 16  # total passes: one per level for the 8 levels, then 8 of fine-tuning (GREEDY_SHARE)
FAST_DEPTH = 3  # fast mode trains 4 epochs: 3 levels (one each) + 1 of fine-tuning


def preset_vg4(dataset: str, fast: bool) -> list[Comparison]:
    base = runs.exp(dataset, fast, VG4_EPOCHS, depth=VG_DEPTH, width=VG_WIDTH, activation="sigmoid")
    if fast:
        base = dataclasses.replace(base, depth=FAST_DEPTH)
    return [runs.of(base, {"layerwise": (False, True)})]


def rule_vg4(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    t = t.assign(val_loss=runs.loss_or_start(t, "final_val_loss", results))
    e2e, lw = runs.select(t, layerwise=False), runs.select(t, layerwise=True)
    ev = runs.paired_test(
        runs.by_seed(e2e, "val_loss"),
        runs.by_seed(lw, "val_loss"),
        runs.LOSS_MARGIN,
        "nats of validation loss",
    )
    acc_col = "final_val_accuracy"
    n = {
        "depth": int(t["depth"].max()) if len(t) else None,
        "epochs": int(t["epochs"].max()) if len(t) else None,
        "val_loss_end_to_end": runs.mean_of(e2e, "val_loss"),
        "val_loss_layerwise": runs.mean_of(lw, "val_loss"),
        "val_accuracy_end_to_end": runs.mean_of(e2e, acc_col),
        "val_accuracy_layerwise": runs.mean_of(lw, acc_col),
        "did_not_train_end_to_end": runs.failed_text(e2e) if len(e2e) else None,
        "did_not_train_layerwise": runs.failed_text(lw) if len(lw) else None,
    }
    text = (
        f"a {n['depth']}-layer sigmoid network given {n['epochs']} passes over the data ended at validation loss "
        f"{sig3(n['val_loss_end_to_end'])} trained end to end ({n['did_not_train_end_to_end']} runs did not "
        f"train) and {sig3(n['val_loss_layerwise'])} trained level by level then fine-tuned "
        f"({n['did_not_train_layerwise']}); validation accuracy {sig3(n['val_accuracy_end_to_end'])} vs "
        f"{sig3(n['val_accuracy_layerwise'])}"
    )
    return Outcome(ev, n, text)


CLAIMS = (
    Claim(
        "VG4",
        "vanishing",
        "When gradients vanish, building a deep network one level at a time (each level first trained as a "
        "small network of its own) works better than training all of it at once.",
        f"A {VG_DEPTH}-layer sigmoid network, {VG4_EPOCHS} passes over the data in both arms: greedy "
        "level-by-level training then fine-tuning vs end-to-end training; final validation loss compared "
        "seed by seed.",
        preset_vg4,
        rule_vg4,
        stats.PAIRED_T,
        "nats of validation loss",
        runs.LOSS_MARGIN,
        "0.02 nats is about a tenth of a typical validation loss here, the least a practitioner would act on",
    ),
)
