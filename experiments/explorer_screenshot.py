"""Screenshot of the web explorer (`ronbun serve`) translating the demo sentence, for the README:
docs/figures/web_explorer.png.  Part of `make figures`; needs the `make demo` checkpoint, Playwright for Python
(a dev dependency) and Debian's chromium with a font that has the title's kanji
(`apt-get install chromium fonts-ipafont-gothic`), and skips with a message otherwise.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import threading
from pathlib import Path

CHECKPOINT = Path("runs/demo/averaged")
OUT = Path("docs/figures/web_explorer.png")
SENTENCE = "I know that the woman reads the book."
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> int:
    chromium = shutil.which("chromium")
    if chromium is None or not (CHECKPOINT / "config.json").is_file():
        print(f"explorer screenshot skipped: needs chromium and {CHECKPOINT} (make demo)")
        return 0
    from playwright.sync_api import sync_playwright

    from ronbun.serve.app import RonbunHTTPServer, ServeApp

    server = RonbunHTTPServer(("127.0.0.1", 0), ServeApp.from_checkpoints([CHECKPOINT]))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1200, "height": 900},
            )  # fmt: skip
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(url)
            page.wait_for_selector("body[data-ready='true']")
            page.fill("#input", SENTENCE)
            page.click("#run")
            page.wait_for_selector("#viewer:not([hidden])")
            page.select_option("#kind", "cross")
            page.select_option("#layer", "mean")
            page.select_option("#head", "mean")
            page.wait_for_selector("#heatmap[data-drawn='cross/mean/mean']")
            page.hover("#query-tokens .tok >> nth=7")
            page.screenshot(path=str(OUT), full_page=True)
            context.close()
    finally:
        server.shutdown()
    print(f"  {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
