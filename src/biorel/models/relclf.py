"""``biorel.RelationClassifier.v1``: a sentence-level relation classifier over
given entities.

For each candidate pair of entities that are mentioned in one sentence, the
sentence is written again with the two arguments marked (typed markers by
default, ``@ * Gene * BRCA1 @ ... # ^ Disease ^ breast cancer #``: plain
punctuation, so any tokenizer reads them and no embedding is added), encoded
by the shared :class:`~biorel.models.windowed.WindowedEncoder`, and the
vectors of the two opening markers are concatenated and classified into the
relation types plus a learned "none" threshold (the adaptive-threshold loss of
:mod:`biorel.models.heads`, decoded by :mod:`biorel.models.pairs`). Directed
types keep their argument order; an undirected gold relation labels both
orders. Where a pair is mentioned in several sentences, the closest pair of
mentions is used.

One mode, ``relate``: the documents' entities are kept and relations added.

Training options for hard-negative learning (issue "Hard-negative mining"):
``model.hard_negatives = k`` re-mines, at the start of every epoch, the ``k``
items closest to each positive item under the current model among those with
another label set (negative items, and confusable items of other relation
types) and puts them in its batch (:mod:`biorel.models.negatives`); ``training.loss_weights.
contrastive`` adds a supervised contrastive loss on the pair embeddings (with
``model.temperature``) to the classification loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from collections.abc import Mapping, Sequence

import torch
from pydantic import Field
from torch import nn

from ..config import EncoderModelConfig
from ..registry import registry
from ..sentences import sentence_spans
from ..types import Document, Relation
from .base import BiorelModel, Capabilities, resolve_mode
from .grouping import group_mentions
from .heads import supcon_loss, threshold_loss
from .negatives import compose_batches, mine_by_label
from .labels import LabelMaps
from .pairs import EntRef, candidate_pairs, only_pairs_filter, decode_relations, multi_hot, pair_targets, threshold_scores
from .predicted import copy_entity, copy_mention, with_annotations
from .windowed import EncoderBacked, WindowedEncoder


class RelationClassifierConfig(EncoderModelConfig):
    """``[model]`` of ``biorel.RelationClassifier.v1``."""

    architecture: str = "biorel.RelationClassifier.v1"
    max_length: int = Field(256, ge=8)
    stride: int = Field(64, ge=0)
    #: ``typed``: ``@ * Type * text @``; ``plain``: ``@ text @``
    markers: Literal["typed", "plain"] = "typed"
    #: width of the hidden layer over the two marker vectors (the pair embedding)
    hidden_dim: int = Field(256, ge=8)
    #: hard negatives: per anchor (an item with a positive pair), the ``k``
    #: items of another label set (negatives, other relation types) closest to
    #: it under the current model, re-mined at the
    #: start of every epoch and put in the anchor's batch (0 = off)
    hard_negatives: int = Field(0, ge=0)
    #: temperature of the supervised contrastive loss on pair embeddings (its
    #: weight is ``training.loss_weights.contrastive``, 0 = off)
    temperature: float = Field(0.1, gt=0.0)


@dataclass
class PairInstance:
    """One marked sentence: its input ids (special tokens included) and the
    positions of the head and tail markers."""

    ids: list[int]
    head: int
    tail: int
    #: per input id, the document characters it was read from (``None``:
    #: special tokens and markers); for token attributions
    spans: list[tuple[int, int] | None] = field(default_factory=list)


@dataclass
class ClassifierItem:
    doc: Document
    entities: list[EntRef]
    pairs: list[tuple[int, int]]
    instances: list[PairInstance]
    targets: list[list[int]]
    stats: dict[str, int] = field(default_factory=dict)


class ClassifierNet(nn.Module):
    def __init__(self, encoder: nn.Module, n_relations: int, cfg: RelationClassifierConfig):
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.dropout = nn.Dropout(cfg.dropout)
        self.hidden = nn.Linear(2 * hidden, cfg.hidden_dim)
        self.out = nn.Linear(cfg.hidden_dim, n_relations + 1)

    def represent(self, head: torch.Tensor, tail: torch.Tensor) -> torch.Tensor:
        """``[P, hidden_dim]`` pair embeddings from the marker vectors."""
        return torch.tanh(self.hidden(self.dropout(torch.cat([head, tail], -1))))

    def classify(self, z: torch.Tensor) -> torch.Tensor:
        """``[P, 1 + R]`` logits from pair embeddings; column 0 is "none"."""
        return self.out(z)


class RelationClassifier(EncoderBacked, BiorelModel):
    architecture = "biorel.RelationClassifier.v1"
    config_class = RelationClassifierConfig
    capabilities = Capabilities(
        modes=("relate",),
        precisions=("fp32", "bf16", "int8"),
        # the contrastive part is off unless training.loss_weights.contrastive > 0
        loss_parts={"re": 1.0, "contrastive": 0.0},
        default_scorers=("sentence:relate", "concept:relate"),
        train_bf16=True,
        freezable=("embeddings",),
        attributions=("grad-input", "occlusion"),
    )

    def __init__(self, cfg: RelationClassifierConfig, labels: LabelMaps, encoder: nn.Module, tokenizer: Any):
        self.cfg = cfg
        self.labels = labels
        self.encoder = WindowedEncoder(encoder, tokenizer, max_length=cfg.max_length, stride=cfg.stride, window_batch=cfg.window_batch)
        self.net = ClassifierNet(encoder, len(labels.relation_types), cfg)
        self.precision = "fp32"
        #: hard negatives mined for one epoch: {"epoch": e, "groups": {anchor item: [negative items]}}
        self._mined: dict[str, Any] = {}

    @classmethod
    def from_config(cls, cfg: RelationClassifierConfig, train_docs: Sequence[Document]) -> RelationClassifier:
        labels = LabelMaps.from_documents(train_docs, relation_types=cfg.relation_types, pair_types=cfg.pair_types)
        if not labels.relation_types:
            from ..errors import error

            raise error("E407", reason="the training documents have no relations and model.relation_types is empty")
        return cls(cfg, labels, *WindowedEncoder.load_parts(cfg.encoder))

    @classmethod
    def from_saved(cls, folder: Path, cfg: RelationClassifierConfig, labels: dict[str, Any]) -> RelationClassifier:
        return cls(cfg, LabelMaps.from_dict(labels), *WindowedEncoder.saved_parts(folder))

    def cost(self, doc: Document) -> int:
        n = len(doc.entities or doc.entities_from_mentions())
        return max(1, len(doc.text) // 4) * max(1, n * (n - 1))

    # ---- marked instances ----------------------------------------------------------
    def _markers(self, kind: str, typ: str) -> tuple[str, str]:
        sym, inner = ("@", "*") if kind == "head" else ("#", "^")
        return (f"{sym} {inner} {typ} {inner} ", f" {sym}") if self.cfg.markers == "typed" else (f"{sym} ", f" {sym}")

    def _instance(self, text: str, head: tuple[int, int, str], tail: tuple[int, int, str], window: tuple[int, int]) -> PairInstance:
        """Mark ``head`` and ``tail`` (char spans with types) inside ``window``
        of ``text``; a sentence longer than one encoder window is cut around
        the two markers."""
        s0, e0 = window
        inserts = []
        for kind, (s, e, typ) in (("head", head), ("tail", tail)):
            open_, close = self._markers(kind, typ)
            inserts += [(s, 0, open_, kind), (e, 1, close, None)]
        pieces, pos, starts = [], s0, {}
        copied = []  # (start in the marked text, start in the document, length) of each copied piece
        length = 0
        for at, _, mark, kind in sorted(inserts, key=lambda x: (x[0], x[1])):
            pieces.append(text[pos:at])
            copied.append((length, pos, at - pos))
            length += at - pos
            if kind is not None:
                starts[kind] = length
            pieces.append(mark)
            length += len(mark)
            pos = at
        pieces.append(text[pos:e0])
        copied.append((length, pos, e0 - pos))
        marked = "".join(pieces)
        tok = self.encoder.tokenizer(marked, add_special_tokens=False, return_offsets_mapping=True, verbose=False, truncation=False)
        ids, offsets = tok["input_ids"], tok["offset_mapping"]
        pos_of = {k: next(i for i, (a, b) in enumerate(offsets) if a <= c < b) for k, c in starts.items()}
        size = self.encoder.featurizer.size
        lo = 0
        if len(ids) > size:  # centre the window on the two markers
            first, last = min(pos_of.values()), max(pos_of.values())
            lo = max(0, min(first - (size - (last - first)) // 2, len(ids) - size))
            ids = ids[lo : lo + size]
        prefix = self.encoder.featurizer.prefix
        clip = lambda i: min(max(i - lo, 0), len(ids) - 1) + prefix  # noqa: E731
        wrapped = self.encoder.featurizer.wrap(ids)
        inner = [_document_span(copied, a, b) for a, b in offsets[lo : lo + len(ids)]]
        spans = [None] * prefix + inner + [None] * (len(wrapped) - prefix - len(inner))
        return PairInstance(wrapped, clip(pos_of["head"]), clip(pos_of["tail"]), spans)

    def _grounded(self, doc: Document, mentions, entities) -> tuple[list[EntRef], dict[str, list[tuple[int, int, int]]], list[tuple[int, int]]]:
        """Entity references (their ``ranges`` are character spans), per entity
        its spans with the index of the sentence holding each, and the
        sentences."""
        sents = sentence_spans(doc)
        mindex = {m.id: m for m in mentions}
        refs, where = [], {}
        for ent in entities:
            spans = [(s, e) for mid in ent.mention_ids if mid in mindex for s, e in mindex[mid].spans]
            if not spans:
                continue
            refs.append(EntRef(ent.id, ent.type, spans))
            where[ent.id] = [(s, e, next((k for k, (a, b) in enumerate(sents) if a <= s and e <= b), -1)) for s, e in spans]
        return refs, where, sents

    def _pairs(self, doc: Document, mentions, entities):
        refs, where, sents = self._grounded(doc, mentions, entities)

        def closest(h: EntRef, t: EntRef):
            best = None
            for hs, he, hk in where[h.id]:
                for ts, te, tk in where[t.id]:
                    if hk == tk and hk >= 0 and (hs, he) != (ts, te):
                        d = abs(hs - ts)
                        if best is None or d < best[0]:
                            best = (d, (hs, he), (ts, te), sents[hk])
            return best

        only = only_pairs_filter(doc)
        pairs = candidate_pairs(refs, self.labels, keep=lambda h, t: (only is None or only(h, t)) and closest(h, t) is not None)
        text = doc.text
        instances = []
        for i, j in pairs:
            _, hspan, tspan, window = closest(refs[i], refs[j])
            instances.append(self._instance(text, (*hspan, refs[i].type), (*tspan, refs[j].type), window))
        return refs, pairs, instances

    # ---- training ---------------------------------------------------------------
    def prepare(self, doc: Document) -> ClassifierItem:
        entities = doc.entities or group_mentions(doc.mentions)
        refs, pairs, instances = self._pairs(doc, doc.mentions, entities)
        targets, unreachable = pair_targets(doc, refs, pairs, self.labels)
        stats = {"pairs": len(pairs), "positive_pairs": sum(1 for t in targets if t), "unreachable_relations": unreachable}
        return ClassifierItem(doc, refs, pairs, instances, targets, stats)

    def _embed(self, instances: Sequence[PairInstance]) -> torch.Tensor:
        """``[P, hidden_dim]`` pair embeddings of marked instances."""
        flat, bases = self.encoder.encode_windows([x.ids for x in instances])
        head = flat.index_select(0, torch.tensor([b + x.head for b, x in zip(bases, instances)], dtype=torch.long))
        tail = flat.index_select(0, torch.tensor([b + x.tail for b, x in zip(bases, instances)], dtype=torch.long))
        return self.net.represent(head, tail)

    def _logits(self, instances: Sequence[PairInstance]) -> torch.Tensor:
        return self.net.classify(self._embed(instances))

    def loss(self, items: Sequence[ClassifierItem], weights: Mapping[str, float] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        w = self.loss_weights(weights)
        instances = [x for it in items for x in it.instances]
        if not instances:
            zero = sum((p.sum() * 0.0 for p in self.net.out.parameters()), torch.zeros(()))
            return zero, {"re": 0.0, "contrastive": 0.0}
        targets = [t for it in items for t in it.targets]
        z = self._embed(instances)
        rel = threshold_loss(self.net.classify(z), multi_hot(targets, len(self.labels.relation_types))) / len(instances)
        total = w["re"] * rel
        con = rel.new_zeros(())
        if w["contrastive"] > 0:
            labels = torch.tensor([t[0] + 1 if t else 0 for t in targets], dtype=torch.long)
            con_sum, anchors = supcon_loss(z, labels, self.cfg.temperature)
            con = con_sum / max(1, anchors)
            total = total + w["contrastive"] * con
        return total, {"re": float(rel.detach()), "contrastive": float(con.detach())}

    # ---- hard negatives --------------------------------------------------------------
    def item_embeddings(self, items: Sequence[ClassifierItem], chunk: int = 64) -> torch.Tensor:
        """``[len(items), hidden_dim]``: the mean pair embedding of each item
        (zeros for an item without pairs), in eval mode, without gradients."""
        was_training = self.net.training
        self.net.eval()
        flat = [(k, x) for k, it in enumerate(items) for x in it.instances]
        out = torch.zeros((len(items), self.cfg.hidden_dim))
        counts = torch.zeros(len(items))
        with torch.inference_mode():
            for c in range(0, len(flat), chunk):
                part = flat[c : c + chunk]
                z = self._embed([x for _, x in part]).float()
                idx = torch.tensor([k for k, _ in part], dtype=torch.long)
                out.index_add_(0, idx, z)
                counts.index_add_(0, idx, torch.ones(len(part)))
        self.net.train(was_training)
        return out / counts.clamp(min=1)[:, None]

    def on_epoch_start(self, epoch: int, items: list[ClassifierItem]) -> None:
        """Re-mine the hard negatives under the current weights (``hard_negatives`` > 0)."""
        k = self.cfg.hard_negatives
        if not k or self._mined.get("epoch") == epoch:
            return  # off, or restored from the checkpoint of this epoch
        vecs = self.item_embeddings(items)
        labels = [frozenset(r for t in it.targets for r in t) for it in items]
        groups = mine_by_label(vecs, labels, [bool(it.instances) for it in items], k)
        self._mined = {"epoch": epoch, "groups": groups}

    def batches(self, items: Sequence[ClassifierItem], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
        if self.cfg.hard_negatives and self._mined.get("epoch") == epoch:
            return compose_batches(len(items), self._mined["groups"], batch_size, seed, epoch)
        return super().batches(items, batch_size, seed, epoch)

    def hook_state(self) -> dict[str, Any]:
        if not self._mined:
            return {}
        return {"epoch": self._mined["epoch"], "groups": {str(a): js for a, js in self._mined["groups"].items()}}

    def restore_hook_state(self, state: Mapping[str, Any]) -> None:
        if state:
            self._mined = {"epoch": int(state["epoch"]), "groups": {int(a): list(js) for a, js in state["groups"].items()}}

    def embed(self, docs: Sequence[Document]) -> tuple[torch.Tensor, list[str]]:
        """Pair embeddings of the documents' candidate pairs with each pair's
        gold label (its relation types joined by ``|``, ``none`` without one):
        the input of :func:`biorel.evaluation.clustering.cluster_quality`."""
        items = [self.prepare(d) for d in docs]
        flat = [(it, t) for it in items for t in it.targets]
        was_training = self.net.training
        self.net.eval()
        with torch.inference_mode():
            instances = [x for it in items for x in it.instances]
            z = self._embed(instances).float() if instances else torch.zeros((0, self.cfg.hidden_dim))
        self.net.train(was_training)
        labels = ["|".join(self.labels.relation_types[r] for r in sorted(t)) or "none" for _, t in flat]
        return z, labels

    # ---- explanations (biorel.models.evidence) ----------------------------------------
    def relation_scores(self, doc: Document, relations: Sequence[Relation]) -> tuple[list[torch.Tensor | None], list[list[tuple[int, int] | None]]]:
        """Differentiable scores of a predicted document's relations (``None``
        for a pair without a marked sentence, or of a type the model does not
        know) and, per encoded instance, the document characters of each input
        position (``None``: special tokens and markers). Gradients must be
        enabled: this is the forward pass of gradient × input."""
        entities = list(doc.entities) if doc.entities else group_mentions(doc.mentions)
        refs, pairs, instances = self._pairs(doc, doc.mentions, entities)
        index = {(refs[i].id, refs[j].id): k for k, (i, j) in enumerate(pairs)}
        wanted = [index.get((r.head, r.tail)) for r in relations]
        used = sorted({k for k in wanted if k is not None})
        if not used:
            return [None] * len(relations), []
        scores = threshold_scores(self._logits([instances[k] for k in used]).float())
        row = {k: n for n, k in enumerate(used)}
        kinds = [self.labels.relation_index.get(r.type) for r in relations]
        out = [None if k is None or ri is None else scores[row[k], ri] for k, ri in zip(wanted, kinds)]
        return out, [instances[k].spans for k in used]

    def relation_margins(self, docs: Sequence[Document], relations: Sequence[Relation]) -> list[list[float | None]]:
        """Per document (variants of one predicted document that keep its
        entity ids, e.g. with a word deleted), the margin ``logit_r -
        logit_none`` of each relation's pair, read on its marked sentence
        (``None``: no such sentence, or a type the model does not know). The
        marked instances of all documents in one batched pass, without
        gradients: the forward passes of ``occlusion``."""
        kinds = [self.labels.relation_index.get(r.type) for r in relations]
        rows: list[list[int | None]] = []
        instances: list[PairInstance] = []
        for doc in docs:
            entities = list(doc.entities) if doc.entities else group_mentions(doc.mentions)
            refs, pairs, inst = self._pairs(doc, doc.mentions, entities)
            index = {(refs[i].id, refs[j].id): k for k, (i, j) in enumerate(pairs)}
            row: list[int | None] = []
            for r in relations:
                k = index.get((r.head, r.tail))
                row.append(None if k is None else len(instances))
                if k is not None:
                    instances.append(inst[k])
            rows.append(row)
        if not instances:
            return [[None] * len(relations) for _ in docs]
        was_training = self.net.training
        self.net.eval()
        try:
            with torch.inference_mode():
                logits = self._logits(instances).float()
        finally:
            self.net.train(was_training)
        margins = (logits[:, 1:] - logits[:, :1]).tolist()
        return [[None if n is None or ri is None else margins[n][ri] for n, ri in zip(row, kinds)] for row in rows]

    # ---- prediction ----------------------------------------------------------------
    def predict_modes(self, docs: Sequence[Document], modes: Sequence[str] | None = None, *, threshold: float = 0.5) -> dict[str, list[Document]]:
        """``relate``: the documents' entities (grouped from their mentions when
        they have none) are kept and relations added (score > ``threshold``)."""
        modes = [resolve_mode(m, self.capabilities.modes) for m in (modes or (self.default_mode,))]
        self.net.eval()
        found = []
        with torch.inference_mode():
            work = []
            for doc in docs:
                entities = list(doc.entities) if doc.entities else group_mentions(doc.mentions)
                refs, pairs, instances = self._pairs(doc, doc.mentions, entities)
                work.append((doc, entities, refs, pairs, instances))
            instances = [x for *_, inst in work for x in inst]
            logits = self._logits(instances).float() if instances else torch.zeros((0, len(self.labels.relation_types) + 1))
            scores = threshold_scores(logits)
            at = 0
            for doc, entities, refs, pairs, inst in work:
                rels = decode_relations(scores[at : at + len(inst)], pairs, refs, self.labels, threshold) if inst else []
                at += len(inst)
                found.append(with_annotations(doc, [copy_mention(m) for m in doc.mentions], [copy_entity(e) for e in entities], rels))
        return {m: found for m in modes}


def _document_span(copied: Sequence[tuple[int, int, int]], start: int, end: int) -> tuple[int, int] | None:
    """Document characters of the marked-text span ``[start, end)`` when it
    lies inside one copied piece of the document (``None``: a marker)."""
    for at, doc_start, n in copied:
        if at <= start < end <= at + n:
            return (doc_start + start - at, doc_start + end - at)
    return None


registry.models.register(RelationClassifier.architecture, RelationClassifier, aliases=("relation-classifier",))

__all__ = ["RelationClassifier", "RelationClassifierConfig", "ClassifierItem"]
