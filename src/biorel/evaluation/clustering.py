"""Clustering quality of relation representations.

:func:`cluster_quality` runs k-means with ``k`` = the number of gold relation
types over the supplied embeddings (one row per relation) and scores the
clusters against the gold types with:

* **ARI** (adjusted Rand index, Hubert & Arabie 1985): pair-counting agreement
  corrected for chance; 1.0 for identical partitions (up to renaming), about 0
  for random ones, negative below chance.
* **NMI** (normalised mutual information) with the arithmetic mean of the two
  entropies as normaliser (scikit-learn's default).

Edge cases follow scikit-learn: two partitions that both put everything in one
cluster (or are both empty) have ARI = NMI = 1.0; otherwise, when one partition
has a single cluster, the mutual information is 0 and so is NMI.

k-means is Lloyd's algorithm with k-means++ seeding, ``n_init`` restarts (the
run with the lowest inertia wins) and a fixed ``seed``, in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Sequence

import numpy as np
from scipy.special import comb

from ..errors import error


def _contingency(a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
    if len(a) != len(b):
        raise error("E205", reason=f"the two labelings have {len(a)} and {len(b)} items")
    _, ia = np.unique(np.asarray(a, dtype=object).astype(str), return_inverse=True)
    _, ib = np.unique(np.asarray(b, dtype=object).astype(str), return_inverse=True)
    m = np.zeros((ia.max(initial=-1) + 1, ib.max(initial=-1) + 1), dtype=np.int64)
    np.add.at(m, (ia, ib), 1)
    return m


def adjusted_rand_index(labels_true: Sequence[Any], labels_pred: Sequence[Any]) -> float:
    c = _contingency(labels_true, labels_pred)
    n = int(c.sum())
    if c.shape[0] == c.shape[1] and c.shape[0] in (0, 1, n):
        return 1.0  # one cluster each, nothing, or all singletons on both sides
    index = comb(c, 2).sum()
    rows = comb(c.sum(axis=1), 2).sum()
    cols = comb(c.sum(axis=0), 2).sum()
    expected = rows * cols / comb(n, 2)
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return float((index - expected) / (maximum - expected))


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def normalized_mutual_info(labels_true: Sequence[Any], labels_pred: Sequence[Any]) -> float:
    c = _contingency(labels_true, labels_pred)
    if c.shape[0] == c.shape[1] == 1 or c.shape[0] == c.shape[1] == 0:
        return 1.0
    if c.shape[0] == c.shape[1] and ((c > 0).sum(axis=0) == 1).all() and ((c > 0).sum(axis=1) == 1).all():
        return 1.0  # the same partition under other names (exact, not 1 - 2e-16)
    n = c.sum()
    pij = c / n
    pi, pj = pij.sum(axis=1, keepdims=True), pij.sum(axis=0, keepdims=True)
    nz = pij > 0
    mi = float((pij[nz] * np.log(pij[nz] / (pi @ pj)[nz])).sum())
    if mi <= 0:
        return 0.0
    h = (_entropy(c.sum(axis=1)) + _entropy(c.sum(axis=0))) / 2
    return float(mi / h) if h > 0 else 0.0


def kmeans(x: np.ndarray, k: int, *, seed: int | None = 0, n_init: int = 10, max_iter: int = 300, tol: float = 1e-8) -> np.ndarray:
    """Cluster labels ``0..k-1`` of the rows of ``x`` (see the module doc)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or not np.isfinite(x).all():
        raise error("E205", reason="embeddings must be a finite 2-d array (one row per relation)")
    n = len(x)
    if not 1 <= k <= n:
        raise error("E205", reason=f"k={k} clusters for {n} embeddings (need 1 <= k <= n)")
    rng = np.random.default_rng(seed)
    best, best_inertia = None, np.inf
    for _ in range(max(1, n_init)):
        centres = _kmeans_pp(x, k, rng)
        for _ in range(max_iter):
            d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
            labels = d.argmin(axis=1)
            new = np.array([x[labels == j].mean(axis=0) if np.any(labels == j) else centres[j] for j in range(k)])
            shift = float(((new - centres) ** 2).sum())
            centres = new
            if shift <= tol:
                break
        d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        labels = d.argmin(axis=1)
        inertia = float(d[np.arange(n), labels].sum())
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    return best


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min(((x[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        total = d.sum()
        idx = rng.integers(len(x)) if total <= 0 else rng.choice(len(x), p=d / total)
        centres.append(x[idx])
    return np.array(centres)


@dataclass(frozen=True, slots=True)
class ClusteringReport:
    ari: float
    nmi: float
    k: int
    n: int
    seed: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"ari": self.ari, "nmi": self.nmi, "k": self.k, "n": self.n, "seed": self.seed}


def cluster_quality(embeddings: np.ndarray, labels: Sequence[Any], *, seed: int | None = 0, n_init: int = 10) -> ClusteringReport:
    """ARI and NMI of k-means (k = number of gold types) against gold ``labels``."""
    x = np.asarray(embeddings, dtype=float)
    if x.ndim != 2 or len(x) != len(labels):
        raise error("E205", reason=f"{x.shape[0] if x.ndim else 0} embedding rows (shape {x.shape}) for {len(labels)} labels")
    k = len(set(map(str, labels)))
    pred = kmeans(x, k, seed=seed, n_init=n_init)
    return ClusteringReport(adjusted_rand_index(labels, pred), normalized_mutual_info(labels, pred), k, len(labels), seed)
