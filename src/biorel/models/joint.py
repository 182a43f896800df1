"""``biorel.JointNERRE.v1``: a transformer encoder with a token-tagging head
(BIO/BILOU over entity types) and a document-level relation head over entity
pairs, trained with a weighted multi-task loss (parts ``ner`` and ``re``).

Two prediction modes share one encoder pass:

* ``extract``: mentions are tagged, grouped into entities
  (:mod:`biorel.models.grouping`) and related;
* ``relate``: the input's mentions and entities are kept and only relations are
  predicted.

Built from shared components: :class:`~biorel.models.windowed.WindowedEncoder`
(windows, precision), :mod:`biorel.models.pairs` (entity references, candidate
pairs, decoding) and the heads in :mod:`biorel.models.heads`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from collections.abc import Mapping, Sequence

import torch
from pydantic import Field, model_validator
from torch import nn
from torch.nn import functional as F

from ..config import EncoderModelConfig
from ..errors import error
from ..registry import registry
from ..types import Document, Mention, Relation
from .base import BiorelModel, Capabilities, resolve_mode
from .features import Features
from .grouping import group_mentions, inherit_gold_ids
from .heads import PairClassifier, TokenTagger, pool_entities, threshold_loss
from .labels import LabelMaps, decode_tags, encode_tags, word_level_tags, word_starts
from .pairs import EntRef, candidate_pairs, decode_relations, entity_refs, multi_hot, pair_targets, threshold_scores
from .predicted import copy_entity, copy_mention, with_annotations
from .windowed import EncoderBacked, WindowedEncoder


class JointNERREConfig(EncoderModelConfig):
    """``[model]`` of ``biorel.JointNERRE.v1``."""

    architecture: str = "biorel.JointNERRE.v1"
    scheme: Literal["BIO", "BILOU"] = "BIO"
    #: entity types to tag; empty means every type seen in the training data
    entity_types: list[str] = Field(default_factory=list)
    #: ``attention``: pair-localised, attention-weighted context; ``none``: off
    context: Literal["attention", "none"] = "attention"
    pair_dim: int = Field(256, ge=8)
    block_size: int = Field(32, ge=1)
    type_dim: int = Field(32, ge=0)

    @model_validator(mode="after")
    def _check_blocks(self) -> JointNERREConfig:
        if self.pair_dim % self.block_size:
            raise ValueError(f"pair_dim ({self.pair_dim}) must be a multiple of block_size ({self.block_size})")
        return self


@dataclass
class JointItem:
    """A prepared training document."""

    doc: Document
    feats: Features
    tags: list[int]
    entities: list[EntRef]
    pairs: list[tuple[int, int]]
    #: per pair, the indices of its gold relation types
    pair_labels: list[list[int]]
    stats: dict[str, int] = field(default_factory=dict)


class JointNet(nn.Module):
    def __init__(self, encoder: nn.Module, labels: LabelMaps, cfg: JointNERREConfig):
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.tagger = TokenTagger(hidden, len(labels.tags), cfg.dropout)
        self.pairs = (
            PairClassifier(
                hidden,
                len(labels.relation_types),
                n_types=len(labels.entity_types),
                type_dim=cfg.type_dim,
                pair_dim=cfg.pair_dim,
                block_size=cfg.block_size,
                context=cfg.context == "attention",
                dropout=cfg.dropout,
            )
            if labels.relation_types
            else None
        )


class JointNERRE(EncoderBacked, BiorelModel):
    architecture = "biorel.JointNERRE.v1"
    config_class = JointNERREConfig
    capabilities = Capabilities(
        modes=("extract", "relate"),
        precisions=("fp32", "bf16", "int8"),
        loss_parts={"ner": 1.0, "re": 1.0},
        default_scorers=("ner:extract", "e2e:extract", "concept:relate"),
        train_bf16=True,
        freezable=("embeddings",),
        attributions=("attention", "grad-input", "occlusion"),
    )

    def __init__(self, cfg: JointNERREConfig, labels: LabelMaps, encoder: nn.Module, tokenizer: Any):
        self.cfg = cfg
        self.labels = labels
        self.encoder = WindowedEncoder(encoder, tokenizer, max_length=cfg.max_length, stride=cfg.stride, window_batch=cfg.window_batch)
        self.net = JointNet(encoder, labels, cfg)
        self.precision = "fp32"

    # ---- construction ----------------------------------------------------------
    @classmethod
    def from_config(cls, cfg: JointNERREConfig, train_docs: Sequence[Document]) -> JointNERRE:
        labels = LabelMaps.from_documents(
            train_docs, scheme=cfg.scheme, entity_types=cfg.entity_types, relation_types=cfg.relation_types, pair_types=cfg.pair_types
        )
        if not labels.entity_types:
            raise error("E407", reason="the training documents have no mentions and model.entity_types is empty")
        return cls(cfg, labels, *WindowedEncoder.load_parts(cfg.encoder))

    @classmethod
    def from_saved(cls, folder: Path, cfg: JointNERREConfig, labels: dict[str, Any]) -> JointNERRE:
        return cls(cfg, LabelMaps.from_dict(labels), *WindowedEncoder.saved_parts(folder))

    # ---- entities and pairs ----------------------------------------------------
    def _pair_logits(self, tokens: torch.Tensor, ents: Sequence[EntRef], pairs: Sequence[tuple[int, int]]) -> torch.Tensor:
        vecs = pool_entities(tokens, [e.ranges for e in ents])
        unk = len(self.labels.entity_types)
        types = torch.tensor([self.labels.type_index.get(e.type, unk) for e in ents], dtype=torch.long)
        return self.net.pairs(tokens, vecs, types, torch.tensor(pairs, dtype=torch.long))

    # ---- training ----------------------------------------------------------------
    def prepare(self, doc: Document) -> JointItem:
        feats = self.encoder.featurizer(doc)
        spans = [(s, e, m.type) for m in doc.mentions for s, e in m.spans]
        tags = encode_tags(feats.offsets, spans, self.labels)
        starts, ends = set(feats.offsets.starts), set(feats.offsets.ends)
        misaligned = sum(1 for s, e, t in spans if t in self.labels.type_index and (s not in starts or e not in ends))
        ents = entity_refs(doc, feats.offsets)
        pairs = candidate_pairs(ents, self.labels)
        pair_labels, unreachable = pair_targets(doc, ents, pairs, self.labels)
        stats = {"tokens": feats.n_tokens, "windows": len(feats.windows), "misaligned_mentions": misaligned, "unreachable_relations": unreachable}
        return JointItem(doc, feats, tags, ents, pairs, pair_labels, stats)

    def loss(self, items: Sequence[JointItem], weights: Mapping[str, float] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        w = self.loss_weights(weights)
        reps = self.encoder.encode([it.feats for it in items])
        ner_sum = reps[0].new_zeros(()) if reps else torch.zeros(())
        re_sum = ner_sum.clone()
        n_tok = n_pairs = 0
        for it, tok in zip(items, reps):
            if not it.feats.n_tokens:
                continue
            logits = self.net.tagger(tok)
            ner_sum = ner_sum + F.cross_entropy(logits, torch.tensor(it.tags, dtype=torch.long), reduction="sum")
            n_tok += it.feats.n_tokens
            if it.pairs and self.net.pairs is not None:
                pl = self._pair_logits(tok, it.entities, it.pairs)
                re_sum = re_sum + threshold_loss(pl, multi_hot(it.pair_labels, len(self.labels.relation_types)))
                n_pairs += len(it.pairs)
        ner = ner_sum / max(1, n_tok)
        rel = re_sum / max(1, n_pairs)
        total = w["ner"] * ner + w["re"] * rel
        return total, {"ner": float(ner.detach()), "re": float(rel.detach())}

    # ---- prediction ----------------------------------------------------------------
    def predict_modes(
        self,
        docs: Sequence[Document],
        modes: Sequence[str] | None = None,
        *,
        threshold: float = 0.5,
        use_gold_ids: bool = False,
    ) -> dict[str, list[Document]]:
        """Predictions for each mode from one encoder pass. ``threshold``: the
        minimum relation score. ``use_gold_ids``: in ``extract`` mode, predicted
        mentions matching a gold mention's spans and type take its concept ids
        (oracle normalisation, for concept-level scoring)."""
        modes = [resolve_mode(m, self.capabilities.modes) for m in (modes or (self.default_mode,))]
        self.net.eval()
        out: dict[str, list[Document]] = {m: [] for m in modes}
        with torch.inference_mode():
            feats = [self.encoder.features(d) for d in docs]
            reps = self.encoder.encode(feats)
            for doc, f, tok in zip(docs, feats, reps):
                if "extract" in out:
                    out["extract"].append(self._extract(doc, f, tok, threshold, use_gold_ids))
                if "relate" in out:
                    out["relate"].append(self._relate_given(doc, f, tok, threshold))
        return out

    def _extract(self, doc: Document, f: Features, tok: torch.Tensor, threshold: float, use_gold_ids: bool) -> Document:
        mentions = self._tag(f, tok)
        if use_gold_ids:
            inherit_gold_ids(mentions, doc.mentions)
        entities = group_mentions(mentions, f.text)
        refs = entity_refs(doc, f.offsets, mentions, entities)
        return with_annotations(doc, mentions, entities, self._relate(tok, refs, threshold))

    def _relate_given(self, doc: Document, f: Features, tok: torch.Tensor, threshold: float) -> Document:
        entities = list(doc.entities) if doc.entities else group_mentions(doc.mentions)
        refs = entity_refs(doc, f.offsets, doc.mentions, entities)
        rels = self._relate(tok, refs, threshold)
        return with_annotations(doc, [copy_mention(m) for m in doc.mentions], [copy_entity(e) for e in entities], rels)

    def _tag(self, f: Features, tok: torch.Tensor) -> list[Mention]:
        if not f.n_tokens:
            return []
        probs = torch.softmax(self.net.tagger(tok).float(), dim=-1)
        best, tags = probs.max(-1)
        tag_list = word_level_tags(tags.tolist(), word_starts(f.offsets, f.text), self.labels)
        spans = decode_tags(tag_list, self.labels, f.breaks)
        mentions = []
        for k, (i, j, typ) in enumerate(spans):
            s, e = f.offsets[i][0], f.offsets[j - 1][1]
            score = round(float(best[i:j].mean()), 6)
            mentions.append(Mention(f"m{k}", ((s, e),), f.text[s:e], typ, infons={"score": score}))
        return mentions

    def _relate(self, tok: torch.Tensor, refs: Sequence[EntRef], threshold: float):
        pairs = candidate_pairs(refs, self.labels)
        if not pairs or self.net.pairs is None:
            return []
        scores = threshold_scores(self._pair_logits(tok, refs, pairs).float())
        return decode_relations(scores, pairs, refs, self.labels, threshold)

    # ---- explanations (biorel.models.evidence) ---------------------------------------
    def attribution_methods(self) -> tuple[str, ...]:
        """``attention`` only with the pair context on (``model.context``)."""
        methods = super().attribution_methods()
        return methods if self.net.pairs is not None and self.net.pairs.context is not None else tuple(m for m in methods if m != "attention")

    def _grounded_pairs(self, doc: Document, f: Features, pairs: Sequence[tuple[str, str]]) -> tuple[list[EntRef], list[int | None]]:
        """The document's entity references and, per ``(head id, tail id)``, its
        row among the grounded pairs (``None``: an argument has no token)."""
        refs = entity_refs(doc, f.offsets)
        index = {r.id: k for k, r in enumerate(refs)}
        rows, n = [], 0
        for h, t in pairs:
            rows.append(n if h in index and t in index else None)
            n += rows[-1] is not None
        return refs, rows

    def pair_attention(self, doc: Document, pairs: Sequence[tuple[str, str]]) -> tuple[Features, list[torch.Tensor | None]]:
        """For a predicted document (its mentions and entities as predicted),
        the relation head's token weights of each ``(head id, tail id)`` pair:
        ``[n_tokens]``, summing to 1, the weights that mix the pair's context
        (``PairContext.weights``); ``None`` for a pair not grounded in tokens.
        One encoder pass; predictions are not affected."""
        self.net.eval()
        with torch.inference_mode():
            f = self.encoder.features(doc)
            refs, rows = self._grounded_pairs(doc, f, pairs)
            index = {r.id: k for k, r in enumerate(refs)}
            known = [(index[h], index[t]) for (h, t), row in zip(pairs, rows) if row is not None]
            if not known or self.net.pairs is None or self.net.pairs.context is None:
                return f, [None] * len(pairs)
            tok = self.encoder.encode([f])[0]
            context = self.net.pairs.context
            att = context.attention(tok, pool_entities(tok, [e.ranges for e in refs]))
            weights = context.weights(att, torch.tensor(known, dtype=torch.long)).float()
        return f, [None if row is None else weights[row] for row in rows]

    def relation_scores(self, doc: Document, relations: Sequence[Relation]) -> tuple[list[torch.Tensor | None], list[list[tuple[int, int] | None]]]:
        """Differentiable scores of a predicted document's relations (``None``
        for one whose arguments have no token, or of a type the model does not
        know) and, per encoder window, the document characters of each input
        position (``None``: special tokens). Gradients must be enabled: this
        is the forward pass of gradient × input."""
        f = self.encoder.features(doc)
        refs, rows = self._grounded_pairs(doc, f, [(r.head, r.tail) for r in relations])
        index = {r.id: k for k, r in enumerate(refs)}
        kinds = [self.labels.relation_index.get(r.type) for r in relations]
        known = [(index[r.head], index[r.tail]) for r, row in zip(relations, rows) if row is not None]
        if not known or self.net.pairs is None:
            return [None] * len(relations), self.encoder.window_spans(f)
        tok = self.encoder.encode([f])[0]
        scores = threshold_scores(self._pair_logits(tok, refs, known).float())
        out = [None if row is None or ri is None else scores[row, ri] for row, ri in zip(rows, kinds)]
        return out, self.encoder.window_spans(f)

    def relation_margins(self, docs: Sequence[Document], relations: Sequence[Relation]) -> list[list[float | None]]:
        """Per document (variants of one predicted document that keep its
        entity ids, e.g. with a word deleted), the margin ``logit_r -
        logit_none`` of each relation's ``(head, tail)`` pair (the score is its
        sigmoid); ``None`` where an argument has no token or the type is
        unknown. One batched encoder pass, without gradients: the forward
        passes of ``occlusion``. Predictions are not affected."""
        kinds = [self.labels.relation_index.get(r.type) for r in relations]
        was_training = self.net.training
        self.net.eval()
        out: list[list[float | None]] = []
        try:
            with torch.inference_mode():
                feats = [self.encoder.features(d) for d in docs]
                for doc, f, tok in zip(docs, feats, self.encoder.encode(feats)):
                    out.append(self._margins(doc, f, tok, relations, kinds))
        finally:
            self.net.train(was_training)
        return out

    def _margins(
        self, doc: Document, f: Features, tok: torch.Tensor, relations: Sequence[Relation], kinds: Sequence[int | None]
    ) -> list[float | None]:
        refs, rows = self._grounded_pairs(doc, f, [(r.head, r.tail) for r in relations])
        index = {r.id: k for k, r in enumerate(refs)}
        known = [(index[r.head], index[r.tail]) for r, row in zip(relations, rows) if row is not None]
        if not known or self.net.pairs is None:
            return [None] * len(relations)
        logits = self._pair_logits(tok, refs, known).float()
        margins = (logits[:, 1:] - logits[:, :1]).tolist()
        return [None if row is None or ri is None else margins[row][ri] for row, ri in zip(rows, kinds)]


registry.models.register(JointNERRE.architecture, JointNERRE, aliases=("joint",))

__all__ = ["JointNERRE", "JointNERREConfig", "JointItem"]
