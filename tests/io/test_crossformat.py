"""Cross-format conversions on real data: PubTator -> BioC XML -> BioC JSON ->
PubTator reproduces every document, mention and relation, and the official
BC5CDR PubTator and BioC files agree once BioC's composite parts are set aside."""

from __future__ import annotations

from collections import Counter

import pytest

from biorel import io

pytest.importorskip("biorel.io.pubtator")

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def cdr_pubtator(mirror):
    return io.load(mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt", "pubtator")


def test_pubtator_to_bioc_xml_to_bioc_json_to_pubtator(mirror, tmp_path, cdr_pubtator):
    docs = cdr_pubtator
    # dataset README: 500 docs, 9,809 mentions, 1,066 CID relations
    assert len(docs) == 500
    assert sum(len(d.mentions) for d in docs) == 9809
    assert Counter(r.type for d in docs for r in d.relations) == {"CID": 1066}
    assert sum(1 for d in docs for m in d.mentions if m.components) == 57  # 7-column composite lines

    io.write(docs, tmp_path / "a.bioc.xml")
    from_xml = io.load(tmp_path / "a.bioc.xml")
    io.write(from_xml, tmp_path / "b.bioc.json")
    from_json = io.load(tmp_path / "b.bioc.json")
    io.write(from_json, tmp_path / "c.PubTator.txt", "pubtator")
    back = io.load(tmp_path / "c.PubTator.txt", "pubtator")

    for stage in (from_xml, from_json, back):
        assert [d.id for d in stage] == [d.id for d in docs]
        assert stage == docs
    # and the PubTator text itself comes back (up to trailing blank lines)
    original = (mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt").read_text(encoding="utf-8")
    assert (tmp_path / "c.PubTator.txt").read_text(encoding="utf-8").rstrip("\n") == original.rstrip("\n")


def test_official_bioc_and_pubtator_agree(mirror, cdr_pubtator):
    """Two official releases of the same corpus, read by two different readers:
    the BioC mentions minus the composite parts (IndividualMention) are the
    PubTator mentions, and the CID relations are the same pairs."""
    bioc_docs = io.load(mirror / "bc5cdr" / "bioc_xml" / "CDR_TestSet.BioC.xml")
    assert [d.id for d in bioc_docs] == [d.id for d in cdr_pubtator]
    for b, p in zip(bioc_docs, cdr_pubtator):
        assert b.text == p.text
        ours = [(m.spans, m.text, m.type, m.concept_ids) for m in b.mentions if m.infons.get("CompositeRole") != "IndividualMention"]
        theirs = [(m.spans, m.text, m.type, m.concept_ids) for m in p.mentions]
        assert ours == theirs, b.id
        assert [(r.type, r.head, r.tail) for r in b.relations] == [(r.type, r.head, r.tail) for r in p.relations]


def test_biored_pubtator_round_trips_through_bioc(mirror, tmp_path):
    docs = io.load(mirror / "biored" / "Test.PubTator", "pubtator")
    assert (len(docs), sum(len(d.mentions) for d in docs), sum(len(d.relations) for d in docs)) == (100, 3535, 1163)
    io.write(docs, tmp_path / "x.bioc.xml")
    io.write(io.read(tmp_path / "x.bioc.xml"), tmp_path / "x.bioc.json")
    # PubTator-only infons are never written to BioC; the ids separator lives in the
    # identifier text and the BioC reader records it, ',' included, so BioRED's
    # gene lists come back exactly
    back = io.load(tmp_path / "x.bioc.json")
    assert "pubtator.ids" not in (tmp_path / "x.bioc.xml").read_text(encoding="utf-8")
    assert sum(1 for d in docs for m in d.mentions if m.infons.get("pubtator.ids_separator") == ",") > 0
    assert back == docs


def test_biored_bioc_lists_keep_their_comma_in_pubtator(mirror, tmp_path):
    """BioRED's official BioC JSON -> PubTator gives the official PubTator's
    id columns (',' lists, '|' composites kept whole)."""
    docs = io.load(mirror / "biored" / "Test.BioC.JSON")
    io.write(docs, tmp_path / "t.pubtator")

    def id_columns(path):
        lines = path.read_text(encoding="utf-8").splitlines()
        return sorted(line.split("\t")[5] for line in lines if line.count("\t") >= 5 and line.split("\t")[1].isdigit())

    ours, official = id_columns(tmp_path / "t.pubtator"), id_columns(mirror / "biored" / "Test.PubTator")
    assert len(official) == 3535 and sum("," in c for c in official) > 10
    assert ours == official
