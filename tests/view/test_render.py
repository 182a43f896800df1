"""render_view / build_view: statuses and counts equal to biorel's scorers, escaping, files, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from biorel import io
from biorel.errors import BiorelError, Diagnostics
from biorel.evaluation import evaluate
from biorel.types import Document, pair_examples
from biorel.view import build_view, page_html, render_view, script_json, write_view

from .fixtures import HOSTILE, TEXT, gold_doc, hostile_doc, pred_doc

DATA = re.compile(r"<script type='application/json' id='biorel-data'>(.*?)</script>", re.S)


def embedded(page: str) -> dict:
    m = DATA.search(page)
    assert m is not None
    return json.loads(m.group(1))


def mention_rows(doc: dict) -> dict[str, list]:
    return {row[0]: row for row in doc["mentions"]}


def statuses(doc: dict) -> tuple[dict[str, str], dict[str, str]]:
    ms = {row[0]: row[3] for row in doc["mentions"]}
    rs = {r["id"]: r.get("status") for r in doc["relations"]}
    return ms, rs


def scorer_total(protocol: str, pred: list[Document], gold: list[Document], **options) -> list[int]:
    report = evaluate(pair_examples(pred, gold), protocol, n_resamples=0, lenient=True, diagnostics=Diagnostics(), **options)
    return [report.micro.tp, report.micro.fp, report.micro.fn]


# ---- known answers ---------------------------------------------------------------------------


def test_known_statuses_e2e():
    data = build_view([pred_doc()], [gold_doc()], "e2e").to_dict()
    (doc,) = data["documents"]
    ms, rs = statuses(doc)
    # mentions, strict NER: the duplicate p5 shares p1's status
    assert {k: ms[k] for k in ("p1", "p2", "p3", "p4", "p5")} == {"p1": "tp", "p2": "fp", "p3": "tp", "p4": "fp", "p5": "tp"}
    assert ms["gold:g2"] == "fn" and ms["gold:g4"] == "fn"
    assert "gold:g1" in ms and ms["gold:g1"] == "ctx"  # named by the missed relation D1->D2, itself found
    assert "gold:g3" not in ms  # found, and no missed relation names it
    assert rs == {"r1": "tp", "r2": "fp", "r3": "fp", "gold:R1": "fn"}
    assert doc["counts"] == {"mentions": [2, 2, 2], "relations": [1, 2, 1]}
    assert data["scoring"]["mentions"]["total"] == [2, 2, 2]
    assert data["scoring"]["mentions"]["per_type"] == {"Chemical": [1, 1, 1], "Disease": [1, 1, 1]}
    assert data["scoring"]["relations"]["total"] == [1, 2, 1]
    assert data["scoring"]["relations"]["protocol"] == "biorel.RE.EndToEnd.v1"
    # and these are the scorer's own counts
    assert scorer_total("ner", [pred_doc()], [gold_doc()]) == [2, 2, 2]
    assert scorer_total("e2e", [pred_doc()], [gold_doc()]) == [1, 2, 1]


def test_missed_relation_names_gold_entities():
    (doc,) = build_view([pred_doc()], [gold_doc()], "e2e").to_dict()["documents"]
    missed = next(r for r in doc["relations"] if r["id"] == "gold:R1")
    assert (missed["head"], missed["tail"], missed["gold"]) == ("gold:D1", "gold:D2", True)
    ents = {e["id"]: e for e in doc["entities"]}
    assert ents["gold:D1"]["mention_ids"] == ["gold:g1"] and ents["gold:D2"]["mention_ids"] == ["gold:g2"]


@pytest.mark.parametrize(
    ("protocol", "options", "mentions", "relations"),
    [
        ("concept", {}, [2, 2, 2], [1, 2, 1]),
        ("cid", {}, [2, 2, 2], [1, 2, 1]),
        ("e2e", {}, [2, 2, 2], [1, 2, 1]),
        ("ner", {}, [2, 2, 2], None),
    ],
)
def test_counts_equal_the_scorer(protocol, options, mentions, relations):
    data = build_view([pred_doc()], [gold_doc()], protocol).to_dict()
    assert data["scoring"]["mentions"]["total"] == mentions == scorer_total("ner", [pred_doc()], [gold_doc()])
    if relations is None:
        assert "relations" not in data["scoring"]
        assert all("status" not in r for r in data["documents"][0]["relations"])
    else:
        assert data["scoring"]["relations"]["total"] == relations == scorer_total(protocol, [pred_doc()], [gold_doc()])


def test_overlap_matching():
    data = build_view([pred_doc()], [gold_doc()], "e2e", ner_match="overlap").to_dict()
    ms, _ = statuses(data["documents"][0])
    assert ms["p2"] == "tp"  # 'failure' overlaps 'renal failure'
    assert ms["gold:g2"] == "ctx"  # no longer missed, only named by the missed relation D1->D2
    assert data["scoring"]["mentions"]["total"] == [3, 1, 1] == scorer_total("ner", [pred_doc()], [gold_doc()], match="overlap")


def test_relation_types_a_protocol_ignores():
    pred = pred_doc()
    pred.relations.append(type(pred.relations[0])("r9", "Treats", "D9", "D3", directed=True, score=0.7))
    data = build_view([pred], [gold_doc()], "cid").to_dict()
    _, rs = statuses(data["documents"][0])
    assert rs["r9"] == "ignored"
    assert data["scoring"]["relations"]["total"] == [1, 2, 1] == scorer_total("cid", [pred], [gold_doc()])


def test_missing_prediction_is_all_missed_and_no_gold_means_no_statuses():
    other = gold_doc()
    other.id = "d2"
    data = build_view([pred_doc()], [gold_doc(), other], "e2e").to_dict()
    assert [d["id"] for d in data["documents"]] == ["d1", "d2"]
    assert data["documents"][1]["counts"] == {"mentions": [0, 0, 4], "relations": [0, 0, 2]}
    assert data["scoring"]["relations"]["total"] == [1, 2, 3]
    plain = build_view([pred_doc()]).to_dict()
    assert plain["scoring"] is None and "counts" not in plain["documents"][0]
    assert all(len(row) < 4 or row[3] is None for row in plain["documents"][0]["mentions"])


def test_compact_rows():
    (doc,) = build_view([pred_doc()]).to_dict()["documents"]
    rows = mention_rows(doc)
    assert rows["p1"] == ["p1", [[0, 9]], "Chemical", None, 0.99]  # text left out: the page rebuilds it
    assert doc["relations"][0]["evidence"] == [[0, len(TEXT)]]
    assert doc["relations"][0]["infons"]["attributions"] == [[0, 9, 0.9], [10, 16, 0.5]]


def test_refuses_protocols_that_do_not_score_documents():
    with pytest.raises(BiorelError) as e:
        build_view([pred_doc()], [gold_doc()], "sentence")
    assert e.value.code == "E521"
    with pytest.raises(BiorelError) as e:
        build_view([pred_doc()], [gold_doc()], "no-such-protocol")
    assert e.value.code == "E001"


def test_prediction_without_gold_document_is_an_error():
    stray = pred_doc()
    stray.id = "zz"
    with pytest.raises(BiorelError) as e:
        build_view([pred_doc(), stray], [gold_doc()])
    assert e.value.code == "E018"


# ---- escaping --------------------------------------------------------------------------------


def test_hostile_text_cannot_leave_the_data_element():
    page = render_view([hostile_doc(), pred_doc()], title=HOSTILE)
    # exactly our own two script elements are closed, nothing else
    assert page.count("</script>") == 2
    assert "<img" not in page and "<!--" not in page
    assert "\u2028" not in DATA.search(page).group(1)
    data = embedded(page)
    assert data["documents"][0]["passages"][0]["text"] == "Title " + HOSTILE + " end."
    assert data["documents"][0]["id"] == 'evil"</script><b>'
    assert data["title"] == HOSTILE
    assert "<title>&lt;/script&gt;&lt;img" in page


def test_script_json_round_trips():
    value = {"a": "</script><!-- & \u2028\u2029 ü", "b": [1, 2.5, None]}
    text = script_json(value)
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == value


def test_assets_are_inlined_and_nothing_is_fetched():
    page = page_html(build_view([pred_doc()]))
    assert "class DocumentView" in page and ".bv-textwrap" in page
    assert "<link" not in page and " src=" not in page and "https://" not in page
    assert re.findall(r"http://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"]  # the SVG namespace, not fetched
    assert "default-src 'none'" in page


# ---- files -----------------------------------------------------------------------------------


def _write_pair(tmp: Path) -> tuple[Path, Path]:
    pred, gold = tmp / "pred.jsonl", tmp / "gold.jsonl"
    io.write([pred_doc()], pred)
    io.write([gold_doc()], gold)
    return pred, gold


def test_write_view(tmp_path):
    pred, gold = _write_pair(tmp_path)
    out = tmp_path / "out" / "page.html"
    summary = write_view(pred, out, gold=gold)
    assert summary.n_documents == 1 and summary.n_bytes == out.stat().st_size
    assert summary.scoring["relations"]["total"] == [1, 2, 1]
    assert embedded(out.read_text(encoding="utf-8"))["documents"][0]["counts"] == {"mentions": [2, 2, 2], "relations": [1, 2, 1]}


def test_write_is_atomic(tmp_path, monkeypatch):
    pred, gold = _write_pair(tmp_path)
    out = tmp_path / "page.html"
    out.write_text("old page", encoding="utf-8")
    import biorel.view as view

    def broken(data):
        raise RuntimeError("boom")

    monkeypatch.setattr(view, "page_html", broken)
    with pytest.raises(RuntimeError):
        write_view(pred, out, gold=gold)
    assert out.read_text(encoding="utf-8") == "old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gold.jsonl", "page.html", "pred.jsonl"]


def test_missing_inputs(tmp_path):
    pred, _ = _write_pair(tmp_path)
    with pytest.raises(BiorelError) as e:
        write_view(tmp_path / "nope.jsonl", tmp_path / "o.html")
    assert e.value.code == "E520" and "nope.jsonl" in str(e.value)
    with pytest.raises(BiorelError) as e:
        write_view(pred, tmp_path / "o.html", gold=tmp_path / "gold-missing.txt")
    assert e.value.code == "E520"
    assert not (tmp_path / "o.html").exists()


def test_unwritable_output(tmp_path):
    pred, _ = _write_pair(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BiorelError) as e:
        write_view(pred, blocker / "page.html")
    assert e.value.code in ("E522", "E051")


def test_bad_references_are_counted_as_the_lenient_scorer_counts_them():
    pred = pred_doc()
    pred.relations.append(type(pred.relations[0])("bad", "CID", "D1", "NOPE", directed=True, score=0.5))
    data = build_view([pred], [gold_doc()], "e2e").to_dict()
    _, rs = statuses(data["documents"][0])
    assert rs["bad"] == "fp"
    assert data["scoring"]["relations"]["total"] == [1, 3, 1] == scorer_total("e2e", [pred], [gold_doc()])
    assert len(data["notes"]) == 1 and "E202" in data["notes"][0] and "NOPE" in data["notes"][0]
