"""Adapters: LOTUS-style tables and biorel documents to sampler input."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorel.errors import BiorelError, Diagnostics
from biorel.sampling import GMESampler, document_records, load_table, table_records
from biorel.types import Document, Entity, Mention, Passage, Relation

HEADER = "structure_wikidata\tstructure_nameTraditional\torganism_wikidata\torganism_name\torganism_taxonomy_02kingdom\treference_doi\n"


def write(tmp: Path, rows: list[str], name: str = "t.tsv") -> Path:
    p = tmp / name
    p.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return p


def test_table_records_and_strata(tmp):
    p = write(tmp, ["c1\tC1\to1\tO1\tFungi\tref2", "c2\tC2\to1\tO1\tFungi\tref2", "c1\tC1\to2\tO2\tMetazoa\tref1"])
    t = load_table(p, on=["structure_wikidata", "organism_wikidata"], stratify="organism_taxonomy_02kingdom")
    assert list(t.items) == ["ref1", "ref2"]
    assert [t.stratum_of(i) for i in range(2)] == ["Metazoa", "Fungi"]
    assert t.counts[0].toarray().tolist() == [[1, 0], [1, 1]]  # entities c1, c2


def test_empty_value_is_an_error_with_its_line(tmp):
    p = write(tmp, ["c1\tC1\to1\tO1\tFungi\tref1", "\tC2\to1\tO1\tFungi\tref1"])
    with pytest.raises(BiorelError) as e:
        load_table(p, on=["structure_wikidata", "organism_wikidata"])
    assert e.value.code == "E222"
    assert e.value.where.line == 3 and e.value.where.file == str(p)
    assert "structure_wikidata" in str(e.value)


def test_lenient_skips_and_reports_each_bad_row(tmp):
    p = write(tmp, ["c1\tC1\to1\tO1\tFungi\tref1", "\tC2\to1\tO1\tFungi\tref1", "c3\tC3\t\tO1\tFungi\tref2"])
    diags = Diagnostics()
    t = load_table(p, on=["structure_wikidata", "organism_wikidata"], lenient=True, diagnostics=diags)
    assert list(t.items) == ["ref1"]
    assert [(d.code, d.where.line) for d in diags] == [("E222", 3), ("E222", 4)]


def test_unknown_column(tmp):
    p = write(tmp, ["c1\tC1\to1\tO1\tFungi\tref1"])
    with pytest.raises(BiorelError) as e:
        list(table_records(p, on=["structure_inchikey"]))
    assert e.value.code == "E221" and "structure_inchikey" in str(e.value)


def test_missing_input(tmp):
    with pytest.raises(BiorelError) as e:
        load_table(tmp / "nope.tsv", on=["x"])
    assert e.value.code == "E171"


def cdr_doc() -> Document:
    text = "aspirin causes ulcers and naproxen"
    return Document(
        id="42",
        passages=[Passage(0, text)],
        mentions=[
            Mention("M1", ((0, 7),), "aspirin", "Chemical", ("D001241",)),
            Mention("M2", ((15, 21),), "ulcers", "Disease", ("D014456",)),
            Mention("M3", ((26, 34),), "naproxen", "Chemical", ("-1",)),
        ],
        entities=[Entity("D001241", "Chemical", ("M1",)), Entity("D014456", "Disease", ("M2",)), Entity("G1", "Gene")],
        relations=[
            Relation("R1", "CID", "D001241", "D014456"),
            Relation("R2", "Association", "G1", "G1"),  # no argument of the variables
            Relation("R3", "CID", "M3", "M2", level="mention"),  # ungrounded chemical mention
        ],
        metadata={"journal": "J"},
    )


def test_document_records_by_entity_type():
    diags = Diagnostics()
    recs = list(document_records([cdr_doc()], ["Chemical", "Disease"], diagnostics=diags))
    assert [(r.item, r.values) for r in recs] == [
        ("42", {"Chemical": ["D001241"], "Disease": ["D014456"]}),
        ("42", {"Disease": ["D014456"]}),
    ]
    assert sorted(d.code for d in diags) == ["E226", "E230"]


def test_named_metadata_column_and_case_insensitive_types():
    recs = list(document_records([cdr_doc()], ["chemical", "journal"]))
    assert recs[0].values == {"chemical": ["D001241"], "journal": ["J"]}


def test_documents_without_relations_are_reported_as_unranked():
    doc = Document(id="7", passages=[Passage(0, "x")])
    from biorel.sampling import ItemTable

    diags = Diagnostics()
    t = ItemTable.from_records(list(document_records([cdr_doc(), doc], ["Chemical", "Disease"])), ["Chemical", "Disease"])
    result = GMESampler().sample(t, diagnostics=diags)
    assert result.items == ["42"] and result.unranked == ["7"]
    assert [d.code for d in diags] == ["E224"]


def test_corpus_file_route(tmp):
    from biorel import io

    path = tmp / "c.jsonl"
    io.write([cdr_doc()], path)
    t = load_table(path, on=["Chemical", "Disease"])
    assert list(t.items) == ["42"] and [t.n_entities(v) for v in (0, 1)] == [1, 1]


def test_gzipped_table_reads_like_the_plain_one(tmp):
    import gzip

    rows = ["c1\tC1\to1\tO1\tFungi\tref2", "c2\tC2\to1\tO1\tFungi\tref2", "c1\tC1\to2\tO2\tMetazoa\tref1"]
    plain = write(tmp, rows)
    gz = tmp / "t.tsv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    a = load_table(plain, on=["structure_wikidata", "organism_wikidata"])
    b = load_table(gz, on=["structure_wikidata", "organism_wikidata"])
    assert list(a.items) == list(b.items)
    assert all((x != y).nnz == 0 for x, y in zip(a.counts, b.counts))


def test_table_subset_keeps_the_header_and_the_selected_rows(tmp):
    from biorel.sampling.sources import write_table_subset

    p = write(tmp, ["c1\tC1\to1\tO1\tFungi\tref2", "c2\tC2\to1\tO1\tFungi\tref1", "c3\tC3\to1\tO1\tFungi\tref2"])
    n = write_table_subset(p, tmp / "out.tsv", None, {"ref2"})
    lines = (tmp / "out.tsv").read_text().splitlines()
    assert n == 2 and lines[0] == HEADER.rstrip("\n") and [ln.split("\t")[0] for ln in lines[1:]] == ["c1", "c3"]
