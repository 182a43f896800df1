"""Corpus statistics, computed in one streaming pass.

:func:`corpus_stats` (or :class:`StatsAccumulator` for a stream you feed yourself)
counts, over a corpus of :class:`~biorel.types.Document`:

* ``documents``, ``passages`` and ``sentences`` (sentences from
  :func:`biorel.sentences.sentence_spans`; ``None`` for a corpus without text);
* ``mentions`` per mention type;
* ``concepts`` per type: the number of distinct concept ids in the corpus. The
  concepts of a document are the grounded concept ids of its mentions (typed by
  the mention's type; composite mentions give one concept per id, BC5CDR's
  ``-1`` gives none) plus the ids of entities that have no mentions (typed by the
  entity's type: LOTUS/ABroad-style text-less relations). Entities whose mentions
  carry no concept id (brat ``T1``-style, document-local ids) are not concepts;
* ``relations`` per relation type;
* the share of cross-sentence relations. The mentions of a relation argument
  are the mention itself (``level="mention"``), or for an entity the mentions in
  its ``mention_ids`` plus any mention whose concept ids include the entity id. A
  mention lies in every sentence its spans overlap. A relation is
  *within-sentence* when some sentence holds a mention of the head and a mention
  of the tail, *cross-sentence* when both arguments have mentions but no single
  sentence holds one of each, and *ungrounded* when an argument has no mention.
  ``share = cross / (cross + within)``; it is ``None`` (n/a) when that is 0/0,
  e.g. for a text-less corpus;
* the Shannon entropy of the entity distribution per type, in nats. For type
  ``t`` let ``n(c)`` be the number of documents whose concepts include ``c`` (a
  concept of type ``t``) and ``N = sum_c n(c)``; then
  ``H_t = -sum_c (n(c)/N) * ln(n(c)/N)``. It is 0 when one concept covers the
  type, ``ln K`` when ``K`` concepts each occur in the same number of documents,
  and ``None`` for a type with no concepts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable

from .sentences import sentence_spans
from .types import Document, Mention, Relation, Span


@dataclass
class CorpusStats:
    documents: int = 0
    passages: int = 0
    sentences: int | None = None
    mentions: Counter = field(default_factory=Counter)
    concepts: dict[str, int] = field(default_factory=dict)
    relations: Counter = field(default_factory=Counter)
    cross_sentence: int = 0
    within_sentence: int = 0
    ungrounded_relations: int = 0
    entropy: dict[str, float | None] = field(default_factory=dict)

    @property
    def cross_sentence_share(self) -> float | None:
        grounded = self.cross_sentence + self.within_sentence
        return self.cross_sentence / grounded if grounded else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the ``biorel stats --json`` output)."""
        return {
            "documents": self.documents,
            "passages": self.passages,
            "sentences": self.sentences,
            "mentions": {"total": sum(self.mentions.values()), "by_type": dict(sorted(self.mentions.items()))},
            "concepts": {"total": sum(self.concepts.values()), "by_type": dict(sorted(self.concepts.items()))},
            "relations": {"total": sum(self.relations.values()), "by_type": dict(sorted(self.relations.items()))},
            "cross_sentence": {
                "cross": self.cross_sentence,
                "within": self.within_sentence,
                "ungrounded": self.ungrounded_relations,
                "share": self.cross_sentence_share,
            },
            "entropy": dict(sorted(self.entropy.items())),
        }


def entropy(counts: Iterable[int]) -> float | None:
    """Shannon entropy (natural log) of the distribution proportional to ``counts``."""
    values = [c for c in counts if c > 0]
    total = sum(values)
    if not total:
        return None
    return -sum((c / total) * math.log(c / total) for c in values) + 0.0


def document_concepts(doc: Document) -> set[tuple[str, str]]:
    """The ``(type, concept id)`` pairs of one document (rule in the module doc)."""
    out = {(m.type, cid) for m in doc.mentions for cid in m.grounded_ids}
    out.update((e.type, e.id) for e in doc.entities if not e.mention_ids)
    return out


def _sentence_index(spans: list[Span], mention: Mention) -> set[int]:
    return {i for i, (s, e) in enumerate(spans) for ms, me in mention.spans if ms < e and s < me}


def relation_locality(doc: Document, relation: Relation, sentences: list[Span]) -> str:
    """``"within"``, ``"cross"`` or ``"ungrounded"`` for one relation (rule in the module doc)."""
    mentions = doc.mention_index()
    entities = doc.entity_index()

    def argument_mentions(ref: str) -> list[Mention]:
        if relation.level == "mention":
            return [mentions[ref]] if ref in mentions else []
        ent = entities.get(ref)
        ids = set(ent.mention_ids) if ent is not None else set()
        return [m for m in doc.mentions if m.id in ids or ref in m.grounded_ids]

    head = set().union(*(_sentence_index(sentences, m) for m in argument_mentions(relation.head)))
    tail = set().union(*(_sentence_index(sentences, m) for m in argument_mentions(relation.tail)))
    if not head or not tail:
        return "ungrounded"
    return "within" if head & tail else "cross"


class StatsAccumulator:
    """Feed documents one at a time with :meth:`add`; :meth:`result` summarises."""

    def __init__(self, *, sentence_backend: str = "rules") -> None:
        self._stats = CorpusStats()
        self._sentences = 0
        self._has_text = False
        self._doc_freq: dict[str, Counter] = {}
        self._backend = sentence_backend

    def add(self, doc: Document) -> None:
        st = self._stats
        st.documents += 1
        st.passages += len(doc.passages)
        st.mentions.update(m.type for m in doc.mentions)
        st.relations.update(r.type for r in doc.relations)
        for typ, cid in document_concepts(doc):
            self._doc_freq.setdefault(typ, Counter())[cid] += 1
        has_text = any(p.text.strip() for p in doc.passages)
        sentences = sentence_spans(doc, backend=self._backend) if has_text else []
        if has_text:
            self._has_text = True
            self._sentences += len(sentences)
        self._add_relations(doc, sentences)

    def _add_relations(self, doc: Document, sentences: list[Span]) -> None:
        if not doc.relations:
            return
        st = self._stats
        for r in doc.relations:
            where = relation_locality(doc, r, sentences) if sentences else "ungrounded"
            if where == "within":
                st.within_sentence += 1
            elif where == "cross":
                st.cross_sentence += 1
            else:
                st.ungrounded_relations += 1

    def result(self) -> CorpusStats:
        st = self._stats
        st.sentences = self._sentences if self._has_text else None
        st.concepts = {t: len(c) for t, c in self._doc_freq.items()}
        st.entropy = {t: entropy(c.values()) for t, c in self._doc_freq.items()}
        return st


def corpus_stats(docs: Iterable[Document], *, sentence_backend: str = "rules") -> CorpusStats:
    """Statistics of a (streamed) corpus; see the module docstring for the rules."""
    acc = StatsAccumulator(sentence_backend=sentence_backend)
    for doc in docs:
        acc.add(doc)
    return acc.result()


def _fmt(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def stats_table(stats: CorpusStats, title: str = "Corpus statistics"):
    """A Rich table of ``stats`` (what ``biorel stats`` prints)."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("statistic")
    table.add_column("type")
    table.add_column("value", justify="right")
    table.add_row("documents", "", str(stats.documents))
    table.add_row("passages", "", str(stats.passages))
    table.add_row("sentences", "", "n/a" if stats.sentences is None else str(stats.sentences))
    for label, counts in (("mentions", stats.mentions), ("concepts", stats.concepts), ("relations", stats.relations)):
        table.add_row(label, "(all)", str(sum(counts.values())))
        for typ, n in sorted(counts.items()):
            table.add_row("", typ, str(n))
    table.add_row("cross-sentence relations", "share", _fmt(stats.cross_sentence_share))
    table.add_row("", "cross / within / ungrounded", f"{stats.cross_sentence} / {stats.within_sentence} / {stats.ungrounded_relations}")
    for typ, h in sorted(stats.entropy.items()):
        table.add_row("entity entropy (nats)", typ, _fmt(h))
    return table


__all__ = ["CorpusStats", "StatsAccumulator", "corpus_stats", "document_concepts", "entropy", "relation_locality", "stats_table"]
