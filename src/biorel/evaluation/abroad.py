"""The ABroad-RE protocol (organism -> natural product): ``biorel.RE.ABroad.v1``
(alias ``abroad``).

The rules of the paper's evaluation (Delmas et al., arXiv 2311.06364), restated:

1. A model's output is a string of items ``"{organism} produces {chemical}"``
   joined by ``"; "``. The gold side is built the same way from the gold
   relations (head = organism, tail = chemical, each named by its entity ``name``)
   and parsed by the same parser.
2. Parsing: the output is stripped and split on ``"; "``. Each item is split on
   the word ``produces``; an item that does not give exactly two parts (no
   ``produces``, or more than one) is skipped, and counts neither as a true nor
   as a false positive.
3. Each name: surrounding spaces and dots are stripped, it is lowercased, the
   whole words ``an`` and ``the`` are removed (``\\b(an|the)\\b``; a hyphen is a
   word boundary, so ``trans-an-ol`` loses its ``an``), then all whitespace is
   deleted.
4. Pairs are deduplicated per document, on both sides (two gold pairs that
   normalise to the same strings count once).
5. A predicted pair is a TP when the same normalised pair is in the document's
   gold set, otherwise an FP. Positives are the parsed gold pairs; FN = positives
   - TP. Counts are summed over all documents (micro P/R/F1).
6. A document whose output cannot be parsed, or has no output at all, still
   counts its gold pairs as positives (false negatives).

Where a predicted document's pairs come from, in order: ``metadata["unparsable"]``
true means no pairs; else ``metadata["output"]`` (the raw generated text) is
parsed; else its relations are linearised as in rule 1
(:func:`biorel.models.linearize.linearize`) and parsed. Skipped items
(rule 2) are reported to ``Diagnostics`` (E206) and counted in the report notes.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Diagnostics, SourceLocation, error
from ..models.linearize import ABroadForm, linearize
from ..types import Document, Example
from .base import Evaluator, register
from .matching import DocResult, MatchItem, score_items

SEPARATOR = "; "
TEMPLATE_WORD = "produces"
RELATION_TYPE = "produces"
_ARTICLES = re.compile(r"\b(an|the)\b", re.UNICODE)


def normalise(name: str) -> str:
    """Rule 3: strip ``' .'``, lowercase, drop the words an/the, delete whitespace."""
    return "".join(_ARTICLES.sub(" ", name.strip(" .").lower()).split())


def parse_output(
    text: str, *, separator: str = SEPARATOR, word: str = TEMPLATE_WORD, unique: bool = True
) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """Rules 2-4: ``(pairs, skipped)``; items are read by the ABroad form of
    :mod:`biorel.models.linearize`, pairs are normalised and, with ``unique``,
    deduplicated (first occurrence kept, in order); skipped items are
    ``(index, item, reason)``."""
    form = ABroadForm(word)
    pairs: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    skipped: list[tuple[int, str, str]] = []
    for i, item in enumerate(text.strip().split(separator)):
        rel = form.read(item)
        if isinstance(rel, str):
            skipped.append((i, item, rel))
            continue
        pair = (normalise(rel.head), normalise(rel.tail))
        if not unique or pair not in seen:
            seen.add(pair)
            pairs.append(pair)
    return pairs, skipped


@register
class ABroadEvaluator(Evaluator):
    name = "biorel.RE.ABroad.v1"
    aliases = ("abroad",)
    task = "re"
    primary_metric = "micro_f1"

    def __init__(self, *, separator: str = SEPARATOR, word: str = TEMPLATE_WORD, **kw: Any):
        super().__init__(**kw)
        if not separator or not word:
            raise error("E201", option="separator" if not separator else "word", value="", reason="must not be empty")
        self.separator = separator
        self.word = word

    def settings(self) -> dict[str, Any]:
        return {"separator": self.separator, "word": self.word}

    def _pairs(self, doc: Document, side: str, diagnostics: Diagnostics | None) -> list[tuple[str, str]]:
        if side == "predicted" and doc.metadata.get("unparsable"):
            self.note("predicted outputs marked unparsable (gold pairs count as FN)")
            return []
        output = doc.metadata.get("output") if side == "predicted" else None
        text = output if isinstance(output, str) else linearize(doc, ABroadForm(self.word), separator=self.separator)
        # duplicates are collapsed by the scorer (rule 4), which also counts them
        pairs, skipped = parse_output(text, separator=self.separator, word=self.word, unique=False)
        nonempty = [s for s in skipped if s[1].strip()]
        where = SourceLocation(str(doc.metadata.get("source", f"<{side} document>")), path=f'$["{doc.id}"]')
        for index, item, reason in nonempty:
            self.note(f"{side} output items that cannot be parsed (skipped, as the paper's parser does)")
            if diagnostics is not None:
                diagnostics.add(error("E206", where=where, doc=doc.id, index=index, item=item, reason=reason), "item skipped")
        if side == "predicted" and not pairs:
            reason = "it is empty" if not text.strip() else "no item has the form '<organism> produces <chemical>'"
            self.note("predicted outputs with no parsable pair (gold pairs count as FN)")
            if diagnostics is not None and text.strip():
                diagnostics.add(error("E207", where=where, doc=doc.id, reason=reason), "output scored as empty")
        return pairs

    def score_document(self, example: Example, diagnostics: Diagnostics | None) -> DocResult:
        gold = [MatchItem(RELATION_TYPE, p) for p in self._pairs(example.reference, "gold", diagnostics)]
        pred = [MatchItem(RELATION_TYPE, p) for p in self._pairs(example.predicted, "predicted", diagnostics)]
        return score_items(example.reference.id, gold, pred, confusion=False)


def outputs_to_documents(outputs: dict[str, str | None], gold: list[Document], *, source: str | None = None) -> list[Document]:
    """Predicted documents for raw outputs ``{doc id: text}``. ``None`` (a failed
    generation) and a gold document with no entry are marked unparsable: their
    gold pairs count as false negatives. ``source`` (the outputs file) is kept in
    ``metadata["source"]`` so problems name it."""
    out = []
    for g in gold:
        text = outputs.get(g.id)
        meta: dict[str, Any] = {"unparsable": True} if text is None else {"output": text}
        if source is not None:
            meta["source"] = source
        out.append(Document(id=g.id, metadata=meta))
    return out
