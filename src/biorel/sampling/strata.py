"""Stratified sampling: how many items each stratum gets, and whose turn it is.

Quotas (``n`` items over strata with ``a_s`` rankable items each):

* ``balanced``: as equal as availability allows (water-filling). Every stratum
  gets ``floor(n / k)`` of the ``k`` strata still open, capped at its
  availability; what a small stratum cannot take is shared again among the
  others; a remainder smaller than the number of open strata goes one item each
  to the open strata in stratum-name order.
* ``proportional``: ``floor(n * a_s / N)`` plus one for the strata with the
  largest remainders (ties: stratum-name order).

Turns: at every step the sampler picks from the open stratum (quota not yet
filled) that comes first by

* ``balanced``: fewest picks so far (a round robin in stratum-name order);
* ``proportional``: smallest ``picked / quota``;

ties going to the first stratum in name order. So every prefix of a sample is
itself balanced (or proportional), and with balanced quotas the first ``n``
picks of a stratified full ranking are exactly the stratified sample of size
``n``.
"""

from __future__ import annotations

import numpy as np

from ..errors import error

QUOTAS = ("balanced", "proportional")


def quotas(available: np.ndarray, n: int, rule: str = "balanced") -> np.ndarray:
    """Items per stratum; ``available[s]`` are the rankable items of stratum ``s``
    (strata are indexed in name order)."""
    available = np.asarray(available, dtype=np.int64)
    total = int(available.sum())
    if n > total:
        raise error("E225", n=n, available=total, scope=" over all strata")
    if rule == "balanced":
        return _balanced(available, n)
    if rule == "proportional":
        return _proportional(available, n)
    raise error("E220", option="quota", value=rule, reason=f"choose one of {', '.join(QUOTAS)}")


def _balanced(available: np.ndarray, n: int) -> np.ndarray:
    q = np.zeros_like(available)
    remaining = n
    while remaining > 0:
        open_ = np.flatnonzero(q < available)
        share = remaining // len(open_)
        if share == 0:
            q[open_[:remaining]] += 1
            break
        give = np.minimum(share, available[open_] - q[open_])
        q[open_] += give
        remaining -= int(give.sum())
    return q


def _proportional(available: np.ndarray, n: int) -> np.ndarray:
    total = int(available.sum())
    if total == 0:
        return np.zeros_like(available)
    exact = available * n
    q = exact // total
    rest = n - int(q.sum())
    if rest:
        rem = exact - q * total
        order = sorted(range(len(available)), key=lambda s: (-int(rem[s]), s))
        for s in order[:rest]:
            q[s] += 1
    return q


def next_stratum(picked: np.ndarray, quota: np.ndarray, rule: str = "balanced") -> int:
    """The stratum whose turn it is (see module doc); -1 when all are full."""
    open_ = np.flatnonzero(picked < quota)
    if len(open_) == 0:
        return -1
    if rule == "balanced":
        return int(open_[np.argmin(picked[open_])])
    # proportional: compare picked/quota exactly by integer cross-multiplication
    best = int(open_[0])
    for s in open_[1:]:
        s = int(s)
        if picked[s] * quota[best] < picked[best] * quota[s]:
            best = s
    return best
