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
RESULT = re.compile(r"\d+ of \d+ runs replayed from the store")  # a result is drawn
BACKGROUND = "in the background"  # a job is still training: its progress view is up
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


def csv_bytes(rows: int = 160) -> bytes:
    """A small, learnable table: three numeric features, a label column named "label"."""
    import numpy as np

    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, rows)
    features = rng.normal(size=(rows, 3)) + label[:, None] * 1.5
    lines = ["f1,f2,f3,label"] + [f"{a:.4f},{b:.4f},{c:.4f},{y}" for (a, b, c), y in zip(features, label)]
    return ("\n".join(lines) + "\n").encode()


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the selectbox labelled `label` as a person does with a long list: open
    it, type to filter (the list only renders the options in view), click the match."""
    box = page.get_by_label(label, exact=True).first
    box.click()
    page.keyboard.type(option[:6])
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.get_by_role("option", name=option).click()
    with contextlib.suppress(PlaywrightTimeout):  # the rerun it triggers may not have begun yet
        page.wait_for_selector("[data-testid=stApp][data-test-script-state=running]", timeout=5_000)
    settle(page)


def wait_gone(page, text: re.Pattern, message: str) -> None:
    """Wait until no element shows `text`: Streamlit keeps the last run's elements on screen
    (stale) until the rerun replaces them, so one look right after a rerun can see old ones."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while page.get_by_text(text).count() > 0:
        if time.monotonic() > deadline:
            raise AssertionError(message)
        page.wait_for_timeout(500)
        settle(page)


def upload(page, name: str, content: bytes, expect: re.Pattern) -> None:
    """Drop a file on the uploader and wait for the page's answer (`expect`): the upload and the
    rerun it triggers are asynchronous, so the script state alone does not say it was read."""
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_text(expect).first.wait_for(timeout=WAIT_MS)
    settle(page)


def press_run(page) -> None:
    """The builder's Run, then wait for its job: the page shows progress while the job trains in
    the background and reruns itself when the runs are stored (or shows the result at once)."""
    form = page.locator("[data-testid=stForm]").first
    run_and_settle(page, form.locator("[data-testid=stFormSubmitButton] button"))
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        settle(page)
        if page.get_by_text(BACKGROUND).count() == 0 and page.get_by_text(RESULT).count() > 0:
            break
        page.wait_for_timeout(1_000)
    else:
        raise AssertionError("the job's result never appeared")
    assert_no_exception(page)


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
    press_run(page)
    page.wait_for_selector(CHART, timeout=WAIT_MS)
    charts = page.locator(".vega-embed").count()
    if topic:
        assert "seeds=" in page.url, f"the comparison is not in the address bar: {page.url}"
        caption = page.get_by_text(RESULT).first.inner_text()
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


def test_two_knob_legend_and_upload_flow(app_server, chromium):
    """Issue 11: a two-knob comparison names both knobs in short labels and writes the
    abbreviations out; a bad CSV keeps the page on its message and never falls back to digits; a
    good CSV trains on itself and every result header names it."""
    context = chromium.new_context(viewport=VIEWPORT)
    page = context.new_page()
    link = "optimizers?epochs=2&n_samples=300&vary=learning_rate:0.01,0.1&vary=momentum:0.5,0.9&seeds=1"
    page.goto(f"{app_server}/{link}", timeout=WAIT_MS)
    settle(page)
    assert_no_exception(page)
    press_run(page)  # a link never trains by itself: Run does, in the background
    assert page.get_by_text("lr 0.01 · mom 0.5").count() >= 1, "short two-knob label missing"
    key = page.get_by_text(re.compile(r"lr = learning_rate · mom = momentum")).first
    assert key.is_visible(), "the legend key does not write out both abbreviations"

    pick(page, "dataset", "upload a CSV…")
    page.get_by_text("Choose a CSV file to train on it").first.wait_for(timeout=WAIT_MS)
    wait_gone(page, RESULT, "the digits result stayed under the upload")
    upload(page, "broken.csv", b"name,colour\nann,red\nbob,blue\n", re.compile("That CSV cannot be used"))
    run_and_settle(
        page, page.locator("[data-testid=stForm]").first.locator("[data-testid=stFormSubmitButton] button")
    )
    assert page.get_by_text(RESULT).count() == 0, "Run replayed another dataset for a refused upload"

    upload(page, "blobs.csv", csv_bytes(), re.compile(r"Using blobs\.csv with label"))
    press_run(page)
    header = page.get_by_text(RESULT).first.inner_text()
    assert "blobs.csv" in header and "digits" not in header, header
    context.close()
