"""``biorel.query``: DuckDB answers checked against answers computed by hand
or with plain Python over the documents, and the coded errors."""

from __future__ import annotations

import csv
import io as _io
import json
import shutil
from collections import Counter, defaultdict

import pytest

from biorel import io
from biorel.errors import BiorelError
from biorel.io import parquet
from biorel.query import QueryResult, connect, counts, evidence, format_result, sql, top_relations
from biorel.types import Document


def test_top_relations_known_answer(out):
    got = top_relations(out).records()
    assert [(r["head"], r["head_name"], r["type"], r["tail"], r["tail_name"], r["documents"], r["relations"]) for r in got] == [
        ("C1", "Aspirin", "CID", "D1", "ulcers", 3, 3),
        ("foo", "foo", "CID", "bar", "bar", 3, 3),  # no concept ids: lower-cased names; the most frequent spelling shown
        ("C1", "Aspirin", "Assoc", "D1", "ulcers", 2, 2),  # undirected D1-C1 and C1-D1 are one pair
    ]
    assert [r["mean_score"] for r in got] == pytest.approx([(0.9 + 0.7 + 0.4) / 3, 0.3, 0.2])


def test_top_relations_filters(out):
    assert [(r[0], r[2], r[5]) for r in top_relations(out, type="Assoc").rows] == [("C1", "Assoc", 2)]
    got = top_relations(out, min_score=0.45).records()  # unscored relations drop out too
    assert [(r["head"], r["documents"]) for r in got] == [("C1", 2), ("foo", 1)]
    assert len(top_relations(out, limit=1).rows) == 1
    with pytest.raises(BiorelError) as e:
        top_relations(out, limit=0)
    assert e.value.code == "E549"


def test_evidence_known_answer(out):
    got = evidence(out, "C1", "ulcers", type="CID").records()
    assert [(r["document_id"], r["score"], r["source"], r["sentence"]) for r in got] == [
        ("d1", 0.9, "evidence", "Aspirin causes ulcers."),
        ("d2", 0.7, "title", "Aspirin and ulcers."),
        ("d3", 0.4, "text", "Aspirin causes ulcers. They bleed."),  # no title: the text
    ]
    assert evidence(out, "c1", "d1").rows == []  # concept ids match exactly, names in any case
    assert [r["document_id"] for r in evidence(out, "D1", "C1", type="Assoc").records()] == ["d3", "d4"]  # undirected: either order
    assert [r["document_id"] for r in evidence(out, "ULCERS", "aspirin", type="Assoc").records()] == ["d3", "d4"]
    assert evidence(out, "ulcers", "aspirin", type="CID").rows == []  # directed: head and tail as given
    assert [r["document_id"] for r in evidence(out, "foo", "BAR").records()] == ["d5", "d6", "d7"]
    assert len(evidence(out, "foo", "bar", limit=2).rows) == 2
    with pytest.raises(BiorelError) as e:
        evidence(out, " ", "bar")
    assert e.value.code == "E549"


def test_counts_known_answer(out):
    assert counts(out).rows == [
        ("documents", "", 7),
        ("mentions", "Chemical", 7),
        ("mentions", "Disease", 7),
        ("relations", "CID", 6),
        ("relations", "Assoc", 2),
        ("mentions by model", "m1 v1", 8),
        ("mentions by model", "m2", 6),
        ("relations by model", "m1 v1", 5),
        ("relations by model", "m2", 3),
    ]


def test_sql_views_and_errors(out):
    assert sql(out, "SELECT count(*) AS n FROM documents JOIN entities USING (document_id)").records() == [{"n": 14}]
    res = sql(out, "SELECT document_id, title FROM documents ORDER BY document_id LIMIT 2")
    assert res.columns == ("document_id", "title") and res.rows == [("d1", "Aspirin and ulcers."), ("d2", "Aspirin and ulcers.")]
    for bad in ("SELECT nope FROM relations", "SELEC 1", "SELECT * FROM missing_table"):
        with pytest.raises(BiorelError) as e:
            sql(out, bad)
        assert e.value.code == "E548" and str(out) in str(e.value)
    with pytest.raises(BiorelError) as e:
        sql(out, "  ")
    assert e.value.code == "E549"


def test_folder_errors(tmp_path, out):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.jsonl").write_text("{}\n")
    for folder, code, what in (
        (tmp_path / "empty", "E540", "empty"),
        (tmp_path / "other", "E540", "_biorel_parquet.json"),
        (tmp_path / "absent", "E540", "no such folder"),
    ):
        with pytest.raises(BiorelError) as e:
            counts(folder)
        assert e.value.code == code and what in str(e.value) and str(folder) in str(e.value)
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "relations" / "part-00000.parquet").unlink()
    with pytest.raises(BiorelError) as e:
        connect(broken)
    assert e.value.code == "E542"


def test_empty_output_answers_zero(tmp_path):
    parquet.dump([], tmp_path / "out")
    assert counts(tmp_path / "out").rows == [("documents", "", 0)]
    assert top_relations(tmp_path / "out").rows == []


def test_output_formats():
    res = QueryResult(("a", "b", "c"), [(1, ["x", "y"], None), (2.5, [], "z")])
    rows = list(csv.reader(_io.StringIO(format_result(res, "csv"))))
    assert rows == [["a", "b", "c"], ["1", "x|y", ""], ["2.5", "", "z"]]
    assert json.loads(format_result(res, "json")) == [{"a": 1, "b": ["x", "y"], "c": None}, {"a": 2.5, "b": [], "c": "z"}]
    assert [json.loads(line) for line in format_result(res, "jsonl").splitlines()] == json.loads(format_result(res, "json"))
    for bad in ("xml", "table"):
        with pytest.raises(BiorelError) as e:
            format_result(res, bad)
        assert e.value.code == "E549"


# ---- real documents: DuckDB against plain Python ----------------------------------------------------------


def python_top_relations(docs: list[Document]) -> dict[tuple, tuple[int, int]]:
    """(head concept, type, tail concept) -> (documents, relations), over BC5CDR's
    entity-level relations between concept ids."""
    docs_of: dict[tuple, set[str]] = defaultdict(set)
    n: Counter = Counter()
    for d in docs:
        for r in d.relations:
            docs_of[(r.head, r.type, r.tail)].add(d.id)
            n[(r.head, r.type, r.tail)] += 1
    return {k: (len(v), n[k]) for k, v in docs_of.items()}


@pytest.mark.realdata
def test_bc5cdr_answers_match_python(mirror, tmp_path):
    from biorel.datasets import load_dataset

    docs = load_dataset("bc5cdr", split="test")
    io.write(docs, tmp_path / "out", "parquet")
    expected = python_top_relations(docs)
    got = top_relations(tmp_path / "out", limit=100_000).records()
    assert {(r["head"], r["type"], r["tail"]): (r["documents"], r["relations"]) for r in got} == expected
    ranks = [(r["documents"], r["relations"]) for r in got]
    assert ranks == sorted(ranks, reverse=True)
    first_text = {(d.id, e.id): d.mention_index()[e.mention_ids[0]].text for d in docs for e in d.entities}
    names: dict[str, Counter] = defaultdict(Counter)
    for d in docs:
        for r in d.relations:
            for ent in (r.head, r.tail):
                names[ent][first_text[(d.id, ent)]] += 1
    best = {k: min(c, key=lambda name: (-c[name], name)) for k, c in names.items()}
    assert all((r["head_name"], r["tail_name"]) == (best[r["head"]], best[r["tail"]]) for r in got)
    mention_types = Counter(m.type for d in docs for m in d.mentions)
    want = [("documents", "", 500)] + [("mentions", t, c) for t, c in sorted(mention_types.items(), key=lambda x: -x[1])]
    assert counts(tmp_path / "out").rows[:3] == want
    pair = next(k for k, v in expected.items() if v[0] > 2)
    ev = evidence(tmp_path / "out", pair[0], pair[2], type=pair[1]).records()
    titles = {d.id: d.passages[0].text for d in docs}
    assert sorted(r["document_id"] for r in ev) == sorted(d.id for d in docs for r in d.relations if (r.head, r.type, r.tail) == pair)
    assert all(r["source"] == "title" and r["sentence"] == titles[r["document_id"]] for r in ev)
