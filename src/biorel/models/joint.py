"""``biorel.JointNERRE.v1``: a transformer encoder with a token-tagging head
(BIO/BILOU over entity types) and a document-level relation head over entity
pairs, trained with a weighted multi-task loss.

Two prediction modes share one encoder pass:

* ``e2e``: mentions are tagged, grouped into entities
  (:mod:`biorel.models.grouping`) and related;
* ``gold``: the input's mentions and entities are kept and only relations are
  predicted.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .. import __version__
from ..config import ModelConfig
from ..errors import error
from ..registry import registry
from ..types import Document, Entity, Mention, Passage, Relation
from .base import BiorelModel, read_model_meta
from .encoder import encoder_from_saved, load_encoder, load_tokenizer
from .features import Featurizer, Features
from .grouping import group_mentions, inherit_gold_ids
from .heads import PairClassifier, TokenTagger, pool_entities, threshold_loss
from .labels import LabelMaps, char_to_tokens, decode_tags, encode_tags, word_level_tags, word_starts


@dataclass
class EntRef:
    id: str
    type: str
    ranges: list[tuple[int, int]]


@dataclass
class Item:
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
    def __init__(self, encoder: nn.Module, labels: LabelMaps, cfg: ModelConfig):
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.tagger = TokenTagger(hidden, len(labels.tags), cfg.dropout)
        self.pairs = (
            PairClassifier(
                hidden, len(labels.relation_types), n_types=len(labels.entity_types), type_dim=cfg.type_dim,
                pair_dim=cfg.pair_dim, block_size=cfg.block_size, context=cfg.context == "attention", dropout=cfg.dropout,
            )
            if labels.relation_types
            else None
        )


class JointNERRE(BiorelModel):
    architecture = "biorel.JointNERRE.v1"

    def __init__(self, cfg: ModelConfig, labels: LabelMaps, encoder: nn.Module, tokenizer: Any):
        self.cfg = cfg
        self.labels = labels
        self.tokenizer = tokenizer
        max_pos = getattr(encoder.config, "max_position_embeddings", None)
        if max_pos is not None:
            # RoBERTa-style encoders reserve two positions (padding offset)
            limit = max_pos - 2 if getattr(encoder.config, "model_type", "") in ("roberta", "mpnet", "xlm-roberta", "camembert") else max_pos
            if cfg.max_length > limit:
                raise error("E402", key="model.max_length", reason=f"{cfg.max_length} exceeds the encoder's {limit} positions")
        self.featurizer = Featurizer(tokenizer, cfg.max_length, cfg.stride)
        self.net = JointNet(encoder, labels, cfg)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        #: bf16 autocast for the forward pass (set by the trainer when measured faster)
        self.autocast = False
        self.precision = "fp32"
        self._fp32_encoder: dict[str, torch.Tensor] | None = None
        #: features computed by :meth:`cost`, reused once by prediction
        self._feature_cache: dict[tuple[str, int, int], Features] = {}
        self.loss_weights = {"ner": 1.0, "re": 1.0}

    # ---- construction --------------------------------------------------------
    @classmethod
    def from_config(cls, cfg: ModelConfig, train_docs: Sequence[Document]) -> "JointNERRE":
        labels = LabelMaps.from_documents(
            train_docs, scheme=cfg.scheme, entity_types=cfg.entity_types, relation_types=cfg.relation_types, pair_types=cfg.pair_types
        )
        if not labels.entity_types:
            raise error("E407", reason="the training documents have no mentions and model.entity_types is empty")
        encoder, tokenizer = load_encoder(cfg.encoder)
        return cls(cfg, labels, encoder, tokenizer)

    def parameters(self):
        return self.net.parameters()

    def cost(self, doc: Document) -> int:
        """Encoder tokens this document costs (its windows, special tokens
        included). The features are kept for the prediction that follows."""
        f = self.featurizer(doc)
        if len(self._feature_cache) >= 4096:
            self._feature_cache.clear()
        self._feature_cache[self._cache_key(doc)] = f
        return max(1, sum(e - s + self.featurizer.n_special for s, e in f.windows))

    @staticmethod
    def _cache_key(doc: Document) -> tuple[str, int, int]:
        return (doc.id, len(doc.passages), hash(doc.text))

    def _features(self, doc: Document) -> Features:
        f = self._feature_cache.pop(self._cache_key(doc), None)
        return f if f is not None else self.featurizer(doc)

    def set_precision(self, precision: str) -> str:
        """Inference precision of the encoder: ``bf16`` casts its weights to
        bfloat16 (heads stay fp32), ``fp32`` casts them back, ``auto`` picks
        bf16 where the hardware has native bf16 (:func:`~biorel.models.base.native_bf16`).
        Measured on BC5CDR test: BENCHMARKS.md."""
        from .base import PRECISIONS, native_bf16

        if precision not in PRECISIONS:
            raise error("E412", option=f"precision={precision!r}", reason=f"valid precisions: {', '.join(PRECISIONS)}")
        if precision == "auto":
            precision = "bf16" if native_bf16() else "fp32"
        enc = self.net.encoder
        if precision == "bf16" and self.precision != "bf16":
            # keep the fp32 weights so that switching back is exact
            self._fp32_encoder = {k: v.detach().clone() for k, v in enc.state_dict().items()}
            enc.to(torch.bfloat16)
        elif precision == "fp32" and self.precision == "bf16":
            enc.to(torch.float32)
            enc.load_state_dict(self._fp32_encoder)
            self._fp32_encoder = None
        self.precision = precision
        return precision
    # ---- encoding --------------------------------------------------------------
    def encode(self, feats: Sequence[Features]) -> list[torch.Tensor]:
        """Stitched token vectors ``[n_tokens, H]`` per document."""
        windows: list[list[int]] = []
        first: list[int] = []
        for f in feats:
            first.append(len(windows))
            windows.extend(self.featurizer.wrap(f.input_ids[s:e]) for s, e in f.windows)
        hidden = self.net.encoder.config.hidden_size
        if not windows:
            return [torch.zeros((0, hidden)) for _ in feats]
        order = sorted(range(len(windows)), key=lambda k: len(windows[k]))
        bases = [0] * len(windows)
        pieces: list[torch.Tensor] = []
        base = 0
        step = self.cfg.window_batch
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if self.autocast else nullcontext()
        for c in range(0, len(order), step):
            chunk = order[c : c + step]
            width = max(len(windows[k]) for k in chunk)
            ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, k in enumerate(chunk):
                ids[r, : len(windows[k])] = torch.tensor(windows[k], dtype=torch.long)
                mask[r, : len(windows[k])] = 1
            with ctx:
                out = self.net.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            out = out.float()
            for r, k in enumerate(chunk):
                pieces.append(out[r, : len(windows[k])])
                bases[k] = base
                base += len(windows[k])
        flat = torch.cat(pieces) if len(pieces) > 1 else pieces[0]
        reps = []
        for f, w0 in zip(feats, first):
            if not f.n_tokens:
                reps.append(flat.new_zeros((0, hidden)))
                continue
            idx = torch.tensor([bases[w0 + w] + pos for w, pos in f.owner], dtype=torch.long)
            reps.append(flat.index_select(0, idx))
        return reps

    # ---- entities and pairs ----------------------------------------------------
    def entity_refs(self, doc: Document, feats: Features, mentions: Sequence[Mention] | None = None, entities: Sequence[Entity] | None = None) -> list[EntRef]:
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
                    i, j = char_to_tokens(feats.offsets, s, e)
                    if j > i:
                        ranges.append((i, j))
            if ranges:
                out.append(EntRef(ent.id, ent.type, ranges))
        return out

    def candidate_pairs(self, ents: Sequence[EntRef]) -> list[tuple[int, int]]:
        if not self.labels.relation_types:
            return []
        allowed = self.labels.pair_type_set
        return [
            (i, j)
            for i in range(len(ents))
            for j in range(len(ents))
            if i != j and (not allowed or (ents[i].type, ents[j].type) in allowed)
        ]

    def _pair_logits(self, tokens: torch.Tensor, ents: Sequence[EntRef], pairs: Sequence[tuple[int, int]]) -> torch.Tensor:
        vecs = pool_entities(tokens, [e.ranges for e in ents])
        unk = len(self.labels.entity_types)
        types = torch.tensor([self.labels.type_index.get(e.type, unk) for e in ents], dtype=torch.long)
        return self.net.pairs(tokens, vecs, types, torch.tensor(pairs, dtype=torch.long))

    # ---- training ----------------------------------------------------------------
    def prepare(self, doc: Document) -> Item:
        feats = self.featurizer(doc)
        spans = [(s, e, m.type) for m in doc.mentions for s, e in m.spans]
        tags = encode_tags(feats.offsets, spans, self.labels)
        misaligned = 0
        starts, ends = set(feats.offsets.starts), set(feats.offsets.ends)
        for s, e, t in spans:
            if t in self.labels.type_index and (s not in starts or e not in ends):
                misaligned += 1
        ents = self.entity_refs(doc, feats)
        pairs = self.candidate_pairs(ents)
        index = {(ents[i].id, ents[j].id): k for k, (i, j) in enumerate(pairs)}
        pair_labels: list[list[int]] = [[] for _ in pairs]
        unreachable = 0
        for r in doc.relations:
            ri = self.labels.relation_index.get(r.type)
            if ri is None or r.level != "entity":
                continue
            hit = False
            for key in [(r.head, r.tail)] + ([] if self.labels.directed.get(r.type) else [(r.tail, r.head)]):
                k = index.get(key)
                if k is not None and ri not in pair_labels[k]:
                    pair_labels[k].append(ri)
                    hit = True
            unreachable += not hit
        stats = {"tokens": feats.n_tokens, "windows": len(feats.windows), "misaligned_mentions": misaligned, "unreachable_relations": unreachable}
        return Item(doc, feats, tags, ents, pairs, pair_labels, stats)

    def loss(self, items: Sequence[Item]) -> tuple[torch.Tensor, dict[str, float]]:
        reps = self.encode([it.feats for it in items])
        ner_sum = reps[0].new_zeros(()) if reps else torch.zeros(())
        re_sum = ner_sum.clone()
        n_tok = n_pairs = 0
        n_rel = len(self.labels.relation_types)
        for it, tok in zip(items, reps):
            if not it.feats.n_tokens:
                continue
            logits = self.net.tagger(tok)
            ner_sum = ner_sum + F.cross_entropy(logits, torch.tensor(it.tags, dtype=torch.long), reduction="sum")
            n_tok += it.feats.n_tokens
            if it.pairs and self.net.pairs is not None:
                pl = self._pair_logits(tok, it.entities, it.pairs)
                target = torch.zeros((len(it.pairs), n_rel + 1))
                for k, rels in enumerate(it.pair_labels):
                    for ri in rels:
                        target[k, ri + 1] = 1.0
                re_sum = re_sum + threshold_loss(pl, target)
                n_pairs += len(it.pairs)
        ner = ner_sum / max(1, n_tok)
        rel = re_sum / max(1, n_pairs)
        total = self.loss_weights["ner"] * ner + self.loss_weights["re"] * rel
        return total, {"ner": float(ner.detach()), "re": float(rel.detach())}

    # ---- prediction ----------------------------------------------------------------
    def predict_modes(
        self,
        docs: Sequence[Document],
        modes: Sequence[str] = ("e2e",),
        *,
        threshold: float = 0.5,
        use_gold_ids: bool = False,
    ) -> dict[str, list[Document]]:
        """Predictions for each mode from one encoder pass. ``threshold``: the
        minimum relation score. ``use_gold_ids``: in ``e2e`` mode, predicted
        mentions matching a gold mention's spans and type take its concept ids
        (oracle normalisation, for concept-level scoring)."""
        for m in modes:
            if m not in ("e2e", "gold"):
                raise error("E412", option=f"mode={m!r}", reason="valid modes: e2e, gold")
        self.net.eval()
        out: dict[str, list[Document]] = {m: [] for m in modes}
        with torch.inference_mode():
            feats = [self._features(d) for d in docs]
            reps = self.encode(feats)
            for doc, f, tok in zip(docs, feats, reps):
                if "e2e" in modes:
                    mentions = self._tag(f, tok)
                    if use_gold_ids:
                        inherit_gold_ids(mentions, doc.mentions)
                    entities = group_mentions(mentions, f.text)
                    refs = self.entity_refs(doc, f, mentions, entities)
                    rels = self._relate(tok, refs, threshold)
                    out["e2e"].append(_new_doc(doc, mentions, entities, rels))
                if "gold" in modes:
                    entities = list(doc.entities) if doc.entities else group_mentions(doc.mentions)
                    refs = self.entity_refs(doc, f, doc.mentions, entities)
                    rels = self._relate(tok, refs, threshold)
                    mentions = [_copy_mention(m) for m in doc.mentions]
                    ents = [Entity(e.id, e.type, e.mention_ids, e.name, dict(e.infons)) for e in entities]
                    out["gold"].append(_new_doc(doc, mentions, ents, rels))
        return out

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

    def _relate(self, tok: torch.Tensor, refs: Sequence[EntRef], threshold: float) -> list[Relation]:
        pairs = self.candidate_pairs(refs)
        if not pairs or self.net.pairs is None:
            return []
        logits = self._pair_logits(tok, refs, pairs).float()
        scores = torch.sigmoid(logits[:, 1:] - logits[:, :1])
        found: dict[tuple, tuple[float, int, int, str]] = {}
        hits = (scores > threshold).nonzero().tolist()
        for p, r in hits:
            i, j = pairs[p]
            rtype = self.labels.relation_types[r]
            score = float(scores[p, r])
            directed = self.labels.directed.get(rtype, False)
            key = (i, j, rtype) if directed else (min(i, j), max(i, j), rtype)
            if key not in found or score > found[key][0]:
                found[key] = (score, i, j, rtype)
        rels = []
        for n, key in enumerate(sorted(found, key=lambda k: (k[0], k[1], k[2]))):
            score, i, j, rtype = found[key]
            rels.append(Relation(f"r{n}", rtype, refs[i].id, refs[j].id, directed=self.labels.directed.get(rtype, False), score=round(score, 6)))
        return rels

    # ---- persistence ---------------------------------------------------------------
    def save(self, path: str | os.PathLike, *, metrics: dict | None = None, provenance: dict | None = None) -> Path:
        """Write the model folder atomically (a half-written folder never
        replaces a good one)."""
        from safetensors.torch import save_file

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.saving"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        meta = {"architecture": self.architecture, "biorel_version": __version__, "model": json.loads(self.cfg.model_dump_json())}
        (tmp / "config.json").write_text(json.dumps(meta, indent=2), "utf-8")
        (tmp / "labels.json").write_text(json.dumps(self.labels.to_dict(), indent=2), "utf-8")
        # always the fp32 weights on disk, whatever the inference precision in use
        state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        if self.precision == "bf16":
            state.update({f"encoder.{k}": v.detach().cpu().contiguous() for k, v in self._fp32_encoder.items()})
        save_file(state, str(tmp / "model.safetensors"), metadata={"architecture": self.architecture, "format": "pt"})
        (tmp / "encoder").mkdir()
        self.net.encoder.config.to_json_file(str(tmp / "encoder" / "config.json"))
        self.tokenizer.save_pretrained(str(tmp / "tokenizer"))
        if metrics is not None:
            (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True), "utf-8")
        if provenance is not None:
            (tmp / "provenance.json").write_text(json.dumps(provenance, indent=2, sort_keys=True), "utf-8")
        old = target.parent / f".{target.name}.old"
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        if old.exists():
            shutil.rmtree(old)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike) -> "JointNERRE":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        p = Path(path)
        meta = read_model_meta(p)
        if meta["architecture"] != cls.architecture:
            raise error("E404", path=str(p), reason=f"architecture {meta['architecture']!r} is not {cls.architecture!r}")
        for name in ("labels.json", "model.safetensors", "encoder/config.json", "tokenizer"):
            if not (p / name).exists():
                raise error("E404", path=str(p), reason=f"{name} is missing")
        cfg = ModelConfig.model_validate(meta["model"])
        labels = LabelMaps.from_dict(json.loads((p / "labels.json").read_text("utf-8")))
        tokenizer = load_tokenizer(str(p / "tokenizer"), local_files_only=True)
        encoder = encoder_from_saved(p / "encoder")
        model = cls(cfg, labels, encoder, tokenizer)
        try:
            state = load_file(str(p / "model.safetensors"))
        except (SafetensorError, OSError) as e:
            raise error("E404", path=str(p), reason=f"model.safetensors: {e}") from None
        from .package import complete_state

        model.load_state(complete_state(p, meta, state))
        model.net.eval()
        return model

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        own = self.net.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        bad = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
        if missing or unexpected or bad:
            raise error("E414", reason=f"missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {bad[:3]}")
        self.net.load_state_dict(state)


def _copy_mention(m: Mention) -> Mention:
    return Mention(m.id, m.spans, m.text, m.type, m.concept_ids, m.components, dict(m.infons))


def _new_doc(doc: Document, mentions: list[Mention], entities: list[Entity], relations: list[Relation]) -> Document:
    return Document(
        id=doc.id,
        passages=[Passage(p.offset, p.text, p.type, dict(p.infons)) for p in doc.passages],
        mentions=mentions,
        entities=entities,
        relations=relations,
        metadata=dict(doc.metadata),
    )


registry.models.register(JointNERRE.architecture, JointNERRE, aliases=("joint",))
