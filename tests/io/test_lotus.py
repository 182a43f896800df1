"""LOTUS tables: grouping by reference, lossless round trips, located errors."""

from __future__ import annotations

import csv
import io as _io
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics, FormatError
from biorel.io import lotus

HEADER = [
    "structure_wikidata",
    "structure_cid",
    "structure_nameTraditional",
    "organism_wikidata",
    "organism_name",
    "organism_taxonomy_02kingdom",
    "reference_wikidata",
    "reference_doi",
    "reference_pubmed_id",
]


def table(rows: list[list[str]], delimiter: str = "\t", header: list[str] = HEADER) -> str:
    return "".join(delimiter.join(r) + "\n" for r in [header, *rows])


def row(chem: str, org: str, doi: str, *, name: str = "", kingdom: str = "Metazoa", pmid: str = "1") -> list[str]:
    return [f"Q{chem}", chem, name or f"chem {chem}", f"Q{org}", f"org {org}", kingdom, f"Qref{doi}", doi, pmid]


# ---- real data -------------------------------------------------------------------------


@pytest.fixture
def gme_table(mirror):
    return mirror / "abroad_re_lotus" / "gme_sampler_example" / "test_data.csv"


@pytest.mark.realdata
def test_real_table_counts_against_plain_split(gme_table):
    # independent answer: split the file by hand
    lines = gme_table.read_text(encoding="utf-8").splitlines()
    header, body = lines[0].split("\t"), [ln.split("\t") for ln in lines[1:]]
    doi = header.index("reference_doi")
    refs = list(dict.fromkeys(r[doi] for r in body))
    assert len(body) == 99

    rows = list(lotus.iter_rows(gme_table))
    assert len(rows) == 99
    assert rows == [dict(zip(header, r)) for r in body]

    docs = lotus.load(gme_table)
    assert [d.id for d in docs] == refs and len(docs) == 13
    assert sum(len(d.relations) for d in docs) == 99
    per_doc = Counter(r[doi] for r in body)
    assert {d.id: len(d.relations) for d in docs} == dict(per_doc)
    first = docs[0]
    assert first.id == "10.1002/(SICI)1099-1573(199902)13:1<78::AID-PTR384>3.0.CO;2-F"
    assert first.metadata["reference_pubmed_id"] == "10189959"
    org = first.entity_index()["http://www.wikidata.org/entity/Q1146782"]
    assert (org.type, org.name, org.infons) == ("organism", "Eryngium foetidum", {"organism_taxonomy_02kingdom": "Archaeplastida"})
    chem = first.entity_index()["http://www.wikidata.org/entity/Q43656"]
    assert (chem.type, chem.name, chem.infons) == ("chemical", "Cholesterol", {"structure_cid": "5997"})
    for d in docs:
        for r in d.relations:
            assert (r.type, r.directed) == ("produces", True)
            assert d.entity_index()[r.head].type == "organism" and d.entity_index()[r.tail].type == "chemical"
    kingdoms = Counter(d.entity_index()[r.head].infons["organism_taxonomy_02kingdom"] for d in docs for r in d.relations)
    assert kingdoms == Counter(r[header.index("organism_taxonomy_02kingdom")] for r in body)


@pytest.mark.realdata
def test_real_table_round_trip_is_byte_exact(gme_table, tmp_path):
    docs = lotus.load(gme_table)
    assert lotus.dumps(docs) == gme_table.read_text(encoding="utf-8")
    # through the generic API and biorel's native JSONL too
    io.write(docs, tmp_path / "c.jsonl")
    io.write(io.load(tmp_path / "c.jsonl"), tmp_path / "back.lotus.tsv")
    assert (tmp_path / "back.lotus.tsv").read_bytes() == gme_table.read_bytes()


@pytest.mark.realdata
def test_real_table_keeps_a_row_that_disagrees_with_its_entity(gme_table):
    # one structure id appears twice in a reference with another cid and name;
    # the second row keeps its own cells so nothing is lost
    docs = lotus.load(gme_table)
    overrides = [(d.id, r.infons["lotus_cells"]) for d in docs for r in d.relations if "lotus_cells" in r.infons]
    assert overrides == [(overrides[0][0], {"structure_cid": "51", "structure_nameTraditional": "2-Oxoglutaric acid"})]
    rows = [r for d in docs for r in lotus.document_rows(d)]
    assert rows == list(lotus.iter_rows(gme_table))


@pytest.mark.realdata
def test_real_table_is_detected_by_sniff_not_by_extension(gme_table, mirror):
    assert io.detect_format(gme_table).name == "lotus"  # a .csv that is tab-separated
    assert lotus.read_header(gme_table)[1] == "\t"
    # a table with only some LOTUS columns is not claimed
    assert not lotus.sniff(str(mirror / "abroad_re_lotus" / "gme_sampler_example" / "expected_top_10.tsv"))


# ---- behaviour on small tables ---------------------------------------------------------


def test_groups_consecutive_rows_and_falls_back_to_other_keys():
    rows = [row("1", "10", "d1"), row("2", "10", "d1"), row("3", "11", ""), row("4", "11", "d2")]
    docs = lotus.loads(table(rows))
    assert [d.id for d in docs] == ["d1", "Qref", "d2"]  # empty doi -> reference_wikidata
    assert [len(d.relations) for d in docs] == [2, 1, 1]
    assert [e.id for e in docs[0].entities] == ["Q10", "Q1", "Q2"]  # the organism once
    by_pmid = lotus.loads(table([row("1", "10", "d1", pmid="7"), row("2", "10", "d2", pmid="7")]), key="reference_pubmed_id")
    assert [d.id for d in by_pmid] == ["7"]


def test_comma_separated_with_quoted_cells_round_trips():
    rows = [row("1", "10", "d1", name='2,3-dihydroxy "x"'), row("2", "10", "d1")]
    buf = _io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([HEADER, *rows])
    text = buf.getvalue()
    docs = lotus.loads(text)
    assert docs[0].metadata["lotus"]["delimiter"] == ","
    assert docs[0].entities[1].name == '2,3-dihydroxy "x"'
    assert lotus.dumps(docs) == text


def test_write_rows_refuses_to_lose_cells():
    out = _io.StringIO()
    assert lotus.write_rows([{"a": "1", "b": "2"}], out) == 1
    assert out.getvalue() == "a\tb\n1\t2\n"
    with pytest.raises(BiorelError) as e:
        lotus.write_rows([{"a": "1", "b": "2"}], _io.StringIO(), columns=["a"])
    assert e.value.code == "E153"


# ---- located errors --------------------------------------------------------------------


def test_missing_columns_are_listed():
    with pytest.raises(FormatError) as e:
        lotus.loads(table([["x", "y"]], header=["structure_wikidata", "reference_doi"]))
    assert e.value.code == "E140" and e.value.where.line == 1
    for col in ("structure_nameTraditional", "organism_wikidata", "organism_name"):
        assert col in e.value.message
    with pytest.raises(FormatError) as e:
        list(lotus.iter_rows(_io.StringIO("a\tb\n"), require=["organism_wikidata"]))
    assert e.value.code == "E140"


def test_wrong_cell_count_is_located_and_lenient_reports_it():
    rows = [row("1", "10", "d1"), row("2", "10", "d1")[:-2], row("3", "10", "d1")]
    text = table(rows)
    with pytest.raises(FormatError) as e:
        lotus.loads(text)
    assert (e.value.code, e.value.where.line) == ("E141", 3)
    assert "7 cells" in e.value.message and "9" in e.value.message
    diags = Diagnostics()
    docs = lotus.loads(text, lenient=True, diagnostics=diags)
    assert [len(d.relations) for d in docs] == [2]
    assert [(p.code, p.where.line) for p in diags] == [("E141", 3)]
    diags = Diagnostics()
    assert len(list(lotus.iter_rows(_io.StringIO(text), lenient=True, diagnostics=diags))) == 2 and len(diags) == 1


def test_non_contiguous_reference_is_located():
    rows = [row("1", "10", "d1"), row("2", "10", "d1"), row("3", "11", "d2"), row("4", "10", "d1")]
    with pytest.raises(FormatError) as e:
        lotus.loads(table(rows))
    assert (e.value.code, e.value.where.line) == ("E143", 5)
    assert "lines 2-3" in e.value.message
    diags = Diagnostics()
    docs = lotus.loads(table(rows), lenient=True, diagnostics=diags)
    assert [(d.id, len(d.relations)) for d in docs] == [("d1", 2), ("d2", 1)]
    assert [(p.code, p.where.line, p.action) for p in diags] == [("E143", 5, "row skipped")]


def test_empty_ids_and_bad_utf8_are_located(tmp_path):
    bad = row("1", "10", "d1")
    bad[3] = ""
    with pytest.raises(FormatError) as e:
        lotus.loads(table([row("2", "10", "d1"), bad]))
    assert (e.value.code, e.value.where.line) == ("E142", 3) and "organism_wikidata" in e.value.message
    p = tmp_path / "t.tsv"
    tail = "\t".join(row("3", "10", "d1")[:-1]) + "\n" + "\t".join(row("4", "10", "d1")) + "\n"
    p.write_bytes(table([row("1", "10", "d1")]).encode() + b"Q2\t2\tbad \xff name\tQ10\to\tk\tr\td1\t1\n" + tail.encode())
    with pytest.raises(FormatError) as e:
        lotus.load(p)
    assert (e.value.code, e.value.where.file, e.value.where.line) == ("E020", str(p), 3)
    assert e.value.where.offset == len(table([row("1", "10", "d1")]).encode()) + len(b"Q2\t2\tbad ")
    diags = Diagnostics()
    docs = lotus.load(p, lenient=True, diagnostics=diags)
    assert [r.tail for r in docs[0].relations] == ["Q1", "Q4"]
    # the line after the skipped one keeps its own line number
    assert [(x.code, x.where.line) for x in diags] == [("E020", 3), ("E141", 4)]


# ---- properties -----------------------------------------------------------------------

cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=12)
ident = st.text("abcXYZ019:/._-", min_size=1, max_size=6)


@st.composite
def lotus_tables(draw):
    extra = draw(st.lists(st.sampled_from(["structure_inchikey", "organism_taxonomy_06family", "note"]), unique=True))
    header = HEADER + extra
    delimiter = draw(st.sampled_from(["\t", ",", ";"]))
    rows = []
    for g, n in enumerate(draw(st.lists(st.integers(1, 4), min_size=1, max_size=5))):
        for _ in range(n):
            r = {c: draw(cell) for c in header}
            r.update(structure_wikidata=draw(ident), organism_wikidata="O" + draw(ident), reference_doi=f"ref{g}")
            rows.append(r)
    return header, delimiter, rows


@settings(max_examples=60, deadline=None)
@given(lotus_tables())
def test_any_grouped_table_round_trips_cell_for_cell(t):
    header, delimiter, rows = t
    buf = _io.StringIO()
    lotus.write_rows(rows, buf, columns=header, delimiter=delimiter)
    text = buf.getvalue()
    docs = lotus.loads(text, delimiter=delimiter)
    assert sum(len(d.relations) for d in docs) == len(rows)
    assert [r for d in docs for r in lotus.document_rows(d)] == rows
    assert lotus.dumps(docs) == text


def test_only_the_lotus_sniff_claims_a_lotus_tsv(tmp_path):
    from biorel.registry import registry

    p = tmp_path / "occurrences.tsv"
    p.write_text(table([row("1", "10", "d1")]), encoding="utf-8")
    assert io.detect_format(p).name == "lotus"
    tsv_formats = [f for _, f in registry.formats.items() if ".tsv" in f.extensions and f.sniff]
    assert [f.name for f in tsv_formats if f.sniff(str(p))] == ["lotus"]
