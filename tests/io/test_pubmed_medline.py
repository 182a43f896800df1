"""MEDLINE text (``biorel.io.medline``): the real samples with answers read off
the files by hand, continuation lines, gzip, detection and coded errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from biorel import io
from biorel.errors import BiorelError, Diagnostics
from biorel.io import medline, sniff
from biorel.validate import check_document


def _ml(mirror: Path, name: str) -> Path:
    return mirror / "pubmed_xml" / name


def _consistent(doc) -> None:
    assert check_document(doc) == []
    for p in doc.passages:
        assert doc.text[p.offset : p.offset + len(p.text)] == p.text


@pytest.mark.realdata
def test_result1_one_record(mirror):
    src = _ml(mirror, "medline_pubmed_result1.txt")
    assert io.detect_format(src).name == "medline" and sniff.sniff_content(src) == "medline"
    (doc,) = io.load(src)
    assert doc.id == "12230038"
    assert doc.passages[0].text == "The Bio* toolkits--a brief overview."
    ab = doc.passages[1]
    assert (ab.type, ab.offset) == ("abstract", len(doc.passages[0].text) + 1)
    assert ab.text.startswith("Bioinformatics research is often difficult to do with commercial software. The Open Source BioPerl,")
    assert ab.text.endswith("particularly from the point of view of the beginning biologist programmer.")
    assert "\n" not in ab.text and "  " not in ab.text
    meta = doc.metadata["medline"]
    assert meta["MH"][0] == "*Computational Biology" and len(meta["MH"]) == 7
    assert meta["AU"] == ["Mangalam H"] and meta["LA"] == ["eng"] and meta["PT"] == ["Journal Article"]
    assert "PMID" not in meta and "TI" not in meta and "AB" not in meta
    _consistent(doc)


@pytest.mark.realdata
def test_result2_four_records(mirror):
    docs = io.load(_ml(mirror, "medline_pubmed_result2.txt"))
    assert [d.id for d in docs] == ["16403221", "16377612", "14871861", "14630660"]
    assert [d.passages[0].text for d in docs] == [
        "A high level interface to SCOP and ASTRAL implemented in python.",
        "GenomeDiagram: a python package for the visualization of large-scale genomic data.",
        "Open source clustering software.",
        "PDB file parser and structure class implemented in Python.",
    ]
    first = docs[0].passages[1].text
    assert first.startswith("BACKGROUND: Benchmarking algorithms") and first.endswith("more principled.")
    assert "The ASTRAL compendium" in first  # "ASTRAL " + line break + indent -> one space
    assert docs[0].metadata["medline"]["FAU"] == ["Casbon, James A", "Crooks, Gavin E", "Saqi, Mansoor A S"]
    for d in docs:
        assert [p.type for p in d.passages] == ["title", "abstract"]
        _consistent(d)


@pytest.mark.realdata
def test_gzip_reads_the_same(mirror, tmp_path):
    src = _ml(mirror, "medline_pubmed_result2.txt")
    gz = tmp_path / "records.medline.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    assert io.detect_format(gz).name == "medline"
    odd = tmp_path / "records.gz"
    odd.write_bytes(gz.read_bytes())
    assert io.detect_format(odd).name == "medline"
    assert io.load(gz) == io.load(odd) == io.load(src)
    assert medline.loads(src.read_text(encoding="utf-8")) == io.load(src)


RECORDS = """PMID- 1
TI  - A title that goes on
      over two lines.
AB  - An abstract.
MH  - Humans

PMID- 2
TI  - Title only.
"""


def test_records_and_title_only():
    docs = medline.loads(RECORDS)
    assert [(d.id, d.text) for d in docs] == [("1", "A title that goes on over two lines. An abstract."), ("2", "Title only.")]
    assert [p.type for p in docs[1].passages] == ["title"]
    assert docs[0].metadata == {"medline": {"MH": ["Humans"]}}


def test_missing_pmid_and_empty_record_are_e192_with_line(tmp_path):
    path = tmp_path / "x.medline"
    path.write_text("PMID- 1\nTI  - Fine.\n\nTI  - No PMID here.\n\nPMID- 3\nLA  - eng\n\nPMID- 4\nTI  - Also fine.\n", encoding="utf-8")
    with pytest.raises(BiorelError) as e:
        io.load(path)
    assert e.value.code == "E192" and e.value.where.line == 4 and "no PMID" in str(e.value)
    diags = Diagnostics()
    assert [d.id for d in io.load(path, lenient=True, diagnostics=diags)] == ["1", "4"]
    assert [(p.code, p.where.line, p.action) for p in diags] == [("E192", 4, "record skipped"), ("E192", 6, "record skipped")]


def test_malformed_line_is_e193(tmp_path):
    path = tmp_path / "x.medline"
    path.write_text("PMID- 1\nTI  - Fine.\nthis is not a field\nAB  - Abstract.\n", encoding="utf-8")
    with pytest.raises(BiorelError) as e:
        io.load(path)
    assert e.value.code == "E193" and e.value.where.line == 3
    diags = Diagnostics()
    (doc,) = io.load(path, lenient=True, diagnostics=diags)
    assert doc.text == "Fine. Abstract." and [(p.code, p.action) for p in diags] == [("E193", "line skipped")]


def test_invalid_utf8_is_e020(tmp_path):
    path = tmp_path / "x.medline"
    path.write_bytes(b"PMID- 1\nTI  - Bad \xff.\n\nPMID- 2\nTI  - Good.\n")
    with pytest.raises(BiorelError) as e:
        io.load(path)
    assert e.value.code == "E020" and e.value.where.line == 2
    assert [d.id for d in io.load(path, lenient=True, diagnostics=Diagnostics())] == ["2"]


def test_txt_detection_keeps_pubtator_and_text(tmp_path):
    ml = tmp_path / "result.txt"
    ml.write_text(RECORDS, encoding="utf-8")
    assert io.detect_format(ml).name == "medline"
    pt = tmp_path / "p.txt"
    pt.write_text("1|t|Title.\n1|a|Abstract.\n\n", encoding="utf-8")
    assert io.detect_format(pt).name == "pubtator"
    raw = tmp_path / "raw.txt"
    raw.write_text("Just some text.\n", encoding="utf-8")
    assert io.detect_format(raw).name == "text"
