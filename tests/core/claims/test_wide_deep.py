"""WVD1-WVD2: each rule's three outcomes on hand-made runs, and WVD1's equal budgets."""

from __future__ import annotations

from core.claims import CLAIMS, wide_deep
from core.measures import n_params
from tests.core.claims.helpers import F, H, U, scenario_test, z


def wvd2(width_adds: float, depth_adds: float, noise: float = 0.001):
    def spec(e):
        wide, deep = e.width > 16, e.depth > 1
        return {
            "train": 0.01,
            "val": 0.3 + width_adds * wide + depth_adds * deep + noise * z(e) * (wide + 2 * deep),
        }

    return spec


SCENARIOS = {
    "WVD1": {
        H: lambda e: {
            "acc": 0.95 if e.depth > 1 else 0.85 + 0.001 * z(e),
            "train_acc": 0.9 if e.depth == 1 else 0.5,
        },
        F: lambda e: {"acc": 0.85 + 0.001 * z(e) if e.depth > 1 else 0.95},
        U: lambda e: {"acc": 0.9 + (0.05 * z(e) if e.depth > 1 else 0)},
    },
    "WVD2": {H: wvd2(0.2, 0.2), F: wvd2(-0.2, 0.2), U: wvd2(0.0, 0.0, noise=0.3)},
}
test_rule_outcome_on_hand_made_runs = scenario_test(SCENARIOS)


def test_wide_and_deep_have_equal_budgets_and_a_random_label_arm() -> None:
    wide, deep = (c.baseline for c in CLAIMS["WVD1"].comparisons("digits"))
    f, o = wide_deep.data_shape("digits")
    a, b = (n_params(f, o, e.width, e.depth) for e in (wide, deep))
    assert wide.depth == 1 and deep.depth == wide_deep.WVD_DEEP_DEPTH and abs(a - b) / b < 0.01
    noise = {m.label_noise for c in CLAIMS["WVD1"].comparisons("digits") for m in c.members()}
    assert noise == {0.0, wide_deep.MAX_LABEL_NOISE}
    assert wide.val_fraction == 0.5
