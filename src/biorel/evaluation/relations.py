"""Relation extraction scoring: concept level, BC5CDR CID, mention level, end to end.

Common rules (all relation evaluators):

* Scores are per document and pooled (micro) over documents; per-type figures use
  the relation type; macro averages those (see :mod:`.metrics`).
* ``typed=False`` ignores the relation type (all counts go to type ``*``).
* ``directed=False`` compares a pair in both argument orders; ``True`` keeps
  ``(head, tail)`` order.
* ``types=`` restricts scoring to some relation types; relations of other types
  are left out of both sides and counted in the report notes.
* Set semantics: the same relation predicted twice counts once (highest score).
* A relation's confidence is :attr:`Relation.score` (for P/R curves).
* **Nothing is dropped.** A relation that cannot be scored (an argument that
  names nothing, E202; the wrong level for the protocol, E210) raises in strict
  mode; in lenient mode it is reported and still counted: a predicted one as a
  false positive, a gold one as a false negative (it matches nothing). So a
  lenient run can never score higher than the input deserves.

Protocols:

``biorel.RE.Concept.v1`` (``concept``)
    Entity-level relations compared as ``(document, head id, tail id, type)``;
    entity ids are concept ids. Default undirected (BioRED). ``novelty=True``
    also requires BioRED's novelty label (``infons["novel"]``) to match: the
    type becomes ``<type>|<novel>`` (BioRED's third evaluation setting, after
    "entity pair" = ``typed=False`` and "+ relation type" = the default).

``biorel.RE.CID.v1`` (``cid``)
    The official BioCreative V CDR relation evaluation: ``(PMID, chemical id,
    disease id)`` tuples of type ``CID`` per document, compared as sets, TP/FP/FN
    pooled over the corpus. Only ``CID`` relations are read (the official kit
    reads only ``CID`` lines). Ids are compared verbatim as strings, except that a
    ``MESH:`` prefix is removed (the kit writes ids as ``MESH:D...``). The kit does
    no id post-processing, so:

    - ``-1`` (not normalised): a predicted relation with a ``-1`` argument can
      never equal a gold tuple, so it is a false positive;
    - a composite id (``D001|D002``) is one verbatim string: a predicted relation
      naming it is a false positive (systems must emit one relation per id).

    BC5CDR gold is not affected: none of its 3116 CID relations has a ``-1`` or
    composite argument. Elsewhere such a gold argument is kept verbatim.

    ``composite="split"`` (not official) instead expands a composite id into one
    relation per component, and ``null="drop"`` (not official) removes relations
    with a null id from both sides (counted in the notes).

``biorel.RE.Mention.v1`` (``mention``)
    Mention-level relations: the head and tail mentions must have the same spans
    and entity type as the gold ones (strict boundaries).

``biorel.RE.EndToEnd.v1`` (``e2e``)
    How seq2rel and BioGPT report BC5CDR end to end: a predicted relation is
    correct when its type matches and its head and tail each match the gold
    relation's entities, an entity matching when any of the predicted entity's
    mention strings equals any of the gold entity's mention strings after
    stripping and lowercasing. An entity's strings are the texts of its mentions,
    the component of a composite mention that names it (PubTator's 7th column,
    aligned with the mention's ids), and its ``name``. For mention-level relations
    the strings are those of the head/tail mention. Matching is one-to-one
    (maximum bipartite), which differs from a per-prediction "is it in gold"
    check only when one prediction could match several gold relations. Gold
    relations whose arguments have identical strings cannot be told apart and
    count once (noted in the report: 1 in BC5CDR test, 97 in BioRED test).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

from dataclasses import dataclass

from ..errors import BiorelError, Diagnostics, error
from ..types import NULL_CONCEPT_IDS, Document, Example, Relation
from .base import Evaluator, register
from .matching import DocResult, MatchItem, score_items


@dataclass(frozen=True)
class Unscorable:
    """The key of a relation that cannot be scored: equal to no key of the
    other side, so it is a false positive (predicted) or negative (gold)."""

    side: str
    doc: str
    rel: str


class _CannotScore(Exception):
    def __init__(self, err: BiorelError):
        self.err = err


class _RelationEvaluator(Evaluator):
    task = "re"
    primary_metric = "micro_f1"
    relation_level = "entity"  # the relation level this evaluator scores

    def __init__(self, *, typed: bool = True, directed: bool = False, types: Iterable[str] | None = None, **kw: Any):
        super().__init__(**kw)
        self.typed = bool(typed)
        self.directed = bool(directed)
        self.types = tuple(types) if types is not None else None

    def settings(self) -> dict[str, Any]:
        return {"typed": self.typed, "directed": self.directed, "types": list(self.types) if self.types is not None else None}

    def _relations(self, doc: Document, side: str, diagnostics: Diagnostics | None) -> Iterable[Relation]:
        for r in doc.relations:
            if self.types is not None and r.type not in self.types:
                self.note(f"{side} relations of types not scored")
                continue
            yield r

    def _check_level(self, doc: Document, r: Relation) -> None:
        if r.level != self.relation_level:
            raise _CannotScore(error("E210", rel=r.id, doc=doc.id, level=r.level, name=self.name, need=self.relation_level))

    def _type(self, r: Relation) -> str:
        return r.type if self.typed else "*"

    def _pair(self, head: Any, tail: Any) -> Any:
        return (head, tail) if self.directed else frozenset((head, tail))

    def keys(self, doc: Document, r: Relation, diagnostics: Diagnostics | None) -> list[Any]:
        raise NotImplementedError

    def items(self, doc: Document, side: str, diagnostics: Diagnostics | None) -> list[MatchItem]:
        out = []
        for r in self._relations(doc, side, diagnostics):
            try:
                self._check_level(doc, r)
                keys = self.keys(doc, r, diagnostics)
            except _CannotScore as bad:
                action = "counted as a false positive" if side == "predicted" else "counted as a false negative"
                self.problem(bad.err, diagnostics, action)
                keys = [Unscorable(side, doc.id, r.id)]
            for key in keys:
                out.append(MatchItem(self._type(r), key, r.score))
        return out

    compatible = None

    def score_document(self, example: Example, diagnostics: Diagnostics | None) -> DocResult:
        gold = self.items(example.reference, "gold", diagnostics)
        pred = self.items(example.predicted, "predicted", diagnostics)
        return score_items(example.reference.id, gold, pred, self.compatible, confusion=self.typed)


@register
class ConceptEvaluator(_RelationEvaluator):
    name = "biorel.RE.Concept.v1"
    aliases = ("concept", "re")

    def __init__(self, *, novelty: bool = False, **kw: Any):
        super().__init__(**kw)
        self.novelty = bool(novelty)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "novelty": self.novelty}

    def _type(self, r: Relation) -> str:
        base = super()._type(r)
        return f"{base}|{r.infons.get('novel', '')}" if self.novelty else base

    def keys(self, doc: Document, r: Relation, diagnostics: Diagnostics | None) -> list[Any]:
        return [self._pair(r.head, r.tail)]


def strip_mesh(cid: str) -> str:
    return cid[5:] if cid[:5].upper() == "MESH:" else cid


@register
class CIDEvaluator(_RelationEvaluator):
    name = "biorel.RE.CID.v1"
    aliases = ("cid", "bc5cdr")

    def __init__(self, *, composite: str = "verbatim", null: str = "keep", directed: bool = True, types: Iterable[str] | None = ("CID",), **kw: Any):
        super().__init__(directed=directed, types=types, **kw)
        if composite not in ("verbatim", "split"):
            raise error("E201", option="composite", value=composite, reason="choose 'verbatim' (official) or 'split'")
        if null not in ("keep", "drop"):
            raise error("E201", option="null", value=null, reason="choose 'keep' (official) or 'drop'")
        self.composite = composite
        self.null = null

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "composite": self.composite, "null": self.null}

    def _ids(self, cid: str) -> list[str]:
        cid = strip_mesh(cid.strip())
        if self.composite == "split" and "|" in cid:
            return [strip_mesh(c.strip()) for c in cid.split("|")]
        return [cid]

    def keys(self, doc: Document, r: Relation, diagnostics: Diagnostics | None) -> list[Any]:
        heads, tails = self._ids(r.head), self._ids(r.tail)
        out = []
        for h in heads:
            for t in tails:
                if self.null == "drop" and (h in NULL_CONCEPT_IDS or t in NULL_CONCEPT_IDS):
                    self.note("relation arguments with a null id dropped (null='drop')")
                    continue
                out.append(self._pair(h, t))
        return out


@register
class MentionRelationEvaluator(_RelationEvaluator):
    name = "biorel.RE.Mention.v1"
    aliases = ("mention",)
    relation_level = "mention"

    def items(self, doc: Document, side: str, diagnostics: Diagnostics | None) -> list[MatchItem]:
        self._mentions = doc.mention_index()
        return super().items(doc, side, diagnostics)

    def keys(self, doc: Document, r: Relation, diagnostics: Diagnostics | None) -> list[Any]:
        index = self._mentions
        args = []
        for ref in (r.head, r.tail):
            m = index.get(ref)
            if m is None:
                raise _CannotScore(error("E202", doc=doc.id, item=f"relation '{r.id}'", what="mention", ref=ref))
            args.append((tuple(sorted(m.spans)), m.type))
        return [self._pair(args[0], args[1])]


def entity_strings(doc: Document, entity_id: str) -> frozenset[str] | None:
    """The lowercased strings that name an entity (see the module doc); ``None``
    when the document has no such entity."""
    ent = doc.entity_index().get(entity_id)
    if ent is None:
        return None
    mentions = doc.mention_index()
    out = set()
    for mid in ent.mention_ids:
        m = mentions.get(mid)
        if m is None:
            continue
        out.add(m.text)
        if m.components and len(m.components) == len(m.concept_ids) and entity_id in m.concept_ids:
            out.add(m.components[m.concept_ids.index(entity_id)])
    if ent.name:
        out.add(ent.name)
    return frozenset(s.strip().lower() for s in out if s.strip())


@register
class EndToEndEvaluator(_RelationEvaluator):
    name = "biorel.RE.EndToEnd.v1"
    aliases = ("e2e", "end-to-end")

    def _relations(self, doc: Document, side: str, diagnostics: Diagnostics | None) -> Iterable[Relation]:
        for r in doc.relations:  # both levels are scored
            if self.types is not None and r.type not in self.types:
                self.note(f"{side} relations of types not scored")
                continue
            yield r

    def items(self, doc: Document, side: str, diagnostics: Diagnostics | None) -> list[MatchItem]:
        self._mentions = doc.mention_index()
        self._strings: dict[str, frozenset[str] | None] = {}
        return super().items(doc, side, diagnostics)

    def _arg_strings(self, doc: Document, r: Relation, ref: str) -> frozenset[str] | None:
        if r.level == "mention":
            m = self._mentions.get(ref)
            return frozenset({m.text.strip().lower()}) if m is not None else None
        if ref not in self._strings:
            self._strings[ref] = entity_strings(doc, ref)
        return self._strings[ref]

    def keys(self, doc: Document, r: Relation, diagnostics: Diagnostics | None) -> list[Any]:
        args = []
        for ref in (r.head, r.tail):
            strings = self._arg_strings(doc, r, ref)
            if strings is None:
                what = "mention" if r.level == "mention" else "entity"
                raise _CannotScore(error("E202", doc=doc.id, item=f"relation '{r.id}'", what=what, ref=ref))
            if not strings:
                self.note("relation arguments with no mention string or name (they can never match)")
            args.append(strings)
        return [self._pair(args[0], args[1])]

    def _check_level(self, doc: Document, r: Relation) -> None:
        pass  # both levels are scored

    def compatible(self, gold_key: Any, pred_key: Any) -> bool:
        if isinstance(gold_key, Unscorable) or isinstance(pred_key, Unscorable):
            return False
        (gh, gt), (ph, pt) = _args(gold_key), _args(pred_key)
        if gh & ph and gt & pt:
            return True
        return not self.directed and bool(gh & pt and gt & ph)


def _args(key: Any) -> tuple[frozenset[str], frozenset[str]]:
    """``(head, tail)`` strings of a key: an ordered pair, or (undirected) a
    frozenset of one or two argument string sets."""
    t = tuple(key)
    return t[0], t[-1]
