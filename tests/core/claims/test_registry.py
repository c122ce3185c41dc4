"""The registry: one place lists every claim with everything that decides it, stated up front."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest

import core.claims as claims
from core.claims import CLAIMS, VERDICTS, Verdict, claims_for, run_claim, stats
from core.claims.runs import FAST_N
from core.limits import MAX_MEMBERS
from core.spec import Comparison
from tests.core.claims.helpers import H, fabricate

REGISTERED_IDS = [
    "LR1", "LR2", "LR3", "LR4", "MO1", "MO2", "WD1", "WD2", "WD3", "BS1", "BS2", "BS3", "BS4", "BS5",
    "RG1", "RG2", "RG3", "BN1", "BN2", "BN3", "BN4", "BN5", "BN6", "BN7", "VG1", "VG2", "VG3", "VG4",
    "VG5", "EG1", "EG2", "EG3", "EG4", "WVD1", "WVD2", "WVD3", "WVD4",
]  # fmt: skip
TOPICS = {"learning_rate", "optimizers", "weight_decay", "batch_size", "regularization", "batch_norm",
          "vanishing", "exploding", "wide_deep"}  # fmt: skip
TESTS = {stats.PAIRED_T, stats.WILCOXON, stats.WELCH, stats.FISHER, stats.BROWN_FORSYTHE, stats.EXACT}
PACKAGE = Path(claims.__file__).parent


def test_every_registered_claim_has_text_preset_rule_test_and_margin() -> None:
    """The registry is the source of truth (no test reads a document by a machine path)."""
    assert list(CLAIMS) == REGISTERED_IDS
    for claim in CLAIMS.values():
        assert claim.topic in TOPICS
        assert claim.text.strip() and claim.measurement.strip() and claim.margin_why.strip()
        assert callable(claim.preset) and callable(claim.rule)
        assert claim.test in TESTS, claim.id
        assert claim.unit.strip() and math.isfinite(claim.margin) and claim.margin > 0, claim.id
        home = claim.preset.__module__  # text, preset and rule together: the topic's or its own module
        assert home.startswith("core.claims.") and claim.rule.__module__ == home, claim.id
        assert any(claim in m.CLAIMS for m in claims.TOPIC_MODULES if m.__name__ == home), claim.id


def test_one_module_per_topic_and_no_import_back_into_the_package() -> None:
    """Topic modules import base/runs/stats, never core.claims itself (no cycle, not even lazy)."""
    modules = {m.__name__.rsplit(".", 1)[1] for m in claims.TOPIC_MODULES}
    assert modules >= TOPICS
    for topic in modules | {"base", "runs", "stats"}:
        tree = ast.parse((PACKAGE / f"{topic}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "core.claims" not in imported or _only_submodules(tree), topic
        assert not {"streamlit", "tensorflow", "keras"} & {m.split(".")[0] for m in imported if m}, topic
    assert not hasattr(claims, "PRESETS") and not hasattr(claims, "RULES")


def _only_submodules(tree: ast.Module) -> bool:
    """`from core.claims import stats` (or runs, base) loads a submodule, not the registry."""
    return all(
        {a.name for a in n.names} <= {"stats", "runs", "base"}
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "core.claims"
    )


def test_claims_for_topic_and_unknown_id() -> None:
    assert [c.id for c in claims_for("exploding")] == ["EG1", "EG2", "EG3", "EG4"]
    assert claims_for("nonsense") == []
    with pytest.raises(ValueError, match="LR1, LR2"):
        run_claim("XX9")


def test_rg3_times_fresh_runs_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """RG3 trains every run alone and never reads or writes the store, even when given one."""
    seen = []

    def fake_run(comparison, store=None, progress=None, separate=False):
        seen.append((separate, store))
        return fabricate([comparison], lambda e: {"sec": 0.1 + 0.1 * (e.l1 > 0) + 0.001 * e.seed})[0]

    monkeypatch.setattr("core.claims.run_comparison", fake_run)
    verdict = run_claim("RG3", "digits", store=object())
    assert seen == [(True, None)] * 10 and verdict.verdict == H


def test_seeds_override_changes_only_multi_seed_comparisons() -> None:
    more = CLAIMS["BS3"].comparisons("digits", seeds=12)
    assert [c.seeds for c in more] == [12, 12]
    assert all(c.seeds == 1 for c in CLAIMS["RG3"].comparisons("digits", seeds=12))


def test_verdict_to_dict_is_strict_json() -> None:
    v = Verdict("LR1", "digits", H, {"a": math.nan, "b": math.inf, "c": np.float32(1.5), "d": np.int64(3),
                                     "e": None, "f": "x", "g": True}, "On digits, …", test="paired t",
                effect=math.nan, unit="nats", ci=(math.nan, 1.0), p_value=0.01, seeds=8, margin=0.02)  # fmt: skip
    d = json.loads(json.dumps(v.to_dict(), allow_nan=False))
    assert d["numbers"] == {"a": None, "b": None, "c": 1.5, "d": 3, "e": None, "f": "x", "g": True}
    assert {"id", "dataset", "verdict", "numbers", "sentence", "test", "effect", "unit", "ci", "p_value",
            "seeds", "margin"} <= set(d)  # fmt: skip
    assert d["ci"] == [None, 1.0] and d["effect"] is None


@pytest.mark.parametrize("dataset", ["digits", "moons", "wine"])
def test_presets_are_valid_comparisons_on_a_fixed_split(
    dataset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.claims import learning_rate

    monkeypatch.setattr(learning_rate, "suggested_lr", lambda base, seeds: 0.05)  # LR4 would run a range test
    for claim in CLAIMS.values():
        where = claim.dataset_for(dataset)  # a claim with its own data (VG3, WVD3) runs there
        comparisons = claim.comparisons(where)
        assert all(isinstance(c, Comparison) for c in comparisons)
        assert all(c.n_members <= MAX_MEMBERS for c in comparisons), claim.id
        members = [m for c in comparisons for m in c.members()]
        assert {m.dataset for m in members} <= {where}, claim.id
        assert all(m.split_seed >= 0 for m in members), claim.id  # seeds vary init and order, not the split
        stochastic = [c for c in comparisons if c.seeds > 1]
        assert all(c.seeds >= 6 for c in stochastic), claim.id
        fast = claim.comparisons(where, fast=True)
        # a large batch may get more epochs: as many updates as the small batch (BS2-BS4)
        assert all(m.epochs <= 5 or m.batch_size > 32 for c in fast for m in c.members()), claim.id
        assert all(m.n_samples <= FAST_N for c in fast for m in c.members()), claim.id
    assert CLAIMS["LR4"].comparisons(dataset)[0].vary == (("learning_rate", (0.005, 0.05, 0.5)),)


def test_verdicts_are_the_three_words() -> None:
    assert VERDICTS == ("holds", "does not hold", "inconclusive")


def test_preset_keys_are_built_once_per_claim_dataset_and_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages replay claims on every script run: the presets' run keys are memoized per
    (claim, dataset, fast) and equal the members' keys in order, without duplicates."""
    from core.claims.base import Claim

    build = Claim.comparisons
    builds = []

    def counted(self, *args, **kwargs):
        builds.append(self.id)
        return build(self, *args, **kwargs)

    monkeypatch.setattr(Claim, "comparisons", counted)
    claims.clear_preset_cache()
    keys = claims.preset_keys("EG1", "digits", True)
    members = [m.key for c in build(CLAIMS["EG1"], "digits", True) for m in c.members()]
    assert list(keys) == list(dict.fromkeys(members)) and len(keys) == len(set(keys))
    assert claims.preset_keys("EG1", "digits", True) is keys
    assert claims.preset_comparisons("EG1", "digits", True) == tuple(build(CLAIMS["EG1"], "digits", True))
    assert builds == ["EG1"]
    assert claims.preset_keys("EG1", "digits", False) != keys and builds == ["EG1", "EG1"]
    assert claims.preset_keys("EG1", "wine", True) != keys and len(builds) == 3
