"""Entity pairs: the shared parts of every relation model.

* :func:`entity_refs` grounds a document's entities in token ranges;
* :func:`char_grounding` grounds them in character spans (with the sentence
  of each span) and :func:`closest_spans` picks the closest pair of head and
  tail spans (in one sentence, for sentence-level models and ``biorel pairs``);
* :func:`candidate_pairs` lists the ordered pairs a model scores (argument
  types restricted to the label maps' ``pair_types``);
* :func:`pair_targets` turns the gold relations into one multi-hot row per
  candidate pair (undirected types label both orders);
* :func:`decode_relations` turns ``[P, 1 + R]`` logits whose column 0 is a
  learned "none" threshold (:func:`~biorel.models.heads.threshold_loss`) into
  relations: type ``r`` when ``sigmoid(logit_r - logit_0)`` exceeds the
  threshold, one relation per (unordered, for undirected types) pair and type,
  with the best score.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import NamedTuple
from collections.abc import Callable, Sequence

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is needed only by the functions that take or make tensors
    import torch

from ..types import CANDIDATE_PAIRS, Document, Entity, Mention, Relation
from .grouping import group_mentions
from .labels import LabelMaps, char_to_tokens


@dataclass
class EntRef:
    """An entity grounded in token ranges (one per mention span)."""

    id: str
    type: str
    ranges: list[tuple[int, int]]


def entity_refs(
    doc: Document,
    offsets: Sequence[tuple[int, int]],
    mentions: Sequence[Mention] | None = None,
    entities: Sequence[Entity] | None = None,
) -> list[EntRef]:
    """The entities of ``doc`` (or the given ones; grouped from the mentions
    when the document has none) with the token ranges of their mentions;
    entities with no span on a token are left out."""
    mentions = doc.mentions if mentions is None else mentions
    if entities is None:
        entities = doc.entities if doc.entities else group_mentions(mentions)
    mindex = {m.id: m for m in mentions}
    out = []
    for ent in entities:
        ranges = []
        for mid in ent.mention_ids:
            m = mindex.get(mid)
            if m is None:
                continue
            for s, e in m.spans:
                i, j = char_to_tokens(offsets, s, e)
                if j > i:
                    ranges.append((i, j))
        if ranges:
            out.append(EntRef(ent.id, ent.type, ranges))
    return out


def only_pairs_filter(doc) -> Callable[[EntRef, EntRef], bool] | None:
    """A ``keep`` filter for :func:`candidate_pairs` from
    ``doc.metadata[CANDIDATE_PAIRS]`` (see :data:`biorel.types.CANDIDATE_PAIRS`), or ``None``."""
    only = doc.metadata.get(CANDIDATE_PAIRS)
    if not only:
        return None
    allowed = {(str(h), str(t)) for h, t in only}
    return lambda h, t: (h.id, t.id) in allowed


def candidate_pairs(ents: Sequence[EntRef], labels: LabelMaps, keep: Callable[[EntRef, EntRef], bool] | None = None) -> list[tuple[int, int]]:
    """Ordered ``(head, tail)`` index pairs whose argument types are allowed
    (any types when the label maps list none); ``keep`` filters further."""
    if not labels.relation_types:
        return []
    allowed = labels.pair_type_set
    return [
        (i, j)
        for i in range(len(ents))
        for j in range(len(ents))
        if i != j and (not allowed or (ents[i].type, ents[j].type) in allowed) and (keep is None or keep(ents[i], ents[j]))
    ]


def pair_targets(doc: Document, ents: Sequence[EntRef], pairs: Sequence[tuple[int, int]], labels: LabelMaps) -> tuple[list[list[int]], int]:
    """Per pair, the indices of its gold relation types; and how many gold
    relations fall on no candidate pair (the model cannot reach them)."""
    index = {(ents[i].id, ents[j].id): k for k, (i, j) in enumerate(pairs)}
    targets: list[list[int]] = [[] for _ in pairs]
    unreachable = 0
    for r in doc.relations:
        ri = labels.relation_index.get(r.type)
        if ri is None or r.level != "entity" or r.infons.get("negative"):
            continue  # a relation marked negative (sentence sets) states no relation
        hit = False
        for key in [(r.head, r.tail)] + ([] if labels.directed.get(r.type) else [(r.tail, r.head)]):
            k = index.get(key)
            if k is not None and ri not in targets[k]:
                targets[k].append(ri)
                hit = True
        unreachable += not hit
    return targets, unreachable


class SpanAt(NamedTuple):
    """One mention span of an entity in document characters, with its mention
    id and the index of the sentence holding the whole span (-1: none)."""

    start: int
    end: int
    sentence: int
    mention: str


def char_grounding(
    entities: Sequence[Entity], mentions: Sequence[Mention], sentences: Sequence[tuple[int, int]]
) -> tuple[list[EntRef], dict[str, list[SpanAt]]]:
    """Entities grounded in character spans: references whose ``ranges`` are
    the document character spans of their mentions (entities with none are
    left out), and per entity id those spans as :class:`SpanAt`.
    ``sentences`` are sorted, non-overlapping document spans."""
    mindex = {m.id: m for m in mentions}
    starts = [s for s, _ in sentences]
    refs, where = [], {}
    for ent in entities:
        spans = [SpanAt(s, e, _sentence_of(sentences, starts, s, e), mid) for mid in ent.mention_ids if mid in mindex for s, e in mindex[mid].spans]
        if spans:
            refs.append(EntRef(ent.id, ent.type, [(x.start, x.end) for x in spans]))
            where[ent.id] = spans
    return refs, where


def _sentence_of(sentences: Sequence[tuple[int, int]], starts: Sequence[int], s: int, e: int) -> int:
    k = bisect_right(starts, s) - 1
    return k if k >= 0 and e <= sentences[k][1] else -1


def closest_spans(head: Sequence[SpanAt], tail: Sequence[SpanAt], *, same_sentence: bool = True) -> tuple[SpanAt, SpanAt] | None:
    """The head and tail spans closest to each other (smallest distance
    between their starts; the first found on a tie), never one span for both
    arguments; with ``same_sentence`` only spans inside one sentence, as the
    relation classifier pairs them. ``None`` when no pair qualifies."""
    best = None
    for h in head:
        for t in tail:
            if (h.start, h.end) == (t.start, t.end):
                continue
            if same_sentence and (h.sentence < 0 or h.sentence != t.sentence):
                continue
            d = abs(h.start - t.start)
            if best is None or d < best[0]:
                best = (d, h, t)
    return None if best is None else (best[1], best[2])


def multi_hot(targets: Sequence[Sequence[int]], n_relations: int) -> torch.Tensor:
    """``[P, 1 + R]`` float rows; column 0 (the threshold class) stays 0."""
    import torch

    out = torch.zeros((len(targets), n_relations + 1))
    for k, rels in enumerate(targets):
        for ri in rels:
            out[k, ri + 1] = 1.0
    return out


def threshold_scores(logits: torch.Tensor) -> torch.Tensor:
    """``[P, R]`` scores ``sigmoid(logit_r - logit_none)``."""
    import torch

    return torch.sigmoid(logits[:, 1:] - logits[:, :1])


def decode_relations(
    scores: torch.Tensor, pairs: Sequence[tuple[int, int]], ents: Sequence[EntRef], labels: LabelMaps, threshold: float
) -> list[Relation]:
    """Relations from ``[P, R]`` scores (see the module docstring), ordered by
    head, tail and type, with ids ``r0, r1, ...``."""
    found: dict[tuple, tuple[float, int, int, str]] = {}
    for p, r in (scores > threshold).nonzero().tolist():
        i, j = pairs[p]
        rtype = labels.relation_types[r]
        score = float(scores[p, r])
        key = (i, j, rtype) if labels.directed.get(rtype, False) else (min(i, j), max(i, j), rtype)
        if key not in found or score > found[key][0]:
            found[key] = (score, i, j, rtype)
    rels = []
    for n, key in enumerate(sorted(found, key=lambda k: (k[0], k[1], k[2]))):
        score, i, j, rtype = found[key]
        rels.append(Relation(f"r{n}", rtype, ents[i].id, ents[j].id, directed=labels.directed.get(rtype, False), score=round(score, 6)))
    return rels


__all__ = [
    "EntRef",
    "SpanAt",
    "entity_refs",
    "char_grounding",
    "closest_spans",
    "candidate_pairs",
    "pair_targets",
    "multi_hot",
    "threshold_scores",
    "decode_relations",
]
