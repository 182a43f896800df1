"""Turn a generated abstract into a fully annotated biorel document.

The document has the seed's title (offset 0, type ``title``) and the generated
abstract (offset ``len(title) + 1``, type ``abstract``). Every target entity is
located (:func:`biorel.synth.align.align`) in both passages; the *score* is
computed on the abstract alone (the paper's definition: the share of target
entities that the generated text mentions).

* Mentions: one per distinct located span, ids ``M1``, ``M2``, ... in text
  order; ``concept_ids`` are the entity ids the span names (several for a
  composite series mention, whose ``components`` spell the members out);
  ``infons["match"]`` is ``exact``, ``tolerant`` or ``series``.
* Entities: the targets, with ``name`` set and ``mention_ids`` linking them to
  their mentions; other entities of the seed are not carried over.
* Relations: the seed's relations between targets. With a score threshold
  below 1, relations whose arguments were not found in the text are removed
  and listed in ``metadata["synth"]["dropped_relations"]`` (never silently).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from collections.abc import Sequence

from ..types import Document, Entity, Mention, Passage, Relation
from .align import Alignment, Match, align
from .verbalise import entity_name


def named_targets(doc: Document, targets: Sequence[Entity]) -> list[Entity]:
    return [replace(t, name=entity_name(t, doc), mention_ids=(), infons=dict(t.infons)) for t in targets]


def _mentions(matches: list[tuple[int, Match]], types: dict[str, str], text: str) -> list[Mention]:
    by_span: dict[tuple[int, int], Match] = {}
    for offset, m in matches:
        span = (m.start + offset, m.end + offset)
        prev = by_span.get(span)
        if prev is None:
            by_span[span] = m
        elif set(m.entity_ids) - set(prev.entity_ids):
            by_span[span] = replace(prev, entity_ids=tuple(dict.fromkeys(prev.entity_ids + m.entity_ids)))
    out = []
    for i, (span, m) in enumerate(sorted(by_span.items()), start=1):
        out.append(
            Mention(
                id=f"M{i}",
                spans=(span,),
                text=text[span[0] : span[1]],
                type=types[m.entity_ids[0]],
                concept_ids=m.entity_ids,
                components=m.components,
                infons={"match": m.method},
            )
        )
    return out


def annotate(
    seed: Document, doc_id: str, title: str, abstract: str, targets: Sequence[Entity], *, threshold: float = 1.0
) -> tuple[Document, Alignment, list[str]]:
    """Build the annotated document. Returns it, the abstract's alignment and
    the ids of relations dropped because an argument was not found."""
    targets = named_targets(seed, targets)
    abstract_offset = len(title) + 1 if title else 0
    passages = ([Passage(0, title, "title")] if title else []) + [Passage(abstract_offset, abstract, "abstract")]
    result = align(abstract, targets)
    title_result = align(title, targets) if title else Alignment()
    matches: list[tuple[int, Match]] = [(0, m) for ms in title_result.found.values() for m in ms]
    matches += [(abstract_offset, m) for ms in result.found.values() for m in ms]
    doc = Document(id=doc_id, passages=passages)
    text = doc.text
    types = {t.id: t.type for t in targets}
    doc.mentions = _mentions(matches, types, text)
    links: dict[str, list[str]] = {t.id: [] for t in targets}
    for m in doc.mentions:
        for cid in m.concept_ids:
            links[cid].append(m.id)
    doc.entities = [replace(t, mention_ids=tuple(links[t.id])) for t in targets]
    target_ids = set(links)
    dropped: list[str] = []
    rels: list[Relation] = []
    missing = set(result.missing)
    for r in seed.relations:
        if r.level != "entity" or r.head not in target_ids or r.tail not in target_ids:
            continue
        if threshold < 1.0 and (r.head in missing or r.tail in missing):
            dropped.append(r.id)
            continue
        rels.append(replace(r, infons=dict(r.infons)))
    doc.relations = rels
    return doc, result, dropped


def alignment_summary(result: Alignment) -> dict[str, Any]:
    return {
        "score": round(result.score, 6),
        "n_targets": result.n_targets,
        "found": {eid: method for eid, method in result.methods().items()},
        "missing": list(result.missing),
    }
