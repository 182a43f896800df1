"""Relation evidence and token attributions: which sentences and which words
stand behind each predicted relation.

::

    from biorel.models import load_model
    from biorel.models.evidence import add_evidence

    model = load_model("bc5cdr-minilm")
    docs = model.predict(docs, mode="relate")
    add_evidence(model, docs, top_k=8)          # fills the relations in place
    docs[0].relations[0].infons["attributions"]  # [[start, end, weight], ...]

What :func:`add_evidence` writes on each relation of a predicted document:

* ``infons["attributions"]``: ``[[start, end, weight], ...]``, the ``top_k``
  words with the largest attribution, as document character spans, sorted by
  weight (descending; ties by position). A word is the encoder's word pieces
  joined back (``cort`` + ``##isol``; punctuation is a word of its own), its
  attribution the sum of its pieces'. Words that overlap a mention of either
  argument are left out (they stand behind every relation of the pair; the
  curator sees them anyway). Weights are divided by the largest one, so the
  first is ``1.0``, and rounded to 3 significant digits (the pair attention
  is sharply peaked: the second word may weigh ``2.5e-05``); only words with a
  positive attribution are listed, so every weight lies in ``(0, 1]`` and there
  may be fewer than ``top_k``.
* ``infons["attribution_method"]``: the method used.
* ``evidence``: the sentences (:func:`biorel.sentences.sentence_spans`, document
  character spans in document order) that hold the attributed words; when no
  word is attributed, the sentence(s) of the closest pair of head and tail
  mentions.

Not thread-safe for ``grad-input``: the encoder records the word embeddings of
every forward pass while a document is explained, so the model must not predict
in another thread meanwhile; call it outside ``torch.inference_mode``.

A relation whose arguments have no mention (a relation-only document), or
that the model cannot score (a type it does not know), keeps no evidence and
gets ``infons["attributions"] = []``; it is counted in the
:class:`EvidenceReport` that :func:`explain` returns, never dropped.

Methods (``method``):

* ``attention`` (:class:`~biorel.models.joint.JointNERRE` with
  ``model.context = "attention"``): the weights with which the relation head
  mixes the pair's context, the renormalised product of both arguments'
  attention over the document's tokens (``JointNERRE.pair_attention``). One
  encoder pass per document for all its relations.
* ``grad-input``: gradient × input. The relation's score
  (``sigmoid(logit_r - logit_none)``) is differentiated with respect to the
  encoder's word embeddings; a word piece's attribution is the sum over the
  hidden dimension of gradient × embedding, summed over the windows that hold
  it. Only positive contributions (evidence *for* the relation) are kept. Any
  model with ``relation_scores`` (both built-in architectures): one forward
  pass per document and one backward pass per relation.
* ``occlusion``: a word's attribution is how much deleting that word alone
  lowers the relation's *margin* ``logit_r - logit_none`` (the score is its
  sigmoid; the margin is used because the shipped model's scores saturate near
  1, where one word's effect on the score vanishes in float32; both rank the
  words the same). Deletion is :func:`delete_words`, the operation of
  ``benchmarks/evidence_faithfulness.py``: the word's characters removed (one
  space left when it sat between two non-space characters), every offset
  shifted, a mention overlapping it dropped. The words of a relation that are
  tried (:func:`occlusion_candidates`): those of the sentences holding its
  closest head and tail mentions (the pair of :func:`fallback_evidence`) and,
  when at most :data:`OCCLUSION_BRIDGE` sentences lie between those, of the
  sentences between; never a word overlapping a mention of either argument.
  One document variant per candidate word of any of the document's relations
  (the union), run through the model in batches of :data:`OCCLUSION_BATCH`
  with the original as the reference, every relation scored on every variant
  (``model.relation_margins``): one set of forwards per document, as many as
  candidate words (about 40-70 on a PubMed abstract), not per relation. Words
  whose deletion *raises* the margin are left out like any non-positive
  weight. Faithful by construction for single words; deleting several top
  words together is not the sum of their single drops.
* ``auto``: ``attention`` where the model offers it, else ``grad-input``
  (``occlusion`` only where neither is offered: it costs one forward pass per
  candidate word, ~50 times ``attention`` on an abstract).

The methods a model offers are declared in ``Capabilities.attributions`` and
refined per instance by ``model.attribution_methods()``. Unknown method: E530;
a model that cannot explain (with that method): E531; ``top_k < 1``: E532.
Predictions are not changed.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import Any
from collections.abc import Iterable, Mapping, Sequence

from ..errors import error
from ..sentences import sentence_spans
from ..types import Document, Entity, Mention, Passage, Relation, Span
from .labels import word_starts

#: attribution methods, in the order ``auto`` prefers them (``occlusion`` last,
#: for its cost: ``auto`` takes it only from a model that offers nothing else)
METHODS: tuple[str, ...] = ("attention", "grad-input", "occlusion")
#: what ``method`` may be
CHOICES: tuple[str, ...] = ("auto", *METHODS)
#: significant digits of the normalised weights
DIGITS = 3
#: ``occlusion``: the sentences between a relation's closest head and tail
#: mentions are tried too when at most this many lie between them
OCCLUSION_BRIDGE = 1
#: ``occlusion``: document variants per call of ``model.relation_margins``
#: (bounds memory; on a CPU larger batches are not faster)
OCCLUSION_BATCH = 8

#: one attributed word: ``[start, end, weight]``
Attribution = list  # [int, int, float]


@dataclass
class EvidenceReport:
    """What :func:`explain` did."""

    method: str
    documents: int = 0
    relations: int = 0
    #: relations given attributions (or the fallback evidence sentence)
    explained: int = 0
    #: relations whose head or tail has no mention (relation-only): nothing to attribute
    without_mentions: int = 0
    #: relations with mentions that the model could not score (e.g. a type it does not know)
    unscored: int = 0
    #: ``occlusion``: documents run through the model (the originals included)
    variants: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def resolve_method(model: Any, method: str = "auto") -> str:
    """The method to run for ``model``: ``auto`` picks the first of
    :data:`METHODS` the model offers. E530 for an unknown method, E531 when the
    model offers none or not this one."""
    if method not in CHOICES:
        raise error("E530", method=method, choices=", ".join(CHOICES))
    offered = tuple(model.attribution_methods()) if hasattr(model, "attribution_methods") else ()
    name = getattr(model, "architecture", type(model).__name__)
    if method == "auto":
        for m in METHODS:
            if m in offered:
                return m
        raise error("E531", architecture=name, method=method, reason="it declares no attribution method", choices="none")
    if method not in offered:
        reason = "this model has no pair attention (model.context = 'none'?)" if method == "attention" else "this model does not declare it"
        raise error("E531", architecture=name, method=method, reason=reason, choices=", ".join(offered) or "none")
    return method


def add_evidence(model: Any, docs: Sequence[Document], *, top_k: int = 8, method: str = "auto") -> None:
    """Fill the evidence and token attributions of every relation of ``docs``
    (documents predicted by ``model``, any mode), in place (see the module
    docstring)."""
    explain(model, docs, top_k=top_k, method=method)


def explain(model: Any, docs: Sequence[Document], *, top_k: int = 8, method: str = "auto") -> EvidenceReport:
    """:func:`add_evidence`, returning what was done."""
    if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
        raise error("E532", option=f"top_k={top_k!r}", reason="must be an integer of at least 1")
    report = EvidenceReport(resolve_method(model, method))
    t0 = time.perf_counter()
    for doc in docs:
        _explain_document(model, doc, top_k, report)
    report.seconds = time.perf_counter() - t0
    return report


# ---- one document ----------------------------------------------------------------
def _explain_document(model: Any, doc: Document, top_k: int, report: EvidenceReport) -> None:
    report.documents += 1
    report.relations += len(doc.relations)
    mentions = doc.mention_index()
    entities = doc.entity_index() if doc.entities else {e.id: e for e in doc.entities_from_mentions()}
    todo = []
    for r in doc.relations:
        head, tail = argument_spans(r, mentions, entities)
        if head and tail:
            todo.append((r, head, tail))
        else:
            r.infons["attributions"] = []
            report.without_mentions += 1
    if not todo:
        return
    sentences = sentence_spans(doc)
    if report.method == "occlusion":
        weights = occlusion_words(model, doc, todo, sentences, report)
    else:
        text = doc.text
        tokens = token_weights(model, doc, [r for r, _, _ in todo], report.method)
        weights = [None if tw is None else word_weights(tw, text) for tw in tokens]
    for (r, head, tail), ww in zip(todo, weights):
        if ww is None:
            r.infons["attributions"] = []
            report.unscored += 1
            continue
        top = top_attributions(ww, head + tail, top_k)
        r.infons["attributions"] = top
        r.infons["attribution_method"] = report.method
        r.evidence = evidence_sentences(sentences, [(s, e) for s, e, _ in top]) or fallback_evidence(sentences, head, tail)
        report.explained += 1


def argument_spans(rel: Relation, mentions: Mapping[str, Mention], entities: Mapping[str, Entity]) -> tuple[list[Span], list[Span]]:
    """Character spans of every mention of the head and of the tail (entity
    ids, or mention ids for ``level="mention"`` relations), given the
    document's mentions and entities by id."""

    def spans(ref: str) -> list[Span]:
        if rel.level == "mention":
            ids: Iterable[str] = (ref,)
        else:
            ent = entities.get(ref)
            ids = ent.mention_ids if ent is not None else ()
        return sorted(sp for mid in ids if mid in mentions for sp in mentions[mid].spans)

    return spans(rel.head), spans(rel.tail)


# ---- token weights by method ----------------------------------------------------------
def token_weights(model: Any, doc: Document, relations: Sequence[Relation], method: str) -> list[dict[Span, float] | None]:
    """Per relation, ``{token character span: attribution}`` (``None``: the
    model could not score it); methods ``attention`` and ``grad-input``
    (``occlusion`` attributes words: :func:`occlusion_words`)."""
    if method == "occlusion":
        raise ValueError("occlusion attributes words, not tokens: use occlusion_words")
    if method == "attention":
        return _attention_weights(model, doc, relations)
    return _grad_input_weights(model, doc, relations)


def _attention_weights(model: Any, doc: Document, relations: Sequence[Relation]) -> list[dict[Span, float] | None]:
    feats, weights = model.pair_attention(doc, [(r.head, r.tail) for r in relations])
    out: list[dict[Span, float] | None] = []
    for w in weights:
        out.append(None if w is None else {tuple(span): float(x) for span, x in zip(feats.offsets, w.tolist())})
    return out


def _grad_input_weights(model: Any, doc: Document, relations: Sequence[Relation]) -> list[dict[Span, float] | None]:
    import torch

    encoder = model.encoder
    was_training = model.net.training
    model.net.eval()
    encoder.capture = captured = []
    try:
        with torch.enable_grad():
            scores, spans = model.relation_scores(doc, relations)
            leaves = [leaf for _, leaf in captured]
            out: list[dict[Span, float] | None] = []
            for score in scores:
                if score is None or not leaves:
                    out.append(None)
                    continue
                grads = torch.autograd.grad(score, leaves, retain_graph=True, allow_unused=True)
                out.append(_collect(captured, grads, spans))
    finally:
        encoder.capture = None
        model.net.train(was_training)
    return out


def _collect(captured: Sequence[tuple[list[int], Any]], grads: Sequence[Any], spans: Sequence[Sequence[Span | None]]) -> dict[Span, float]:
    """Gradient × input summed over the hidden dimension, per document
    character span (a token read in several windows adds up)."""
    out: dict[Span, float] = {}
    for (windows, leaf), grad in zip(captured, grads):
        if grad is None:
            continue
        per_position = (grad.float() * leaf.detach().float()).sum(-1).tolist()  # [B, W]
        for row, k in enumerate(windows):
            for pos, span in enumerate(spans[k]):
                if span is not None:
                    key = (int(span[0]), int(span[1]))
                    out[key] = out.get(key, 0.0) + per_position[row][pos]
    return out


# ---- occlusion ---------------------------------------------------------------------------
def delete_words(doc: Document, spans: Sequence[Span], keep_relations: bool = False) -> Document:
    """A copy of ``doc`` with the characters of ``spans`` removed (a span with
    non-space characters on both sides becomes one space, so that its
    neighbours are not glued into one word), passages and mentions shifted;
    mentions overlapping a deleted span are dropped, with their entities'
    references (entities left without mentions are dropped); relations are
    dropped unless ``keep_relations``."""
    text = doc.text
    edits = []  # (start, end, replacement)
    for s, e in sorted(set(spans)):
        glue = 0 < s and e < len(text) and not text[s - 1].isspace() and not text[e].isspace()
        edits.append((s, e, " " if glue else ""))

    def shift(x: int) -> int:
        return x - sum(e - s - len(r) for s, e, r in edits if e <= x)

    passages = []
    for p in doc.passages:
        pieces, pos = [], p.offset
        for s, e, r in edits:
            if p.offset <= s and e <= p.end:
                pieces += [text[pos:s], r]
                pos = e
        pieces.append(text[pos : p.end])
        passages.append(Passage(shift(p.offset), "".join(pieces), p.type, dict(p.infons)))

    def hit(m: Mention) -> bool:
        return any(s < b and a < e for a, b in m.spans for s, e, _ in edits)

    mentions = [replace(m, spans=tuple((shift(a), shift(b)) for a, b in m.spans)) for m in doc.mentions if not hit(m)]
    kept = {m.id for m in mentions}
    entities = [replace(e, mention_ids=tuple(i for i in e.mention_ids if i in kept)) for e in doc.entities]
    entities = [e for e in entities if e.mention_ids]
    relations = list(doc.relations) if keep_relations else []
    return replace(doc, passages=passages, mentions=mentions, entities=entities, relations=relations)


def document_words(model: Any, doc: Document) -> list[Span]:
    """The words of ``doc`` as the encoder's word pieces join (see
    :func:`word_weights`), in text order."""
    f = model.encoder.features(doc)
    return [(s, e) for s, e, _ in word_weights({tuple(o): 0.0 for o in f.offsets}, f.text)]


def occlusion_sentences(sentences: Sequence[Span], head: Sequence[Span], tail: Sequence[Span]) -> list[Span]:
    """The sentences whose words ``occlusion`` tries for a relation: those of
    its closest head and tail mentions and, when at most
    :data:`OCCLUSION_BRIDGE` sentences lie between them, those between."""
    pairs = [(abs(h[0] - t[0]), h, t) for h in head for t in tail if h != t]
    if not pairs:
        return []
    _, h, t = min(pairs)
    held = [k for k, (a, b) in enumerate(sentences) if any(a < e and s < b for s, e in (h, t))]
    if not held:
        return []
    lo, hi = min(held), max(held)
    if hi - lo - 1 <= OCCLUSION_BRIDGE:
        held = list(range(lo, hi + 1))
    return [sentences[k] for k in held]


def occlusion_candidates(words: Sequence[Span], sentences: Sequence[Span], head: Sequence[Span], tail: Sequence[Span]) -> list[Span]:
    """The words ``occlusion`` tries for a relation: inside
    :func:`occlusion_sentences`, overlapping no mention of either argument."""
    inside = occlusion_sentences(sentences, head, tail)
    args = sorted([*head, *tail])
    return [(s, e) for s, e in words if any(a <= s and e <= b for a, b in inside) and not _overlaps(args, s, e)]


def occlusion_words(
    model: Any,
    doc: Document,
    todo: Sequence[tuple[Relation, list[Span], list[Span]]],
    sentences: Sequence[Span],
    report: EvidenceReport | None = None,
) -> list[list[tuple[int, int, float]] | None]:
    """Per ``(relation, head spans, tail spans)``: its candidate words, each
    with the drop of the relation's margin when that word alone is deleted
    (``None``: the model could not score the relation). All variants of the
    document are scored at once for all relations."""
    words = document_words(model, doc)
    candidates = [occlusion_candidates(words, sentences, head, tail) for _, head, tail in todo]
    union = sorted({w for c in candidates for w in c})
    row = {w: n + 1 for n, w in enumerate(union)}
    relations = [r for r, _, _ in todo]
    margins: list[list[float | None]] = []
    for c in range(0, len(union) + 1, OCCLUSION_BATCH):
        batch = [doc if n == 0 else delete_words(doc, [union[n - 1]]) for n in range(c, min(c + OCCLUSION_BATCH, len(union) + 1))]
        margins += model.relation_margins(batch, relations)
    if report is not None:
        report.variants += len(union) + 1
    out: list[list[tuple[int, int, float]] | None] = []
    for j, cands in enumerate(candidates):
        base = margins[0][j]
        if base is None:
            out.append(None)
            continue
        drops = ((s, e, margins[row[(s, e)]][j]) for s, e in cands)
        out.append([(s, e, base - m) for s, e, m in drops if m is not None])
    return out


# ---- words, top-k, sentences ------------------------------------------------------------
def word_weights(tokens: dict[Span, float], text: str) -> list[tuple[int, int, float]]:
    """Tokens joined into words (word pieces continuing a word with no gap
    between letters or digits, as the tagger's words), each with the sum of its
    tokens' weights, in text order."""
    spans = sorted(tokens)
    words: list[list] = []
    for (s, e), starts in zip(spans, word_starts(spans, text)):
        if starts or not words:
            words.append([s, e, tokens[(s, e)]])
        else:
            words[-1][1] = e
            words[-1][2] += tokens[(s, e)]
    return [(s, e, w) for s, e, w in words]


def _overlaps(spans: Sequence[Span], s: int, e: int) -> bool:
    """Whether ``[s, e)`` overlaps one of ``spans`` (sorted by start)."""
    k = bisect_right(spans, (e, -1))  # spans starting before e
    return any(b > s for _, b in spans[:k])


def top_attributions(words: Sequence[tuple[int, int, float]], arguments: Sequence[Span], top_k: int) -> list[Attribution]:
    """The ``top_k`` positive-weight words not overlapping an argument mention,
    as ``[start, end, weight]`` with weights divided by the largest and rounded
    (see the module docstring)."""
    args = sorted(arguments)
    kept = [(s, e, w) for s, e, w in words if w > 0 and not _overlaps(args, s, e)]
    kept.sort(key=lambda x: (-x[2], x[0]))
    kept = kept[:top_k]
    if not kept:
        return []
    peak = kept[0][2]
    out = []
    for s, e, w in kept:
        weight = min(1.0, float(f"{w / peak:.{DIGITS}g}"))
        if weight > 0:
            out.append([s, e, weight])
    return out


def evidence_sentences(sentences: Sequence[Span], spans: Iterable[Span]) -> tuple[Span, ...]:
    """The sentences that overlap any of ``spans``, in document order."""
    found = {sent for s, e in spans for sent in sentences if sent[0] < e and s < sent[1]}
    return tuple(sorted(found))


def fallback_evidence(sentences: Sequence[Span], head: Sequence[Span], tail: Sequence[Span]) -> tuple[Span, ...]:
    """The sentence(s) of the closest head and tail mentions (smallest distance
    between their starts)."""
    pairs = [(abs(h[0] - t[0]), h, t) for h in head for t in tail if h != t]
    if not pairs:
        return ()
    _, h, t = min(pairs)
    return evidence_sentences(sentences, (h, t))


__all__ = [
    "add_evidence",
    "explain",
    "resolve_method",
    "EvidenceReport",
    "METHODS",
    "CHOICES",
    "token_weights",
    "occlusion_words",
    "occlusion_candidates",
    "occlusion_sentences",
    "document_words",
    "delete_words",
    "word_weights",
    "top_attributions",
    "evidence_sentences",
    "argument_spans",
]
