"""Sentence-level relation classification: ``biorel.SentenceRE.v1`` (alias ``sentence``).

For sentence classification sets (GAD, ChemProt-SciBERT) each document is one
instance (a sentence with its two marked entities). The rules:

* An instance's labels are the types of its relations, plus
  ``metadata["label"]`` when present (both sides read the same way). Usually
  there is exactly one label; several labels are scored as multi-label.
* ``negative_labels`` (default ``0``, ``false``, ``NA``, ``None``, ``negative``,
  ``no_relation``, case-insensitive) mark "no relation", as do the gold
  document's ``metadata["negative_label"]`` and a relation with
  ``infons["negative"]`` true (how :mod:`biorel.io.sentence_sets` marks them). They
  are removed before scoring, so a correct negative is a true negative (not counted), a missed
  positive is an FN and a spurious positive an FP. GAD's F1 is therefore the F1
  of class ``1``; ChemProt-SciBERT has no negative class, so its micro F1 equals
  accuracy when every instance has one gold and one predicted label.
* Per-label TP/FP/FN as in :mod:`.matching` (a wrong label is an FP of the
  predicted label and an FN of the gold label); the confusion matrix pairs gold
  and predicted labels of each instance, negatives shown as ``(none)``.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Iterable

from ..errors import Diagnostics
from ..types import Document, Example
from .base import Evaluator, register
from .matching import DocResult, MatchItem, score_items

DEFAULT_NEGATIVES = ("0", "false", "na", "none", "negative", "no_relation")


@register
class SentenceEvaluator(Evaluator):
    name = "biorel.SentenceRE.v1"
    aliases = ("sentence", "classification")
    task = "re"
    primary_metric = "micro_f1"

    def __init__(self, *, negative_labels: Iterable[str] = DEFAULT_NEGATIVES, **kw: Any):
        super().__init__(**kw)
        self.negative_labels = tuple(str(x).lower() for x in negative_labels)

    def settings(self) -> dict[str, Any]:
        return {"level": "sentence", "negative_labels": list(self.negative_labels)}

    def labels(self, doc: Document, negatives: tuple[str, ...]) -> list[str]:
        out = [r.type if not r.infons.get("negative") else None for r in doc.relations]
        if "label" in doc.metadata and doc.metadata["label"] is not None:
            out.append(str(doc.metadata["label"]))
        kept = [x for x in out if x is not None and x.lower() not in negatives]
        if len(kept) < len(out):
            self.note("negative labels (true negatives are not counted)", len(out) - len(kept))
        return kept

    def score_document(self, example: Example, diagnostics: Diagnostics | None) -> DocResult:
        negatives = self.negative_labels
        extra = example.reference.metadata.get("negative_label")
        if extra is not None:
            negatives = negatives + (str(extra).lower(),)
        gold = [MatchItem(label, "label") for label in self.labels(example.reference, negatives)]
        pred = [MatchItem(label, "label", _score(example.predicted, label)) for label in self.labels(example.predicted, negatives)]
        return score_items(example.reference.id, gold, pred)


def _score(doc: Document, label: str) -> float | None:
    for r in doc.relations:
        if r.type == label and r.score is not None:
            return r.score
    s = doc.metadata.get("score")
    return float(s) if isinstance(s, (int, float)) else None
