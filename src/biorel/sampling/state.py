"""Sufficient statistics of a growing sample, per variable.

For the entity counts ``c`` of a sample, ``T = sum c`` and ``F = sum c log c``
give the entropy without touching every entity: ``H = log T - F / T`` (0 when
``T = 0``). Adding an item changes ``c`` only at that item's entities, so ``T``
and ``F`` update in time proportional to the item's row. ``F`` is accumulated
with Neumaier compensation so that long rankings do not drift.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .measures import xlogx


class VariableState:
    """Counts ``c``, total ``T`` and ``F = sum c log c`` of one variable."""

    __slots__ = ("csr", "t", "c", "T", "_F", "_comp", "utopia")

    def __init__(self, counts: sp.csr_matrix):
        self.csr = counts
        self.t = np.asarray(counts.sum(axis=1), dtype=np.int64).ravel()
        self.c = np.zeros(counts.shape[1], dtype=np.int64)
        self.T = 0
        self._F = 0.0
        self._comp = 0.0
        self.utopia = math.log(counts.shape[1]) if counts.shape[1] > 0 else 0.0

    @property
    def F(self) -> float:
        return self._F + self._comp

    def entropy(self) -> float:
        return math.log(self.T) - self.F / self.T if self.T > 0 else 0.0

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.csr.indptr[i], self.csr.indptr[i + 1]
        return self.csr.indices[lo:hi], self.csr.data[lo:hi]

    def add(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Add item ``i``; returns its entity columns and their old and new counts."""
        cols, a = self.row(i)
        old = self.c[cols]
        new = old + a
        if len(cols):
            self._accumulate(float((xlogx(new) - xlogx(old)).sum()))
            self.T += int(a.sum())
            self.c[cols] = new
        return cols, old, new

    def _accumulate(self, x: float) -> None:
        s = self._F + x
        if abs(self._F) >= abs(x):
            self._comp += (self._F - s) + x
        else:
            self._comp += (x - s) + self._F
        self._F = s

    def gains(self, items: np.ndarray) -> np.ndarray:
        """``G_d = sum_e f(c_e + a_de) - f(c_e)`` for each item ``d`` in ``items``:
        the change of ``F`` if ``d`` were added (``f(x) = x log x``)."""
        indptr = self.csr.indptr
        lo, n = indptr[items], indptr[items + 1] - indptr[items]
        total = int(n.sum())
        offsets = np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(total)
        a = self.csr.data[offsets]
        cur = self.c[self.csr.indices[offsets]]
        gain = xlogx(cur + a) - xlogx(cur)
        G = np.bincount(np.repeat(np.arange(len(items)), n), weights=gain, minlength=len(items))
        return G.astype(np.float64, copy=False)  # bincount of nothing is int64

    def entropies_if_added(self, items: np.ndarray) -> np.ndarray:
        """Exact ``H(S + d)`` for each item ``d`` in ``items`` (original indices),
        computed afresh from the item rows and the current counts."""
        G = self.gains(items)
        Tt = (self.T + self.t[items]).astype(np.float64)
        out = np.zeros(len(items), dtype=np.float64)
        ok = Tt > 0
        out[ok] = np.log(Tt[ok]) - (self.F + G[ok]) / Tt[ok]
        return out


def objective(H: np.ndarray, utopia: np.ndarray, selector: str) -> np.ndarray:
    """Distance to the utopia point (``dutopia``) or summed entropy (``sum``) of
    entropy rows ``H`` (shape ``(k, V)``)."""
    H = np.atleast_2d(H)
    if selector == "dutopia":
        return np.sqrt(((utopia[None, :] - H) ** 2).sum(axis=1))
    return H.sum(axis=1)


def trajectory(counts: tuple[sp.csr_matrix, ...], order: np.ndarray) -> np.ndarray:
    """Entropies ``H_{S_k}(V)`` after each of the picks in ``order`` (shape
    ``(len(order), V)``), by incremental updates."""
    states = [VariableState(m) for m in counts]
    out = np.empty((len(order), len(states)), dtype=np.float64)
    for k, i in enumerate(np.asarray(order, dtype=np.int64)):
        for v, st in enumerate(states):
            st.add(int(i))
            out[k, v] = st.entropy()
    return out
