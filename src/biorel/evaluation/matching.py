"""Matching gold and predicted items of one document, the core every evaluator shares.

An evaluator turns a document into :class:`MatchItem` s (a type, a hashable key and an
optional score) and calls :func:`score_items`. The rules:

* **Set semantics.** Items are first deduplicated on ``(type, key)``; a duplicate
  prediction counts once (it keeps the highest score). Gold duplicates collapse
  the same way.
* **One-to-one.** A gold item is matched by at most one prediction and vice versa.
  With exact matching (``compatible=None``) items match when type and key are
  equal. With a ``compatible(gold_key, pred_key)`` test (span overlap, fuzzy entity
  strings) the matching is a *maximum* bipartite matching over the pairs that are
  compatible and of the same type, so TP never depends on the order of items.
* ``TP`` (per type) = matched pairs, ``FP`` = unmatched predictions, ``FN`` =
  unmatched gold items.
* The **confusion** of types is found in two stages: the typed matching above
  (the diagonal), then a maximum matching that ignores type among what is left
  (off-diagonal cells); the rest is paired with ``(none)``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from collections.abc import Callable, Hashable, Iterable, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

Compatible = Callable[[Hashable, Hashable], bool]
#: optional vectorised form of a compatibility test: ``(gold keys, pred keys) ->
#: bool matrix``; must agree with the pairwise test
Adjacency = Callable[[Sequence[Hashable], Sequence[Hashable]], np.ndarray]


@dataclass(frozen=True, slots=True)
class MatchItem:
    type: str
    key: Hashable
    score: float | None = None


@dataclass(slots=True)
class DocResult:
    """What one document contributes: per-type ``[TP, FP, FN]``, the outcome of
    each deduplicated prediction, and the (gold type, predicted type) pairs of
    the confusion matrix (``None`` for "no item")."""

    doc: str
    counts: dict[str, list[int]] = field(default_factory=dict)
    outcomes: list[tuple[str, float | None, bool]] = field(default_factory=list)
    confusion: list[tuple[str | None, str | None]] = field(default_factory=list)
    #: gold items that collapsed into another one with the same type and key
    gold_duplicates: int = 0
    #: predictions that collapsed into another one with the same type and key
    pred_duplicates: int = 0

    def add(self, type_: str, which: int, n: int = 1) -> None:
        self.counts.setdefault(type_, [0, 0, 0])[which] += n


def dedupe(items: Iterable[MatchItem]) -> list[MatchItem]:
    """Collapse items with equal ``(type, key)``; keep the highest score
    (a score beats no score). First-seen order is kept."""
    best: dict[tuple[str, Hashable], MatchItem] = {}
    for it in items:
        k = (it.type, it.key)
        old = best.get(k)
        if old is None or (it.score is not None and (old.score is None or it.score > old.score)):
            best[k] = it if old is None else MatchItem(old.type, old.key, it.score)
    return list(best.values())


def _max_matching(
    gold: Sequence[MatchItem], pred: Sequence[MatchItem], edge: Callable[[MatchItem, MatchItem], bool], adjacency: np.ndarray | None = None
) -> list[tuple[int, int]]:
    if not gold or not pred:
        return []
    if adjacency is not None:
        rows, cols = np.nonzero(adjacency)
    else:
        rows, cols = [], []
        for i, g in enumerate(gold):
            for j, p in enumerate(pred):
                if edge(g, p):
                    rows.append(i)
                    cols.append(j)
    if not len(rows):
        return []
    rows, cols = np.asarray(rows), np.asarray(cols)
    if len(np.unique(rows)) == len(rows) and len(np.unique(cols)) == len(cols):
        return [(int(i), int(j)) for i, j in zip(rows, cols)]  # the edges are already a matching
    graph = csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(len(gold), len(pred)))
    match = maximum_bipartite_matching(graph, perm_type="column")
    return [(i, int(j)) for i, j in enumerate(match) if j >= 0]


def _equal_matching(gold: Sequence[MatchItem], pred: Sequence[MatchItem], key: Callable[[MatchItem], Hashable]) -> list[tuple[int, int]]:
    # With equality the compatibility graph is a union of complete bipartite
    # blocks, so pairing greedily inside each block is a maximum matching.
    free: dict[Hashable, list[int]] = defaultdict(list)
    for i, g in enumerate(gold):
        free[key(g)].append(i)
    pairs = []
    for j, p in enumerate(pred):
        slot = free.get(key(p))
        if slot:
            pairs.append((slot.pop(0), j))
    return pairs


def match(
    gold: Sequence[MatchItem],
    pred: Sequence[MatchItem],
    compatible: Compatible | None = None,
    *,
    typed: bool = True,
    adjacency: Adjacency | None = None,
) -> list[tuple[int, int]]:
    """Maximum one-to-one matching; returns ``(gold index, pred index)`` pairs."""
    if compatible is None:
        return _equal_matching(gold, pred, (lambda it: (it.type, it.key)) if typed else (lambda it: it.key))
    adj = None
    if adjacency is not None and gold and pred:
        adj = adjacency([g.key for g in gold], [p.key for p in pred])
        if typed:
            adj = adj & (np.array([g.type for g in gold], dtype=object)[:, None] == np.array([p.type for p in pred], dtype=object)[None, :])
    if typed:
        return _max_matching(gold, pred, lambda g, p: g.type == p.type and compatible(g.key, p.key), adj)
    return _max_matching(gold, pred, lambda g, p: compatible(g.key, p.key), adj)


def score_items(
    doc: str,
    gold: Iterable[MatchItem],
    pred: Iterable[MatchItem],
    compatible: Compatible | None = None,
    *,
    confusion: bool = True,
    adjacency: Adjacency | None = None,
) -> DocResult:
    """Count TP/FP/FN per type for one document (see the module rules)."""
    gold_in, pred_in = list(gold), list(pred)
    gold, pred = dedupe(gold_in), dedupe(pred_in)
    res = DocResult(doc, gold_duplicates=len(gold_in) - len(gold), pred_duplicates=len(pred_in) - len(pred))
    pairs = match(gold, pred, compatible, adjacency=adjacency)
    g_hit = {i for i, _ in pairs}
    p_hit = {j for _, j in pairs}
    for i, _ in pairs:
        res.add(gold[i].type, 0)
    for j, p in enumerate(pred):
        if j not in p_hit:
            res.add(p.type, 1)
        res.outcomes.append((p.type, p.score, j in p_hit))
    for i, g in enumerate(gold):
        if i not in g_hit:
            res.add(g.type, 2)
    if confusion:
        res.confusion.extend((gold[i].type, pred[j].type) for i, j in pairs)
        g_rest = [g for i, g in enumerate(gold) if i not in g_hit]
        p_rest = [p for j, p in enumerate(pred) if j not in p_hit]
        cross = match(g_rest, p_rest, compatible, typed=False, adjacency=adjacency)
        res.confusion.extend((g_rest[i].type, p_rest[j].type) for i, j in cross)
        g2 = {i for i, _ in cross}
        p2 = {j for _, j in cross}
        res.confusion.extend((g.type, None) for i, g in enumerate(g_rest) if i not in g2)
        res.confusion.extend((None, p.type) for j, p in enumerate(p_rest) if j not in p2)
    return res
