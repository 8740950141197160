"""``ronbun serve`` end to end in a real headless browser (Debian's chromium driven by Playwright): type a
sentence, get the translation, draw the attention heat-map for a chosen kind / layer / head, hover to see
what a token attends to, see a readable error for an over-long input; then the same for a GPT prompt."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip(
        "no chromium browser (Debian: apt-get install -y chromium); the browser test needs it",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)"
)

from serving import running_server  # noqa: E402

from ronbun.serve.app import RonbunHTTPServer  # noqa: E402

MAX_CHARS = 120
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# non-white pixels inside the canvas, counted in the page (waits use selectors: the page's Content-Security-
# Policy forbids the string evaluation that Playwright's wait_for_function relies on)
PAINTED = """() => {
  const c = document.getElementById('heatmap');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) n++;
  return n;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RonbunHTTPServer]:
    yield from running_server(tmp_path_factory.mktemp("browser"), max_chars=MAX_CHARS)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            pg = context.new_page()
            pg.set_default_timeout(20_000)
            errors: list[str] = []
            pg.on("pageerror", lambda exc: errors.append(str(exc)))
            yield pg
            assert errors == [], f"JavaScript errors on the page: {errors}"
        finally:
            context.close()


def test_translate_and_browse_attention(server: RonbunHTTPServer, page, tmp_path: Path) -> None:
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='true']")
    assert page.input_value("#model") == "mt"
    page.fill("#input", "The old man sees the small dog.")
    page.select_option("#beam", "1")
    page.click("#run")
    page.wait_for_selector("#viewer:not([hidden])")
    assert page.text_content("#output") != ""
    assert page.text_content("#meta").startswith("greedy")
    page.wait_for_selector("#heatmap[data-drawn='cross/1/0']")
    assert page.evaluate(PAINTED) > 500

    # choose kind, layer and head: the map is redrawn for exactly that choice
    page.select_option("#kind", "encoder")
    page.select_option("#layer", "0")
    page.select_option("#head", "2")
    page.wait_for_selector("#heatmap[data-drawn='encoder/0/2']")
    n_src = int(page.get_attribute("#heatmap", "data-cols"))
    assert n_src == int(page.get_attribute("#heatmap", "data-rows")) > 3
    assert page.evaluate(PAINTED) > 500
    assert page.locator("#key-tokens .tok").count() == n_src

    # hovering a query token lights up the keys it attends to
    page.hover("#query-tokens .tok >> nth=1")
    assert "attends most to" in page.text_content("#hover-info")
    assert page.locator("#key-tokens .tok.light-text, #key-tokens .tok.dark-text").count() == n_src
    box = page.locator("#heatmap").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 20)
    assert "attends most to" in page.text_content("#hover-info")
    page.select_option("#layer", "mean")
    page.select_option("#head", "mean")
    page.wait_for_selector("#heatmap[data-drawn='encoder/mean/mean']")
    page.screenshot(path=str(tmp_path / "serve_translate.png"), full_page=True)
    assert (tmp_path / "serve_translate.png").stat().st_size > 10_000

    # an over-long input: a readable message on the page, no stack trace
    page.fill("#input", "word " * 40)
    assert "over" in page.get_attribute("#counter", "class")
    page.click("#run")
    page.wait_for_selector("#error:not([hidden])")
    message = page.text_content("#error")
    assert (
        message
        == f"The input is 200 characters long; the limit is {MAX_CHARS}. Please shorten it and try again."
    )
    page.fill("#input", "   ")
    page.click("#run")
    page.wait_for_selector("#error:has-text('The input is empty')")
    page.screenshot(path=str(tmp_path / "serve_error.png"))


def test_gpt_prompt_continuation_and_attention(server: RonbunHTTPServer, page, tmp_path: Path) -> None:
    page.goto(server.url)
    page.wait_for_selector("body[data-ready='true']")
    page.select_option("#model", "gpt")
    assert page.is_visible("#gpt-controls") and not page.is_visible("#mt-controls")
    assert page.text_content("#run") == "Generate"
    page.fill("#input", "The dog")
    page.fill("#max-tokens", "5")
    page.fill("#seed", "7")
    page.fill("#temperature", "0.7")
    page.click("#run")
    page.wait_for_selector("#viewer:not([hidden])")
    assert page.text_content("#output").startswith("The dog")
    page.wait_for_selector("#heatmap[data-drawn='self/1/0']")
    assert page.evaluate(PAINTED) > 500
    assert page.locator("#query-tokens .tok").count() == int(page.get_attribute("#heatmap", "data-rows"))
    page.screenshot(path=str(tmp_path / "serve_gpt.png"), full_page=True)
    page.fill("#temperature", "0")
    page.click("#run")
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error").startswith("temperature must be in")
