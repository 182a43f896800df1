"""Headless Chromium for the viewer tests: Debian's /usr/bin/chromium through
Playwright (browsers are never downloaded), and a small static server for the
serve page's files."""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
WEB = Path(str(files("biorel") / "data" / "web"))
#: set to a folder to keep screenshots (docs/img holds the ones in docs/view.md)
SCREENSHOTS = os.environ.get("BIOREL_VIEW_SCREENSHOTS")


def need_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium); Playwright's own browsers are never downloaded")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install biorel[dev])")


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


class Page:
    """A page that records script errors and refuses dialogs (an alert would be an injection)."""

    def __init__(self, browser, width: int = 1280, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

        def dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=20_000)

    def close(self) -> None:
        self.context.close()


def screenshot(page, name: str) -> Path | None:
    if not SCREENSHOTS:
        return None
    out = Path(SCREENSHOTS) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=False)
    return out


class _StaticHandler(SimpleHTTPRequestHandler):
    """``/`` is index.html and ``/static/<name>`` the other files, as biorel serve lays them out."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        name = "index.html" if path == "/" else path.removeprefix("/static/")
        return str(WEB / name) if "/" not in name else str(WEB / "__none__")

    def log_message(self, *args) -> None:
        pass


@contextmanager
def static_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StaticHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
