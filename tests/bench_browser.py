"""Browser benchmark (a script, not a test): serve the app, visit every page twice in a real headless
Chromium and print, per page, the first visit (a fresh store: the page trains its default), the
revisit (a new session: everything replays from the store) and their ratio; save a screenshot of
each page to docs/screens/<page>.png and count the server's log lines for the whole tour.

Run: python tests/bench_browser.py [--quick] [--no-screens] [page ...]
  --quick       tiny presets (WHATIF_QUICK=1), as the browser test uses
  --no-screens  do not write docs/screens/
A visit is timed from navigation until the script has stopped, no skeleton is left and every
chart has been drawn. Timings taken with other jobs on the machine say so in the output.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.serve import CHROMIUM_ARGS, chromium_for_script, serve, stop  # noqa: E402

VIEWPORT = {"width": 1280, "height": 1400}
WAIT_MS = 600_000  # a first visit trains the page's default on a shared 2-core CPU
SCREENS = ROOT / "docs" / "screens"
SETTLED = (
    "() => document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]')"
    " && !document.querySelector('[data-testid=stSkeleton]')"
    # a Run's job trains in the background: the visit ends when its result is drawn, not its progress
    " && !document.body.innerText.includes('in the background')"
    " && [...document.querySelectorAll('.vega-embed')].every(e => e.querySelector('canvas, svg'))"
)


def pages() -> list[str]:
    from ui.nav import PAGES

    return [p.path.removeprefix("pages/").removesuffix(".py") for p in PAGES]


def visit(browser, url: str) -> tuple[float, object, object]:
    """Seconds from navigation until the page has settled; returns the open page to shoot."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, timeout=WAIT_MS)
    page.wait_for_selector("[data-testid=stApp]", timeout=WAIT_MS)
    page.wait_for_timeout(300)  # the script starts after the websocket connects
    page.wait_for_function(SETTLED, timeout=WAIT_MS, polling=100)
    return time.perf_counter() - start, page, context


MAX_SCREEN_COLOURS = 128  # a quantized PNG of a page is ~4x smaller and reads the same


def shoot(page, name: str) -> None:
    """docs/screens/<name>.png: the top of the page (title, builder, first charts), quantized."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # charts finish their layout
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path))
    compress(path)


def compress(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    image = Image.open(path).convert("RGB")
    image.quantize(colors=MAX_SCREEN_COLOURS, method=Image.Quantize.MEDIANCUT).save(
        path, "PNG", optimize=True
    )


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill still stops the server (finally)
    quick = "--quick" in argv
    screens = "--no-screens" not in argv
    chosen = [a for a in argv if not a.startswith("--")] or pages()
    chromium = chromium_for_script()
    if chromium is None:
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="whatif-bench-"))
    env = {
        **os.environ,
        "WHATIF_STORE": str(tmp / "runs.sqlite"),
        "WHATIF_DATA_DIR": str(tmp / "data"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("WHATIF_QUICK", None)
    if quick:
        env["WHATIF_QUICK"] = "1"
    log_path = tmp / "server.log"
    server, url = serve(env, log_path, watch_files=True)
    rows = []
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            for name in chosen:
                path = url if name == "home" else f"{url}/{name}"
                first, page, context = visit(browser, path)
                context.close()
                again, page, context = visit(browser, path)
                if screens:
                    shoot(page, name)
                context.close()
                rows.append((name, first, again))
                print(
                    f"{name:16} first {first:6.1f} s  revisit {again:5.1f} s  ratio {again / first:.2f}",
                    flush=True,
                )
            browser.close()
    finally:
        stop(server)
    lines = len(log_path.read_text().splitlines())
    firsts, agains = [r[1] for r in rows], [r[2] for r in rows]
    print()
    print("| page | first visit (s) | revisit (s) | ratio |")
    print("|---|---:|---:|---:|")
    for name, first, again in rows:
        print(f"| {name} | {first:.1f} | {again:.1f} | {again / first:.2f} |")
    median_ratio = statistics.median(agains) / statistics.median(firsts)
    print(
        f"\nmedian first visit {statistics.median(firsts):.1f} s, median revisit {statistics.median(agains):.1f} s, "
        f"ratio of medians {median_ratio:.2f}; server log: {lines} lines ({log_path})"
        + ("; presets: quick" if quick else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
