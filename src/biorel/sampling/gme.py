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

How it is fast and still exact: see :mod:`biorel.sampling.engine`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import Diagnostics, error
from ..registry import registry
from .engine import Engine
from .result import SampleResult
from .state import objective
from .strata import QUOTAS, next_stratum, quotas
from .table import ItemTable

SELECTORS = ("dutopia", "sum")
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

    def sample(
        self, table: ItemTable, n: int | None = None, *, progress: Progress | None = None, diagnostics: Diagnostics | None = None
    ) -> SampleResult:
        """Pick ``n`` items (all rankable items when ``n`` is None: a full ranking)."""
        if self.binarised:
            table = table.binarised()
        cands, unranked = rankable(table, diagnostics)
        n = _check_n(n, len(cands))
        engine = Engine(table, cands, self.selector, self.decimals)
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

    def took(self, pos: int, engine: Engine) -> None:
        if self.quota is not None:
            self.picked[engine.strata[pos]] += 1

    def quota_dict(self) -> dict[str, int] | None:
        return None if self.quota is None else {s: int(q) for s, q in zip(self.names, self.quota)}


registry.samplers.register("biorel.GME.v1", GMESampler, aliases=("gme",))
