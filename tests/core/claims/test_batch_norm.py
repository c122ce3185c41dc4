"""BN1-BN5: each rule's three outcomes on hand-made runs, and the deep BN1/BN2 networks."""

from __future__ import annotations

from core.claims import CLAIMS, batch_norm
from tests.core.claims.helpers import F, H, U, acc_step, scenario_test, z

LOSS_BY_INIT = dict(zip(("glorot_uniform", "he_normal", "lecun_normal", "normal_small", "normal_large"),
                        (0.1, 0.2, 0.3, 0.5, 2.0)))  # fmt: skip
RATES = batch_norm.BN2_RATES


def sensitivity(varying: str):
    return lambda e: {"train": LOSS_BY_INIT[e.init] if e.batch_norm == varying else 0.1 + 0.001 * z(e)}


def bn2_noise(e):
    edge = 2 + (z(e) > 0 if e.batch_norm == "before" else z(e) < 0)
    return {"diverged": e.learning_rate > RATES[edge]}


SCENARIOS = {
    "BN1": {
        H: lambda e: {"acc": 0.95, "acc_curve": acc_step(6 if e.batch_norm == "none" else 3, e.epochs)},
        F: lambda e: {"acc": 0.95, "acc_curve": acc_step(3 if e.batch_norm == "none" else 6, e.epochs)},
        U: lambda e: {
            "acc": 0.95,
            "acc_curve": acc_step(int(4 + z(e)) if e.batch_norm == "none" else 4, e.epochs),
        },
    },
    "BN2": {
        H: lambda e: {"diverged": e.learning_rate > (3.0 if e.batch_norm == "before" else 0.3)},
        F: lambda e: {"diverged": e.learning_rate > (0.3 if e.batch_norm == "before" else 3.0)},
        U: bn2_noise,
    },
    "BN3": {
        H: sensitivity("none"),
        F: sensitivity("before"),
        U: lambda e: {
            "train": 0.1 + (0.4 + (0.1 * z(e) if e.batch_norm == "none" else 0)) * (e.init == "normal_large")
        },
    },
    "BN4": {
        H: lambda e: {
            "val": (0.2 if (e.activation, e.batch_norm) in {("tanh", "after"), ("relu", "before")} else 0.3)
            + 0.001 * z(e)
        },
        F: lambda e: {
            "val": (0.3 if (e.activation, e.batch_norm) in {("tanh", "after"), ("relu", "before")} else 0.2)
            + 0.001 * z(e)
        },
        U: lambda e: {"val": 0.2 + 0.05 * z(e) * (e.batch_norm == "after")},
    },
    "BN5": {
        H: lambda e: {"train": 0.01, "val": (0.4 if e.batch_norm == "none" else 0.1) + 0.001 * z(e)},
        F: lambda e: {"train": 0.01, "val": (0.1 if e.batch_norm == "none" else 0.5) + 0.001 * z(e)},
        U: lambda e: {"train": 0.01, "val": 0.3 + 0.1 * z(e) * (e.batch_norm == "before" and e.dropout == 0)},
    },
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_bn1_and_bn2_train_deep_networks() -> None:
    for cid in ("BN1", "BN2"):
        depths = {m.depth for c in CLAIMS[cid].comparisons("digits") for m in c.members()}
        assert depths and all(6 <= d <= 8 for d in depths), cid
