"""Claims overview: with an empty store every claim that needs network runs shows "not run" and the
counts say so; once a claim's runs are stored (here: EG1, trained through core.claims.run_claim
with the fast presets the app uses under WHATIF_QUICK=1) the page replays its verdict, its test
and numbers at three significant figures, without training. The robustness map draws every
claim x dataset and is filled by its button; a topic page whose dataset differs shows the
verdicts stored elsewhere. Uses its own store: other page tests store claims' runs too."""

import json
import re

import pyarrow as pa
import pytest

from core.claims import CLAIMS, run_claim
from core.store import STORE_ENV, RunStore

PAGE = "pages/claims.py"
SIG3 = re.compile(r"^-?(\d+(\.\d+)?(e[+-]\d+)?|n/a|inf)$")  # what fmt() prints
LONG_DECIMAL = re.compile(r"\d\.\d{4,}")  # more digits than three significant figures need


@pytest.fixture
def private_store(tmp_path, monkeypatch):
    from ui.session import store

    monkeypatch.setenv(STORE_ENV, str(tmp_path / "runs.sqlite"))
    store.clear()  # the app's cached RunStore now opens the private file
    yield RunStore()
    store.clear()


def table(at):
    return next(d.value for d in at.dataframe if "verdict" in d.value.columns and "id" in d.value.columns)


def metrics(at) -> dict[str, int]:
    return {m.label: int(m.value) for m in at.metric}


def map_element(at):
    return next(
        e for e in at.get("vega_lite_chart") if json.loads(e.proto.spec).get("mark", {}).get("type") == "rect"
    )


def map_spec(at) -> dict:
    return json.loads(map_element(at).proto.spec)


def test_empty_store_then_one_stored_claim(app_test, private_store):
    at = app_test(PAGE).run()
    assert not at.exception, at.exception
    rows = table(at)
    assert list(rows["id"]) == list(CLAIMS) and len(rows) == len(CLAIMS)
    # a claim decided in the optimizer sandbox alone (a quadratic, no network runs) needs no store
    sandbox = [c.id for c in CLAIMS.values() if not c.probe and not c.comparisons("digits")]
    assert set(sandbox) <= {"MO1", "MO2"}
    by_id = rows.set_index("id")["verdict"]
    assert set(by_id.drop(sandbox)) == {"not run"}
    assert all(by_id[sandbox] != "not run")
    counts = metrics(at)
    assert counts["not run yet"] == len(CLAIMS) - len(sandbox) and sum(counts.values()) == len(CLAIMS)
    assert rows.set_index("id").loc["EG1", "page"] == "/exploding"
    assert rows.set_index("id").loc["EG1", "topic"] == "Exploding gradients"  # the page's name, not its slug
    assert not any("server" in c.value for c in at.caption)  # no developer talk in the page's text

    verdict = run_claim("EG1", "digits", private_store, fast=True)
    again = app_test(PAGE).run()
    assert not again.exception, again.exception
    row = table(again).set_index("id").loc["EG1"]
    assert verdict.verdict in row["verdict"] and row["sentence"] == verdict.sentence
    assert "depth" in row["numbers"] and row["test"] == verdict.test
    assert SIG3.match(row["p"]) and SIG3.match(row["seeds"])
    assert not LONG_DECIMAL.search(row["numbers"]), row["numbers"]  # three significant figures throughout
    again.multiselect(key="claims.others").set_value(["wine"]).run()
    assert not again.exception, again.exception
    assert table(again).set_index("id").loc["EG1", "on wine"] == "not run"  # a verdict is per dataset
    after = metrics(again)
    assert after["not run yet"] == counts["not run yet"] - 1
    assert after[verdict.verdict] == counts[verdict.verdict] + 1
    cells = {(v["claim"], v["dataset"]): v for v in _cells(again)}
    assert cells[("EG1", "digits")]["verdict"] == verdict.verdict
    assert cells[("EG1", "wine")]["verdict"] == "not run"


def test_run_all_fills_the_table(app_test, private_store, monkeypatch):
    """The button's mechanics on a two-claim registry (all of them would take minutes)."""
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
    keys = [m.key for c in CLAIMS["EG1"].comparisons("digits", fast=True) for m in c.members()]
    assert len(private_store.has(keys)) == len(keys)


def test_robustness_map_button_fills_every_dataset(app_test, private_store, monkeypatch):
    """ "Run every claim on every bundled dataset" on one claim x two datasets: each cell gets a
    verdict with its tooltip numbers, and stored cells are skipped on a second click."""
    import core.claims
    import ui.claims_block
    import ui.claims_overview

    few = {"VG1": CLAIMS["VG1"]}
    datasets = ("digits", "wine")
    for module in (core.claims, ui.claims_overview):
        monkeypatch.setattr(module, "CLAIMS", few)
    for module in (core.claims, ui.claims_overview, ui.claims_block):
        monkeypatch.setattr(module, "MAP_DATASETS", datasets)
    at = app_test(PAGE).run()
    assert {c["verdict"] for c in _cells(at)} == {"not run"}
    at.button(key="claims.fill_map").click().run()
    assert not at.exception, at.exception
    cells = _cells(at)
    assert {c["dataset"] for c in cells} == set(datasets)
    assert all(c["verdict"] in ("holds", "does not hold", "inconclusive") for c in cells), cells
    assert all(SIG3.match(c["p"]) and c["seeds"] and c["effect"] for c in cells)
    tooltip = {t["field"] for t in map_spec(at)["encoding"]["tooltip"]}
    assert {"effect", "interval", "p", "seeds"} <= tooltip
    stored = len(
        private_store.has(
            [m.key for d in datasets for c in CLAIMS["VG1"].comparisons(d, fast=True) for m in c.members()]
        )
    )
    again = app_test(PAGE).run()
    again.button(key="claims.fill_map").click().run()  # nothing left to train
    assert not again.exception and {c["verdict"] for c in _cells(again)} == {c["verdict"] for c in cells}
    assert stored == 2 * CLAIMS["VG1"].comparisons("digits", fast=True)[0].n_members


def _cells(at) -> list[dict]:
    """The map's rows: inline in the spec, or as Streamlit sends them, Arrow tables beside it."""
    element = map_element(at)
    inline = [row for rows in json.loads(element.proto.spec).get("datasets", {}).values() for row in rows]
    sent = [
        row for d in element.proto.datasets for row in pa.ipc.open_stream(d.data.data).read_all().to_pylist()
    ]
    return inline + sent


def _optimizers_block_on_wine() -> None:
    from ui import claims_block

    claims_block.show("optimizers", "wine")


def test_block_shows_verdicts_stored_for_other_datasets(private_store):
    """A topic page whose dataset differs (here wine) still shows what is known elsewhere: MO2 is
    decided in the sandbox, so its verdict on every map dataset is there without training."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_optimizers_block_on_wine, default_timeout=120).run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Stored on other datasets: digits") for c in captions), captions
    shown = [m.value for m in at.markdown if "On wine" in m.value]
    assert shown and not any(w in s.split("]", 1)[1] for s in shown for w in ("holds", "inconclusive"))


def _exploding_block() -> None:
    from ui import claims_block

    claims_block.show("exploding", "digits")


def test_revisit_of_a_stored_block_does_not_rebuild_presets(private_store, monkeypatch):
    """A second script run of a page whose claim runs are stored replays the verdict without
    building any claim's preset again (the revisit cost was mostly that), and shows the same
    verdict, with the numbers at three significant figures."""
    from streamlit.testing.v1 import AppTest

    from core.claims import clear_preset_cache
    from core.claims.base import Claim

    verdict = run_claim("EG1", "digits", private_store, fast=True)
    builds = []
    build = Claim.comparisons

    def counted(self, *args, **kwargs):
        builds.append(self.id)
        return build(self, *args, **kwargs)

    monkeypatch.setattr(Claim, "comparisons", counted)
    clear_preset_cache()
    at = AppTest.from_function(_exploding_block, default_timeout=120).run()
    assert not at.exception, at.exception
    first = len(builds)
    assert "EG1" in builds  # the first run built the presets it replays
    badge = [m.value for m in at.markdown if m.value.startswith(":") and "-badge[" in m.value]
    at.toggle(key="claim.EG1.digits.show").set_value(True).run()
    assert not at.exception, at.exception
    assert len(builds) == first, builds[first:]
    again = [m.value for m in at.markdown if m.value.startswith(":") and "-badge[" in m.value]
    assert again == badge and any(f"[{verdict.verdict}]" in b for b in badge)
    numbers = next(d.value for d in at.dataframe if "measure" in d.value.columns)
    assert not any(LONG_DECIMAL.search(v) for v in numbers["value"]), numbers
    assert at.get("vega_lite_chart")  # the runs behind the verdict, from the same cached presets
