"""Named entity recognition scoring: ``biorel.NER.v1`` (alias ``ner``).

A mention is its spans (document-level ``[start, end)`` pairs, so discontinuous
mentions compare all their pieces) and its type. Concept ids play no part: a
composite mention (``renal and hepatic failure`` -> two MeSH ids) is one mention,
scored once. Readers that split composites into individual mentions (BioC
``CompositeRole``) give more mentions; score gold and prediction from the same
kind of reader.

Matching modes (``match=``):

* ``strict``: same spans and same type;
* ``overlap``: same type and at least one character in common (any span of the
  prediction intersects any span of the gold mention); one-to-one maximum
  matching, so a long prediction covering two gold mentions is one TP and one FN;
* ``type-agnostic``: same spans, type ignored (all counts go to type ``*``).

Duplicate predictions (same spans and type) count once. A mention's confidence,
if any, is read from ``infons["score"]`` (for P/R curves). ``types=`` restricts the
scoring to some entity types (BC5CDR DNER scores ``Disease`` only); mentions of
other types are left out of both sides and counted in the report notes.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import Diagnostics, error
from ..types import Document, Example, Span
from .base import Evaluator, register
from .matching import DocResult, MatchItem, score_items

MATCH_MODES = ("strict", "overlap", "type-agnostic")
_MODE_ALIASES = {"exact": "strict", "partial": "overlap", "untyped": "type-agnostic", "agnostic": "type-agnostic"}


def spans_overlap(a: tuple[Span, ...], b: tuple[Span, ...]) -> bool:
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


def overlap_matrix(gold: Sequence[tuple[Span, ...]], pred: Sequence[tuple[Span, ...]]) -> np.ndarray:
    """:func:`spans_overlap` for all pairs at once: bounding boxes in numpy, then
    the exact test only for the few candidate pairs involving a multi-span mention."""
    gs = np.array([min(s for s, _ in k) for k in gold])
    ge = np.array([max(e for _, e in k) for k in gold])
    ps = np.array([min(s for s, _ in k) for k in pred])
    pe = np.array([max(e for _, e in k) for k in pred])
    adj = (gs[:, None] < pe[None, :]) & (ps[None, :] < ge[:, None])
    multi_g = np.array([len(k) > 1 for k in gold])
    multi_p = np.array([len(k) > 1 for k in pred])
    for i, j in zip(*np.nonzero(adj & (multi_g[:, None] | multi_p[None, :]))):
        adj[i, j] = spans_overlap(gold[i], pred[j])
    return adj


@register
class NEREvaluator(Evaluator):
    name = "biorel.NER.v1"
    aliases = ("ner",)
    task = "ner"
    primary_metric = "micro_f1"

    def __init__(self, *, match: str = "strict", types: Iterable[str] | None = None, **kw: Any):
        super().__init__(**kw)
        mode = _MODE_ALIASES.get(match, match)
        if mode not in MATCH_MODES:
            raise error("E201", option="match", value=match, reason=f"choose one of {', '.join(MATCH_MODES)}")
        self.match = mode
        self.types = tuple(types) if types is not None else None

    def settings(self) -> dict[str, Any]:
        return {"match": self.match, "types": list(self.types) if self.types is not None else None}

    def _items(self, doc: Document, side: str) -> list[MatchItem]:
        items = []
        for m in doc.mentions:
            if self.types is not None and m.type not in self.types:
                self.note(f"{side} mentions of types not scored")
                continue
            spans = tuple(sorted(m.spans))
            score = m.infons.get("score")
            score = float(score) if isinstance(score, (int, float)) else None
            items.append(MatchItem("*" if self.match == "type-agnostic" else m.type, spans, score))
        return items

    def score_document(self, example: Example, diagnostics: Diagnostics | None) -> DocResult:
        gold = self._items(example.reference, "gold")
        pred = self._items(example.predicted, "predicted")
        if self.match == "overlap":
            return score_items(example.reference.id, gold, pred, spans_overlap, adjacency=overlap_matrix)
        return score_items(example.reference.id, gold, pred, confusion=self.match != "type-agnostic")
