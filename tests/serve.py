"""The app served for a real browser: Debian's Chromium and `streamlit run app.py` on a free port.

One place for the start-up that the browser test (tests/browser/conftest.py) and the benchmark
scripts (tests/bench_*.py) share, so a change to the server's flags or to how it is stopped is made
once. Playwright cannot download its own browsers here, so it drives the system Chromium
(/usr/bin/chromium, installed with apt-get when missing). The server runs in its own session, so
stopping it ends the server and the worker it started, nothing else.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_S = 120  # a cold start imports pandas/altair on a shared 2-core CPU
SERVER_STOP_S = 30  # then SIGKILL: a server that ignores SIGTERM must not outlive its caller
HEALTH_TIMEOUT_S = 2  # per check: a starting server that does not answer is asked again
POLL_S = 0.5  # between health checks while the server starts
LOG_TAIL_CHARS = 3000  # of the server's log, shown when it did not start


def find_chromium() -> str | None:
    """The system Chromium; installed with apt-get when missing and we are root."""
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        subprocess.run(cmd, env=env, capture_output=True, timeout=900, check=False)
    return shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)


def chromium_for_script() -> str | None:
    """find_chromium() for the benchmark scripts: None after saying what to install."""
    found = find_chromium()
    if found is None:
        print("no Chromium found (apt-get install -y chromium)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether the Streamlit server at `url` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=HEALTH_TIMEOUT_S) as r:
            return r.status == 200
    except OSError:
        return False


def streamlit_command(port: int, watch_files: bool = False) -> list[str]:
    """`streamlit run app.py` headless on 127.0.0.1:port, without usage statistics; without the
    file watcher unless asked (nothing here edits the app while it is served)."""
    flags = {
        "server.headless": "true",
        "server.port": str(port),
        "server.address": "127.0.0.1",
        "browser.gatherUsageStats": "false",
    }
    if not watch_files:
        flags["server.fileWatcherType"] = "none"
    pairs = [part for name, value in flags.items() for part in (f"--{name}", value)]
    return [sys.executable, "-m", "streamlit", "run", "app.py", *pairs]


def serve(
    env: dict[str, str],
    log_path: Path,
    start_s: float = SERVER_START_S,
    watch_files: bool = False,
) -> tuple[subprocess.Popen, str]:
    """The app served on a free port in its own session, its output in log_path; returns the
    server and its URL once it answers. A server that exits or is not up within start_s is
    stopped and a RuntimeError shows the end of its log."""
    port = free_port()
    with open(log_path, "w") as log:  # the server holds its own copy of the descriptor
        server = subprocess.Popen(
            streamlit_command(port, watch_files),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_s
    while not healthy(url):
        if server.poll() is not None or time.monotonic() > deadline:
            stop(server)
            raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()[-LOG_TAIL_CHARS:]}")
        time.sleep(POLL_S)
    return server, url


def stop(server: subprocess.Popen, wait_s: float = SERVER_STOP_S) -> None:
    """End the server's session (the server and the worker it started), nothing else."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
