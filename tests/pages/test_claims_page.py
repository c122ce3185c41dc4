"""Claims overview: with an empty store every claim that needs network runs shows "not run" and the
counts say so; once a claim's runs are stored (here: EG1, trained through core.claims.run_claim)
the page replays its verdict without training. Uses its own store: other page tests store claims'
runs too."""

import pytest

from core.claims import CLAIMS, run_claim
from core.store import STORE_ENV, RunStore

PAGE = "pages/claims.py"


@pytest.fixture
def private_store(tmp_path, monkeypatch):
    from ui.state import store

    monkeypatch.setenv(STORE_ENV, str(tmp_path / "runs.sqlite"))
    store.clear()  # the app's cached RunStore now opens the private file
    yield RunStore()
    store.clear()


def table(at):
    return next(d.value for d in at.dataframe if "verdict" in d.value.columns)


def metrics(at) -> dict[str, int]:
    return {m.label: int(m.value) for m in at.metric}


def test_empty_store_then_one_stored_claim(app_test, private_store):
    at = app_test(PAGE).run()
    assert not at.exception, at.exception
    rows = table(at)
    assert list(rows["id"]) == list(CLAIMS) and len(rows) == 28
    # a claim decided in the optimizer sandbox alone (a quadratic, no network runs) needs no store
    sandbox = [c.id for c in CLAIMS.values() if not c.probe and not c.comparisons("digits")]
    assert set(sandbox) <= {"MO1", "MO2"}
    by_id = rows.set_index("id")["verdict"]
    assert set(by_id.drop(sandbox)) == {"not run"}
    assert all(by_id[sandbox] != "not run")
    counts = metrics(at)
    assert counts["not run yet"] == 28 - len(sandbox) and sum(counts.values()) == 28
    assert rows.set_index("id").loc["EG1", "page"] == "/exploding"

    verdict = run_claim("EG1", "digits", private_store)
    again = app_test(PAGE).run()
    assert not again.exception, again.exception
    row = table(again).set_index("id").loc["EG1"]
    assert verdict.verdict in row["verdict"] and row["sentence"] == verdict.sentence
    assert "lr_exploding" in row["numbers"]
    again.multiselect(key="claims.others").set_value(["wine"]).run()
    assert not again.exception, again.exception
    assert table(again).set_index("id").loc["EG1", "on wine"] == "not run"  # a verdict is per dataset
    after = metrics(again)
    assert after["not run yet"] == counts["not run yet"] - 1
    assert after[verdict.verdict] == counts[verdict.verdict] + 1


def test_run_all_fills_the_table(app_test, private_store, monkeypatch):
    """The button's mechanics on a two-claim registry (all 28 would take minutes)."""
    import core.claims
    import ui.claims_overview

    few = {k: CLAIMS[k] for k in ("EG1", "MO2")}
    monkeypatch.setattr(core.claims, "CLAIMS", few)
    monkeypatch.setattr(ui.claims_overview, "CLAIMS", few)
    at = app_test(PAGE).run()
    assert table(at).set_index("id").loc["EG1", "verdict"] == "not run"
    at.button(key="claims.run_all").click().run()
    assert not at.exception, at.exception
    rows = table(at).set_index("id")
    assert rows.loc["EG1", "verdict"] != "not run" and rows.loc["EG1", "numbers"]
    assert metrics(at)["not run yet"] == 0
    assert (
        len(private_store.has([m.key for c in CLAIMS["EG1"].comparisons("digits") for m in c.members()])) == 6
    )
