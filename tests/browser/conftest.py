"""Browser fixtures: Debian's Chromium, and the app served by `streamlit run app.py` on a free port
(both from tests/serve.py, which the benchmark scripts share).

The server runs with tiny presets (WHATIF_QUICK=1) and a private run store and data folder, and is
always stopped afterwards.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT
from tests.serve import CHROMIUM_ARGS, find_chromium, serve, stop

SERVER_START_S = 90  # tiny presets: the server is up well before this
SERVER_STOP_S = 15


@pytest.fixture(scope="session")
def chromium():
    """A launched headless Chromium (Playwright sync API), closed at the end."""
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium: apt-get install -y chromium failed or is not possible here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """`streamlit run app.py` headless on a free port; yields its base URL; stopped at the end."""
    tmp = tmp_path_factory.mktemp("served")
    env = {
        # the app's own defaults: training in the worker, pages that follow their jobs in the background
        **{k: v for k, v in os.environ.items() if k not in ("WHATIF_BACKEND", "WHATIF_INLINE_WAIT")},
        "WHATIF_QUICK": "1",
        "WHATIF_STORE": str(tmp / "runs.sqlite"),
        "WHATIF_DATA_DIR": str(tmp / "data"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(ROOT),
    }
    server, url = serve(env, tmp / "server.log", start_s=SERVER_START_S)
    try:
        yield url
    finally:
        stop(server, wait_s=SERVER_STOP_S)
        print(f"server log: {tmp / 'server.log'}")
