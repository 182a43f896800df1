from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics, FormatError
from biorel.io import pure
from biorel.types import Document, Mention, Passage, Relation

RECORD = {
    "doc_key": "123",
    "sentences": [["Aspirin", "inhibits", "COX", "-", "1", "."], ["It", "binds", "albumin", "."]],
    "ner": [[[0, 0, "CHEMICAL"], [2, 4, "GENE"]], [[8, 8, "GENE"]]],
    "relations": [[[0, 0, 2, 4, "CPR:4"]], []],
}


def _line(rec=RECORD) -> str:
    return json.dumps(rec) + "\n"


def test_read_global_inclusive_token_spans():
    (doc,) = pure.loads(_line())
    assert doc.id == "123"
    assert doc.text == "Aspirin inhibits COX - 1 . It binds albumin ."
    assert [(p.offset, p.type) for p in doc.passages] == [(0, "sentence"), (27, "sentence")]
    assert [(m.id, m.spans, m.text, m.type) for m in doc.mentions] == [
        ("T1", ((0, 7),), "Aspirin", "CHEMICAL"),
        ("T2", ((17, 24),), "COX - 1", "GENE"),
        ("T3", ((36, 43),), "albumin", "GENE"),
    ]
    assert [(r.id, r.type, r.head, r.tail, r.level, r.directed) for r in doc.relations] == [("R1", "CPR:4", "T1", "T2", "mention", True)]


def test_write_reproduces_the_record_exactly():
    assert pure.dumps(pure.loads(_line())) == _line()


def test_bad_span_and_relation_are_located_and_lenient_skips():
    rec = json.loads(json.dumps(RECORD))
    rec["ner"][1].append([3, 8, "GENE"])  # token 3 is in sentence 0
    rec["relations"][0].append([0, 0, 3, 3, "CPR:3"])  # [3, 3] is not an entity span
    with pytest.raises(FormatError) as e:
        pure.loads(_line(rec))
    assert e.value.code == "E172" and e.value.where.path == "$.ner[1][1]" and e.value.where.line == 1
    diags = Diagnostics()
    (doc,) = pure.loads(_line(rec), lenient=True, diagnostics=diags)
    assert len(doc.mentions) == 3 and len(doc.relations) == 1
    assert [(p.code, p.where.path) for p in diags] == [("E172", "$.ner[1][1]"), ("E173", "$.relations[0][1]")]


def test_shape_errors():
    rec = dict(RECORD, ner=[[]])
    with pytest.raises(FormatError) as e:
        pure.loads(_line(rec))
    assert e.value.code == "E022"
    with pytest.raises(FormatError) as e:
        pure.loads("{broken\n")
    assert e.value.code == "E024"


def test_writing_other_documents():
    text = "Aspirin inhibits COX-1. It binds albumin."
    d = Document("7", passages=[Passage(0, text, "abstract")])
    d.mentions = [Mention("a", ((0, 7),), "Aspirin", "CHEMICAL"), Mention("b", ((17, 22),), "COX-1", "GENE")]
    d.relations = [Relation("r", "CPR:4", "a", "b", level="mention")]
    rec = json.loads(pure.dumps([d]))
    # whitespace tokens, cut at mention boundaries ("COX-1." -> "COX-1", ".")
    assert rec["sentences"] == [["Aspirin", "inhibits", "COX-1", "."], ["It", "binds", "albumin."]]
    assert rec["ner"] == [[[0, 0, "CHEMICAL"], [2, 2, "GENE"]], []]
    assert rec["relations"] == [[[0, 0, 2, 2, "CPR:4"]], []]
    d.relations = [Relation("r", "CPR:4", "X", "Y")]  # entity-level
    with pytest.raises(BiorelError) as e:
        pure.dumps([d])
    assert e.value.code == "E166"


tokens = st.text(alphabet="abcXY-(", min_size=1, max_size=5)


@st.composite
def records(draw):
    sents = draw(st.lists(st.lists(tokens, min_size=1, max_size=8), min_size=1, max_size=4))
    ner, rels, base = [], [], 0
    for s in sents:
        spans, pos = [], 0
        while pos < len(s):
            if draw(st.booleans()):
                end = draw(st.integers(pos, len(s) - 1))
                spans.append([base + pos, base + end, draw(st.sampled_from(["CHEMICAL", "GENE"]))])
                pos = end + 1
            else:
                pos += 1
        ner.append(spans)
        rels.append([[a[0], a[1], b[0], b[1], "CPR:9"] for a, b in zip(spans, spans[1:])])
        base += len(s)
    return {"doc_key": "d", "sentences": sents, "ner": ner, "relations": rels}


@settings(max_examples=150, deadline=None)
@given(records())
def test_random_records_roundtrip(rec):
    (doc,) = pure.loads(_line(rec))
    assert sum(len(s) for s in rec["ner"]) == len(doc.mentions)
    for m in doc.mentions:
        assert doc.text[m.start : m.end] == m.text
    assert pure.dumps([doc]) == _line(rec)


@pytest.mark.realdata
@pytest.mark.parametrize("split, counts", [("dev", (327, 3360, 8415, 1373)), ("test", (800, 8179, 20759, 3424))])
def test_real_files_counts_and_byte_roundtrip(mirror, split, counts):
    path = mirror / "chemprot_pure_json" / f"{split}.json"
    docs = io.load(path, "pure")
    # published counts (README of the mirror): documents / sentences / entities / relations
    assert (len(docs), sum(len(d.passages) for d in docs), sum(len(d.mentions) for d in docs), sum(len(d.relations) for d in docs)) == counts
    assert pure.dumps(docs) == path.read_text(encoding="utf-8")
