"""Memory benchmark (a script, not a test): serve the app, visit every topic page in headless
Chromium, press every Run button, and sample the RSS of the server and of its children (the
training worker) every second. Prints peak and final RSS per process group, and how much a
second identical pass adds (it replays from the store, as a server does for later visitors).

Run: python tests/bench_memory.py [--backend local|warm] [--quick] [page ...]
  local   WHATIF_BACKEND=local: training in the server process (the CLI's default)
  warm    the app's default: the worker process (core.backends.worker), started and warmed on
          every page's default shapes when the first page sets up (ui.jobs.start_app_backend, ui.warm)
  --quick tiny presets (WHATIF_QUICK=1), as the browser tests use
Goals (issue 12): peak <= 1.5 GB for server + worker, a second pass grows it < 5%, and the
server process alone never maps TensorFlow. Timings and RSS taken under load say the load.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serve import CHROMIUM_ARGS, chromium_for_script, serve, stop  # noqa: E402

VIEWPORT = {"width": 1280, "height": 1400}
WAIT_MS = 900_000  # a Run button may train a grid of tens of runs on a shared 2-core CPU
SAMPLE_SECONDS = 1.0
KIB_PER_MIB = 1024
# What a Run button says in this app: the builder's "Run", "Run the LR sweep", "Sweep l2", ...
RUN_LABEL = re.compile(r"^\W*(Run|Sweep|Train)\b")
SETTLED = (
    "() => document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]')"
    " && !document.querySelector('[data-testid=stSkeleton]')"
    # a Run's job trains in the background: the visit ends when its result is drawn, not its progress
    " && !document.body.innerText.includes('in the background')"
)


# -- processes -------------------------------------------------------------------------------------
def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / KIB_PER_MIB
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """All descendants of pid (the worker, and anything it started)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{p}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []
            out += kids
            todo += kids
    return out


def maps_tensorflow(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/maps") as maps:
            return any("libtensorflow" in line for line in maps)
    except OSError:
        return False


class Sampler(threading.Thread):
    """RSS of the server and of its descendants, every SAMPLE_SECONDS, until stopped."""

    def __init__(self, server_pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = server_pid
        self.samples: list[tuple[float, float, float]] = []  # (time, server MB, children MB)
        self.stopping = threading.Event()

    def now(self) -> tuple[float, float]:
        return rss_mb(self.pid), sum(rss_mb(c) for c in children(self.pid))

    def run(self) -> None:
        while not self.stopping.is_set():
            self.samples.append((time.monotonic(), *self.now()))
            self.stopping.wait(SAMPLE_SECONDS)

    def peak(self, since: float = 0.0) -> tuple[float, float, float]:
        rows = [s for s in self.samples if s[0] >= since] or [(0.0, 0.0, 0.0)]
        return max(r[1] for r in rows), max(r[2] for r in rows), max(r[1] + r[2] for r in rows)


def bench_env(backend: str, quick: bool, tmp: Path) -> dict[str, str]:
    """The server's environment: a private store and data folder, the chosen backend."""
    env = {
        **os.environ,
        "WHATIF_STORE": str(tmp / "runs.sqlite"),
        "WHATIF_DATA_DIR": str(tmp / "data"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("WHATIF_QUICK", None)
    if quick:
        env["WHATIF_QUICK"] = "1"
    env.pop("WHATIF_BACKEND", None)  # the app's default (the warmed worker) ...
    if backend == "local":
        env["WHATIF_BACKEND"] = "local"  # ... unless training in the server is what is measured
    return env


def topic_pages() -> list[str]:
    from ui.nav import PAGES

    skip = {"home", "claims", "history"}  # not topics: no default comparison to train
    names = [p.path.removeprefix("pages/").removesuffix(".py") for p in PAGES]
    return [n for n in names if n not in skip]


def load_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


# -- browser ---------------------------------------------------------------------------------------
def settle(page) -> None:
    page.wait_for_timeout(400)  # the script (re)starts after the websocket message
    page.wait_for_function(SETTLED, timeout=WAIT_MS, polling=200)


def open_page(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url, timeout=WAIT_MS)
    page.wait_for_selector("[data-testid=stApp]", timeout=WAIT_MS)
    settle(page)
    return page, context


def press_every_run(page) -> int:
    """Click each Run-like button once (labels read first: pressing one can add others)."""
    labels = []
    for button in page.get_by_role("button").all():
        text = " ".join((button.inner_text() or "").split())
        found = RUN_LABEL.search(text)
        if found and text[found.start(1) :] not in labels:
            labels.append(text[found.start(1) :])  # without the icon
    for label in labels:
        button = page.get_by_role("button", name=re.compile(re.escape(label) + "$")).first
        if button.count() and button.is_enabled():
            button.click()
            settle(page)
    return len(labels)


def tour(browser, url: str, pages: list[str]) -> int:
    pressed = 0
    for name in pages:
        page, context = open_page(browser, f"{url}/{name}")
        pressed += press_every_run(page)
        context.close()
        print(f"  {name}: done", flush=True)
    return pressed


def main(argv: list[str]) -> int:
    backend = next((a.split("=", 1)[1] for a in argv if a.startswith("--backend=")), "warm")
    quick = "--quick" in argv
    pages = [a for a in argv if not a.startswith("--")] or topic_pages()
    chromium = chromium_for_script()
    if chromium is None:
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="whatif-mem-"))
    print(f"backend {backend}, presets {'quick' if quick else 'full'}, {load_load()} at start", flush=True)
    server, url = serve(bench_env(backend, quick, tmp), tmp / "server.log")
    sampler = Sampler(server.pid)
    sampler.start()
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            marks = []
            for n in (1, 2):
                start = time.monotonic()
                print(f"pass {n}", flush=True)
                pressed = tour(browser, url, pages)
                marks.append((start, time.monotonic(), pressed, sampler.now()))
            browser.close()
        tf_in_server = maps_tensorflow(server.pid)
    finally:
        sampler.stopping.set()
        stop(server)
    report(sampler, marks, tf_in_server, backend)
    print(f"{load_load()} at the end; server log: {tmp / 'server.log'}")
    return 0


def report(sampler: Sampler, marks, tf_in_server: bool, backend: str) -> None:
    (s1, e1, pressed1, end1), (s2, e2, pressed2, end2) = marks
    peak1, peak2 = sampler.peak(s1), sampler.peak(s2)
    total1, total2 = sum(end1), sum(end2)
    print()
    print(f"| {backend} | server MB | children MB | together MB |")
    print("|---|---:|---:|---:|")
    print(
        f"| peak, pass 1 ({e1 - s1:.0f} s, {pressed1} buttons) | {peak1[0]:.0f} | {peak1[1]:.0f} | {peak1[2]:.0f} |"
    )
    print(f"| end of pass 1 | {end1[0]:.0f} | {end1[1]:.0f} | {total1:.0f} |")
    print(
        f"| peak, pass 2 ({e2 - s2:.0f} s, {pressed2} buttons) | {peak2[0]:.0f} | {peak2[1]:.0f} | {peak2[2]:.0f} |"
    )
    print(f"| end of pass 2 (final) | {end2[0]:.0f} | {end2[1]:.0f} | {total2:.0f} |")
    growth = (total2 - total1) / total1 * 100 if total1 else float("nan")
    print(f"\nsecond pass grew server + children by {total2 - total1:+.0f} MB ({growth:+.1f}%)")
    print(f"server process maps libtensorflow: {'yes' if tf_in_server else 'no'}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
