"""The small corpus the query tests answer about, written as a two-part
Parquet output with two models."""

from __future__ import annotations

import pytest

from biorel.io import parquet
from biorel.types import Document, Entity, Mention, Passage, Relation


def pair_doc(doc_id: str, rels: list[tuple], *, title: bool = True, head=("Aspirin", "C1"), tail=("ulcers", "D1")) -> Document:
    """``<head> causes <tail>. They bleed.`` (after a title when ``title``), with
    ``rels`` = (type, head entity, tail entity, directed, score, evidence?)."""
    prefix = "Aspirin and ulcers. " if title else ""
    s1 = f"{head[0]} causes {tail[0]}."
    text = prefix + s1 + " They bleed."
    o = len(prefix)
    h, t = (o, o + len(head[0])), (o + len(head[0]) + 8, o + len(head[0]) + 8 + len(tail[0]))
    passages = [Passage(0, prefix.strip(), "title"), Passage(o, text[o:], "abstract")] if title else [Passage(0, text, "abstract")]
    mentions = [
        Mention("T1", (h,), head[0], "Chemical", (head[1],) if head[1] else ()),
        Mention("T2", (t,), tail[0], "Disease", (tail[1],) if tail[1] else ()),
    ]
    entities = [Entity(head[1] or "E1", "Chemical", ("T1",)), Entity(tail[1] or "E2", "Disease", ("T2",))]
    relations = [
        Relation(f"R{i}", typ, hd, tl, directed=directed, score=score, evidence=((o, o + len(s1)),) if ev else ())
        for i, (typ, hd, tl, directed, score, ev) in enumerate(rels)
    ]
    return Document(doc_id, passages, mentions, entities, relations)


def corpus() -> list[Document]:
    return [
        pair_doc("d1", [("CID", "C1", "D1", True, 0.9, True)]),
        pair_doc("d2", [("CID", "C1", "D1", True, 0.7, False)]),
        pair_doc("d3", [("Assoc", "C1", "D1", False, 0.2, False), ("CID", "C1", "D1", True, 0.4, False)], title=False),
        pair_doc("d4", [("Assoc", "D1", "C1", False, None, False)]),  # undirected, the other way round
        pair_doc("d5", [("CID", "E1", "E2", True, 0.5, True)], head=("Foo", None), tail=("BAR", None)),
        pair_doc("d6", [("CID", "E1", "E2", True, 0.3, False)], head=("foo", None), tail=("bar", None)),
        pair_doc("d7", [("CID", "E1", "E2", True, 0.1, False)], head=("foo", None), tail=("bar", None)),
    ]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("q") / "out"
    docs = corpus()
    parquet.write_part(docs[:4], folder, "00000", {"model": "m1", "model_version": "v1"})
    parquet.write_part(docs[4:], folder, "00001", {"model": "m2", "model_version": None})
    return folder
