"""The ``pairs`` document format: a ``biorel pairs`` table read back as
documents (one per row) for training and scoring. Known answers, detection
beside LOTUS, CSV = Parquet, malformed tables (coded errors with file:line,
lenient skipping) and the round trip BioRED dev -> table -> documents -> the
relation classifier's candidate pairs."""

from __future__ import annotations

import csv
import importlib.util
import io as stdio
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.errors import BiorelError, Diagnostics
from biorel.io.pairs import label_types
from biorel.pairs_table import COLUMNS, PairStats, export_pairs, pair_rows, read_pairs, write_pairs
from biorel.types import Document, Entity, Mention, Passage, Relation

HAS_ARROW = importlib.util.find_spec("pyarrow") is not None
runner = CliRunner()

TEXT = "Cocaine and aspirin cause seizures. Aspirin relieves headache."


def chem_doc(directed: bool = True) -> Document:
    """C1 cocaine, C2 aspirin (twice), D1 seizures, D2 headache; CID C1->D1
    and C2->D2, plus a second type ``TREATS`` on C2->D2."""
    doc = Document("d1", [Passage(0, TEXT)])
    spans = {"C1": [(0, 7)], "C2": [(12, 19), (36, 43)], "D1": [(26, 34)], "D2": [(53, 61)]}
    for eid, where in spans.items():
        etype = "Chemical" if eid[0] == "C" else "Disease"
        mids = []
        for s, e in where:
            mids.append(f"M{len(doc.mentions)}")
            doc.mentions.append(Mention(mids[-1], ((s, e),), TEXT[s:e], etype))
        doc.entities.append(Entity(eid, etype, tuple(mids)))
    doc.relations = [
        Relation("R1", "CID", "C1", "D1", directed=directed),
        Relation("R2", "CID", "C2", "D2", directed=directed),
        Relation("R3", "TREATS", "C2", "D2", directed=directed),
    ]
    return doc


def write_table(tmp_path: Path, docs: list[Document], name: str = "t.csv", **kw) -> tuple[Path, PairStats]:
    stats = PairStats()
    write_pairs(pair_rows(docs, stats=stats, **kw), tmp_path / name)
    return tmp_path / name, stats


def fake_classifier(labels):
    """The relation classifier's own ``prepare``/``_pairs``/``_instance`` on a
    character tokenizer that records every marked text (no encoder needed)."""
    from biorel.models.relclf import RelationClassifier

    fake = SimpleNamespace(labels=labels, cfg=SimpleNamespace(markers="typed"), marked=[])

    def tokenizer(text, **_):
        fake.marked.append(text)
        return {"input_ids": [0] * len(text), "offset_mapping": [(i, i + 1) for i in range(len(text))]}

    fake.encoder = SimpleNamespace(tokenizer=tokenizer, featurizer=SimpleNamespace(size=10**9, prefix=0, wrap=lambda ids: ids))
    for name in ("_grounded", "_markers", "_instance", "_pairs"):
        setattr(fake, name, (lambda n: lambda *a: getattr(RelationClassifier, n)(fake, *a))(name))
    fake.prepare = lambda doc: RelationClassifier.prepare(fake, doc)
    return fake


def item_label(labels, targets: list[int]) -> str:
    return "|".join(labels.relation_types[r] for r in sorted(targets)) or "none"


# ---------------------------------------------------------------- known answers
def test_rows_become_documents(tmp_path):
    path, stats = write_table(tmp_path, [chem_doc()])
    rows = list(read_pairs(path))
    docs = io.load(path)  # no format given: the header says it is a pairs table
    assert io.detect_format(path).name == "pairs"
    assert len(docs) == len(rows) == stats.rows == 3  # C1-D1 (s0), C2-D1 (s0), C2-D2 (s1)
    by_id = {d.id: d for d in docs}
    assert list(by_id) == [f"d1:{r['pair_index']}" for r in rows]
    d = by_id[f"d1:{rows[2]['pair_index']}"]  # aspirin -> headache, two types
    assert d.text == "Aspirin relieves headache." and [p.type for p in d.passages] == ["sentence"]
    assert [(m.id, m.text, m.type) for m in d.mentions] == [("M2", "Aspirin", "Chemical"), ("M4", "headache", "Disease")]
    assert [(e.id, e.type, e.mention_ids) for e in d.entities] == [("C2", "Chemical", ("M2",)), ("D2", "Disease", ("M4",))]
    assert [(r.id, r.type, r.head, r.tail, r.directed) for r in d.relations] == [("R1", "CID", "C2", "D2", True), ("R2", "TREATS", "C2", "D2", True)]
    meta = d.metadata["pair"]
    assert list(meta) == [c for c in COLUMNS if c != "text"] and meta["doc_id"] == "d1" and meta["sentence_index"] == 1
    assert meta["label"] == "CID|TREATS" and "label" not in d.metadata  # the sentence scorer reads metadata["label"] too
    none = by_id[f"d1:{rows[1]['pair_index']}"]  # aspirin, seizures: no relation
    assert rows[1]["label"] == "none" and none.relations == [] and none.metadata["pair"]["directed"] is None


def test_directed_table_gives_the_classifier_exactly_one_pair_per_document(tmp_path):
    pytest.importorskip("torch")
    from biorel.models.labels import LabelMaps

    path, _ = write_table(tmp_path, [chem_doc(directed=True)])
    docs, rows = io.load(path), list(read_pairs(path))
    clf = fake_classifier(LabelMaps.from_documents(docs))
    for doc, row in zip(docs, rows):
        clf.marked.clear()
        item = clf.prepare(doc)
        assert len(item.pairs) == 1  # only Chemical -> Disease is a candidate type pair
        (i, j), target = item.pairs[0], item.targets[0]
        assert (item.entities[i].id, item.entities[j].id) == (row["head_entity"], row["tail_entity"])
        assert item_label(clf.labels, target) == row["label"] and clf.marked == [row["marked_text"]]


def test_undirected_table_gives_the_row_pair_alone(tmp_path):
    """Undirected types allow both argument orders, but a row's document names
    its one ordered pair (``metadata["candidate_pairs"]``): the classifier
    sees that pair alone, with the row's label; the reverse order is the
    table's own next row. Without the restriction it would see both."""
    pytest.importorskip("torch")
    from biorel.models.labels import LabelMaps
    from biorel.types import CANDIDATE_PAIRS

    path, _ = write_table(tmp_path, [chem_doc(directed=False)])
    docs, rows = io.load(path), list(read_pairs(path))
    assert len(rows) == 6  # both orders of the three pairs
    clf = fake_classifier(LabelMaps.from_documents(docs))
    for doc, row in zip(docs, rows):
        item = clf.prepare(doc)
        ids = [(item.entities[i].id, item.entities[j].id) for i, j in item.pairs]
        assert ids == [(row["head_entity"], row["tail_entity"])]
        assert [item_label(clf.labels, t) for t in item.targets] == [row["label"]]
        del doc.metadata[CANDIDATE_PAIRS]
        item = clf.prepare(doc)
        assert [(item.entities[i].id, item.entities[j].id) for i, j in item.pairs] == [ids[0], ids[0][::-1]]


def test_label_types():
    assert label_types("none") == [] and label_types("A|B") == ["A", "B"]
    for bad in ("", "A||B", "none|A", "A|A", " "):
        with pytest.raises(ValueError):
            label_types(bad)


def test_loads_from_a_string(tmp_path):
    path, _ = write_table(tmp_path, [chem_doc()])
    text = path.read_text(encoding="utf-8")
    assert [d.to_dict() for d in io.get_format("pairs").api.loads(text)] == [d.to_dict() for d in io.load(path, "pairs")]


@pytest.mark.skipif(not HAS_ARROW, reason="pyarrow not installed")
def test_csv_and_parquet_give_the_same_documents(tmp_path):
    docs = [chem_doc(), chem_doc(directed=False)]
    docs[1].id = "d2"
    a, _ = write_table(tmp_path, docs, "t.csv")
    b, _ = write_table(tmp_path, docs, "t.parquet")
    assert io.detect_format(b).name == "pairs"
    assert [d.to_dict() for d in io.load(a)] == [d.to_dict() for d in io.load(b)]


# ---------------------------------------------------------------- detection beside LOTUS
LOTUS_HEADER = ["structure_wikidata", "structure_nameTraditional", "organism_wikidata", "organism_name", "reference_doi"]


def test_other_csv_files_still_read_as_lotus(tmp_path):
    lotus = tmp_path / "lotus.csv"
    lotus.write_text(",".join(LOTUS_HEADER) + "\nQ1,caffeine,Q2,Coffea arabica,10.1/x\n", encoding="utf-8")
    assert io.detect_format(lotus).name == "lotus" and len(io.load(lotus)) == 1
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert io.detect_format(other).name == "lotus"  # as before: a .csv that is no pairs table gets LOTUS's errors
    with pytest.raises(BiorelError) as e:
        io.load(other)
    assert e.value.code == "E140"
    blank = tmp_path / "blank.csv"
    blank.write_text("\n", encoding="utf-8")
    assert io.detect_format(blank).name == "lotus" and io.load(blank) == []
    assert io.detect_format(tmp_path / "new.csv", for_writing=True).name == "lotus"
    assert io.detect_format(tmp_path / "x.pairs.csv").name == "pairs"


# ---------------------------------------------------------------- malformed tables
def lines_of(tmp_path: Path) -> list[str]:
    path, _ = write_table(tmp_path, [chem_doc()])
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def edited(row_line: str, **cells) -> str:
    values = next(csv.reader([row_line]))
    for k, v in cells.items():
        values[list(COLUMNS).index(k)] = v
    buf = stdio.StringIO()
    csv.writer(buf).writerow(values)
    return buf.getvalue()


def read_error(path: Path) -> BiorelError:
    with pytest.raises(BiorelError) as e:
        io.load(path, "pairs")
    return e.value


@pytest.mark.parametrize(
    "cells, code, words",
    [
        ({"pair_index": "x"}, "E187", "column pair_index must be int"),
        ({"pair_index": "²"}, "E187", "column pair_index must be int"),
        ({"directed": "yes"}, "E187", "column directed must be bool"),
        ({"head_start": "1"}, "E188", "not head_text"),
        ({"tail_end": "999"}, "E188", "not inside the text"),
        ({"marked_head_start": "0"}, "E188", "marked_text"),
        ({"head_doc_start": "5"}, "E188", "do not agree"),
        ({"text_end": "3"}, "E188", "text_end - text_start"),
        ({"label": "none|CID"}, "E188", "joins 'none'"),
        ({"label": ""}, "E188", "empty type"),
        ({"directed": ""}, "E188", "directed is empty"),
        ({"tail_entity": "C1"}, "E188", "one entity"),
        ({"head_type": ""}, "E188", "head_type is empty"),
        ({"scope": "paragraph"}, "E188", "scope"),
    ],
)
def test_a_bad_row_is_a_coded_error_with_file_and_line(tmp_path, cells, code, words):
    lines = lines_of(tmp_path)
    path = tmp_path / "bad.csv"
    # line 2: cocaine -> seizures, CID (directed)
    path.write_text("".join([lines[0], edited(lines[1], **cells), lines[2], lines[3]]), encoding="utf-8")
    err = read_error(path)
    assert err.code == code and words in err.message and err.where.file == str(path) and err.where.line == 2, err
    diags = Diagnostics()
    docs = io.load(path, lenient=True, diagnostics=diags)
    assert len(docs) == 2 and [(p.code, p.where.line, p.action) for p in diags] == [(code, 2, "row skipped")]


def test_structural_errors(tmp_path):
    lines = lines_of(tmp_path)
    bad = tmp_path / "bad.pairs.csv"
    bad.write_text(lines[0] + lines[1].rstrip("\r\n") + ",extra\r\n" + lines[2], encoding="utf-8")
    err = read_error(bad)
    assert err.code == "E187" and "33 cells, expected 32" in err.message and err.where.line == 2
    bad.write_text(lines[0].replace("doc_id", "document"), encoding="utf-8")
    assert read_error(bad).code == "E187" and "header" in read_error(bad).message
    with pytest.raises(BiorelError) as e:  # a bad header stops a lenient read too: nothing can be read
        io.load(bad, "pairs", lenient=True, diagnostics=Diagnostics())
    assert e.value.code == "E187"
    bad.write_text(lines[0] + lines[1] + lines[1], encoding="utf-8")
    err = read_error(bad)
    assert err.code == "E016" and err.where.line == 3  # the same document id twice
    bad.write_bytes(lines[0].encode() + lines[1].encode() + b"\xff" + lines[2].encode())
    err = read_error(bad)
    assert err.code == "E020" and err.where.line == 3
    assert [d.id for d in io.load(bad, "pairs", lenient=True, diagnostics=Diagnostics())] == ["d1:0"]


def test_lines_are_counted_across_quoted_line_breaks(tmp_path):
    doc = chem_doc()
    doc.passages = [Passage(0, TEXT.replace(" Aspirin", "\nAspirin"))]
    path, _ = write_table(tmp_path, [doc], window=1)  # texts of two sentences, with the line break
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) > 4
    rows = list(csv.reader(lines))
    bad = tmp_path / "bad.csv"
    last = stdio.StringIO()
    csv.writer(last).writerow(rows[-1][:5])
    text = "".join(lines) + last.getvalue()
    bad.write_text(text, encoding="utf-8")
    err = read_error(bad)
    assert err.code == "E187" and err.where.line == len(lines) + 1


@pytest.mark.skipif(not HAS_ARROW, reason="pyarrow not installed")
def test_parquet_errors_name_the_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = list(pair_rows([chem_doc()]))
    rows[1]["head_end"] = 1
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    err = read_error(path)
    assert err.code == "E188" and str(err.where) == f"{path} row 2"
    pq.write_table(pa.Table.from_pylist([{"doc_id": "x"}]), path)
    assert read_error(path).code == "E187"
    (tmp_path / "not.parquet").write_text("doc_id\n", encoding="utf-8")
    assert read_error(tmp_path / "not.parquet").code == "E187"


# ---------------------------------------------------------------- real data: BioRED dev
@pytest.fixture
def data_env(mirror, monkeypatch, tmp_path):
    monkeypatch.setenv("BIOREL_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("BIOREL_CACHE", str(tmp_path / "cache"))
    return mirror


def summary_counts(output: str) -> tuple[int, int, Counter]:
    rows = int(re.search(r"^rows: (\d+)", output, re.M).group(1))
    m = re.search(r"^positives: (\d+) rows \((.*)\)$", output, re.M)
    per_type = Counter({t: int(n) for t, n in (x.rsplit(" ", 1) for x in m.group(2).split(", "))})
    return rows, int(m.group(1)), per_type


@pytest.mark.realdata
def test_biored_dev_round_trip(data_env, tmp_path):
    """BioRED dev (BioC JSON) -> ``biorel pairs`` (sentence scope) -> documents:
    one document per row, counts as the command's summary, the relation
    classifier's one candidate pair of each document is the row's pair with
    the row's label and marked text, and Parquet gives the same documents."""
    pytest.importorskip("torch")
    from biorel.cli import app
    from biorel.models.labels import LabelMaps

    out = tmp_path / "biored-dev.csv"
    res = runner.invoke(app, ["pairs", "biored:dev?variant=bioc-json", "-o", str(out), "--scope", "sentence"])
    assert res.exit_code == 0, res.output
    n_rows, n_pos, per_type = summary_counts(res.output)
    docs, rows = io.load(out), list(read_pairs(out))
    assert len(docs) == len(rows) == n_rows == 5706
    assert sum(1 for d in docs if d.relations) == n_pos and Counter(r.type for d in docs for r in d.relations) == per_type
    assert len({d.id for d in docs}) == len(docs)
    labels = LabelMaps.from_documents(docs)
    assert "none" not in labels.relation_types and set(labels.relation_types) == set(per_type)
    clf = fake_classifier(labels)
    for doc, row in zip(docs, rows):
        clf.marked.clear()
        item = clf.prepare(doc)
        assert len(item.pairs) == 1  # the row's pair alone, not also its reverse (BioRED's types are undirected)
        (i, j), target = item.pairs[0], item.targets[0]
        assert (item.entities[i].id, item.entities[j].id) == (row["head_entity"], row["tail_entity"])
        assert item_label(labels, target) == row["label"] and clf.marked == [row["marked_text"]]
    if HAS_ARROW:
        pq_out = tmp_path / "biored-dev.parquet"
        stats = export_pairs("biored:dev?variant=bioc-json", pq_out, scope="sentence")
        assert stats.rows == n_rows
        assert [d.to_dict() for d in io.load(pq_out)] == [d.to_dict() for d in docs]
