"""Issue 12, reading half: files written by other tools, one test per class of
problem, on real files where the mirror has one and otherwise on fixtures in
tests/io/data written by hand to the public formats (BioC DTD/JSON, PubTator3
BioC JSON export shapes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biorel import io
from biorel.errors import FormatError
from biorel.io.bioc import json as bjson
from biorel.io.bioc import xml as bxml
from biorel.types import Document, NaryRelation, Passage

DATA = Path(__file__).parent / "data"


# 1. key order -----------------------------------------------------------------


@pytest.mark.realdata
def test_sorted_keys_read_like_the_official_order(mirror, tmp_path):
    src = mirror / "biored" / "Dev.BioC.JSON"
    tree = json.loads(src.read_text(encoding="utf-8"))
    (tmp_path / "sorted.json").write_text(json.dumps(tree, sort_keys=True), encoding="utf-8")
    assert list(json.loads((tmp_path / "sorted.json").read_text()))[:2] == ["date", "documents"]
    official = io.load(src, "bioc-json")
    assert len(official) == 100
    assert io.load(tmp_path / "sorted.json") == official  # a path: first pass finds key/source/infons
    assert bjson.loads(json.dumps(tree, sort_keys=True)) == official  # a stream: documents buffered


# 2. + 3. PubTator3 / PubTator Central shapes ----------------------------------------


def test_pubtator3_document_list():
    docs = io.load(DATA / "pubtator3_docs.bioc.json")
    assert [d.id for d in docs] == ["9000001", "9000002"]
    d = docs[0]
    # repeated annotation ids across passages get deterministic unique ids; the file id is kept
    assert [m.id for m in d.mentions] == ["1", "2", "1~2", "2~2"]
    assert d.mentions[2].infons["bioc.id"] == "1"
    # "identifier": null is "no id" (kept for writing back); ';' lists split and are recorded
    assert d.mentions[3].concept_ids == () and d.mentions[3].infons["identifier"] is None
    assert d.mentions[1].concept_ids == ("7157", "22059") and d.mentions[1].infons["pubtator.ids_separator"] == ";"
    # non-string infon values keep their JSON type
    assert d.mentions[0].infons["valid"] is True and d.mentions[0].infons["normalized"] == [1241]
    # role1/role2 infons (objects or strings) are the two arguments, in that order
    assert [(r.id, r.type, r.head, r.tail) for r in d.relations] == [
        ("R1", "Association", "MESH:D001241", "7157"),
        ("R2", "Negative_Correlation", "MESH:D001241", "22059"),
    ]
    assert d.metadata["bioc.extra"] == {"_id": "9000001", "pmid": 9000001, "journal": "J Test. 2024"}


def test_pubtator3_round_trip_restores_ids_nulls_and_types(tmp_path):
    docs = io.load(DATA / "pubtator3_docs.bioc.json")
    out = tmp_path / "out.json"
    io.write(docs, out)
    text = out.read_text(encoding="utf-8")
    written = json.loads(text)["documents"][0]
    ann = written["passages"][1]["annotations"]
    assert [a["id"] for a in ann] == ["1", "2"] and ann[1]["infons"]["identifier"] is None
    assert written["passages"][0]["annotations"][0]["infons"]["valid"] is True
    assert written["relations"][0]["infons"]["role1"] == {"type": "Chemical", "identifier": "MESH:D001241"}
    assert written["pmid"] == 9000001
    assert "pubtator.ids" not in text and "bioc.id" not in text and "biorel:json" not in text
    assert io.load(out) == docs
    for mod in (bxml, bjson):  # and through both BioC forms
        assert mod.loads(mod.dumps(docs)) == docs


def test_bare_document_and_one_document_per_line(tmp_path):
    tree = json.loads((DATA / "pubtator3_docs.bioc.json").read_text(encoding="utf-8"))
    (tmp_path / "one.json").write_text(json.dumps(tree[0]), encoding="utf-8")
    (tmp_path / "lines.json").write_text("\n".join(json.dumps(d) for d in tree) + "\n", encoding="utf-8")
    (tmp_path / "wrapped.json").write_text(json.dumps({"PubTator3": tree}), encoding="utf-8")
    want = io.load(DATA / "pubtator3_docs.bioc.json")
    assert io.load(tmp_path / "one.json") == want[:1]
    assert io.load(tmp_path / "lines.json") == want
    assert io.load(tmp_path / "wrapped.json", "bioc-json") == want


# 4. BioC v2 --------------------------------------------------------------------------


def test_bioc_v2_attributes():
    (doc,) = io.load(DATA / "bioc_v2.xml")
    assert doc.id == "v2-1" and doc.passages[0].offset == 0 and doc.passages[0].type == "title"
    assert doc.metadata["bioc.collection"] == {"source": "test", "date": "2024-05-01", "key": "bioc.key"}
    assert [(r.head, r.tail, r.infons["bioc.roles"]) for r in doc.relations] == [("A1", "A2", ["agent", "theme"])]
    assert bxml.loads(bxml.dumps([doc])) == [doc]


# 7. BioC -> BioC is the identity; 14. n-ary relations and annotation-only documents ---


def test_sentences_nary_and_annotation_only_round_trip():
    docs = io.load(DATA / "sentences_nary.bioc.xml")
    s1, s2 = docs
    assert s1.relations == []
    assert [(r.id, r.args) for r in s1.nary_relations] == [
        ("C1", (("member", "T1"), ("member", "T2"), ("member", "T3"))),
        ("P1", (("trigger", "T4"),)),
    ]
    assert isinstance(s1.nary_relations[0], NaryRelation) and s1.nary_relations[0].level == "mention"
    assert s1.passages[0].infons["bioc.sentences"][0]["relations"] == ["C1"]
    # annotation-only: no text, the annotation kept
    assert s2.text.strip() == "" and [m.text for m in s2.mentions] == ["diabetes"]
    xml_out = bxml.dumps(docs)
    assert xml_out.count("<sentence>") == 2 and "bioc.sentences" not in xml_out and "bioc.no_text" not in xml_out
    assert '<infon key="type"></infon>' not in xml_out
    assert bxml.loads(xml_out) == docs
    assert bjson.loads(bjson.dumps(docs)) == docs
    from biorel.io import jsonl

    assert jsonl.loads(jsonl.dumps(docs)) == docs


def test_binary_code_never_sees_nary_relations():
    (s1, _) = io.load(DATA / "sentences_nary.bioc.xml")
    assert all(hasattr(r, "head") and hasattr(r, "tail") for r in s1.relations)
    d = Document.from_dict(s1.to_dict())
    assert d.nary_relations == s1.nary_relations and d.relations == []


def test_json_numbers_stay_numbers():
    tree = {
        "source": "s",
        "date": "",
        "key": "",
        "infons": {},
        "documents": [
            {
                "id": "1",
                "infons": {"year": 2020, "score": 0.5},
                "passages": [{"offset": 0, "infons": {"n": 3}, "text": "abc", "annotations": [], "relations": []}],
                "relations": [],
            }
        ],
    }
    docs = bjson.loads(json.dumps(tree))
    assert docs[0].metadata["year"] == 2020 and docs[0].passages[0].infons == {"n": 3}
    back = json.loads(bjson.dumps(docs))["documents"][0]
    assert back["infons"] == {"year": 2020, "score": 0.5} and back["passages"][0]["infons"] == {"n": 3}


# 12. format inference ---------------------------------------------------------------


def test_format_inference_by_content_and_write_defaults(tmp_path):
    docs = [Document("1", [Passage(0, "Aspirin helps.")])]
    io.write(docs, tmp_path / "out.json")
    assert io.detect_format(tmp_path / "out.json").name == "bioc-json" and io.load(tmp_path / "out.json") == docs
    io.write(docs, tmp_path / "out.txt")  # .txt is written as PubTator
    assert (tmp_path / "out.txt").read_text().startswith("1|t|Aspirin helps.")
    assert io.detect_format(tmp_path / "out.txt").name == "pubtator"
    (tmp_path / "raw.txt").write_text("Just some text.\n", encoding="utf-8")
    assert io.detect_format(tmp_path / "raw.txt").name == "text"
    (tmp_path / "doc.dat").write_text(bjson.dumps(docs), encoding="utf-8")
    assert io.detect_format(tmp_path / "doc.dat").name == "bioc-json"
    (tmp_path / "b.xml").write_text(bxml.dumps(docs), encoding="utf-8")
    assert io.detect_format(tmp_path / "b.xml").name == "bioc-xml"
    (tmp_path / "d.json").write_text(json.dumps(json.loads(bjson.dumps(docs))["documents"][0]), encoding="utf-8")
    assert io.detect_format(tmp_path / "d.json").name == "bioc-json" and io.load(tmp_path / "d.json") == docs


# 15. messages ------------------------------------------------------------------------------


def test_e107_names_the_format_once():
    with pytest.raises(FormatError) as e:
        bxml.loads("<corpus/>")
    assert "Not a BioC XML collection" in str(e.value) and "BioC BioC" not in str(e.value)
