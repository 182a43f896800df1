"""The biorel document model.

Document-level character offsets are the truth. A :class:`Document` holds
passages (title, abstract, ... each at a document-level ``offset``), mentions
(one or more spans in document coordinates, so discontinuous and composite
mentions fit), entities (concepts: a typed id, optionally grounded in mentions),
relations (typed, directed or not, between entities or between mentions, with
optional score and evidence spans), relations that are not binary
(:class:`NaryRelation`, kept apart so binary code never sees them) and free
metadata.

The document's text is the passages laid out at their offsets; gaps between
passages (PubTator's space between title and abstract, BioC's gaps) read as
spaces. Tokenisation belongs to models, never to this module.

Every object has an ``infons`` dict for whatever a format carries that the model
has no field for, so conversions lose nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from collections.abc import Iterable

Span = tuple[int, int]
RelationLevel = Literal["entity", "mention"]

#: Concept ids that mean "not normalised" in the corpora we read (BC5CDR uses -1).
NULL_CONCEPT_IDS = frozenset({"", "-1", "-"})

#: ``Document.metadata`` key: a list of ``[head entity id, tail entity id]``,
#: the only ordered pairs a relation model considers in that document (a
#: pairs-table row names its one pair); absent: every allowed pair.
CANDIDATE_PAIRS = "candidate_pairs"


@dataclass(slots=True)
class Passage:
    offset: int
    text: str
    type: str = ""
    infons: dict[str, Any] = field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.offset + len(self.text)


@dataclass(slots=True)
class Mention:
    """A textual mention. ``spans`` are document-level ``[start, end)`` pairs.

    ``concept_ids`` holds the normalised ids exactly as the source gave them (a
    composite mention has several; BC5CDR's ``-1`` is kept verbatim).
    ``components`` holds the individual mention strings of a composite mention
    where the format records them (PubTator's 7th column).
    """

    id: str
    spans: tuple[Span, ...]
    text: str
    type: str
    concept_ids: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    infons: dict[str, Any] = field(default_factory=dict)

    @property
    def start(self) -> int:
        return min(s for s, _ in self.spans)

    @property
    def end(self) -> int:
        return max(e for _, e in self.spans)

    @property
    def is_composite(self) -> bool:
        return len(self.grounded_ids) > 1

    @property
    def grounded_ids(self) -> tuple[str, ...]:
        return tuple(c for c in self.concept_ids if c not in NULL_CONCEPT_IDS)


@dataclass(slots=True)
class Entity:
    """A concept in a document: what document-level relations connect.

    For corpora with normalised ids the entity id is the concept id (e.g. a MeSH
    id); ``mention_ids`` ground it in the text and may be empty (LOTUS tables,
    ABroad seed documents whose labels are not located in the text).
    """

    id: str
    type: str
    mention_ids: tuple[str, ...] = ()
    name: str | None = None
    infons: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Relation:
    """A typed relation. ``head``/``tail`` are entity ids (``level="entity"``) or
    mention ids (``level="mention"``). Undirected relations compare equal in both
    argument orders in the scorer; the order here is the order the source gave."""

    id: str
    type: str
    head: str
    tail: str
    level: RelationLevel = "entity"
    directed: bool = False
    score: float | None = None
    evidence: tuple[Span, ...] = ()
    infons: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class NaryRelation:
    """A relation that is not binary: one argument, or three or more (BioC
    relations with 1 or 3+ nodes, or infons ``entity1``..``entityN`` /
    ``role1``..``roleN``). ``args`` are ``(role, ref)`` pairs in source order;
    refs are entity ids (``level="entity"``) or mention ids (``"mention"``).

    They live in :attr:`Document.nary_relations`, apart from the binary
    :attr:`Document.relations`, so that code built on ``head``/``tail``
    (models, evaluation) never sees them; relation ids are unique across both
    lists."""

    id: str
    type: str
    args: tuple[tuple[str, str], ...]
    level: RelationLevel = "entity"
    directed: bool = False
    score: float | None = None
    evidence: tuple[Span, ...] = ()
    infons: dict[str, Any] = field(default_factory=dict)

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(ref for _, ref in self.args)


@dataclass(slots=True)
class Document:
    id: str
    passages: list[Passage] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    #: relations with one or with three or more arguments (see :class:`NaryRelation`)
    nary_relations: list[NaryRelation] = field(default_factory=list)

    # ---- text -------------------------------------------------------------
    @property
    def text(self) -> str:
        """The passages laid out at their offsets; gaps read as spaces."""
        parts: list[str] = []
        pos = 0
        for p in sorted(self.passages, key=lambda p: p.offset):
            if p.offset > pos:
                parts.append(" " * (p.offset - pos))
                pos = p.offset
            if p.offset < pos:  # overlapping passages: validation reports it
                parts.append(p.text[pos - p.offset :])
            else:
                parts.append(p.text)
            pos = max(pos, p.end)
        return "".join(parts)

    def span_text(self, spans: Iterable[Span], text: str | None = None) -> list[str]:
        text = self.text if text is None else text
        return [text[s:e] for s, e in spans]

    def passage_at(self, offset: int) -> Passage | None:
        for p in self.passages:
            if p.offset <= offset < p.end:
                return p
        return None

    # ---- look-ups ---------------------------------------------------------
    def mention_index(self) -> dict[str, Mention]:
        return {m.id: m for m in self.mentions}

    def entity_index(self) -> dict[str, Entity]:
        return {e.id: e for e in self.entities}

    def entities_from_mentions(self) -> list[Entity]:
        """Group mentions into entities by concept id (first-seen order).

        A composite mention joins every entity it names; mentions without a
        usable id (``-1``) join none. The entity type is the type of the first
        mention naming the id.
        """
        by_id: dict[str, Entity] = {}
        for m in self.mentions:
            for cid in m.grounded_ids:
                ent = by_id.get(cid)
                if ent is None:
                    by_id[cid] = Entity(id=cid, type=m.type, mention_ids=(m.id,))
                elif m.id not in ent.mention_ids:
                    ent.mention_ids = ent.mention_ids + (m.id,)
        return list(by_id.values())

    # ---- serialisation (the native JSONL form) ----------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "passages": [_passage_dict(p) for p in self.passages]}
        d["mentions"] = [_mention_dict(m) for m in self.mentions]
        d["entities"] = [_entity_dict(e) for e in self.entities]
        d["relations"] = [_relation_dict(r) for r in self.relations]
        if self.nary_relations:
            d["nary_relations"] = [_nary_dict(r) for r in self.nary_relations]
        if self.metadata:
            d["metadata"] = self.metadata
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Document:
        return cls(
            id=str(d["id"]),
            passages=[Passage(p["offset"], p["text"], p.get("type", ""), dict(p.get("infons", {}))) for p in d.get("passages", [])],
            mentions=[
                Mention(
                    id=str(m["id"]),
                    spans=tuple((int(s), int(e)) for s, e in m["spans"]),
                    text=m["text"],
                    type=m["type"],
                    concept_ids=tuple(m.get("concept_ids", ())),
                    components=tuple(m.get("components", ())),
                    infons=dict(m.get("infons", {})),
                )
                for m in d.get("mentions", [])
            ],
            entities=[
                Entity(str(e["id"]), e["type"], tuple(e.get("mention_ids", ())), e.get("name"), dict(e.get("infons", {})))
                for e in d.get("entities", [])
            ],
            relations=[
                Relation(
                    id=str(r["id"]),
                    type=r["type"],
                    head=str(r["head"]),
                    tail=str(r["tail"]),
                    level=r.get("level", "entity"),
                    directed=bool(r.get("directed", False)),
                    score=r.get("score"),
                    evidence=tuple((int(s), int(e)) for s, e in r.get("evidence", ())),
                    infons=dict(r.get("infons", {})),
                )
                for r in d.get("relations", [])
            ],
            metadata=dict(d.get("metadata", {})),
            nary_relations=[
                NaryRelation(
                    id=str(r["id"]),
                    type=r["type"],
                    args=tuple((str(role), str(ref)) for role, ref in r["args"]),
                    level=r.get("level", "entity"),
                    directed=bool(r.get("directed", False)),
                    score=r.get("score"),
                    evidence=tuple((int(s), int(e)) for s, e in r.get("evidence", ())),
                    infons=dict(r.get("infons", {})),
                )
                for r in d.get("nary_relations", [])
            ],
        )


def _passage_dict(p: Passage) -> dict[str, Any]:
    d: dict[str, Any] = {"offset": p.offset, "text": p.text}
    if p.type:
        d["type"] = p.type
    if p.infons:
        d["infons"] = p.infons
    return d


def _mention_dict(m: Mention) -> dict[str, Any]:
    d: dict[str, Any] = {"id": m.id, "spans": [list(s) for s in m.spans], "text": m.text, "type": m.type}
    if m.concept_ids:
        d["concept_ids"] = list(m.concept_ids)
    if m.components:
        d["components"] = list(m.components)
    if m.infons:
        d["infons"] = m.infons
    return d


def _entity_dict(e: Entity) -> dict[str, Any]:
    d: dict[str, Any] = {"id": e.id, "type": e.type}
    if e.mention_ids:
        d["mention_ids"] = list(e.mention_ids)
    if e.name is not None:
        d["name"] = e.name
    if e.infons:
        d["infons"] = e.infons
    return d


def _relation_dict(r: Relation) -> dict[str, Any]:
    d: dict[str, Any] = {"id": r.id, "type": r.type, "head": r.head, "tail": r.tail}
    if r.level != "entity":
        d["level"] = r.level
    if r.directed:
        d["directed"] = True
    if r.score is not None:
        d["score"] = r.score
    if r.evidence:
        d["evidence"] = [list(s) for s in r.evidence]
    if r.infons:
        d["infons"] = r.infons
    return d


def _nary_dict(r: NaryRelation) -> dict[str, Any]:
    d: dict[str, Any] = {"id": r.id, "type": r.type, "args": [list(a) for a in r.args]}
    if r.level != "entity":
        d["level"] = r.level
    if r.directed:
        d["directed"] = True
    if r.score is not None:
        d["score"] = r.score
    if r.evidence:
        d["evidence"] = [list(s) for s in r.evidence]
    if r.infons:
        d["infons"] = r.infons
    return d


@dataclass(slots=True)
class Example:
    """A predicted document paired with its reference (gold) document: the
    currency of training and scoring. Both must be the same document."""

    predicted: Document
    reference: Document

    def __post_init__(self) -> None:
        from .errors import error

        if self.predicted.id != self.reference.id:
            raise error("E018", pred=self.predicted.id, ref=self.reference.id, what="ids differ")

    @classmethod
    def from_gold(cls, reference: Document) -> Example:
        """An example whose prediction is the reference text with no annotations."""
        pred = Document(
            id=reference.id,
            passages=[Passage(p.offset, p.text, p.type, dict(p.infons)) for p in reference.passages],
            metadata=dict(reference.metadata),
        )
        return cls(pred, reference)


def pair_examples(predicted: Iterable[Document], reference: Iterable[Document]) -> list[Example]:
    """Pair documents by id. A reference document missing from the predictions
    gets an empty prediction (all its gold counts as missed); a predicted document
    with no reference is an error (it cannot be scored)."""
    from .errors import error

    preds = {d.id: d for d in predicted}
    out: list[Example] = []
    for ref in reference:
        pred = preds.pop(ref.id, None)
        out.append(Example(pred, ref) if pred is not None else Example.from_gold(ref))
    if preds:
        extra = sorted(preds)[:5]
        raise error("E018", pred=", ".join(extra), ref="(none)", what=f"{len(preds)} predicted documents have no reference")
    return out
