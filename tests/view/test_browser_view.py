"""biorel view pages in headless Chromium: rendering, statuses, slider, clicking, search, hostile text."""

from __future__ import annotations

import copy

import pytest

from biorel.view import render_view

from .browser import Page, chromium, need_browser, screenshot
from .fixtures import HOSTILE, gold_doc, hostile_doc, pred_doc


@pytest.fixture(scope="module")
def browser():
    need_browser()
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    p = Page(browser)
    yield p
    assert p.errors == [] and p.dialogs == []
    p.close()


def open_page(page: Page, tmp_path, html: str, name: str = "page.html") -> None:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    page.open(path.as_uri())


def seg_status(pg, word: str) -> str:
    return pg.locator(".bv-seg", has_text=word).first.get_attribute("data-status")


def test_gold_page_statuses_and_counts(page, tmp_path):
    open_page(page, tmp_path, render_view([pred_doc()], [gold_doc()], "e2e"))
    pg = page.page
    row = pg.locator(".bv-summary tr[data-what=mentions] td.bv-n")
    assert row.all_inner_texts()[:3] == ["2", "2", "2"]
    assert pg.locator(".bv-summary tr[data-what=relations] td.bv-n").all_inner_texts()[:3] == ["1", "2", "1"]
    head = pg.locator(".bv-dochead .bv-counts[data-what=relations] .bv-pill")
    assert head.all_inner_texts() == ["TP 1", "FP 2", "FN 1"]
    assert seg_status(pg, "Cisplatin") == "tp tp"  # p1 and its duplicate p5
    assert seg_status(pg, "rats") == "fp"
    assert seg_status(pg, "aspirin") == "fn"
    assert "bv-missed" in pg.locator(".bv-seg", has_text="aspirin").first.get_attribute("class")
    assert seg_status(pg, "renal") == "fn"
    assert seg_status(pg, "failure") == "fn fp"  # gold 'renal failure' (outer) missed, predicted 'failure' wrong
    # the relation table: corpus pages start at threshold 0, so all four rows show
    rows = pg.locator("tr.bv-rel")
    assert rows.count() == 4
    assert sorted(pg.locator("tr.bv-rel .bv-pill").all_inner_texts()) == ["fn", "fp", "fp", "tp"]


def test_slider_and_click(page, tmp_path):
    open_page(page, tmp_path, render_view([pred_doc()], [gold_doc()], "e2e"))
    pg = page.page
    pg.eval_on_selector(".bv-threshold", "(e) => { e.value = '0.5'; e.dispatchEvent(new Event('input')); }")
    assert pg.locator("tr.bv-rel").count() == 3  # r3 (0.2) hidden; the missed gold relation has no score
    assert pg.locator(".bv-shown").inner_text() == "3 of 4 relations shown"
    pg.click("tr.bv-rel[data-rel-id=r1]")
    assert pg.locator("tr.bv-rel[data-rel-id=r1]").get_attribute("aria-selected") == "true"
    assert pg.locator(".bv-arg-head").all_inner_texts() == ["Cisplatin"]
    assert pg.locator(".bv-arg-tail").all_inner_texts() == ["nausea"]
    assert pg.locator(".bv-ev").count() > 5  # the evidence sentence is shaded
    attr = pg.locator(".bv-attr")
    assert [attr.nth(i).get_attribute("data-weight") for i in range(attr.count())] == ["0.900", "0.500"]
    assert pg.locator("svg.bv-arcs path.bv-arc-selected").count() == 1
    details = pg.locator(".bv-details").inner_text()
    assert "Evidence (1 sentence)" in details and "Cisplatin (0.90)" in details
    screenshot(pg, "view-known-answer.png")
    # clicking it again clears; the missed gold relation highlights gold mentions
    pg.click("tr.bv-rel[data-rel-id=r1]")
    assert pg.locator(".bv-arg-head").count() == 0
    pg.click("tr.bv-rel[data-rel-id='gold:R1']")
    assert pg.locator(".bv-arg-tail").all_inner_texts() == ["renal ", "failure"]
    # a mention: its details, and the relations it takes part in
    pg.locator(".bv-seg", has_text="rats").first.click()
    assert "false positive" in pg.locator(".bv-details").inner_text()
    assert pg.locator("tr.bv-involved").count() == 0  # r3 is below the threshold
    pg.eval_on_selector(".bv-threshold", "(e) => { e.value = '0'; e.dispatchEvent(new Event('input')); }")
    assert pg.locator("tr.bv-involved").count() == 1  # the focus stays; r3 is shown now
    pg.locator(".bv-seg", has_text="rats").first.click()  # a second click clears it
    assert pg.locator("tr.bv-involved").count() == 0


def test_hostile_text_is_text(page, tmp_path):
    open_page(page, tmp_path, render_view([hostile_doc()], title=HOSTILE))
    pg = page.page
    assert pg.evaluate("window.__pwned") is None
    assert pg.locator("img").count() == 0 and pg.locator(".bv-text b, .bv-text script").count() == 0
    assert HOSTILE.replace("\u2028", "") in pg.locator(".bv-text").inner_text().replace("\u2028", "")
    assert pg.locator("td.bv-reltype").inner_text() == "<img src=y onerror=alert(1)>"
    pg.click("tr.bv-rel")
    assert pg.evaluate("window.__pwned") is None


def test_document_list_search_and_link(page, tmp_path):
    docs = []
    for n in range(30):
        d = copy.deepcopy(pred_doc())
        d.id = f"doc{n:02d}"
        docs.append(d)
    docs.append(hostile_doc())
    open_page(page, tmp_path, render_view(docs))
    pg = page.page
    assert pg.locator(".bv-docitem").count() == 31
    pg.fill(".bv-search", "evil")
    assert pg.locator(".bv-docitem").count() == 1
    pg.click(".bv-docitem")
    assert pg.locator(".bv-docid").inner_text() == 'Document evil"</script><b>'
    pg.fill(".bv-search", "doc2")
    assert pg.locator(".bv-docitem").all_inner_texts()[0].startswith("doc20")
    assert pg.locator(".bv-docitem").count() == 10
    # a link to a document opens it
    pg.goto((tmp_path / "page.html").as_uri() + "#doc=doc17")
    pg.wait_for_selector("body[data-ready=true]")
    assert pg.locator(".bv-docid").inner_text() == "Document doc17"


def test_overlapping_and_discontinuous_mentions(page, tmp_path):
    from biorel.types import Document, Entity, Mention, Passage, Relation

    text = "breast and ovarian cancer were seen"
    doc = Document(
        "nest",
        passages=[Passage(0, text)],
        mentions=[
            Mention("a", ((0, 6), (19, 25)), "breast cancer", "Disease"),
            Mention("b", ((11, 25),), "ovarian cancer", "Disease"),
            Mention("c", ((11, 18),), "ovarian", "Organ"),
        ],
        entities=[Entity("A", "Disease", ("a",)), Entity("B", "Disease", ("b",))],
        relations=[Relation("r", "Assoc", "a", "c", level="mention", score=0.8)],
    )
    open_page(page, tmp_path, render_view([doc]))
    pg = page.page
    segs = pg.locator(".bv-text .bv-seg")
    assert "".join(segs.all_inner_texts()) == text
    assert [segs.nth(i).get_attribute("data-m") for i in range(segs.count())] == ["0", None, "1 2", "1", "1 0", None]  # outer first
    pg.click("tr.bv-rel")
    assert pg.locator(".bv-arg-head").all_inner_texts() == ["breast", "cancer"]
    assert pg.locator(".bv-arg-tail").all_inner_texts() == ["ovarian"]
