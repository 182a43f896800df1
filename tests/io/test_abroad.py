"""ABroad JSON: documents, lossless round trips, sniffing, located errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import Diagnostics, FormatError
from biorel.io import abroad
from biorel.registry import registry

SEED = "examples__example-input.json"
SYNTH = "examples-validation__sub_valid.json"


def doc_obj(title="A title.", abstract="Some abstract.", **extra):
    obj = {
        "PMID": "1",
        "ArticleTitle": title,
        "AbstractText": abstract,
        "id": "Q1",
        "doi": "10.1/x",
        "chemicals": [{"id": "C1", "pubchem_id": "5", "label": "Chem"}],
        "organisms": [{"id": "O1", "label": "Org"}],
        "relations": [["O1", "C1"]],
    }
    obj.update(extra)
    return obj


def dump(obj) -> str:
    return json.dumps(obj, indent=4)


# ---- real data -------------------------------------------------------------------------


@pytest.fixture
def folder(mirror):
    return mirror / "abroad_re_lotus"


@pytest.mark.realdata
@pytest.mark.parametrize("name, n_docs, n_rel", [(SEED, 16, 69), (SYNTH, 10, 35)])
def test_real_counts_against_the_json_module(folder, name, n_docs, n_rel):
    raw = json.loads((folder / name).read_text(encoding="utf-8"))
    docs = abroad.load(folder / name)
    assert len(raw) == len(docs) == n_docs
    assert sum(len(d.relations) for d in docs) == sum(len(v["relations"]) for v in raw.values()) == n_rel
    for d, (key, v) in zip(docs, raw.items()):
        assert d.id == key
        title, abstract = d.passages
        assert (title.offset, title.text, title.type) == (0, v["ArticleTitle"], "title")
        assert (abstract.offset, abstract.text, abstract.type) == (len(v["ArticleTitle"]) + 1, v["AbstractText"], "abstract")
        assert d.text == v["ArticleTitle"] + " " + v["AbstractText"]
        assert [(r.head, r.tail) for r in d.relations] == [tuple(p) for p in v["relations"]]
        assert all(r.type == "produces" and r.directed for r in d.relations)
        assert {e.id for e in d.entities if e.type == "chemical"} == {c["id"] for c in v["chemicals"]}
        assert {e.id for e in d.entities if e.type == "organism"} == {o["id"] for o in v["organisms"]}
        assert not d.mentions
        other = {k: x for k, x in v.items() if k not in abroad.STRUCTURAL}
        assert {k: x for k, x in d.metadata.items() if k != abroad.LAYOUT} == other


@pytest.mark.realdata
@pytest.mark.parametrize("name", [SEED, SYNTH])
def test_real_round_trip_is_lossless(folder, name, tmp_path):
    text = (folder / name).read_text(encoding="utf-8")
    out = abroad.dumps(abroad.load(folder / name))
    assert json.loads(out) == json.loads(text)
    assert out == text  # key order and layout too
    # and through biorel's native JSONL
    io.write(abroad.load(folder / name), tmp_path / "c.jsonl")
    io.write(io.load(tmp_path / "c.jsonl"), tmp_path / "back.abroad.json")
    assert (tmp_path / "back.abroad.json").read_text(encoding="utf-8") == text


@pytest.mark.realdata
def test_real_synthetic_abstract_keeps_leading_whitespace_and_settings(folder):
    docs = {d.id: d for d in abroad.load(folder / SYNTH)}
    d = docs["9514009-8"]
    assert d.passages[1].text.startswith(" The study aimed")
    assert docs["9784179-9"].passages[1].text.startswith("\nA ")
    assert d.metadata["temperatue"]["temperature"] == 0.8 and d.metadata["score"] == 1.0
    assert "PMID" not in d.metadata
    assert d.entity_index()["NPCLASSIFIER_SP_62"].infons == {"type": "class"}


@pytest.mark.realdata
def test_real_duplicate_chemical_ids_make_one_entity(folder):
    d = next(d for d in abroad.load(folder / SEED) if d.id == "26896350")
    ent = d.entity_index()["Q27256545"]
    assert ent.name == "Benzaconine"
    assert [x["entry"]["label"] for x in ent.infons["duplicates"]] == ["Benzoylaconine"]
    assert len([e for e in d.entities if e.type == "chemical"]) == 4  # 6 entries, 2 ids listed twice


@pytest.mark.realdata
def test_sniffs_never_both_claim_a_json_file(folder, mirror):
    for name in (SEED, SYNTH):
        assert io.detect_format(folder / name).name == "abroad"
    json_formats = [f for _, f in registry.formats.items() if any(e.endswith(".json") for e in f.extensions) and f.sniff]
    candidates = [
        folder / SEED,
        folder / SYNTH,
        *sorted((mirror / "biored").glob("*.BioC.JSON*")),
        *sorted((mirror / "chemprot_pure_json").glob("*.json")),
    ]
    for path in candidates:
        claims = [f.name for f in json_formats if f.sniff(str(path))]
        assert len(claims) <= 1, (path, claims)
        assert ("abroad" in claims) == (path.parent == folder)


def test_sniff_rejects_bioc_json_even_with_article_title(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"infons": {"ArticleTitle": "x"}, "documents": [{"id": "1", "infons": {"ArticleTitle": "x"}, "passages": []}]}))
    assert not abroad.sniff(str(p))
    p.write_text(json.dumps({"source": "x", "documents": []}))
    assert not abroad.sniff(str(p))
    p.write_text(dump({"1": doc_obj()}))
    assert abroad.sniff(str(p))
    p.write_text("not json")
    assert not abroad.sniff(str(p))


# ---- small documents -------------------------------------------------------------------


def test_document_without_abstract_or_layout_writes_schema_order():
    obj = {"7": {"ArticleTitle": "Only a title.", "chemicals": [], "organisms": [], "relations": []}}
    docs = abroad.loads(dump(obj))
    assert [p.text for p in docs[0].passages] == ["Only a title."]
    assert abroad.dumps(docs) == dump(obj)
    docs[0].metadata.pop(abroad.LAYOUT)
    docs[0].metadata["PMID"] = "7"
    assert list(json.loads(abroad.dumps(docs))["7"]) == ["PMID", "ArticleTitle", "chemicals", "organisms", "relations"]


def test_entity_with_unusual_key_order_keeps_it():
    obj = {"1": doc_obj(chemicals=[{"id": "C1", "pubchem_id": "5", "label": "A"}, {"label": "B", "id": "C2", "class": "x"}], relations=[])}
    assert abroad.dumps(abroad.loads(dump(obj))) == dump(obj)


# ---- located errors --------------------------------------------------------------------


def test_invalid_json_is_located():
    text = dump({"1": doc_obj(), "2": doc_obj()}).replace('"doi": "10.1/x",\n        "chemicals"', '"doi": "10.1/x"\n        "chemicals"', 2)
    with pytest.raises(FormatError) as e:
        abroad.loads(text)
    assert e.value.code == "E024" and e.value.where.line == 8


def test_bad_relation_is_located_and_lenient_skips_it():
    text = dump({"1": doc_obj(), "2": doc_obj(relations=[["O1", "C1"], ["O1"]])})
    with pytest.raises(FormatError) as e:
        abroad.loads(text)
    assert e.value.code == "E146"
    assert e.value.where.path == '$["2"].relations[1]'
    assert e.value.where.line == text.splitlines().index('    "2": {') + 1
    diags = Diagnostics()
    docs = abroad.loads(text, lenient=True, diagnostics=diags)
    assert [len(d.relations) for d in docs] == [1, 1]
    assert diags.counts() == {"E146": 1}


def test_missing_title_wrong_types_and_duplicate_keys():
    with pytest.raises(FormatError) as e:
        abroad.loads(dump({"1": {"AbstractText": "x"}}))
    assert (e.value.code, e.value.where.path) == ("E145", '$["1"]')
    with pytest.raises(FormatError) as e:
        abroad.loads(dump({"1": doc_obj(chemicals=[{"id": 3, "label": "x"}])}))
    assert (e.value.code, e.value.where.path) == ("E144", '$["1"].chemicals[0].id')
    with pytest.raises(FormatError) as e:
        abroad.loads(dump([doc_obj()]))
    assert e.value.code == "E144"
    with pytest.raises(FormatError) as e:
        abroad.loads('{"1": {"ArticleTitle": "a", "ArticleTitle": "b"}}')
    assert e.value.code == "E147"
    with pytest.raises(FormatError) as e:
        abroad.loads('{"1": {"ArticleTitle": "a"},\n "1": {"ArticleTitle": "b"}}')
    assert (e.value.code, e.value.where.line) == ("E147", 2)
    diags = Diagnostics()
    docs = abroad.loads(dump({"1": {"AbstractText": "x"}, "2": doc_obj()}), lenient=True, diagnostics=diags)
    assert [d.id for d in docs] == ["2"] and diags.counts() == {"E145": 1}


def test_relation_to_an_unknown_entity_is_a_validation_error():
    text = dump({"1": doc_obj(relations=[["O1", "C9"]])})
    with pytest.raises(FormatError) as e:
        abroad.loads(text)
    assert e.value.code == "E014" and e.value.where.path == '$["1"].relations[0]'


# ---- properties -----------------------------------------------------------------------

text_st = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def abroad_files(draw):
    out = {}
    for k in draw(st.lists(st.text("0123456789-", min_size=1, max_size=8), unique=True, max_size=4)):
        chem_ids = draw(st.lists(st.sampled_from(["C1", "C2", "C3"]), max_size=5))  # repeats allowed
        org_ids = draw(st.lists(st.sampled_from(["O1", "O2"]), unique=True, max_size=2))
        chems = []
        for cid in chem_ids:
            c = {"id": cid}
            if draw(st.booleans()):
                c["pubchem_id"] = draw(st.text("0123456789", max_size=6))
            c["label"] = draw(text_st)
            if draw(st.booleans()):
                c["type"] = draw(st.sampled_from(["class", "structure"]))
            chems.append(c)
        obj = {"ArticleTitle": draw(text_st.filter(str.strip))}
        if draw(st.booleans()):
            obj["score"] = draw(st.floats(allow_nan=False, allow_infinity=False))
        if draw(st.booleans()):
            obj["AbstractText"] = draw(text_st)
        obj.update(chemicals=chems, organisms=[{"id": o, "label": draw(text_st)} for o in org_ids])
        pairs = [[o, c] for o in org_ids for c in dict.fromkeys(chem_ids)]
        obj["relations"] = draw(st.lists(st.sampled_from(pairs), max_size=4)) if pairs else []
        out[k] = obj
    return out


@settings(max_examples=60, deadline=None)
@given(abroad_files(), st.booleans())
def test_any_abroad_file_round_trips(obj, ascii_only):
    text = json.dumps(obj, indent=4, ensure_ascii=ascii_only)
    docs = abroad.loads(text)
    assert len(docs) == len(obj)
    assert sum(len(d.relations) for d in docs) == sum(len(v["relations"]) for v in obj.values())
    assert abroad.dumps(docs, ensure_ascii=ascii_only) == text
