"""The biorel serve page (index.html) in headless Chromium.

Most tests serve the page's static files from a small local server and answer
its API calls with Playwright routes, so they run without a model. The last
test is end to end: it starts ``biorel serve`` with the shipped default model."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest

from .browser import Page, chromium, need_browser, screenshot, static_server
from .fixtures import pred_doc


@pytest.fixture(scope="module")
def browser():
    need_browser()
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    p = Page(browser, height=1000)
    yield p
    assert p.dialogs == []
    p.close()


@pytest.fixture(scope="module")
def site():
    with static_server() as url:
        yield url


RESULT = {"model": {"name": "test-model"}, "documents": [pred_doc().to_dict()]}


class FakeApi:
    """Playwright routes standing in for biorel serve's API; records what the page asked."""

    def __init__(self, pg, *, fail: dict | None = None):
        self.calls: list[tuple[str, dict, str | None]] = []
        self.fail = fail
        pg.route("**/v1/**", self.handle)

    def handle(self, route):
        req = route.request
        url = urlparse(req.url)
        self.calls.append((url.path, parse_qs(url.query), req.post_data))
        if url.path == "/v1/models":
            return route.fulfill(status=200, content_type="application/json", body=json.dumps({"models": [{"name": "test-model"}]}))
        if self.fail is not None:
            return route.fulfill(status=self.fail["status"], content_type="application/json", body=json.dumps({"error": self.fail}))
        output = parse_qs(url.query).get("output", ["json"])[0]
        if output == "bioc-xml":
            return route.fulfill(status=200, content_type="application/xml", body="<collection><source>biorel</source></collection>")
        return route.fulfill(status=200, content_type="application/json", body=json.dumps(RESULT))


def test_paste_extract_click(page, site):
    pg = page.page
    api = FakeApi(pg)
    page.open(site)
    assert pg.locator("#bv-model").inner_text() == "model: test-model"
    pg.click("#bv-sample")
    assert "cisplatin" in pg.input_value("#bv-input")
    pg.click("#bv-extract")
    pg.wait_for_selector("tr.bv-rel")
    path, _, body = api.calls[-1]
    sent = json.loads(body)
    assert path == "/v1/extract" and sent["threshold"] == 0.05 and sent["evidence"] is True and "cisplatin" in sent["text"]
    assert sent["evidence_method"] == "auto"  # the evidence menu's default: the model's attention
    # the page starts at threshold 0.5: r1 (0.9) and r2 (0.6), not r3 (0.2)
    assert pg.locator("tr.bv-rel").count() == 2
    assert "1 document, 5 mentions, 3 relations" in pg.locator("#bv-status").inner_text()
    assert sorted(set(pg.locator(".bv-legend .bv-chip").all_inner_texts()))[:2] == ["Chemical", "Disease"]
    pg.click("tr.bv-rel[data-rel-id=r1]")
    assert pg.locator(".bv-arg-head").all_inner_texts() == ["Cisplatin"]
    assert pg.locator(".bv-ev").count() > 0 and pg.locator(".bv-attr").count() == 2
    assert "Evidence (1 sentence)" in pg.locator(".bv-details").inner_text()
    pg.eval_on_selector(".bv-threshold", "(e) => { e.value = '0.1'; e.dispatchEvent(new Event('input')); }")
    assert pg.locator("tr.bv-rel").count() == 3
    assert page.errors == []


def test_evidence_menu(page, site):
    """The evidence menu sets what the page asks for: occlusion (faithful) or no evidence at all."""
    pg = page.page
    api = FakeApi(pg)
    page.open(site)
    pg.fill("#bv-input", "Cisplatin caused nausea.")
    pg.select_option("#bv-evidence", "occlusion")
    pg.click("#bv-extract")
    pg.wait_for_selector("tr.bv-rel")
    sent = json.loads(api.calls[-1][2])
    assert sent["evidence"] is True and sent["evidence_method"] == "occlusion"
    pg.select_option("#bv-evidence", "off")
    before = len(api.calls)
    pg.click("#bv-extract")
    for _ in range(50):  # the routed answer arrives within a few event-loop turns
        if len(api.calls) > before:
            break
        pg.wait_for_timeout(100)
    assert len(api.calls) == before + 1
    sent = json.loads(api.calls[-1][2])
    assert sent["evidence"] is False and "evidence_method" not in sent
    assert page.errors == []


def test_downloads(page, site, tmp_path):
    pg = page.page
    api = FakeApi(pg)
    page.open(site)
    pg.fill("#bv-input", "Cisplatin caused nausea.")
    pg.click("#bv-extract")
    pg.wait_for_selector("tr.bv-rel")
    with pg.expect_download() as dl:
        pg.click("button[data-download=json]")
    saved = tmp_path / "r.json"
    dl.value.save_as(saved)
    assert json.loads(saved.read_text())["documents"][0]["id"] == "d1"
    with pg.expect_download() as dl:
        pg.click("button[data-download=bioc-xml]")
    assert dl.value.suggested_filename == "biorel-result.bioc.xml"
    path, query, body = api.calls[-1]
    assert path == "/v1/extract/text" and query["output"] == ["bioc-xml"] and query["split"] == ["file"] and body == "Cisplatin caused nausea."
    assert page.errors == []


def test_file_goes_to_its_format(page, site):
    pg = page.page
    api = FakeApi(pg)
    page.open(site)
    pubtator = "1|t|Cisplatin and nausea.\n1|a|More text.\n\n"
    pg.set_input_files("#bv-file", files=[{"name": "in.PubTator.txt", "mimeType": "text/plain", "buffer": pubtator.encode()}])
    pg.wait_for_selector("tr.bv-rel")
    path, query, body = api.calls[-1]
    assert path == "/v1/extract/pubtator" and query["output"] == ["json"] and query["evidence"] == ["true"] and body == pubtator
    assert query["evidence_method"] == ["auto"]
    for name, fmt in [("a.bioc.xml", "bioc-xml"), ("b.json", "bioc-json"), ("c.jsonl", "jsonl"), ("d.txt", "text"), ("e.txt", "pubtator")]:
        head = "9|t|x" if name == "e.txt" else "plain words"
        assert pg.evaluate("([n, h]) => BiorelView.formatForFile(n, h)", [name, head]) == fmt
    assert page.errors == []


def test_server_errors_are_readable(page, site):
    pg = page.page
    FakeApi(pg, fail={"code": "E503", "message": "Text is too long: 2000000 characters, the limit is 1000000.", "status": 413})
    page.open(site)
    pg.fill("#bv-input", "x")
    pg.click("#bv-extract")
    box = pg.locator("#bv-error")
    box.wait_for(state="visible")
    assert box.inner_text() == "E503: Text is too long: 2000000 characters, the limit is 1000000. (HTTP 413)"
    # a reader's error names where the body is wrong
    pg.unroute("**/v1/**")
    FakeApi(pg, fail={"code": "E021", "message": "Malformed PubTator line: x.", "status": 400, "location": {"source": "body", "line": 3}})
    pg.click("#bv-extract")
    pg.wait_for_function("document.getElementById('bv-error').textContent.includes('E021')")
    assert box.inner_text().endswith("(HTTP 400)\nat source body, line 3")
    pg.fill("#bv-input", "   ")
    pg.click("#bv-extract")
    assert "Paste some text first" in box.inner_text()


def test_unreachable_server(page, site):
    pg = page.page
    page.open(site)  # no API routes: the static server answers 404 with HTML
    pg.fill("#bv-input", "Cisplatin.")
    pg.click("#bv-extract")
    box = pg.locator("#bv-error")
    box.wait_for(state="visible")
    assert "(HTTP 501)" in box.inner_text() or "(HTTP 404)" in box.inner_text()


# ---- end to end with biorel serve ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"biorel serve exited with {proc.returncode}: {proc.stderr.read()[-3000:] if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url + "readyz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("biorel serve did not become ready")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("biorel.serve") is None, reason="biorel.serve does not exist yet")
def test_end_to_end_with_biorel_serve(browser, tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "HOME": str(tmp_path)}
    cmd = [os.path.join(os.path.dirname(sys.executable), "biorel"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _wait_ready(url, proc)
        page = Page(browser, height=1050)
        pg = page.page
        page.open(url)
        pg.click("#bv-sample")
        pg.click("#bv-extract")
        pg.wait_for_selector(".bv-text .bv-m", timeout=120_000)
        assert pg.locator("#bv-error").is_hidden(), pg.locator("#bv-error").inner_text()
        types = set(pg.locator(".bv-legend .bv-chip").all_inner_texts())
        assert {"Chemical", "Disease"} <= types
        pg.eval_on_selector(".bv-threshold", "(e) => { e.value = '0.05'; e.dispatchEvent(new Event('input')); }")
        rows = pg.locator("tr.bv-rel")
        assert rows.count() > 0
        rows.first.click()
        assert pg.locator(".bv-arg-head").count() > 0 and pg.locator(".bv-arg-tail").count() > 0
        assert pg.locator(".bv-ev").count() > 0, "the first relation carries no evidence"
        assert "Evidence (" in pg.locator(".bv-details").inner_text()
        pg.wait_for_timeout(100)
        screenshot(pg, "serve-page.png")
        assert page.errors == []
        page.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
