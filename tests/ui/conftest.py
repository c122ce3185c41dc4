"""Fixtures shared by the ui tests that train without Streamlit (the job registry, the warm start)."""

from __future__ import annotations

import pytest

from core import backends
from core.store import RunStore


@pytest.fixture
def local_backend(monkeypatch):
    """Training in this process, whatever WHATIF_BACKEND says, and the selection reset afterwards."""
    monkeypatch.delenv(backends.BACKEND_ENV, raising=False)
    backends.select("local")
    yield
    backends.select(None)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs.sqlite")
