"""Splitting a seed with many target entities into relation groups.

A small model asked to restate a long list of names drops or renames some of
them, so a seed whose relations mention more than ``max_entities`` distinct
entities is partitioned into groups of relations, and each synthetic abstract
is written for one group: its main findings are verbalised from that group's
relations only, and its labels and score count that group's entities only.

Rules (deterministic; they depend only on the order of ``doc.relations``):

1. Relations are gathered into *blocks* by their head (for ``produces``: the
   organism), heads in first-appearance order, so all relations of one
   organism stay together where possible.
2. A block whose head and tails are more than ``max_entities`` entities is cut
   by tail (relations of one tail stay together) into
   ``ceil(tails / (max_entities - 1))`` chunks of near-equal size, the first
   chunks taking one more tail when the division is uneven; each chunk keeps
   the head. Tails are taken in relation order, except that the members of a
   series the verbaliser compresses ("Oxytropiols A-J") are taken together,
   in suffix order, at the place of the first one, so a cut series reads as
   shorter series ("Oxytropiols A-E", "Oxytropiols F-J").
3. Blocks are packed first-fit, in order: a block joins the first group whose
   entity set, united with the block's, stays within ``max_entities``;
   otherwise it opens a new group.
4. Within a group, relations keep the seed's order.

Every relation of the seed is in exactly one group; no relation is dropped.
A seed within the limit, or ``max_entities == 0``, is one group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Sequence

from ..types import Document, Entity, Relation
from .verbalise import compress_series, entity_name, is_class, target_entities


@dataclass(frozen=True)
class SeedGroup:
    """One group of a seed: the seed restricted to ``relation_ids``."""

    index: int
    of: int
    doc: Document  # the seed with only this group's relations
    targets: tuple[Entity, ...]
    relation_ids: tuple[str, ...]
    seed_relations: int  # how many relations the whole seed has

    def provenance(self) -> dict[str, object]:
        return {
            "index": self.index,
            "of": self.of,
            "relations": list(self.relation_ids),
            "n_entities": len(self.targets),
            "seed_relations": self.seed_relations,
        }


def _args(rels: Sequence[Relation]) -> set[str]:
    return {x for r in rels for x in (r.head, r.tail)}


def _tail_order(tails: list[str], doc: Document) -> list[str]:
    """Tails in relation order, series members together in suffix order."""
    ents = doc.entity_index()
    plain = [(t, entity_name(ents[t], doc)) for t in tails if t in ents and not is_class(ents[t])]
    series = {members[0]: members for _, members in compress_series(plain) if len(members) > 1}
    in_series = {m for members in series.values() for m in members}
    first = {min(members, key=tails.index): members for members in series.values()}
    out: list[str] = []
    for t in tails:
        if t in first:
            out.extend(first[t])
        elif t not in in_series:
            out.append(t)
    return out


def _chunk_block(head: str, rels: list[Relation], max_entities: int, doc: Document) -> list[list[Relation]]:
    """Cut one head's relations by tail into balanced chunks (rule 2)."""
    tails = _tail_order(list(dict.fromkeys(r.tail for r in rels if r.tail != head)), doc)
    cap = max_entities - 1
    n = math.ceil(len(tails) / cap)
    base, extra = divmod(len(tails), n)
    chunk_of: dict[str, int] = {}
    pos = 0
    for c in range(n):
        size = base + (1 if c < extra else 0)
        for t in tails[pos : pos + size]:
            chunk_of[t] = c
        pos += size
    # a relation of the head with itself (no tail to place it by) goes with the first chunk
    return [[r for r in rels if chunk_of.get(r.tail, 0) == c] for c in range(n)]


def partition_relations(doc: Document, max_entities: int) -> list[list[Relation]]:
    """The relation groups of a seed (see the module rules). ``max_entities``
    is 0 (no splitting) or at least 2."""
    rels = list(doc.relations)
    if max_entities <= 0 or len(_args(rels)) <= max_entities:
        return [rels]
    by_head: dict[str, list[Relation]] = {}
    for r in rels:
        by_head.setdefault(r.head, []).append(r)
    blocks: list[list[Relation]] = []
    for head, hr in by_head.items():
        if len(_args(hr)) <= max_entities:
            blocks.append(hr)
        else:
            blocks.extend(_chunk_block(head, hr, max_entities, doc))
    groups: list[list[Relation]] = []
    group_args: list[set[str]] = []
    for block in blocks:
        b = _args(block)
        for g, ga in zip(groups, group_args):
            if len(ga | b) <= max_entities:
                g.extend(block)
                ga |= b
                break
        else:
            groups.append(list(block))
            group_args.append(set(b))
    order = {id(r): i for i, r in enumerate(rels)}
    return [sorted(g, key=lambda r: order[id(r)]) for g in groups]


def seed_groups(doc: Document, max_entities: int) -> list[SeedGroup]:
    """The seed's groups, each as a view of the seed holding only its
    relations (passages, entities and metadata are shared, not copied)."""
    parts = partition_relations(doc, max_entities)
    out = []
    for i, rels in enumerate(parts):
        view = Document(id=doc.id, passages=doc.passages, mentions=doc.mentions, entities=doc.entities, relations=rels, metadata=doc.metadata)
        out.append(SeedGroup(i, len(parts), view, tuple(target_entities(view)), tuple(r.id for r in rels), len(doc.relations)))
    return out
