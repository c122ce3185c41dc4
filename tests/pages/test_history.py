"""Run history page: empty store, table and charts, filters, overlay by selection, delete with
confirmation, and no TensorFlow import. Each test gets its own store (the runs trained once per
module are copied into it), so deleting never disturbs other tests' runs."""

import json
import os
import subprocess
import sys

import pytest

from core.runner import run_comparison
from core.spec import Comparison, Experiment
from core.store import STORE_ENV, RunStore
from tests.conftest import ROOT

PAGE = "pages/history.py"


@pytest.fixture(scope="module")
def trained():
    """Four tiny runs (two learning rates x two seeds, one stacked group) in the test store."""
    comparison = Comparison.of(Experiment(epochs=1, n_samples=200), {"learning_rate": (0.01, 0.1)}, seeds=2)
    return run_comparison(comparison, RunStore()).runs


@pytest.fixture
def private_store(tmp_path, monkeypatch):
    """Point the app's store (ui.session.store, cached per process) at an empty file for one test."""
    from ui import session

    monkeypatch.setenv(STORE_ENV, str(tmp_path / "runs.sqlite"))
    session.store.clear()
    yield RunStore()
    session.store.clear()  # the next user gets the session's test store again (env restored)


@pytest.fixture
def stored(private_store, trained):
    private_store.put_many(trained)
    return private_store


def charts_by_kind(at) -> dict[str, dict]:
    """The page's Vega-Lite specs by what they draw: parallel, scatter, overlay."""
    out = {}
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        text = json.dumps(spec)
        if '"axis"' in text and "final_val_loss" in text and "layer" in spec:
            out["parallel"] = spec
        elif spec.get("mark", {}).get("type") == "point":
            out["scatter"] = spec
        elif "layer" in spec and '"mean"' in text:
            out["overlay"] = spec
    return out


def test_empty_store_says_so(app_test, private_store):
    at = app_test(PAGE).run()
    assert not at.exception
    assert any("No runs are stored yet" in i.value for i in at.info)
    assert not at.dataframe and not at.get("vega_lite_chart")


def test_table_and_knob_charts(app_test, stored, trained):
    at = app_test(PAGE).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 4 and set(table["key"]) == {r.key for r in trained}
    assert {"learning_rate", "seed", "final_val_loss", "diverged"} <= set(table.columns)
    assert "4 of 4 stored runs shown" in [c.value for c in at.caption]
    found = charts_by_kind(at)
    assert found["parallel"]["layer"][0]["encoding"]["x"]["sort"] == ["learning_rate", "final_val_loss"]
    enc = found["scatter"]["encoding"]
    assert enc["x"]["field"] == "learning_rate" and enc["y"]["field"] == "final_val_loss"
    assert "overlay" not in found  # nothing selected yet

    at.selectbox(key="history.sy").select("final_val_accuracy").run()
    assert not at.exception
    assert charts_by_kind(at)["scatter"]["encoding"]["y"]["field"] == "final_val_accuracy"


def test_filters_narrow_the_table(app_test, stored):
    at = app_test(PAGE).run()
    at.multiselect(key="history.dataset").select("digits").run()
    assert len(at.dataframe[0].value) == 4
    at.multiselect(key="history.f.learning_rate").select("0.1").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["learning_rate"]) == [0.1, 0.1]
    assert "2 of 4 stored runs shown" in [c.value for c in at.caption]
    # only seeds differ now: the parallel chart has nothing to compare and says so
    assert any("differ only in their seed" in i.value for i in at.info)


def test_table_selection_overlays_curves(app_test, stored):
    at = app_test(PAGE).run()
    table = at.dataframe[0]
    keys = list(table.value["key"])
    at.session_state[table.key] = {"selection": {"rows": [0, 2], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    overlay = charts_by_kind(at)["overlay"]
    domain = overlay["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert len(domain) == 2 and {d.split(" · ")[0] for d in domain} == {keys[0][:8], keys[2][:8]}
    assert "2 stored run(s) replayed from the store" in " ".join(c.value for c in at.caption)

    at.toggle(key="history.pool").set_value(True).run()  # same learning rate? one band per rate
    assert not at.exception
    pooled = charts_by_kind(at)["overlay"]["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert all(" · " not in d for d in pooled)


def test_keyboard_picker_overlays_too(app_test, stored, trained):
    at = app_test(PAGE).run()
    at.multiselect(key="history.pick").select(trained[0].key).select(trained[3].key).run()
    assert not at.exception
    domain = charts_by_kind(at)["overlay"]["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert domain == [f"{trained[0].key[:8]} · learning_rate=0.01, seed=0",
                      f"{trained[3].key[:8]} · learning_rate=0.1, seed=1"]  # fmt: skip


ADMIN_SECRET = "correct horse battery staple"


def sign_in(at, secret: str = ADMIN_SECRET):
    at.text_input(key="history.token").input(secret)
    return at.button(key="history.signin").click().run()


@pytest.fixture
def admin(monkeypatch):
    monkeypatch.setenv("WHATIF_ADMIN_TOKEN", ADMIN_SECRET)


def test_delete_asks_first_then_deletes(app_test, stored, trained, admin):
    gone = trained[1].key
    at = sign_in(app_test(PAGE).run())
    assert at.button(key="history.delete").disabled  # nothing selected
    at.multiselect(key="history.pick").select(gone).run()
    at.button(key="history.delete").click().run()
    assert not at.exception
    assert any("Delete 1 run(s)" in w.value for w in at.warning)
    assert stored.count() == 4  # asking is not deleting
    at.button(key="history.no").click().run()
    assert stored.count() == 4 and not at.warning

    at.button(key="history.delete").click().run()
    at.button(key="history.yes").click().run()
    assert not at.exception
    assert stored.count() == 3 and gone not in stored.has([gone])
    assert any("Deleted 1 run(s)" in s.value for s in at.success)
    assert gone not in set(at.dataframe[0].value["key"])
    assert at.multiselect(key="history.pick").value == []


def test_without_the_admin_secret_nobody_deletes_other_sessions_runs(app_test, stored, trained, admin):
    """Issue 13 defect 2: an anonymous session that selects every run is offered no delete."""
    at = app_test(PAGE).run()
    at.multiselect(key="history.pick").set_value([r.key for r in trained]).run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "history.delete"]
    assert any("only the admin can delete" in c.value for c in at.caption)
    at = sign_in(at, "wrong secret")
    assert any("not the admin secret" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "history.delete"] and stored.count() == 4


def test_a_session_may_discard_its_own_runs(app_test, stored, trained):
    from core.store import set_owner

    mine = trained[0].key
    set_owner("this-session")
    stored.put(trained[0])  # stored by "this-session"
    set_owner(None)
    at = app_test(PAGE)
    at.session_state["session_id"] = "this-session"
    at.run()
    at.multiselect(key="history.pick").set_value([r.key for r in trained]).run()
    assert at.button(key="history.delete").label.startswith("🗑️ Delete 1 of your own")
    at.button(key="history.delete").click().run()
    at.button(key="history.yes").click().run()
    assert not at.exception
    assert stored.has([r.key for r in trained]) == {r.key for r in trained[1:]}
    assert set(stored.trash()["key"]) == {mine}


def test_the_admin_restores_deleted_runs_from_the_trash(app_test, stored, trained, admin):
    gone = trained[2].key
    stored.delete([gone])
    at = sign_in(app_test(PAGE).run())
    at.multiselect(key="history.restore").set_value([gone]).run()
    at.button(key="history.restore_btn").click().run()
    assert not at.exception
    assert any("Restored 1 run(s)" in s.value for s in at.success)
    assert stored.count() == 4 and stored.trash().empty


def test_select_all_respects_the_filters(app_test, stored, trained):
    """Issue 11 item 3: the picker offers (so "Select all" selects) only the runs shown."""
    other = trained[0].experiment.__class__(**{**trained[0].experiment.to_dict(), "dataset": "wine"})
    from core.results import RunResult

    stored.put(RunResult(other, dict(trained[0].summary), dict(trained[0].frames)))
    at = app_test(PAGE).run()
    assert len(at.multiselect(key="history.pick").options) == 5
    at.multiselect(key="history.dataset").set_value(["wine"]).run()
    assert not at.exception
    assert len(at.multiselect(key="history.pick").options) == 1


def test_history_never_imports_tensorflow(stored):
    """In a fresh process (this one has imported TensorFlow to train), with runs selected."""
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ROOT / PAGE)!r}, default_timeout=60).run()\n"
        "at.session_state[at.dataframe[0].key] = {'selection': {'rows': [0, 1], 'columns': [], 'cells': []}}\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        "assert len(at.get('vega_lite_chart')) == 3\n"
        "print('tensorflow' in sys.modules)\n"
    )
    env = {**os.environ, STORE_ENV: str(stored.path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
