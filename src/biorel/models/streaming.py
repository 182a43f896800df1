"""Predicting a stream of documents: token-budget batches, length-sorted
within a look-ahead pool, results in input order.

An encoder pads every window of a forward pass to the longest one, so a batch
that mixes a 150-token abstract with a 500-token one wastes most of the short
one's compute (and attention grows with the square of the padded length).
:func:`predict_pools` therefore reads a *pool* of documents (``pool_tokens`` of
model cost), sorts it by cost, cuts it into batches of ``batch_tokens``,
predicts each, and hands the pool back in input order. Memory stays bounded by
the pool; the caller (``biorel extract``, :meth:`BiorelModel.pipe`) sees one
pool at a time, in the order the documents came.

``pool_tokens == batch_tokens`` is plain token-budget batching in input order
(no sorting beyond one batch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..types import Document

#: the default look-ahead: this many batches are read and sorted together
POOL_BATCHES = 16


def batches_by_tokens(docs: Iterable[Document], cost: Callable[[Document], int], budget: int) -> Iterator[list[Document]]:
    """Consecutive batches whose costs sum to at most ``budget`` (a document
    costlier than the budget is a batch of its own)."""
    for batch, _ in _costed_batches(docs, cost, budget):
        yield batch


def _costed_batches(docs: Iterable[Document], cost: Callable[[Document], int], budget: int) -> Iterator[tuple[list[Document], list[int]]]:
    batch: list[Document] = []
    costs: list[int] = []
    size = 0
    for doc in docs:
        n = cost(doc)
        if batch and size + n > budget:
            yield batch, costs
            batch, costs, size = [], [], 0
        batch.append(doc)
        costs.append(n)
        size += n
    if batch:
        yield batch, costs


def sorted_batches(costs: Sequence[int], budget: int) -> list[list[int]]:
    """Indices of one pool cut into batches of at most ``budget`` cost,
    cheapest documents first (ties keep input order)."""
    order = sorted(range(len(costs)), key=lambda i: (costs[i], i))
    batches: list[list[int]] = []
    size = 0
    for i in order:
        if batches and batches[-1] and size + costs[i] <= budget:
            batches[-1].append(i)
            size += costs[i]
        else:
            batches.append([i])
            size = costs[i]
    return batches


def predict_pools(
    predict: Callable[[list[Document]], list[Document]],
    docs: Iterable[Document],
    cost: Callable[[Document], int],
    *,
    batch_tokens: int,
    pool_tokens: int | None = None,
) -> Iterator[list[tuple[Document, Document]]]:
    """``(input, prediction)`` pairs, one pool at a time, in input order.
    ``predict`` maps a batch to its predictions (same length, same order)."""
    pool_tokens = max(batch_tokens, pool_tokens if pool_tokens is not None else POOL_BATCHES * batch_tokens)
    for pool, costs in _costed_batches(docs, cost, pool_tokens):
        preds: list[Document | None] = [None] * len(pool)
        for idx in sorted_batches(costs, batch_tokens):
            out = predict([pool[i] for i in idx])
            if len(out) != len(idx):
                raise RuntimeError(f"the model returned {len(out)} predictions for {len(idx)} documents")
            for i, p in zip(idx, out):
                preds[i] = p
        yield list(zip(pool, preds))  # type: ignore[arg-type]


def pipe(
    model: Any, docs: Iterable[Document], *, batch_tokens: int, pool_tokens: int | None = None, mode: str | None = None, **options
) -> Iterator[Document]:
    """Predictions of ``model`` for a stream, in input order."""
    for pool in predict_pools(lambda b: model.predict(b, mode, **options), docs, model.cost, batch_tokens=batch_tokens, pool_tokens=pool_tokens):
        for _, pred in pool:
            yield pred


__all__ = ["batches_by_tokens", "sorted_batches", "predict_pools", "pipe", "POOL_BATCHES"]
