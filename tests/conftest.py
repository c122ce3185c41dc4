"""Shared test set-up: a private run store and data folder, and tiny presets for page tests.

Set before any test imports core or ui, so nothing touches the developer's data/ folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_TMP = Path(tempfile.mkdtemp(prefix="whatif-tests-"))
os.environ["WHATIF_STORE"] = str(_TMP / "runs.sqlite")
os.environ["WHATIF_DATA_DIR"] = str(_TMP / "data")
os.environ.setdefault(
    "WHATIF_BACKEND", "local"
)  # page tests train in-process (the app's default is the worker)
# A page waits this long for its training job before showing the progress view: page tests get
# their result in the same script run, through the app's own background-job path.
os.environ.setdefault("WHATIF_INLINE_WAIT", "600")
os.environ["WHATIF_QUICK"] = "1"  # page presets shrink to 2 epochs / 400 samples
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

APP_TIMEOUT = 180  # seconds; a cold page trains its default comparison on a 2-core CPU


@pytest.fixture
def app_test():
    """AppTest for a page file (path relative to the repo root), with a realistic timeout."""
    from streamlit.testing.v1 import AppTest

    def make(path: str) -> AppTest:
        return AppTest.from_file(str(ROOT / path), default_timeout=APP_TIMEOUT)

    return make
