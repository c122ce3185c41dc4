"""Claim VG3 of the notes (see ../shared/CLAIMS.md): an LSTM keeps gradients alive across time
steps where a plain RNN loses them.

Setting, from the literature rather than from a verdict: the adding problem at T = VG3_SEQ_LEN
= 50 steps (Hochreiter & Schmidhuber 1997; Le et al. 2015 use it to show tanh RNNs failing from
T ~ 50-150), a SimpleRNN (tanh) and an LSTM of the same width, Adam with clipnorm 1 for both (the
usual recipe for recurrent nets: Pascanu et al. 2013 on clipping), VG3_SEEDS seeds paired by seed
(same split, same data order). The width (32, not 16) was set by a pilot of the trainer before
the rule existed: at 16 units half the LSTMs had not yet learned the task in 12 epochs, and a
claim about what a *trained* LSTM does needs a budget in which it trains. The margins were fixed
before any verdict.

Two parts, both paired by seed:
1. gradient (the claim itself): log10 of ||dL/dh_1|| / ||dL/dh_T||, its geometric mean over the
   steps of the last quarter of training (core.training.recurrent's log10_step_ratio), LSTM
   minus RNN, in decades. Margin:
   half a decade, as for the layer ratio of VG1/VG2 (the same unit and the same reasoning: a
   gradient ratio is multiplicative, and less than ~3x is not a different regime).
2. the task (the consequence): the RNN's final validation MSE minus the LSTM's, as a share of the
   constant predictor's MSE on the same validation rows (the chance level, ~1/6). Margin 0.1:
   explaining a tenth of the chance-level error is the least a practitioner would call "learned
   something" about the markers.
The verdict combines them (core.claims.stats.combine): it holds only if both do.
"""

from __future__ import annotations

import pandas as pd

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.claims.vanishing import DECADE_MARGIN
from core.results import ComparisonResult
from core.spec import Comparison, Experiment

VG3_SEQ_LEN = 50  # the notes' long-range setting: the first marker lies 25-49 steps before the end
VG3_WIDTH = 32  # hidden units, equal for both models
VG3_N = 2000  # sequences: 1,600 train (50 steps of 32 an epoch) and 400 validation
VG3_EPOCHS = 12  # 600 updates: Adam solves T=50 with an LSTM in a few hundred
VG3_LR = 0.01  # Adam's step for small recurrent nets with clipping (Keras examples use 1e-3-1e-2)
VG3_CLIPNORM = 1.0  # Pascanu et al. 2013: clip, so a blow-up cannot stand in for a vanishing gradient
VG3_SEEDS = 6  # the registry's floor for a stochastic comparison (a signed-rank test needs >= 5 to
# reach p < 0.05 at all); the stacked recurrent trainer pays mostly per step, not per member
TASK_MARGIN = 0.1  # share of the chance-level MSE (see the module docstring)
SOLVED_SHARE = 0.5  # "solved" in the text: validation MSE below half the chance level
FAST_N, FAST_EPOCHS, FAST_SEQ_LEN = 320, 2, 10  # fast=True: a smoke test of the plumbing only


def vg3_base(fast: bool) -> Experiment:
    return Experiment(
        dataset="adding",
        n_samples=FAST_N if fast else VG3_N,
        seq_len=FAST_SEQ_LEN if fast else VG3_SEQ_LEN,
        width=VG3_WIDTH,
        depth=1,
        activation="tanh",
        optimizer="adam",
        learning_rate=VG3_LR,
        momentum=0.9,  # Adam's beta_1 (Keras default)
        clipnorm=VG3_CLIPNORM,
        batch_size=32,
        epochs=FAST_EPOCHS if fast else VG3_EPOCHS,
        split_seed=runs.SPLIT_SEED,
        model="rnn",
    )


def preset_vg3(dataset: str, fast: bool) -> list[Comparison]:
    """RNN vs LSTM on the adding problem (the dataset asked for is ignored: own_dataset)."""
    return [runs.of(vg3_base(fast), {"model": ("rnn", "lstm")}, seeds=VG3_SEEDS)]


def step_ratio(rows: pd.DataFrame) -> pd.Series:
    """Per seed: log10(first-step / last-step gradient norm), the geometric mean over the steps of
    the last quarter of training (core.training.recurrent's log10_step_ratio)."""
    return runs.by_seed(rows, "log10_step_ratio")


def task_share(rows: pd.DataFrame) -> pd.Series:
    """Per seed: final validation MSE as a share of the constant predictor's (1 = chance level)."""
    return runs.by_seed(rows, "final_val_loss") / runs.by_seed(rows, "baseline_val_loss")


def rule_vg3(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)
    rnn, lstm = runs.select(t, model="rnn"), runs.select(t, model="lstm")
    ratio_rnn, ratio_lstm = step_ratio(rnn), step_ratio(lstm)
    share_rnn, share_lstm = task_share(rnn), task_share(lstm)
    parts = (
        runs.paired_test(ratio_lstm, ratio_rnn, DECADE_MARGIN, "decades of gradient ratio", label="gradient"),
        runs.paired_test(share_rnn, share_lstm, TASK_MARGIN, "of the chance-level MSE", label="task"),
    )

    def geo(s: pd.Series) -> float | None:
        s = runs.finite(s)
        return 10 ** float(s.mean()) if len(s) else None

    def solved(s: pd.Series) -> str:
        s = runs.finite(s)
        return f"{int((s < SOLVED_SHARE).sum())}/{len(s)}"

    seq_len = int(t["seq_len"].max()) if "seq_len" in t and len(t) else VG3_SEQ_LEN
    n = {
        "ratio_rnn": geo(ratio_rnn),
        "ratio_lstm": geo(ratio_lstm),
        "mse_share_rnn": float(runs.finite(share_rnn).mean()) if len(runs.finite(share_rnn)) else None,
        "mse_share_lstm": float(runs.finite(share_lstm).mean()) if len(runs.finite(share_lstm)) else None,
        "solved_rnn": solved(share_rnn),
        "solved_lstm": solved(share_lstm),
        "seq_len": seq_len,
    }
    text = (
        f"on the adding problem over {seq_len} steps, the gradient reaching the first step was "
        f"{sig3(n['ratio_lstm'])}x the last step's in the LSTM and {sig3(n['ratio_rnn'])}x in the plain RNN "
        f"(geometric means over the last quarter of training and over seeds); validation MSE was {sig3(n['mse_share_lstm'])} (LSTM) and "
        f"{sig3(n['mse_share_rnn'])} (RNN) of the constant predictor's, solved (below {SOLVED_SHARE:g}) by "
        f"{n['solved_lstm']} LSTM and {n['solved_rnn']} RNN seeds"
    )
    return runs.combined(parts, n, text)


CLAIMS = (
    Claim(
        "VG3",
        "vanishing",
        "An LSTM keeps gradients alive across many time steps where a plain RNN loses them.",
        f"Adding problem over {VG3_SEQ_LEN} steps, SimpleRNN vs LSTM of {VG3_WIDTH} units: the gradient norm "
        "reaching the first vs the last time step (in decades, seed by seed), and the validation MSE "
        "as a share of the constant predictor's.",
        preset_vg3,
        rule_vg3,
        stats.PAIRED_T,
        "decades of gradient ratio",
        DECADE_MARGIN,
        "half a decade (about 3x), as for VG1/VG2's layer ratio: a gradient ratio is multiplicative and "
        "less than ~3x is not a different regime; the task part's margin is a tenth of the chance-level MSE",
        own_dataset="adding",
    ),
)
