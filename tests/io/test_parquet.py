"""The Parquet extraction output (``biorel.Parquet.v1``): loss-free round
trips (real BC5CDR documents, every field of the document model, random
documents), parts and provenance, atomic writes, and coded errors that name
the folder, the file and the row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics
from biorel.io import parquet
from biorel.types import Document, Entity, Mention, NaryRelation, Passage, Relation


def rich_documents() -> list[Document]:
    """Every field of the document model at least once."""
    title, abstract = "Aspirin and headache.", "Aspirin (ASA) caused acute and chronic headache in two patients."
    text = title + "  " + abstract  # a two-character gap between the passages
    a = len(title) + 2
    mentions = [
        Mention("M1", ((0, 7),), "Aspirin", "Chemical", ("C1",), infons={"score": 0.9}),
        Mention("M2", ((12, 20),), "headache", "Disease", ("D1", "D2"), ("head", "ache")),
        Mention("M3", ((a, a + 7),), "Aspirin", "Chemical", ("C1",)),
        Mention("M4", ((a + 9, a + 12),), "ASA", "Chemical", ("-1",), infons={"score": "high"}),
        Mention("M5", ((a + 21, a + 26), (a + 39, a + 47)), "acute headache", "Disease", ("D1",)),
    ]
    assert [text[s:e] for m in mentions for s, e in m.spans[:1]] == ["Aspirin", "headache", "Aspirin", "ASA", "acute"]
    entities = [
        Entity("C1", "Chemical", ("M1", "M3"), name="acetylsalicylic acid", infons={"db": "MeSH"}),
        Entity("D1", "Disease", ("M2", "M5")),
        Entity("E9", "Disease", ("M4",)),
        Entity("X1", "Gene"),  # no mentions: named by its id
    ]
    sentence = (a, a + len(abstract))
    relations = [
        Relation("R1", "CID", "C1", "D1", directed=True, score=0.75, evidence=(sentence,), infons={"attributions": [[a, a + 7, 1.0]]}),
        Relation("R2", "Association", "D1", "X1"),
        Relation("R3", "Abbrev", "M3", "M4", level="mention", directed=False, score=1),
    ]
    nary = [NaryRelation("N1", "Complex", (("a", "C1"), ("b", "D1"), ("c", "X1")), score=0.5)]
    first = Document(
        "doc-1",
        [Passage(0, title, "title", {"section": "TITLE"}), Passage(a, abstract, "abstract")],
        mentions,
        entities,
        relations,
        {"pmid": 1, "journal": {"name": "Ü"}, "provenance": {"model": "m", "model_version": "7"}},
        nary,
    )
    textless = Document("doc-2", entities=[Entity("C2", "Chemical"), Entity("D3", "Disease")], relations=[Relation("R1", "CID", "C2", "D3")])
    return [first, textless, Document("doc-3", [Passage(0, "Nothing here.")])]


def dicts(docs) -> list[dict]:
    return [d.to_dict() for d in docs]


def test_every_field_round_trips(tmp_path):
    docs = rich_documents()
    assert parquet.dump(docs, tmp_path / "out") == 3
    assert dicts(parquet.load(tmp_path / "out")) == dicts(docs)
    assert io.detect_format(tmp_path / "out").name == "parquet"
    assert dicts(io.load(tmp_path / "out" / parquet.MANIFEST, "parquet")) == dicts(docs)  # the manifest names its folder


def test_denormalised_columns(tmp_path):
    parquet.dump(rich_documents(), tmp_path / "out")
    rel = pq.read_table(tmp_path / "out" / "relations").to_pylist()
    r1 = rel[0]
    assert (r1["head_name"], r1["head_type"], r1["head_ids"]) == ("acetylsalicylic acid", "Chemical", ["C1"])
    assert (r1["tail_name"], r1["tail_ids"]) == ("headache", ["D1"])  # the first mention's text; D1 is the entity's own id
    assert r1["evidence"] == ["Aspirin (ASA) caused acute and chronic headache in two patients."]
    assert (r1["model"], r1["model_version"]) == ("m", "7")  # from metadata["provenance"]
    assert (rel[1]["tail_name"], rel[1]["tail_ids"]) == ("X1", [])
    assert (rel[2]["head_name"], rel[2]["tail_name"], rel[2]["tail_ids"]) == ("Aspirin", "ASA", [])  # mention level; -1 is no id
    ments = pq.read_table(tmp_path / "out" / "mentions").to_pylist()
    assert [m["score"] for m in ments[:4]] == [0.9, None, None, None]
    assert [m["entity_id"] for m in ments] == ["C1", "D1", "C1", "E9", "D1"]
    discontinuous = rich_documents()[0].mentions[4]
    assert ments[3]["ids"] == ["-1"] and (ments[4]["start"], ments[4]["end"]) == (discontinuous.start, discontinuous.end)
    ents = pq.read_table(tmp_path / "out" / "entities").to_pylist()
    assert [(e["name"], e["name_source"], e["ids"]) for e in ents[:4]] == [
        ("acetylsalicylic acid", "entity", ["C1"]),
        ("headache", "mention", ["D1"]),
        ("ASA", "mention", []),
        ("X1", "id", []),
    ]
    docs = pq.read_table(tmp_path / "out" / "documents").to_pylist()
    assert docs[0]["title"] == "Aspirin and headache." and docs[1]["text"] == "" and docs[2]["title"] is None
    assert [(d["n_mentions"], d["n_entities"], d["n_relations"]) for d in docs] == [(5, 4, 3), (0, 2, 1), (0, 0, 0)]


@pytest.mark.realdata
def test_bc5cdr_test_set_round_trips_in_parts(mirror, tmp_path):
    from biorel.datasets import load_dataset

    docs = load_dataset("bc5cdr", split="test")
    assert len(docs) == 500
    assert io.write(docs, tmp_path / "one", "parquet") == 500
    assert dicts(io.load(tmp_path / "one")) == dicts(docs)
    for k, start in enumerate(range(0, 500, 200)):  # three parts, read back in part order
        parquet.write_part(docs[start : start + 200], tmp_path / "parts", f"{k:05d}", {"model": "gold", "model_version": "1"})
    back = parquet.iterparse(tmp_path / "parts")
    assert not isinstance(back, list)  # a stream
    assert dicts(back) == dicts(docs)
    assert parquet.open_output(tmp_path / "parts").parts == ("part-00000.parquet", "part-00001.parquet", "part-00002.parquet")


# ---- random documents --------------------------------------------------------------------------------


@st.composite
def documents(draw) -> Document:
    words = draw(st.lists(st.text("abcXYZ é", min_size=1, max_size=6), min_size=1, max_size=12))
    text = " ".join(words)
    n = len(text)
    spans = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 6)), max_size=5))
    mentions = []
    for i, (s, length) in enumerate(spans):
        e = min(n, s + length)
        ids = tuple(draw(st.lists(st.sampled_from(["C1", "C2", "D1", "-1"]), max_size=2)))
        infons = draw(st.sampled_from([{}, {"score": 0.5}, {"note": [1, "x"]}]))
        mentions.append(Mention(f"T{i}", ((s, e),), text[s:e], draw(st.sampled_from(["Chemical", "Disease"])), ids, infons=infons))
    doc = Document(draw(st.text("0123456789", min_size=1, max_size=5)), [Passage(0, text, "abstract")], mentions)
    doc.entities = doc.entities_from_mentions()
    ents = [e.id for e in doc.entities]
    for i in range(draw(st.integers(0, 3)) if len(ents) > 1 else 0):
        h, t = draw(st.permutations(ents))[:2]
        score = draw(st.one_of(st.none(), st.floats(0, 1)))
        ev = tuple(draw(st.lists(st.tuples(st.integers(0, n - 1), st.just(n)), max_size=2)))
        doc.relations.append(Relation(f"R{i}", "CID", h, t, directed=draw(st.booleans()), score=score, evidence=ev))
    if draw(st.booleans()):
        doc.metadata = {"source": draw(st.text(max_size=5))}
    return doc


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(documents(), max_size=4, unique_by=lambda d: d.id))
def test_random_documents_round_trip(tmp_path_factory, docs):
    out = tmp_path_factory.mktemp("random") / "out"
    parquet.dump(docs, out)
    assert dicts(parquet.load(out)) == dicts(docs)


# ---- parts, provenance, atomic writes --------------------------------------------------------------------


def test_provenance_option_fills_mentions_and_relations(tmp_path):
    docs = rich_documents()
    io.write(docs, tmp_path / "out", "parquet", provenance={"model": "bc5cdr-minilm", "model_version": "sha256:ab"})
    for table in ("mentions", "relations"):
        rows = pq.read_table(tmp_path / "out" / table, columns=["model", "model_version"]).to_pylist()
        assert rows and all(r == {"model": "bc5cdr-minilm", "model_version": "sha256:ab"} for r in rows)
    parquet.dump(docs[1:], tmp_path / "bare")  # no provenance anywhere: empty columns
    assert pq.read_table(tmp_path / "bare" / "relations").column("model").to_pylist() == [None]


def test_manifest_names_tables_and_columns(tmp_path):
    parquet.dump([], tmp_path / "out")
    found = json.loads((tmp_path / "out" / parquet.MANIFEST).read_text())
    assert found["format"] == "biorel.Parquet.v1" and found["schema_version"] == parquet.SCHEMA_VERSION
    assert list(found["tables"]) == ["documents", "entities", "mentions", "relations"]
    for table, spec in found["tables"].items():
        schema = pq.read_schema(tmp_path / "out" / table / "part-00000.parquet")
        assert list(spec["columns"]) == schema.names
        assert all(str(schema.field(c).type).replace("element: ", "").replace("item: ", "") == t for c, t in spec["columns"].items())
    assert parquet.load(tmp_path / "out") == []


def test_write_part_replaces_its_part_only_and_is_atomic(tmp_path):
    docs = rich_documents()
    out = tmp_path / "out"
    parquet.write_part(docs[:1], out, "part-a")
    parquet.write_part(docs[1:], out, "b")
    bad = Document("bad", [Passage(0, "x")], metadata={"s": {1, 2}})  # a set: JSON cannot hold it
    with pytest.raises(BiorelError) as e:
        parquet.write_part(docs[1:2] + [bad], out, "b")
    assert e.value.code == "E545" and "'bad'" in str(e.value)
    assert dicts(parquet.load(out)) == dicts(docs)  # part b is the old one, whole
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == sorted([parquet.MANIFEST] + ["part-a.parquet", "part-b.parquet"] * 4)


@pytest.mark.parametrize(
    "call,code",
    [
        (lambda out: parquet.write_part([], out, "../x"), "E545"),
        (lambda out: parquet.write_part([], out, "p", {"model": "m", "version": "1"}), "E545"),
        (lambda out: parquet.dump([Document("d", relations=[Relation("R", "T", "a", "b", score="high")])], out), "E545"),
        (lambda out: parquet.dump([], out, compression="zstd"), "E005"),
        (lambda out: parquet.dumps([]), "E546"),
        (lambda out: io.dumps([], "parquet"), "E546"),
        (lambda out: parquet.loads("{}"), "E546"),
        (lambda out: parquet.dump([], open(out.parent / "f.txt", "w")), "E546"),
    ],
)
def test_what_cannot_be_written(tmp_path, call, code):
    with pytest.raises(BiorelError) as e:
        call(tmp_path / "out")
    assert e.value.code == code


def test_a_file_is_not_an_output_folder(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(BiorelError) as e:
        parquet.dump([], tmp_path / "out")
    assert e.value.code == "E545" and str(tmp_path / "out") in str(e.value)


# ---- reading errors ------------------------------------------------------------------------------------


@pytest.fixture
def out(tmp_path) -> Path:
    parquet.dump(rich_documents(), tmp_path / "out")
    return tmp_path / "out"


def read_error(path, **kw) -> BiorelError:
    with pytest.raises(BiorelError) as e:
        parquet.load(path, **kw)
    return e.value


def test_folder_errors(tmp_path, out):
    assert read_error(tmp_path / "nope").code == "E540"
    (tmp_path / "empty").mkdir()
    err = read_error(tmp_path / "empty")
    assert err.code == "E540" and "empty" in str(err)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "a.txt").write_text("x")
    assert read_error(tmp_path / "other").code == "E540"
    (out / parquet.MANIFEST).write_text(json.dumps({**parquet.manifest(), "schema_version": 99}))
    err = read_error(out)
    assert err.code == "E541" and "99" in str(err)
    with pytest.raises(BiorelError) as e:  # nor is it written into
        parquet.dump([], out)
    assert e.value.code == "E541"
    (out / parquet.MANIFEST).write_text("{")
    assert read_error(out).code == "E540"


def test_missing_table_or_part(out):
    (out / "mentions" / "part-00000.parquet").unlink()
    err = read_error(out)
    assert err.code == "E542" and "mentions/part-00000.parquet" in str(err)
    shutil.rmtree(out / "relations")
    err = read_error(out)
    assert err.code == "E542" and "relations/" in str(err)


def rewrite(path: Path, change) -> None:
    """Rewrite one table file with ``change(table) -> table``."""
    table = change(pq.read_table(path))
    pq.write_table(table, path)


def test_wrong_columns_name_the_file(out):
    path = out / "relations" / "part-00000.parquet"
    rewrite(path, lambda t: t.drop_columns(["evidence"]))
    err = read_error(out)
    assert err.code == "E543" and str(path) in str(err) and "evidence" in str(err)
    rewrite(path, lambda t: t.append_column("evidence", pa.array([1] * t.num_rows)))
    assert read_error(out).code == "E543"


def test_a_broken_file_names_the_file(out):
    path = out / "entities" / "part-00000.parquet"
    path.write_bytes(path.read_bytes()[:100])
    err = read_error(out)
    assert err.code == "E543" and str(path) in str(err)


def set_cell(path: Path, column: str, row: int, value) -> None:
    def change(t):
        values = t.column(column).to_pylist()
        values[row] = value
        return t.set_column(t.schema.get_field_index(column), column, pa.array(values, t.schema.field(column).type))

    rewrite(path, change)


def test_a_bad_row_names_file_and_row(out):
    path = out / "mentions" / "part-00000.parquet"
    set_cell(path, "infons", 1, "{not json")
    err = read_error(out)
    assert err.code == "E544" and err.where.file == str(path) and err.where.path == "row 2"
    diags = Diagnostics()
    docs = parquet.load(out, lenient=True, diagnostics=diags)  # the document is skipped and reported; the others are read
    assert [d.id for d in docs] == ["doc-2", "doc-3"] and diags.counts()["E544"] == 1


def test_a_row_breaking_the_document_model_is_located(out):
    path = out / "mentions" / "part-00000.parquet"
    set_cell(path, "text", 0, "Aspirim")
    err = read_error(out)
    assert err.code == "E010" and err.where.file == str(path) and err.where.path == "row 1"


def test_tables_out_of_step_stop_even_a_lenient_read(out):
    path = out / "relations" / "part-00000.parquet"
    set_cell(path, "document_id", 3, "doc-3")  # doc-2's relation now claims to be doc-3's
    for lenient in (False, True):
        err = read_error(out, lenient=lenient, diagnostics=Diagnostics())
        assert err.code == "E544" and err.where.file == str(path) and err.where.path == "row 4"
    docs_path = out / "documents" / "part-00000.parquet"
    set_cell(path, "document_id", 3, "doc-2")
    set_cell(docs_path, "n_relations", 1, 0)  # a relation row no document counts
    err = read_error(out)
    assert err.code == "E544" and "no row of the documents table counts" in str(err)
