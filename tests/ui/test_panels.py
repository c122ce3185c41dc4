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
