"""The served app in a real headless Chromium: open a topic page, click Run, see a chart drawn;
open the share link in a new page and see the same comparison replayed without training; take a
screenshot into the test's temporary folder (the tracked README images come from
tests/bench_browser.py, never from a test run).

What AppTest cannot show: the app starts under `streamlit run`, the navigation resolves the
page's URL, the browser actually draws the Vega chart, and the link in the address bar carries
the comparison to another session.
"""

from __future__ import annotations

import contextlib
import io
import re
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.browser

TOPICS = ("learning_rate", "batch_size")  # the first that exists is driven; else the home page
TITLES = {"learning_rate": "Learning rate", "batch_size": "Batch size"}  # as in ui/nav.py
MAX_PNG_BYTES = 400_000
VIEWPORT = {"width": 1280, "height": 900}
SHOT = {"width": 1280, "height": 1500}  # title, intro, builder and the curves
WAIT_MS = 240_000  # a cold page imports TensorFlow and trains on a loaded 2-core machine
CHART = ".vega-embed canvas, .vega-embed svg"
REPLAYED = re.compile(r"(\d+) of \1 runs replayed from the store")
TRAINING = re.compile(r"Training \d+ run|Done: results stored")


def settle(page, timeout: float = WAIT_MS) -> None:
    """Wait until the script has run and stopped and every element has been drawn."""
    page.wait_for_selector("[data-testid=stApp]", timeout=timeout)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)
    page.wait_for_function("() => !document.querySelector('[data-testid=stSkeleton]')", timeout=timeout)


def run_and_settle(page, button) -> None:
    """Click a Run button and wait for the rerun (and any training) to finish."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button.click()
    with contextlib.suppress(PlaywrightTimeout):  # a replay can be over before we look; training not
        page.wait_for_selector("[data-testid=stApp][data-test-script-state=running]", timeout=5_000)
    settle(page)


def assert_no_exception(page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.first.inner_text()


def first_topic() -> str | None:
    return next((t for t in TOPICS if (ROOT / "pages" / f"{t}.py").exists()), None)


def save_screenshot(page, path) -> None:
    """A small PNG of the page from its title down to the first chart (a taller viewport for the
    shot), re-encoded smaller with Pillow if it came out large."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(SHOT)
    settle(page)
    page.wait_for_timeout(1_000)  # charts re-layout to the new width
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    if path.stat().st_size <= MAX_PNG_BYTES:
        return
    try:
        from PIL import Image
    except ImportError:
        return
    image = Image.open(path)
    for scale in (1.0, 0.8, 0.65, 0.5):
        small = image.resize((int(image.width * scale), int(image.height * scale)), Image.LANCZOS)
        buf = io.BytesIO()
        small.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(buf, "PNG", optimize=True)
        if buf.tell() <= MAX_PNG_BYTES or scale == 0.5:
            path.write_bytes(buf.getvalue())
            return


def test_run_chart_share_link_replays(app_server, chromium, tmp_path):
    screenshot = tmp_path / "screenshot.png"
    started = time.perf_counter()
    topic = first_topic()
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(app_server, timeout=WAIT_MS)  # home, as a visitor arrives; it trains its quick what-if
    settle(page)
    assert_no_exception(page)
    if topic:  # through the app's navigation, as a person clicks it
        page.locator("[data-testid=stSidebar] a").filter(has_text=TITLES[topic]).first.click()
        page.wait_for_url(f"**/{topic}*", timeout=WAIT_MS)
        settle(page)
        assert_no_exception(page)
    page.wait_for_selector(CHART, timeout=WAIT_MS)  # the page default trains (tiny) on first load

    form = page.locator("[data-testid=stForm]").first
    if topic:  # one more seed: new runs to train, and a link that differs from the defaults
        seeds = form.get_by_label("seeds", exact=True)
        seeds.fill(str(int(seeds.input_value()) + 1))
    else:
        form.get_by_label(re.compile("^values")).fill("0.003, 0.3")
    run_and_settle(page, form.locator("[data-testid=stFormSubmitButton] button"))
    assert_no_exception(page)
    page.wait_for_selector(CHART, timeout=WAIT_MS)
    charts = page.locator(".vega-embed").count()
    if topic:
        assert "seeds=" in page.url, f"the comparison is not in the address bar: {page.url}"
        caption = page.get_by_text(re.compile(r"runs replayed from the store")).first.inner_text()
        total = int(caption.split()[0])
    save_screenshot(page, screenshot)

    shared = context.new_page()  # a second session, as a colleague opening the link
    shared.goto(page.url, timeout=WAIT_MS)
    settle(shared)
    assert_no_exception(shared)
    shared.wait_for_selector(CHART, timeout=WAIT_MS)
    assert shared.get_by_text(TRAINING).count() == 0, "the shared link trained instead of replaying"
    if topic:
        replay = shared.get_by_text(REPLAYED).first.inner_text()
        assert int(replay.split()[0]) == total, f"a different comparison: {replay!r} vs {caption!r}"
        assert shared.locator(".vega-embed").count() == charts
    context.close()
    assert screenshot.stat().st_size <= MAX_PNG_BYTES * 1.5
    print(f"browser test: {topic or 'home'} page, {time.perf_counter() - started:.1f} s")
