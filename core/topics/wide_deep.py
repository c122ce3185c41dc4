"""The numbers behind the wide-vs-deep page: equal parameter budgets and random-label memorization.

Pure pandas/NumPy (no Streamlit, no TensorFlow): networks are sized with core.measures.n_params
(the model's own count) so a page can pair (depth, width) without loading the framework, and
"memorized" is core.measures.epochs_to_target on the training accuracy, the same rule as every
other target.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.limits import MAX_WIDTH
from core.measures import accuracy_gap, epochs_to_target, n_params, ordered
from core.results import ComparisonResult

# -- wide vs deep: equal parameter budgets ------------------------------------------------------
BUDGET_TOLERANCE = 0.05  # "within a few percent"; a pair further off is reported, not hidden


def budget_width(budget: int, depth: int, n_features: int, n_outputs: int, batch_norm: bool = False) -> int:
    """The width (1..MAX_WIDTH) whose network at `depth` has the parameter count closest to
    `budget`. n_params grows monotonically with width, so a bisection finds the crossing."""
    lo, hi = 1, MAX_WIDTH
    while lo < hi:
        mid = (lo + hi) // 2
        if n_params(n_features, n_outputs, mid, depth, batch_norm) < budget:
            lo = mid + 1
        else:
            hi = mid
    candidates = [w for w in (lo - 1, lo) if 1 <= w <= MAX_WIDTH]
    return min(
        candidates, key=lambda w: (abs(n_params(n_features, n_outputs, w, depth, batch_norm) - budget), w)
    )


@dataclass(frozen=True)
class Pair:
    depth: int
    width: int
    n_params: int
    off: float  # relative difference from the budget, e.g. -0.02 = 2% fewer parameters

    @property
    def label(self) -> str:
        return f"{self.depth} × {self.width}"

    @property
    def matched(self) -> bool:
        return abs(self.off) <= BUDGET_TOLERANCE


def equal_budget(
    wide_width: int, depths: Iterable[int], n_features: int, n_outputs: int, batch_norm: bool = False
) -> list[Pair]:
    """(depth, width) pairs with about the parameters of one hidden layer of `wide_width` units:
    the budget is that wide net's count, and every depth gets the width that matches it best."""
    budget = n_params(n_features, n_outputs, wide_width, 1, batch_norm)
    pairs = []
    for depth in sorted(set(int(d) for d in depths)):
        w = wide_width if depth == 1 else budget_width(budget, depth, n_features, n_outputs, batch_norm)
        n = n_params(n_features, n_outputs, w, depth, batch_norm)
        pairs.append(Pair(depth, w, n, n / budget - 1))
    return pairs


def pair_changes(pairs: Iterable[Pair]) -> dict[str, dict[str, int]]:
    """The pairs as named changes for `expand`: label "depth × width" -> its two knobs."""
    return {p.label: {"depth": p.depth, "width": p.width} for p in pairs}


def fit_table(result: ComparisonResult) -> pd.DataFrame:
    """Per variant (mean over seeds): parameters, final train and validation accuracy, and the
    gap train - val (what memorization without generalization looks like)."""
    s = result.summary()
    cols = ["variant", "n_params", "train_accuracy", "val_accuracy", "accuracy_gap", "seeds"]
    if s.empty:
        return pd.DataFrame(columns=cols)
    s = s.assign(
        train_accuracy=pd.to_numeric(s["final_train_accuracy"], errors="coerce"),
        val_accuracy=pd.to_numeric(s["final_val_accuracy"], errors="coerce"),
    )
    s["accuracy_gap"] = accuracy_gap(s)
    agg = s.groupby("variant", sort=False).agg(
        n_params=("n_params", "first"),
        train_accuracy=("train_accuracy", "mean"),
        val_accuracy=("val_accuracy", "mean"),
        accuracy_gap=("accuracy_gap", "mean"),
        seeds=("seed", "nunique"),
    )
    return ordered(agg.reset_index(), result.variant_order())[cols]


# -- random labels ---------------------------------------------------------------------------------
LABEL_COLUMN = "label"
MEMORIZED = 0.999  # "100% train accuracy", with room for float rounding of correct / n


def shuffled_labels_csv(x: np.ndarray, y: np.ndarray, seed: int = 0) -> bytes:
    """CSV bytes of the same inputs with the labels randomly permuted (Zhang et al. 2017).

    A permutation keeps the class shares, so chance level is unchanged, but breaks every link
    between an input and its label: whatever a network then learns is memorization. Fixed seed,
    so the same data always gives the same bytes and therefore the same registered name.
    """
    x = np.asarray(x, dtype=np.float64)
    labels = np.random.default_rng([seed, 1611_03530]).permutation(np.asarray(y))
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    df[LABEL_COLUMN] = labels
    buf = io.StringIO()
    df.to_csv(buf, index=False, float_format="%.9g")
    return buf.getvalue().encode()


def class_shares(y: np.ndarray) -> list[float]:
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return list(counts / counts.sum())


def memorization_table(result: ComparisonResult, chance: float | None = None) -> pd.DataFrame:
    """Per variant: the first epoch each seed reached 100% train accuracy (median over the seeds
    that did; how many did), the final train and validation accuracy, and the chance level."""
    epochs, s = result.frame("epochs"), result.summary()
    cols = ["variant", "epochs_to_100", "memorized", "train_accuracy", "val_accuracy", "chance"]
    if epochs.empty:
        return pd.DataFrame(columns=cols)
    per_run = epochs_to_target(epochs, MEMORIZED, "train_accuracy", lower_is_better=False, summary=s)
    hit = per_run.set_index("key")["epochs"]
    s = s.assign(first=s["key"].map(hit))
    rows = []
    for variant in result.variant_order():
        g = s[s["variant"] == variant]
        if g.empty:
            continue
        reached = g["first"].dropna()
        rows.append(
            {
                "variant": variant,
                "epochs_to_100": float(reached.median()) if len(reached) else float("nan"),
                "memorized": f"{len(reached)} of {len(g)}",
                "train_accuracy": float(pd.to_numeric(g["final_train_accuracy"], errors="coerce").mean()),
                "val_accuracy": float(pd.to_numeric(g["final_val_accuracy"], errors="coerce").mean()),
                "chance": chance if chance is not None else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=cols)
