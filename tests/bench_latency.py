"""Latency benchmark (a script, not a test): the first visit of each topic page, where the page
trains its default comparison, on a cold server (visited as soon as it answers) and on a warm one
(visited after it has been up WARM_WAIT_S seconds), each on a fresh server with a fresh store.

Run: python tests/bench_latency.py [--backend local|warm] [--quick] [--wait=S] [page ...]
  (backends as in tests/bench_memory.py; `warm` starts the worker with the server and traces every
  page default's shapes, which is what the warm column is about)
A visit is timed from navigation until the script has stopped and no skeleton is left.
Goal (issue 12): every page's default shows its result <= 2 s after Run on a warm server.
Figures taken with other jobs on the machine say the load they were taken under.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.bench_memory import (  # noqa: E402
    bench_env,
    load_load,
    open_page,
    serve,
    stop,
    topic_pages,
)
from tests.serve import CHROMIUM_ARGS, chromium_for_script  # noqa: E402

WARM_WAIT_S = 30.0  # the definition of a warm server: up for 30 s before the first visit
# Streamlit runs no app code until a session connects (there is no server-start hook), so the
# worker and its warm-up start with the first visitor. A warm server is therefore one that has been
# woken once (a visit to the home page, as a health check or the first visitor would) and then left
# alone WARM_WAIT_S seconds; the visit measured is the first one to the topic page.
WAKE_PAGE = ""  # the home page


def first_visit(browser, backend: str, quick: bool, page: str, wait: float) -> tuple[float, str]:
    """Seconds to the settled first visit of `page` on a fresh server (cold: wait 0; warm: woken
    by one home-page visit, then idle `wait` seconds), and what the page showed (charts drawn,
    errors), so a fast visit that failed is not read as fast."""
    tmp = Path(tempfile.mkdtemp(prefix="whatif-lat-"))
    server, url = serve(bench_env(backend, quick, tmp), tmp / "server.log")
    try:
        if wait > 0:  # wake it: the first session starts the worker and its warm-up
            _, woken = open_page(browser, f"{url}/{WAKE_PAGE}")
            woken.close()
        time.sleep(wait)
        start = time.perf_counter()
        shown, context = open_page(browser, f"{url}/{page}")
        seconds = time.perf_counter() - start
        charts = shown.locator(".vega-embed").count()
        errors = shown.locator("[data-testid=stException], [data-testid=stAlertContentError]").count()
        context.close()
        return seconds, f"{charts} charts, {errors} errors"
    finally:
        stop(server)


def main(argv: list[str]) -> int:
    backend = next((a.split("=", 1)[1] for a in argv if a.startswith("--backend=")), "warm")
    wait = float(next((a.split("=", 1)[1] for a in argv if a.startswith("--wait=")), WARM_WAIT_S))
    quick = "--quick" in argv
    pages = [a for a in argv if not a.startswith("--")] or topic_pages()
    chromium = chromium_for_script()
    if chromium is None:
        return 1
    print(f"backend {backend}, presets {'quick' if quick else 'full'}, {load_load()} at start", flush=True)
    rows = []
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        for page in pages:
            cold, cold_shown = first_visit(browser, backend, quick, page, 0.0)
            warm, warm_shown = first_visit(browser, backend, quick, page, wait)
            rows.append((page, cold, warm))
            print(
                f"{page:16} cold {cold:6.1f} s ({cold_shown})  warm {warm:6.1f} s ({warm_shown})  ({load_load()})",
                flush=True,
            )
        browser.close()
    print()
    print(f"| page ({backend}) | cold first visit (s) | warm first visit (s) | warm / cold |")
    print("|---|---:|---:|---:|")
    for page, cold, warm in rows:
        print(f"| {page} | {cold:.1f} | {warm:.1f} | {warm / cold:.2f} |")
    colds, warms = [r[1] for r in rows], [r[2] for r in rows]
    print(f"\nmedian cold {statistics.median(colds):.1f} s, median warm {statistics.median(warms):.1f} s")
    print(f"{load_load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
