"""Diversity measures of an entity count vector (natural logarithms).

For counts ``c`` with total ``T`` and ``p = c / T``:

* entropy ``H = -sum p log p`` (Shannon, nats); 0 for an empty vector;
* richness: the number of entities with ``c > 0``;
* Simpson index, reported as Gini-Simpson ``1 - sum p^2``: the probability that
  two relations drawn with replacement involve different entities (higher is
  more diverse); 0 for an empty vector;
* evenness (Pielou) ``H / log(richness)``; 1 when there is a single entity
  (perfectly even) and 0 for an empty vector.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy


def xlogx(x: np.ndarray | float) -> np.ndarray:
    """``x log x`` with ``0 log 0 = 0``."""
    return xlogy(x, x)


def entropy(counts: np.ndarray) -> float:
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        return 0.0
    p = c[c > 0] / total
    return float(-(p * np.log(p)).sum())


def richness(counts: np.ndarray) -> int:
    return int(np.count_nonzero(np.asarray(counts)))


def simpson(counts: np.ndarray) -> float:
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        return 0.0
    p = c / total
    return float(1.0 - (p * p).sum())


def evenness(counts: np.ndarray) -> float:
    r = richness(counts)
    if r == 0:
        return 0.0
    if r == 1:
        return 1.0
    return entropy(counts) / float(np.log(r))


def diversity(counts: np.ndarray) -> dict[str, float]:
    """All four measures of one count vector."""
    return {"entropy": entropy(counts), "richness": float(richness(counts)), "simpson": simpson(counts), "evenness": evenness(counts)}


MEASURES = ("entropy", "richness", "simpson", "evenness")
