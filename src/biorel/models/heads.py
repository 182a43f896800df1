"""Task heads: token tagging, entity pooling, localised pair context and the
multi-label pair classifier with an adaptive threshold class.

The relation head follows the document-level RE recipe:

* a mention is the mean of its token vectors; an entity is the log-sum-exp of
  its mentions (a smooth max, so one strong mention dominates);
* each entity attends over the document's tokens (a learned scaled dot-product
  attention); a pair's context is the token mix weighted by the product of both
  arguments' attention, so it concentrates where both are discussed, in any
  sentence of the document;
* head and tail are projected with the context (and a type embedding) and
  combined by a grouped bilinear layer into ``1 + R`` logits. Logit 0 is a
  learned per-pair threshold ("none"): relation ``r`` is predicted when its
  logit exceeds logit 0, and its score is ``sigmoid(logit_r - logit_0)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class TokenTagger(nn.Module):
    def __init__(self, hidden: int, n_tags: int, dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_tags)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(tokens))


def pool_entities(tokens: torch.Tensor, entities: list[list[tuple[int, int]]]) -> torch.Tensor:
    """``[E, H]`` entity vectors: log-sum-exp over mentions of the mean of each
    mention's tokens. ``entities`` lists token ranges per entity (non-empty).
    Computed for all entities at once (a handful of tensor operations per
    document rather than a few per mention)."""
    if not entities:
        return tokens.new_zeros((0, tokens.shape[-1]))
    starts: list[int] = []
    ends: list[int] = []
    slots: list[tuple[int, int]] = []  # (entity, mention rank) of each mention
    for e, ranges in enumerate(entities):
        for rank, (i, j) in enumerate(ranges):
            starts.append(i)
            ends.append(j)
            slots.append((e, rank))
    pos = torch.arange(tokens.shape[0])
    lo, hi = torch.tensor(starts).unsqueeze(-1), torch.tensor(ends).unsqueeze(-1)
    inside = ((pos >= lo) & (pos < hi)).to(tokens.dtype)  # [M, N]: which tokens each mention covers
    means = (inside / (hi - lo).to(tokens.dtype)) @ tokens
    width = max(len(r) for r in entities)
    grid = tokens.new_full((len(entities), width, tokens.shape[-1]), float("-inf"))
    ent, rank = zip(*slots)
    grid = grid.index_put((torch.tensor(ent), torch.tensor(rank)), means)
    return torch.logsumexp(grid, dim=1)


class PairContext(nn.Module):
    """Attention-weighted, pair-localised document context."""

    def __init__(self, hidden: int):
        super().__init__()
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.scale = 1.0 / math.sqrt(hidden)

    def attention(self, tokens: torch.Tensor, ents: torch.Tensor) -> torch.Tensor:
        """``[E, N]``: each entity's attention over the document's tokens."""
        return torch.softmax(self.query(ents) @ self.key(tokens).T * self.scale, dim=-1)

    @staticmethod
    def weights(att: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """``[P, N]``: each pair's token weights, the renormalised product of
        its two arguments' attention (what mixes the pair's context)."""
        joint = att[pairs[:, 0]] * att[pairs[:, 1]]
        return joint / (joint.sum(-1, keepdim=True) + 1e-12)

    def forward(self, tokens: torch.Tensor, att: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        return self.weights(att, pairs) @ tokens  # [P, H]


class PairClassifier(nn.Module):
    def __init__(self, hidden: int, n_relations: int, *, n_types: int, type_dim: int, pair_dim: int, block_size: int, context: bool, dropout: float):
        super().__init__()
        self.use_context = context
        self.context = PairContext(hidden) if context else None
        self.types = nn.Embedding(n_types + 1, type_dim) if type_dim else None  # last index: unknown type
        in_dim = hidden * (2 if context else 1) + type_dim
        self.head = nn.Linear(in_dim, pair_dim)
        self.tail = nn.Linear(in_dim, pair_dim)
        self.block = block_size
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(pair_dim * block_size, n_relations + 1)

    def forward(self, tokens: torch.Tensor, ents: torch.Tensor, ent_types: torch.Tensor, pairs: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """``[P, 1 + R]`` logits; pairs are processed ``chunk`` at a time so that
        documents with many entities stay within memory."""
        att = self.context.attention(tokens, ents) if self.context is not None else None
        if len(pairs) <= chunk:
            return self._logits(tokens, ents, ent_types, pairs, att)
        return torch.cat([self._logits(tokens, ents, ent_types, pairs[i : i + chunk], att) for i in range(0, len(pairs), chunk)])

    def _logits(self, tokens, ents, ent_types, pairs, att) -> torch.Tensor:
        h, t = ents[pairs[:, 0]], ents[pairs[:, 1]]
        hs, ts = [h], [t]
        if self.context is not None:
            c = self.context(tokens, att, pairs)
            hs.append(c)
            ts.append(c)
        if self.types is not None:
            hs.append(self.types(ent_types[pairs[:, 0]]))
            ts.append(self.types(ent_types[pairs[:, 1]]))
        zh = torch.tanh(self.head(self.dropout(torch.cat(hs, -1))))
        zt = torch.tanh(self.tail(self.dropout(torch.cat(ts, -1))))
        p, d = zh.shape
        b = self.block
        bil = (zh.view(p, d // b, b, 1) * zt.view(p, d // b, 1, b)).reshape(p, d * b)
        return self.out(bil)


def threshold_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Adaptive-threshold loss, summed over pairs. ``labels`` is a ``[P, 1+R]``
    multi-hot float tensor whose column 0 is ignored. Each gold relation must
    beat the threshold logit; the threshold must beat every non-gold relation."""
    labels = labels.clone()
    labels[:, 0] = 0.0
    th = torch.zeros_like(labels)
    th[:, 0] = 1.0
    neg_inf = torch.finfo(logits.dtype).min / 2
    # positives vs. the threshold
    pos_mask = labels + th
    lp = torch.where(pos_mask > 0, logits, torch.full_like(logits, neg_inf))
    loss_pos = -(F.log_softmax(lp, dim=-1) * labels).sum(-1)
    # the threshold vs. the negatives
    neg_mask = 1.0 - labels
    ln = torch.where(neg_mask > 0, logits, torch.full_like(logits, neg_inf))
    loss_neg = -(F.log_softmax(ln, dim=-1) * th).sum(-1)
    return (loss_pos + loss_neg).sum()


def supcon_loss(z: torch.Tensor, labels: torch.Tensor, temperature: float) -> tuple[torch.Tensor, int]:
    """Supervised contrastive loss (Khosla et al. 2020, the "L_out" form),
    summed over anchors: for each anchor ``i`` with at least one other row of
    its label, ``-mean_p log(exp(s_ip / t) / sum_{a != i} exp(s_ia / t))`` over
    those rows ``p``, with ``s`` the cosine similarity of the rows of ``z``.
    Returns the sum and the number of anchors it covers (rows alone in their
    label have no positive and are left out)."""
    if len(z) < 2:
        return z.sum() * 0.0, 0
    z = F.normalize(z.float(), dim=-1)
    sim = z @ z.T / temperature
    eye = torch.eye(len(z), dtype=torch.bool)
    sim = sim.masked_fill(eye, torch.finfo(sim.dtype).min)
    log_prob = sim - torch.logsumexp(sim, dim=-1, keepdim=True)
    same = (labels[:, None] == labels[None, :]) & ~eye
    n_pos = same.sum(-1)
    anchors = n_pos > 0
    if not anchors.any():
        return z.sum() * 0.0, 0
    per_anchor = -(log_prob.masked_fill(~same, 0.0).sum(-1)[anchors] / n_pos[anchors])
    return per_anchor.sum(), int(anchors.sum())
