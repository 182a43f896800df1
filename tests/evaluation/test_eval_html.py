"""The HTML report: PNG plots written and referenced, and rendered by headless
Chromium (every <img> loaded, the screenshot not blank)."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from biorel.evaluation import evaluate
from biorel.evaluation.html import write_html_report
from biorel.evaluation.plots import precision_recall_curve
from biorel.types import Document, Example, Passage, Relation

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def scored_report():
    rng = np.random.default_rng(0)
    types = ["Association", "Positive_Correlation", "Bind"]
    examples = []
    for i in range(40):
        gold = [Relation(f"g{j}", types[j % 3], f"A{j}", f"B{j}") for j in range(4)]
        pred = []
        for j, g in enumerate(gold):
            if rng.random() < 0.7:  # found, sometimes with the wrong type
                ty = g.type if rng.random() < 0.8 else types[(j + 1) % 3]
                pred.append(Relation(f"p{j}", ty, g.head, g.tail, score=float(rng.uniform(0.4, 1.0))))
        pred.append(Relation("fp", "Bind", "X", "Y", score=float(rng.uniform(0.0, 0.6))))
        examples.append(Example(Document(str(i), [Passage(0, "t")], relations=pred), Document(str(i), [Passage(0, "t")], relations=gold)))
    return evaluate(examples, "concept", n_resamples=200)


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])


def test_pr_curve_values():
    r = scored_report()
    p, rc, th = precision_recall_curve(r)
    assert (np.diff(th) <= 0).all()  # ranked by falling score
    assert rc[-1] == pytest.approx(r.micro.recall) and p[-1] == pytest.approx(r.micro.precision)
    assert precision_recall_curve(evaluate([], "concept")) is None


def test_report_writes_and_references_plots(tmp_path):
    r = scored_report()
    index = write_html_report(r, tmp_path / "rep")
    page = index.read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(page)
    assert sorted(parser.srcs) == ["0-confusion.png", "0-per_type.png", "0-pr_curve.png"]
    for src in parser.srcs:
        data = (index.parent / src).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000
    assert "micro" in page and "95% bootstrap intervals" in page and "biorel.RE.Concept.v1" in page
    assert (index.parent / "report.json").exists()
    # no scores -> no P/R curve; untyped -> no confusion matrix
    plain = evaluate(
        [Example(Document("1", relations=[Relation("r", "x", "A", "B")]), Document("1", relations=[Relation("r", "x", "A", "B")]))],
        "concept",
        typed=False,
        n_resamples=0,
    )
    parser = _Images()
    parser.feed(write_html_report(plain, tmp_path / "plain").read_text(encoding="utf-8"))
    assert parser.srcs == ["0-per_type.png"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHECK = """<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-loaded', imgs.filter(i => i.complete && i.naturalWidth > 0).length);
});
</script></body>"""


def _run(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        "--virtual-time-budget=5000",
    ]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp)})


def test_chromium_renders_the_report(tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    index = write_html_report(scored_report(), tmp_path / "rep")
    # a copy of the page that records, once loaded, how many images loaded
    probe = index.with_name("probe.html")
    probe.write_text(index.read_text(encoding="utf-8").replace("</body>", CHECK), encoding="utf-8")
    dom = _run(browser, tmp_path, "--dump-dom", probe.as_uri())
    assert 'data-images="3"' in dom.stdout and 'data-loaded="3"' in dom.stdout, dom.stderr[-2000:]

    shot = tmp_path / "screenshot.png"
    res = _run(browser, tmp_path, f"--screenshot={shot}", "--window-size=1200,2600", "--hide-scrollbars", index.as_uri())
    assert shot.exists(), res.stderr[-2000:]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)[..., :3]
    non_white = (img < 0.95).any(axis=-1)
    assert non_white.mean() > 0.05  # text, tables and three plots, not a blank page
    # the plots' colours are there: the blue of the precision bars / P-R curve
    blue = (np.abs(img - np.array([0x4C, 0x72, 0xB0]) / 255).max(axis=-1) < 0.06).sum()
    assert blue > 2000
    if os.environ.get("BIOREL_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["BIOREL_KEEP_SCREENSHOT"])
