"""Predicted documents: a copy of the input (text, passages, metadata and any
other field of the document model) with the model's annotations; the input
document is never modified."""

from __future__ import annotations

from dataclasses import replace
from collections.abc import Sequence

from ..types import Document, Entity, Mention, Relation


def copy_mention(m: Mention) -> Mention:
    return replace(m, infons=dict(m.infons))


def copy_entity(e: Entity) -> Entity:
    return replace(e, infons=dict(e.infons))


def with_annotations(doc: Document, mentions: Sequence[Mention], entities: Sequence[Entity], relations: Sequence[Relation]) -> Document:
    """A new document with ``doc``'s text, passages and metadata and the given annotations."""
    return replace(
        doc,
        passages=[replace(p, infons=dict(p.infons)) for p in doc.passages],
        mentions=list(mentions),
        entities=list(entities),
        relations=list(relations),
        metadata=dict(doc.metadata),
    )


__all__ = ["copy_mention", "copy_entity", "with_annotations"]
