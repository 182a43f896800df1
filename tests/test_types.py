from __future__ import annotations

import pytest

from biorel import io
from biorel.errors import BiorelError, Diagnostics, ValidationError
from biorel.io import jsonl
from biorel.types import Document, Entity, Example, Mention, Passage, Relation, pair_examples


def make_doc(doc_id: str = "1") -> Document:
    title = "Famotidine-associated delirium."
    abstract = "Famotidine causes delirium in the elderly."
    a_off = len(title) + 1
    d = Document(
        id=doc_id,
        passages=[Passage(0, title, "title"), Passage(a_off, abstract, "abstract")],
        mentions=[
            Mention("m0", ((0, 10),), "Famotidine", "Chemical", ("D015738",)),
            Mention("m1", ((22, 30),), "delirium", "Disease", ("D003693",)),
            Mention("m2", ((a_off, a_off + 10),), "Famotidine", "Chemical", ("D015738",)),
            Mention("m3", ((a_off + 18, a_off + 26),), "delirium", "Disease", ("D003693",)),
            Mention("m4", ((a_off + 34, a_off + 41),), "elderly", "Disease", ("-1",)),
        ],
    )
    d.entities = d.entities_from_mentions()
    d.relations = [Relation("r0", "CID", "D015738", "D003693", directed=True)]
    return d


def test_text_fills_gaps_between_passages():
    d = make_doc()
    assert d.text == "Famotidine-associated delirium. Famotidine causes delirium in the elderly."
    for m in d.mentions:
        assert d.span_text(m.spans) == [m.text]


def test_entities_group_by_concept_and_skip_null_ids():
    d = make_doc()
    ents = {e.id: e for e in d.entities}
    assert set(ents) == {"D015738", "D003693"}
    assert ents["D015738"].mention_ids == ("m0", "m2")
    assert ents["D003693"].type == "Disease"


def test_dict_roundtrip_is_lossless():
    d = make_doc()
    d.relations[0].score = 0.75
    d.relations[0].evidence = ((0, 30),)
    d.metadata["pmid"] = "1"
    d.mentions[0].infons["note"] = "x"
    assert Document.from_dict(d.to_dict()) == d


def test_jsonl_roundtrip(tmp_path):
    docs = [make_doc("1"), make_doc("2")]
    path = tmp_path / "c.jsonl"
    assert io.write(docs, path) == 2
    assert io.load(path) == docs
    assert jsonl.loads(jsonl.dumps(docs)) == docs


def test_offset_drift_is_located(tmp_path):
    d = make_doc()
    d.mentions[1].spans = ((23, 31),)
    text = jsonl.dumps([make_doc("0"), d])
    with pytest.raises(ValidationError) as e:
        jsonl.loads(text)
    assert e.value.code == "E010"
    assert e.value.where.line == 2
    diags = Diagnostics()
    docs = jsonl.loads(text, lenient=True, diagnostics=diags)
    assert [m.id for m in docs[1].mentions] == ["m0", "m2", "m3", "m4"]
    assert diags.counts() == {"E010": 1}
    # the entity that lost the mention keeps its other mention; the relation stays
    assert docs[1].entity_index()["D003693"].mention_ids == ("m3",)
    assert len(docs[1].relations) == 1


def test_missing_relation_argument_and_duplicates():
    d = make_doc()
    d.relations.append(Relation("r1", "CID", "D015738", "D999999"))
    text = jsonl.dumps([d, make_doc("1")])
    with pytest.raises(ValidationError) as e:
        jsonl.loads(text)
    assert e.value.code == "E014"
    diags = Diagnostics()
    docs = jsonl.loads(text, lenient=True, diagnostics=diags)
    assert len(docs) == 1 and [r.id for r in docs[0].relations] == ["r0"]
    assert sorted(diags.counts().elements()) == ["E014", "E016"]


def test_bad_json_line_reports_line_and_offset():
    text = jsonl.dumps([make_doc("1")]) + '{"id": "2", "passages": [\n'
    with pytest.raises(Exception) as e:
        jsonl.loads(text)
    assert e.value.code == "E024" and e.value.where.line == 2


def test_example_pairs_by_id():
    gold = [make_doc("1"), make_doc("2")]
    ex = pair_examples([make_doc("2")], gold)
    assert [e.reference.id for e in ex] == ["1", "2"]
    assert ex[0].predicted.mentions == [] and ex[0].predicted.text == gold[0].text
    with pytest.raises(BiorelError) as e:
        Example(make_doc("1"), make_doc("2"))
    assert e.value.code == "E018"
    with pytest.raises(BiorelError) as e:
        pair_examples([make_doc("3")], gold)
    assert e.value.code == "E018"


def test_registry_lists_choices_on_unknown_name():
    from biorel.registry import registry

    with pytest.raises(KeyError) as e:
        registry.formats.get("nope")
    assert "jsonl" in str(e.value) and "E001" in str(e.value)
    assert Entity("x", "t").mention_ids == ()
