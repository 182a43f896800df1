"""BioC XML / JSON on the real corpora (BC5CDR, BioRED). Expected counts are the
dataset READMEs' figures, or counted here from the raw file text with a regex,
independently of the readers."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from biorel import io
from biorel.errors import Diagnostics, FormatError
from biorel.io.bioc import json as bjson
from biorel.io.bioc import xml as bxml

pytestmark = pytest.mark.realdata

#: dataset README: docs, BioC XML annotations, Chemical, Disease, CID relations
BC5CDR = {
    "Training": (500, 9570, 5207, 4363, 1038),
    "Development": (500, 9773, 5352, 4421, 1012),
    "Test": (500, 9928, 5394, 4534, 1066),
}
#: dataset README: docs, mentions, relations (novel / no counted below)
BIORED = {"Test": (100, 3535, 1163, 859, 304), "Dev": (100, 3533, 1162, 835, 327)}


def cdr(mirror: Path, split: str, kind: str = "xml") -> Path:
    if kind == "xml":
        return mirror / "bc5cdr" / "bioc_xml" / f"CDR_{split}Set.BioC.xml"
    return mirror / "bc5cdr" / "bioc_json_converted" / f"CDR_{split}Set.BioC.json"


@pytest.fixture(scope="module")
def cdr_test(mirror) -> list:
    return io.load(cdr(mirror, "Test"))


#: annotations of the official BC5CDR BioC XML whose offsets do not match their
#: text (found by this reader; the PubTator files have the right offsets)
BC5CDR_DRIFT = {
    "Training": [
        "document[85]/passage[2]/annotation[@id='6']",
        "document[139]/passage[2]/annotation[@id='7']",
        "document[390]/passage[2]/annotation[@id='12']",
    ],
    "Development": ["document[72]/passage[2]/annotation[@id='8']"],
    "Test": [],
}


@pytest.mark.parametrize("split", sorted(BC5CDR))
def test_bc5cdr_counts_match_the_readme(mirror, split):
    n_docs, n_ann, n_chem, n_dis, n_cid = BC5CDR[split]
    drift = BC5CDR_DRIFT[split]
    if drift:  # strict reading stops at the first drifted annotation, naming it
        with pytest.raises(FormatError) as e:
            bxml.load(cdr(mirror, split))
        assert e.value.code == "E010" and e.value.where.path == "/collection/" + drift[0]
    diags = Diagnostics()
    docs = bxml.load(cdr(mirror, split), lenient=True, diagnostics=diags)
    assert [(p.code, p.where.path, p.action) for p in diags] == [("E010", "/collection/" + d, "mention skipped") for d in drift]
    types = Counter(m.type for d in docs for m in d.mentions)
    assert len(docs) == len({d.id for d in docs}) == n_docs
    assert sum(len(d.mentions) for d in docs) + len(drift) == n_ann
    assert types == {"Chemical": n_chem, "Disease": n_dis - len(drift)}  # the drifted ones are all Disease parts
    assert Counter(r.type for d in docs for r in d.relations) == {"CID": n_cid}
    assert all(r.level == "entity" for d in docs for r in d.relations)


def test_bc5cdr_composite_mentions_map_one_annotation_to_one_mention(mirror, cdr_test):
    raw = cdr(mirror, "Test").read_text(encoding="utf-8")
    n_composite = len(re.findall(r'<infon key="CompositeRole">CompositeMention</infon>', raw))
    n_individual = len(re.findall(r'<infon key="CompositeRole">IndividualMention</infon>', raw))
    pubtator_composites = sum(
        1 for line in (mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt").read_text(encoding="utf-8").splitlines() if line.count("\t") == 6
    )
    assert (n_composite, n_individual) == (57, 119) and pubtator_composites == n_composite
    by_role = {}
    for d in cdr_test:
        for m in d.mentions:
            by_role.setdefault(m.infons.get("CompositeRole"), []).append((d, m))
    assert len(by_role["CompositeMention"]) == n_composite and len(by_role["IndividualMention"]) == n_individual
    # composites keep all their ids; each part keeps one id and lies inside a composite of its document
    assert all(len(m.concept_ids) >= 2 and not m.components for _, m in by_role["CompositeMention"])
    assert all(len(m.concept_ids) == 1 for _, m in by_role["IndividualMention"])
    for d, part in by_role["IndividualMention"]:
        assert any(c.start <= part.start and part.end <= c.end for c in d.mentions if c.infons.get("CompositeRole") == "CompositeMention")
    # without the parts, the mention count is PubTator's (dataset README: 9,809)
    assert sum(len(d.mentions) for d in cdr_test) - n_individual == 9809
    discontinuous = sum(1 for _, m in by_role["IndividualMention"] if len(m.spans) > 1)
    assert discontinuous == len(re.findall(r"<location [^>]*/>\s*<location ", raw))


def test_bc5cdr_bioc_json_equals_the_xml(mirror, cdr_test):
    assert bjson.load(cdr(mirror, "Test", "json")) == cdr_test
    assert cdr_test[0].metadata == {"bioc.collection": {"source": "PubTator", "date": "0/0/0", "key": "PubTator.key"}}


def test_bc5cdr_round_trips(tmp_path, cdr_test):
    for name in ("rt.bioc.xml", "rt.bioc.json"):
        assert io.write(cdr_test, tmp_path / name) == 500
        assert io.load(tmp_path / name) == cdr_test
    # XML -> JSON -> XML gives the same bytes
    io.write(io.read(tmp_path / "rt.bioc.json"), tmp_path / "again.bioc.xml")
    assert (tmp_path / "again.bioc.xml").read_bytes() == (tmp_path / "rt.bioc.xml").read_bytes()


def test_written_bioc_matches_the_original_in_the_bioc_package(mirror, tmp_path, cdr_test):
    """An independent reader (PyPI ``bioc``) sees the same texts, annotations and relations."""
    from bioc import biocxml

    io.write(cdr_test, tmp_path / "out.bioc.xml")
    with open(cdr(mirror, "Test"), encoding="utf-8") as fh:
        original = biocxml.load(fh)
    with open(tmp_path / "out.bioc.xml", encoding="utf-8") as fh:
        ours = biocxml.load(fh)

    def view(coll, id_key, sep):
        out = []
        for d in coll.documents:
            passages = [(p.offset, p.text, p.infons.get("type")) for p in d.passages]
            anns = [
                (
                    a.id,
                    a.text,
                    a.infons["type"],
                    tuple(a.infons[id_key].split(sep)),
                    tuple((loc.offset, loc.length) for loc in a.locations),
                    a.infons.get("CompositeRole"),
                )
                for p in d.passages
                for a in p.annotations
            ]
            rels = [(r.id, r.infons.get("relation") or r.infons.get("type")) for r in d.relations]
            out.append((d.id, passages, anns, rels))
        return out

    assert view(ours, "identifier", ",") == view(original, "MESH", "|")
    assert (ours.source, ours.date, ours.key) == (original.source, original.date, original.key)


@pytest.mark.parametrize("split", sorted(BIORED))
def test_biored_xml_and_json_load_the_same_documents(mirror, split):
    xml_docs = bxml.load(mirror / "biored" / f"{split}.BioC.XML")
    json_docs = bjson.load(mirror / "biored" / f"{split}.BioC.JSON")
    n_docs, n_mentions, n_rel, n_novel, n_no = BIORED[split]
    for docs in (xml_docs, json_docs):
        assert len(docs) == n_docs
        assert sum(len(d.mentions) for d in docs) == n_mentions
        assert sum(len(d.relations) for d in docs) == n_rel
        assert Counter(r.infons["novel"] for d in docs for r in d.relations) == {"Novel": n_novel, "No": n_no}
    # The official JSON files have no passage infons (checked on the raw text), so
    # their passages have no type; everything else is equal.
    assert '"type": "title"' not in (mirror / "biored" / f"{split}.BioC.JSON").read_text(encoding="utf-8")
    assert {p.type for d in json_docs for p in d.passages} == {""}
    assert {p.type for d in xml_docs for p in d.passages} == {"title", "abstract"}
    for d in xml_docs:
        for p in d.passages:
            p.type = ""
    assert xml_docs == json_docs


def test_biored_mappings(mirror):
    docs = bxml.load(mirror / "biored" / "Test.BioC.XML")
    raw = (mirror / "biored" / "Test.BioC.XML").read_text(encoding="utf-8")
    comma_ids = len(re.findall(r'<infon key="identifier">[^<]*,[^<]*</infon>', raw))
    assert sum(1 for d in docs for m in d.mentions if len(m.concept_ids) > 1) == comma_ids > 0
    # tmVar variant ids keep their '|'
    assert any("p|SUB|V|1763|M" in m.concept_ids for d in docs for m in d.mentions)
    rel = docs[0].relations[0]
    assert (rel.id, rel.type, rel.head, rel.tail, rel.infons) == ("R0", "Association", "D001919", "6331", {"novel": "Novel"})


def test_biored_round_trip(tmp_path, mirror):
    docs = bxml.load(mirror / "biored" / "Test.BioC.XML")
    io.write(docs, tmp_path / "b.bioc.json")
    io.write(io.read(tmp_path / "b.bioc.json"), tmp_path / "b.bioc.xml")
    assert io.load(tmp_path / "b.bioc.xml") == docs


@pytest.mark.parametrize("kind", ["xml", "json"])
def test_reading_streams(mirror, kind):
    """The first document arrives after reading a small part of the file."""
    path = cdr(mirror, "Test", kind)
    mod = bxml if kind == "xml" else bjson
    size = path.stat().st_size
    with open(path, "rb") as fh:
        first = next(mod.iterparse(fh))
        assert first.id == "8701013"
        assert fh.tell() < size // 10
