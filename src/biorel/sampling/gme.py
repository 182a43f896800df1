"""Greedy Maximum Entropy (GME) sampling, exact and incremental.

The method (ABroad-RE, arXiv 2311.06364): for a sample ``S``, ``P(e)`` is the
share of ``S``'s relations involving entity ``e`` and ``H_S(V)`` the Shannon
entropy (nats) of that distribution for variable ``V``. Each step adds the
item ``d`` that

* ``dutopia``: minimises the Euclidean distance from
  ``(H_{S+d}(V_1), ..., H_{S+d}(V_N))`` to the utopia point
  ``(log|V_1|, ..., log|V_N|)``, ``|V|`` being the distinct entities of ``V``
  in the whole input;
* ``sum``: maximises ``sum_V H_{S+d}(V)``.

``binarised`` counts each distinct entity once per item.

Rules (they reproduce the reference implementation, github.com/idiap/gme-sampler):

* Entities are counted per relation row, duplicates included.
* The selector compares entropies rounded to ``decimals`` (default 5, as
  ``numpy.round``); ``decimals=None`` compares full-precision values.
* Ties (equal scores on the rounded entropies) go to the item that comes first
  in item-id order (Unicode code points), whatever the input order.
* The first pick is scored like any other: ``H_{S+d}`` of ``S = {}`` is the
  entropy of ``d``'s own relations.
* An item with no relation in any of the variables cannot be ranked; it is
  reported (E224) and listed in ``SampleResult.unranked``. An item without
  relations in one variable leaves that variable's entropy unchanged.
* Stratified tables (``ItemTable.strata``): see :mod:`biorel.sampling.strata`;
  each step picks the best item of the stratum whose turn it is.

How it is fast and still exact. ``H_{S+d}(V) = log(T + t_d) - (F + G_d) / (T + t_d)``
where ``T`` and ``F = sum c log c`` are the sample's sufficient statistics,
``t_d`` is ``d``'s relation count and ``G_d = sum_{e in d} f(c_e + a_de) - f(c_e)``
(``f(x) = x log x``). Adding an item changes ``c`` only at its entities, so only
the ``G`` of items sharing one of them change; these are updated from a
column-major (CSC) copy of the counts. Each step then scores every candidate
with a few vectorised array operations (no Python loop over candidates). The
candidates whose score lies within the largest possible rounding effect of the
best one are re-scored from scratch, with rounding, and the tie rule decides.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..errors import Diagnostics, error
from ..registry import registry
from .measures import xlogx
from .result import SampleResult
from .state import VariableState, objective
from .strata import QUOTAS, next_stratum, quotas
from .table import ItemTable

SELECTORS = ("dutopia", "sum")
#: absolute slack on scores for floating-point error of the incremental path
_EPS = 1e-7
#: tie checks with more candidates than this use the incremental gains (see _Engine._entropies)
_EXACT_MAX = 0
#: distance to a rounding boundary under which an entropy is recomputed from scratch
_BOUNDARY = 1e-8
#: picked positions are masked until this many (or a quarter) accumulate, then the arrays are compacted
_COMPACT_MIN = 256

Progress = Callable[[int, int], None]


class GMESampler:
    """The GME sampler (``biorel.GME.v1``, alias ``gme``).

    >>> result = GMESampler("dutopia").sample(table, n=1000)   # doctest: +SKIP
    >>> ranking = GMESampler("dutopia").sample(table)           # full ranking
    """

    name = "biorel.GME.v1"

    def __init__(self, selector: str = "dutopia", binarised: bool = False, *, decimals: int | None = 5, quota: str = "balanced"):
        if selector not in SELECTORS:
            raise error("E220", option="selector", value=selector, reason=f"choose one of {', '.join(SELECTORS)}")
        if decimals is not None and (not isinstance(decimals, int) or decimals < 0 or decimals > 12):
            raise error("E220", option="decimals", value=decimals, reason="use an integer from 0 to 12, or None")
        if quota not in QUOTAS:
            raise error("E220", option="quota", value=quota, reason=f"choose one of {', '.join(QUOTAS)}")
        self.selector = selector
        self.binarised = binarised
        self.decimals = decimals
        self.quota = quota

    def config(self) -> dict:
        return {"selector": self.selector, "binarised": self.binarised, "decimals": self.decimals, "quota": self.quota}

    def sample(self, table: ItemTable, n: int | None = None, *, progress: Progress | None = None, diagnostics: Diagnostics | None = None) -> SampleResult:
        """Pick ``n`` items (all rankable items when ``n`` is None: a full ranking)."""
        if self.binarised:
            table = table.binarised()
        cands, unranked = rankable(table, diagnostics)
        n = _check_n(n, len(cands))
        engine = _Engine(table, cands, self.selector, self.decimals)
        plan = _StrataPlan(table, cands, n, self.quota)
        picks, H = np.empty(n, dtype=np.int64), np.empty((n, len(table.variables)))
        for k in range(n):
            pos = engine.choose(plan.turn())
            picks[k] = engine.alive[pos]
            plan.took(pos, engine)
            engine.take(pos)
            H[k] = [st.entropy() for st in engine.vars]  # H_S from the updated statistics
            if progress is not None:
                progress(k + 1, n)
        return SampleResult(
            sampler=self.name,
            config=self.config(),
            variables=table.variables,
            items=[table.items[i] for i in picks],
            indices=picks,
            entropies=H,
            objective=objective(H, engine.utopia, self.selector),
            objective_name=self.selector,
            utopia=engine.utopia,
            strata=None if table.strata is None else [table.stratum_names[table.strata[i]] for i in picks],
            quota=plan.quota_dict(),
            unranked=unranked,
        )

    def rank(self, table: ItemTable, **kw) -> SampleResult:
        """Order all rankable items (full ranking mode)."""
        return self.sample(table, None, **kw)


def rankable(table: ItemTable, diagnostics: Diagnostics | None = None) -> tuple[np.ndarray, list[str]]:
    """Items with at least one relation in the variables (ascending), and the
    ids of the others (reported to ``diagnostics`` as E224). A variable with no
    entity at all is an error (E223): its utopia point ``log 0`` is undefined."""
    empty = [v for v, m in zip(table.variables, table.counts) if m.shape[1] == 0]
    if empty:
        raise error("E223", reason=f"variable(s) {', '.join(empty)} have no entity in the input (check the column names or entity types)")
    total = np.zeros(table.n_items, dtype=np.int64)
    for m in table.counts:
        total += np.diff(m.indptr)
    cands = np.flatnonzero(total > 0)
    unranked = [table.items[i] for i in np.flatnonzero(total == 0)]
    if diagnostics is not None:
        for it in unranked:
            diagnostics.add(error("E224", item=it, variables=", ".join(table.variables)), "item not ranked")
    if len(cands) == 0:
        raise error("E223", reason=f"no item has a relation in {', '.join(table.variables)}")
    return cands, unranked


def _check_n(n: int | None, available: int) -> int:
    if n is None:
        return available
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise error("E220", option="n", value=n, reason="the sample size must be a positive integer")
    if n > available:
        raise error("E225", n=n, available=available, scope="")
    return int(n)


class _StrataPlan:
    """Quotas and turns of a stratified run (a no-op for unstratified tables)."""

    def __init__(self, table: ItemTable, cands: np.ndarray, n: int, rule: str):
        self.names = table.stratum_names
        if table.strata is None:
            self.quota = None
            return
        avail = np.bincount(table.strata[cands], minlength=len(self.names))
        self.rule = rule
        self.quota = quotas(avail, n, rule)
        self.picked = np.zeros_like(self.quota)

    def turn(self) -> int | None:
        return None if self.quota is None else next_stratum(self.picked, self.quota, self.rule)

    def took(self, pos: int, engine: "_Engine") -> None:
        if self.quota is not None:
            self.picked[engine.strata[pos]] += 1

    def quota_dict(self) -> dict[str, int] | None:
        return None if self.quota is None else {s: int(q) for s, q in zip(self.names, self.quota)}


class _Engine:
    """Candidate scores over *positions*: the still-unpicked candidates sorted
    by their relation counts per variable (then id), so that every per-count
    value is spread with one ``repeat`` per variable. Picked positions are
    masked until the arrays are compacted. Ties are broken by item id, never by
    position."""

    def __init__(self, table: ItemTable, cands: np.ndarray, selector: str, decimals: int | None):
        self.selector = selector
        self.decimals = decimals
        self.vars = [VariableState(m) for m in table.counts]
        self.utopia = np.array([v.utopia for v in self.vars])
        nv = len(self.vars)
        half = 0.5 * 10.0 ** (-decimals) if decimals is not None else 0.0
        # largest change of a score caused by rounding the entropies
        self._delta = (math.sqrt(nv) if selector == "dutopia" else nv) * half
        # positions: candidates sorted by their relation counts (t_1, ..., t_N), then id
        order = np.lexsort([cands] + [v.t[cands] for v in reversed(self.vars)])
        self.alive = cands[order]
        self.strata = None if table.strata is None else table.strata[self.alive]
        self.t = [v.t[self.alive] for v in self.vars]
        self.tmax = [int(v.t.max()) if len(v.t) else 0 for v in self.vars]
        self.G = [st.gains(self.alive) for st in self.vars]
        self.dead = np.empty(len(cands), dtype=np.intp)  # positions picked since the last compaction
        self.n_dead = 0
        self._build_runs()
        self._build_columns()

    # ---- bookkeeping ---------------------------------------------------------
    def _build_runs(self) -> None:
        """Runs of consecutive positions with equal ``(t_1, ..., t_N)``: per-``t``
        values are spread over them with ``repeat`` (much faster than a gather)."""
        n = len(self.alive)
        start = np.zeros(n, dtype=bool)
        start[:1] = True
        for t in self.t:
            start[1:] |= t[1:] != t[:-1]
        first = np.flatnonzero(start)
        self.run_len = np.diff(np.append(first, n))
        self.run_t = [t[first] for t in self.t]

    def _build_columns(self) -> None:
        """Column-major counts of the alive candidates (rows are positions),
        each column's entries sorted by count ``b``, with the runs of equal
        ``b`` (``run_ptr[j]:run_ptr[j+1]`` are column ``j``'s runs)."""
        self.cols = []
        for v in self.vars:
            coo = v.csr[self.alive].tocoo()
            col, row, b = coo.col.astype(np.int64), coo.row.astype(np.intp), coo.data.astype(np.int64)
            order = np.lexsort((row, b, col))
            col, row, b = col[order], row[order], b[order]
            ncols = v.csr.shape[1]
            indptr = np.zeros(ncols + 1, dtype=np.int64)
            np.cumsum(np.bincount(col, minlength=ncols), out=indptr[1:])
            new_run = np.ones(len(col), dtype=bool)
            new_run[1:] = (col[1:] != col[:-1]) | (b[1:] != b[:-1])
            run_start = np.flatnonzero(new_run)
            run_len = np.diff(np.append(run_start, len(col)))
            run_ptr = np.zeros(ncols + 1, dtype=np.int64)
            np.cumsum(np.bincount(col[run_start], minlength=ncols), out=run_ptr[1:])
            self.cols.append((indptr, row, run_ptr, b[run_start].astype(np.float64), run_len))

    def take(self, pos: int) -> None:
        """Pick the candidate at ``pos``: update the statistics and the gains."""
        item = int(self.alive[pos])
        for v, st in enumerate(self.vars):
            cols, old, new = st.add(item)
            if len(cols):
                self._update_gains(v, cols, old, new)
        self.dead[self.n_dead] = pos
        self.n_dead += 1
        if self.n_dead >= max(_COMPACT_MIN, len(self.alive) // 4):
            self._compact()

    def _update_gains(self, v: int, cols: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """``G_d += g(new, b) - g(old, b)`` for every candidate ``d`` with ``b > 0``
        relations on a changed entity, where ``g(c, b) = f(c + b) - f(c)``.

        The change depends only on the entity and ``b``, so it is computed once
        per run of equal ``b`` in each changed column and spread over the run's
        rows; candidates sharing several changed entities are accumulated with
        ``bincount`` (or ``add.at`` for few entries)."""
        indptr, rows, run_ptr, run_b, run_len = self.cols[v]
        G = self.G[v]
        if len(cols) == 1:  # one changed entity: its rows are distinct, a plain fancy add is exact
            j = int(cols[0])
            lo, hi = int(run_ptr[j]), int(run_ptr[j + 1])
            if hi > lo:
                delta = _gain_change(float(old[0]), float(new[0]), run_b[lo:hi])
                G[rows[indptr[j]:indptr[j + 1]]] += np.repeat(delta, run_len[lo:hi])
            return
        starts, ends = indptr[cols], indptr[cols + 1]
        total = int((ends - starts).sum())
        if total == 0:
            return
        r = rows[starts[0]:ends[0]] if len(cols) == 1 else np.concatenate([rows[a:z] for a, z in zip(starts.tolist(), ends.tolist())])
        rs, nr = run_ptr[cols], run_ptr[cols + 1] - run_ptr[cols]
        runs = np.repeat(rs - (np.cumsum(nr) - nr), nr) + np.arange(int(nr.sum()))
        k = np.repeat(np.arange(len(cols)), nr)
        delta = _gain_change(old[k].astype(np.float64), new[k].astype(np.float64), run_b[runs])
        weights = np.repeat(delta, run_len[runs])
        if total * 8 > len(G):
            G += np.bincount(r, weights=weights, minlength=len(G))
        else:
            np.add.at(G, r, weights)

    def _compact(self) -> None:
        keep = np.ones(len(self.alive), dtype=bool)
        keep[self.dead[: self.n_dead]] = False
        self.alive = self.alive[keep]
        self.t = [t[keep] for t in self.t]
        if self.strata is not None:
            self.strata = self.strata[keep]
        self.n_dead = 0
        self._build_runs()
        # recompute the gains from scratch: no floating-point drift survives a compaction
        self.G = [st.gains(self.alive) for st in self.vars]
        if len(self.alive):
            self._build_columns()

    # ---- scoring -------------------------------------------------------------
    def _approx_scores(self) -> np.ndarray:
        """Scores of all positions (lower is better), fast path.

        With ``R[t] = u - log(T + t) + F / (T + t)`` tabulated over the small
        range of ``t``, ``u - H_{S+d}(V) = R[t_d] + G_d / (T + t_d)``; ``dutopia``
        sums its squares over the variables, ``sum`` sums ``-H`` (``u = 0``)."""
        s = None
        self._tables = []
        for v, st in enumerate(self.vars):
            Tt = st.T + np.arange(self.tmax[v] + 1, dtype=np.float64)
            with np.errstate(divide="ignore"):
                inv = 1.0 / Tt
                L = np.log(Tt)
            if st.T == 0:  # an empty distribution has entropy 0
                L[0], inv[0] = 0.0, 0.0
            self._tables.append((L, inv))
            u = self.utopia[v] if self.selector == "dutopia" else 0.0
            R = (u - L) + st.F * inv
            a = np.repeat(R.take(self.run_t[v]), self.run_len)
            b = np.repeat(inv.take(self.run_t[v]), self.run_len)
            b *= self.G[v]
            a += b  # a = u - H_{S+d}(V)
            if self.selector == "dutopia":
                a *= a
            if s is None:
                s = a
            else:
                s += a
        s[self.dead[: self.n_dead]] = np.inf
        return s

    def _approx_entropies(self, near: np.ndarray) -> np.ndarray:
        """``H_{S+d}`` of the positions ``near`` from the incremental gains and the
        step's tables of ``log(T + t)`` and ``1 / (T + t)``."""
        H = np.empty((len(near), len(self.vars)))
        for v, st in enumerate(self.vars):
            L, inv = self._tables[v]
            t = self.t[v][near]
            g = self.G[v][near]
            g += st.F
            g *= inv.take(t)
            H[:, v] = L.take(t) - g
        return H

    def _entropies(self, near: np.ndarray) -> np.ndarray:
        """``H_{S+d}`` of the positions ``near``, as exact as the selector needs.

        From the incremental gains, whose error is far below ``_BOUNDARY``
        (1e-8; the error grows by about 1e-16 relative per update and the gains
        are recomputed from scratch at every compaction), and recomputed from
        scratch where a value lies within ``_BOUNDARY`` of a rounding boundary,
        where that error could change the rounded value. Full-precision mode
        (``decimals=None``) always recomputes from scratch."""
        if self.decimals is None or len(near) <= _EXACT_MAX:
            return np.column_stack([st.entropies_if_added(self.alive[near]) for st in self.vars])
        H = self._approx_entropies(near)
        # |H - round(H)| close to half a unit: H is close to a rounding boundary
        risky = (np.abs(H - np.round(H, self.decimals)) > 0.5 * 10.0 ** (-self.decimals) - _BOUNDARY).any(axis=1)
        if risky.any():
            idx = np.flatnonzero(risky)
            H[idx] = np.column_stack([st.entropies_if_added(self.alive[near[idx]]) for st in self.vars])
        return H

    def choose(self, stratum: int | None) -> int:
        """The position of the next pick."""
        s = self._approx_scores()
        if stratum is not None:
            s[self.strata != stratum] = np.inf
        best = float(s.min())
        if not math.isfinite(best):
            raise error("E223", reason="no candidate is left to pick")
        slack = 2 * self._delta + _EPS
        bound = (math.sqrt(max(best, 0.0)) + slack) ** 2 if self.selector == "dutopia" else best + slack
        near = np.flatnonzero(s <= bound)
        H = self._entropies(near)
        Hr = np.round(H, self.decimals) if self.decimals is not None else H
        score = np.zeros(len(near))
        for v in range(len(self.vars)):
            if self.selector == "dutopia":
                d = self.utopia[v] - Hr[:, v]
                score = score + d * d
            else:
                score = score + Hr[:, v]
        if self.selector == "sum":
            score = -score
        tied = np.flatnonzero(score == score.min())
        k = int(tied[np.argmin(self.alive[near[tied]])])  # ties: the lowest item id
        return int(near[k])


def _gain_change(o, w, b):
    """``(f(w + b) - f(w)) - (f(o + b) - f(o))`` with ``f(x) = x log x``, for
    counts ``w > o >= 0`` and ``b >= 1``."""
    return ((w + b) * np.log(w + b) - xlogx(w)) - ((o + b) * np.log(o + b) - xlogx(o))


registry.samplers.register("biorel.GME.v1", GMESampler, aliases=("gme",))
