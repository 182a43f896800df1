"""End to end on real data: the shipped model on five BC5CDR test abstracts, ``biorel view --gold``,
and the page in headless Chromium shows exactly the scorer's counts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from biorel import io
from biorel.evaluation import evaluate
from biorel.types import pair_examples

from .browser import Page, chromium, need_browser, screenshot

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

IDS = ["6893265", "1522360", "11105626", "2818777", "24897009"]


def _biorel(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("biorel")
    res = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def test_view_gold_page_on_bc5cdr(mirror, tmp_path):
    need_browser()
    gold_all = io.load(mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt", unmentioned="entity")
    gold = [d for d in gold_all if d.id in IDS]
    assert len(gold) == len(IDS)
    gold_path, pred_path, page_path = tmp_path / "gold.PubTator.txt", tmp_path / "pred.jsonl", tmp_path / "view.html"
    io.write(gold, gold_path)
    _biorel("extract", str(gold_path), "-o", str(pred_path), "--no-progress", "--threads", "1")
    out = _biorel("view", str(pred_path), "--gold", str(gold_path), "-o", str(page_path), "--title", "BC5CDR test: bc5cdr-minilm vs gold")
    pred = io.load(pred_path)
    ner = evaluate(pair_examples(pred, io.load(gold_path, unmentioned="entity")), "ner", n_resamples=0)
    e2e = evaluate(pair_examples(pred, io.load(gold_path, unmentioned="entity")), "e2e", n_resamples=0)
    assert f"TP {ner.micro.tp}  FP {ner.micro.fp}  FN {ner.micro.fn}" in out.stdout
    assert f"TP {e2e.micro.tp}  FP {e2e.micro.fp}  FN {e2e.micro.fn}" in out.stdout
    with chromium() as browser:
        page = Page(browser, width=1280, height=860)
        pg = page.page
        page.open(page_path.as_uri() + "#doc=11105626")
        for what, rep in (("mentions", ner), ("relations", e2e)):
            cells = pg.locator(f".bv-summary tr[data-what={what}] td.bv-n").all_inner_texts()[:3]
            assert cells == [str(rep.micro.tp), str(rep.micro.fp), str(rep.micro.fn)]
        # per document: the pills of the list add up to the totals
        pills = pg.locator(".bv-docitem .bv-counts[data-what=relations] .bv-pill").all_inner_texts()
        sums = [sum(int(p.split()[1]) for p in pills if p.startswith(k)) for k in ("TP", "FP", "FN")]
        assert sums == [e2e.micro.tp, e2e.micro.fp, e2e.micro.fn]
        assert pg.locator(".bv-docid").inner_text() == "Document 11105626"
        tp_rows = pg.locator("tr.bv-rel.bv-st-tp")
        assert tp_rows.count() > 0
        tp_rows.first.click()
        assert pg.locator(".bv-arg-head").count() > 0 and pg.locator(".bv-arg-tail").count() > 0
        assert pg.locator("svg.bv-arcs path.bv-arc-selected").count() == 1
        pg.wait_for_timeout(100)
        shot = screenshot(pg, "view-bc5cdr-gold.png")
        if shot is not None:
            assert shot.stat().st_size < 300_000
        assert page.errors == [] and page.dialogs == []
        page.close()
