"""Warm-start benchmark (a script, not a test): how long after a fresh server's first visit each
page's default comparison is stored, i.e. from when on a first visit of that page replays.

Run: python tests/bench_warm_start.py [--quick]
The first visit (the home page) starts the worker; the warm start (ui.warm.warm_start) then trains
the defaults the store lacks, most visited page first. Prints seconds from that visit per page.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.bench_memory import bench_env, load_load, open_page, serve, stop  # noqa: E402
from tests.serve import CHROMIUM_ARGS, chromium_for_script  # noqa: E402

GIVE_UP_S = 600.0
POLL_S = 1.0


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    tmp = Path(tempfile.mkdtemp(prefix="whatif-warm-"))
    env = bench_env("warm", quick, tmp)
    os.environ.update({k: env[k] for k in ("WHATIF_STORE", "WHATIF_DATA_DIR")})
    if quick:
        os.environ["WHATIF_QUICK"] = "1"
    from core.store import RunStore
    from ui.warm import page_defaults

    wanted = {page: sorted({m.key for m in c.members()}) for page, c in page_defaults().items()}
    chromium = chromium_for_script()
    if chromium is None:
        return 1
    print(f"presets {'quick' if quick else 'full'}, {load_load()} at start", flush=True)
    server, url = serve(env, tmp / "server.log")
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            start = time.perf_counter()
            _, context = open_page(browser, url)
            context.close()
            print(f"first visit (home) settled after {time.perf_counter() - start:.1f} s", flush=True)
            store, stored = RunStore(env["WHATIF_STORE"]), {}
            while len(stored) < len(wanted) and time.perf_counter() - start < GIVE_UP_S:
                for page, keys in wanted.items():
                    if page not in stored and len(store.has(keys)) == len(keys):
                        stored[page] = time.perf_counter() - start
                        print(f"{page:16} stored after {stored[page]:6.1f} s", flush=True)
                time.sleep(POLL_S)
            browser.close()
    finally:
        stop(server)
    missing = sorted(set(wanted) - set(stored))
    print(
        f"not stored after {GIVE_UP_S:.0f} s: {missing}"
        if missing
        else f"all stored after {max(stored.values()):.1f} s"
    )
    print(f"{load_load()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
