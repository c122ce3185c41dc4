"""Claim WVD4: deeper layers learn more abstract features.

"Abstract" is made measurable as "the class can be read off the layer with a linear classifier"
(linear probes, Alain & Bengio 2016; core.training.probes). A random network's layers already
carry information a probe can read, and a random layer stacked on another loses some, so the
untrained net at its initial weights is the control: what a layer *learned* is its probe accuracy
trained minus untrained. The claim predicts the last hidden layer learned more than the first:
per seed, (last trained - last untrained) - (first trained - first untrained) > 0.
"""

from __future__ import annotations

from core.claims import runs, stats
from core.claims.base import Claim, Outcome
from core.claims.runs import sig3
from core.claims.wide_deep import ACC_MARGIN, WVD_DEEP_DEPTH, WVD_DEEP_WIDTHS
from core.results import ComparisonResult
from core.spec import Comparison

WVD4_EPOCHS = 10  # a ReLU net of this size is near its best validation accuracy on digits by then
WVD4_WIDTH = WVD_DEEP_WIDTHS[0]  # WVD1's deep net: 4 hidden layers of 64


def preset_wvd4(dataset: str, fast: bool) -> list[Comparison]:
    return [
        runs.of(runs.exp(dataset, fast, WVD4_EPOCHS, depth=WVD_DEEP_DEPTH, width=WVD4_WIDTH, probes=True))
    ]


def rule_wvd4(results: list[ComparisonResult]) -> Outcome:
    t = runs.table(results)

    def col(name: str):
        return runs.by_seed(t, name)

    learned_last = col("probe_last_trained") - col("probe_last_untrained")
    learned_first = col("probe_first_trained") - col("probe_first_untrained")
    ev = runs.paired_test(learned_last, learned_first, ACC_MARGIN, "probe accuracy")
    n = {
        name: runs.mean_of(t, name)
        for name in (
            "probe_input",
            "probe_first_untrained",
            "probe_first_trained",
            "probe_last_untrained",
            "probe_last_trained",
        )
    }
    n["depth"] = int(t["depth"].max()) if len(t) else None
    text = (
        f"linear probes read the class from the {n['depth']}-layer net's first hidden layer with accuracy "
        f"{sig3(n['probe_first_untrained'])} before training and {sig3(n['probe_first_trained'])} after, from "
        f"its last hidden layer {sig3(n['probe_last_untrained'])} before and {sig3(n['probe_last_trained'])} "
        f"after (the inputs themselves: {sig3(n['probe_input'])}; means over seeds)"
    )
    return Outcome(ev, n, text)


CLAIMS = (
    Claim(
        "WVD4",
        "wide_deep",
        "The deeper a layer sits in a network, the more abstract the features it learns.",
        f"Linear probes (logistic regression) on each hidden layer of a {WVD_DEEP_DEPTH}x{WVD4_WIDTH} network, "
        "trained and at its initial weights: what training added to the last hidden layer's probe accuracy "
        "minus what it added to the first's, seed by seed.",
        preset_wvd4,
        rule_wvd4,
        stats.PAIRED_T,
        "probe accuracy",
        ACC_MARGIN,
        "one point of accuracy is the least difference a practitioner would act on",
    ),
)
