"""Latency benchmark (a script, not a test): the first visit of each topic page on a cold server
(visited as soon as it answers) and on a warm one (woken, then idle WARM_WAIT_S seconds), each a
fresh server with a fresh store; then, on the warm one, a Run that must train.

Run: python tests/bench_latency.py [--backend local|warm] [--quick] [--wait=S] [page ...]
  (backends as in tests/bench_memory.py; `warm`, the app's default, starts the worker with the
  server, which traces the stored page defaults' shapes and trains the missing ones: ui.warm)
Figures per page, in seconds: cold and warm, navigation -> the result header shows (no job left
in the background); warm, the page script's start -> result (the "after Run" of a page whose
default trains on load); warm, the click on Run for the page's default with other seeds (same
network shapes, runs not stored: it trains) -> their result.
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
    VIEWPORT,
    WAIT_MS,
    bench_env,
    load_load,
    open_page,
    serve,
    settle,
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


RESULT = "runs replayed from the store"  # a page's result header: its runs are drawn
BACKGROUND = "in the background"  # a job's progress view is up
CHANGED = "seed=7"  # the page's default with other seeds: same network shapes, runs not stored
POLL_S = 0.1


def state(page) -> tuple[str, str]:
    """(script state, page text) as the browser shows them now."""
    return page.evaluate(
        "() => { const a = document.querySelector('[data-testid=stApp]');"
        " return [a ? a.getAttribute('data-test-script-state') : 'none', document.body.innerText]; }"
    )


def follow(page, start: float) -> dict[str, float]:
    """Seconds from `start` until the script first ran, the result header appeared (no job in the
    background) and everything settled (script stopped, no skeleton, no job)."""
    marks: dict[str, float] = {}
    while time.perf_counter() - start < WAIT_MS / 1000:
        script, text = state(page)
        now = time.perf_counter() - start
        if script == "running":
            marks.setdefault("script", now)
        if RESULT in text and BACKGROUND not in text:
            marks.setdefault("result", now)
            if script == "notRunning" and not page.locator("[data-testid=stSkeleton]").count():
                marks["settled"] = now
                return marks
        time.sleep(POLL_S)
    raise TimeoutError(f"no result after {WAIT_MS / 1000:.0f} s")


def first_visit(browser, backend: str, quick: bool, page: str, wait: float) -> dict[str, float]:
    """A fresh server with a fresh store (cold: visited at once; warm: woken by one home-page visit,
    then idle `wait` seconds): seconds from navigating to `page` until its script ran, its result
    showed and it settled; on the warm one also `run`: after that visit, the same page with
    other seeds (CHANGED), whose Run trains runs of already traced shapes, timed from the click
    until their result shows; and what the page showed (charts drawn, errors), so a fast visit
    that failed is not read as fast."""
    tmp = Path(tempfile.mkdtemp(prefix="whatif-lat-"))
    server, url = serve(bench_env(backend, quick, tmp), tmp / "server.log")
    try:
        if wait > 0:  # wake it: the first session starts the worker and its warm start
            _, woken = open_page(browser, f"{url}/{WAKE_PAGE}")
            woken.close()
        time.sleep(wait)
        context = browser.new_context(viewport=VIEWPORT)
        shown = context.new_page()
        start = time.perf_counter()
        shown.goto(f"{url}/{page}", timeout=WAIT_MS)
        marks = follow(shown, start)
        marks["charts"] = shown.locator(".vega-embed").count()
        marks["errors"] = shown.locator(
            "[data-testid=stException], [data-testid=stAlertContentError]"
        ).count()
        if wait > 0:
            shown.goto(f"{url}/{page}?{CHANGED}", timeout=WAIT_MS)
            settle(shown)
            run = shown.locator("[data-testid=stForm]").first.locator(
                "[data-testid=stFormSubmitButton] button"
            )
            start = time.perf_counter()
            run.click()
            shown.wait_for_function(f"() => !document.body.innerText.includes({RESULT!r})", timeout=WAIT_MS)
            marks["run"] = follow(shown, start)["result"]
        context.close()
        return marks
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
            cold = first_visit(browser, backend, quick, page, 0.0)
            warm = first_visit(browser, backend, quick, page, wait)
            rows.append((page, cold, warm))
            print(f"{page:16} cold {cold}\n{'':16} warm {warm}  ({load_load()})", flush=True)
        browser.close()
    print()
    print(
        f"| page ({backend}) | cold: result after navigation (s) | warm: result after navigation (s) |"
        " warm: after the script started (s) | warm: Run of other seeds to result (s) |"
    )
    print("|---|---:|---:|---:|---:|")
    for page, cold, warm in rows:
        after_start = warm["result"] - warm["script"]
        print(
            f"| {page} | {cold['result']:.1f} | {warm['result']:.1f} | {after_start:.1f} | {warm['run']:.1f} |"
        )
    for name, pick in (
        ("cold, after navigation", lambda c, w: c["result"]),
        ("warm, after navigation", lambda c, w: w["result"]),
        ("warm, after the script started", lambda c, w: w["result"] - w["script"]),
        ("warm, Run of other seeds", lambda c, w: w["run"]),
    ):
        print(f"median {name}: {statistics.median(pick(c, w) for _, c, w in rows):.1f} s")
    print(f"{load_load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
