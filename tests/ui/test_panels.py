"""ui.panels' export: the TensorBoard download is a real zip of event files, one run folder per member."""

from __future__ import annotations

import io
import zipfile

from core.runner import run_comparison
from core.spec import Comparison, Experiment
from ui.panels import tensorboard_zip


def test_tensorboard_download_zips_one_event_folder_per_run() -> None:
    base = Experiment(dataset="moons", n_samples=200, width=8, depth=1, epochs=2, batch_size=32)
    result = run_comparison(Comparison.of(base, {"learning_rate": [0.01, 0.1]}, seeds=1))
    names = zipfile.ZipFile(io.BytesIO(tensorboard_zip(result))).namelist()
    events = [n for n in names if "tfevents" in n]
    runs = {n.split("/")[0] for n in events if n.count("/") >= 2}
    assert len(runs) == 2, names
    assert any("/train/" in n for n in events) and any("/validation/" in n for n in events)


def _snippet_page() -> None:
    import streamlit as st

    from core.spec import Experiment
    from ui.panels import snippet_panel

    snippet_panel(Experiment(**st.session_state.get("knobs", {"n_samples": 300, "epochs": 1})), "t")


def test_snippet_panel_offers_the_exact_replay_with_its_run_file() -> None:
    """Exact by default (the script and a zip with its run file), plain Keras as the alternative;
    a run that cannot be replayed exactly says why and shows the plain script."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_snippet_page, default_timeout=60).run()
    assert not at.exception, at.exception
    assert 'RUN_FILE = "whatif-' in at.code[0].value
    assert [b.proto.label for b in at.get("download_button")] == ["Script + run file (zip)"]
    at.radio(key="t.snippet_kind").set_value("close").run()
    assert "keras.utils.set_random_seed(seed)" in at.code[0].value and not at.get("download_button")
    at.session_state["knobs"] = {"dataset": "csv:0123456789ab", "epochs": 1}
    at.radio(key="t.snippet_kind").set_value("exact").run()
    assert not at.exception, at.exception
    assert any("No exact replay for this run" in c.value for c in at.caption)
    assert "RUN_FILE" not in at.code[0].value and not at.get("download_button")
