"""The random baseline (``biorel.Random.v1``, alias ``random``).

Picks ``n`` rankable items uniformly without replacement with
``numpy.random.default_rng(seed)``, in a random order, and records the same
entropy trajectory as GME so the two compare step by step. On a stratified
table it draws each stratum's quota (same quota rule as GME) at random and
orders the picks by the same turn rule, so its per-stratum counts match GME's.
"""

from __future__ import annotations

import numpy as np

from ..errors import Diagnostics, error
from ..registry import registry
from .gme import _check_n, rankable
from .result import SampleResult
from .state import objective, trajectory
from .strata import QUOTAS, next_stratum, quotas
from .table import ItemTable


class RandomSampler:
    name = "biorel.Random.v1"

    def __init__(self, seed: int = 0, binarised: bool = False, *, selector: str = "dutopia", quota: str = "balanced"):
        if quota not in QUOTAS:
            raise error("E220", option="quota", value=quota, reason=f"choose one of {', '.join(QUOTAS)}")
        if selector not in ("dutopia", "sum"):
            raise error("E220", option="selector", value=selector, reason="choose one of dutopia, sum (it only names the recorded objective)")
        self.seed = seed
        self.binarised = binarised
        self.selector = selector
        self.quota = quota

    def config(self) -> dict:
        return {"seed": self.seed, "binarised": self.binarised, "selector": self.selector, "quota": self.quota}

    def sample(self, table: ItemTable, n: int | None = None, *, progress=None, diagnostics: Diagnostics | None = None) -> SampleResult:
        if self.binarised:
            table = table.binarised()
        cands, unranked = rankable(table, diagnostics)
        n = _check_n(n, len(cands))
        rng = np.random.default_rng(self.seed)
        quota = None
        if table.strata is None:
            picks = rng.permutation(cands)[:n]
        else:
            picks, quota = self._stratified(table, cands, n, rng)
        H = trajectory(table.counts, picks)
        utopia = np.array([np.log(m.shape[1]) if m.shape[1] else 0.0 for m in table.counts])
        if progress is not None:
            progress(n, n)
        return SampleResult(
            sampler=self.name,
            config=self.config(),
            variables=table.variables,
            items=[table.items[i] for i in picks],
            indices=picks,
            entropies=H,
            objective=objective(H, utopia, self.selector),
            objective_name=self.selector,
            utopia=utopia,
            strata=None if table.strata is None else [table.stratum_names[table.strata[i]] for i in picks],
            quota=quota,
            unranked=unranked,
        )

    def _stratified(self, table: ItemTable, cands: np.ndarray, n: int, rng: np.random.Generator):
        k = len(table.stratum_names)
        by = [cands[table.strata[cands] == s] for s in range(k)]
        q = quotas(np.array([len(b) for b in by]), n, self.quota)
        drawn = [rng.permutation(b)[: q[s]] for s, b in enumerate(by)]
        picked = np.zeros(k, dtype=np.int64)
        picks = np.empty(n, dtype=np.int64)
        for j in range(n):
            s = next_stratum(picked, q, self.quota)
            picks[j] = drawn[s][picked[s]]
            picked[s] += 1
        return picks, {name: int(x) for name, x in zip(table.stratum_names, q)}


registry.samplers.register("biorel.Random.v1", RandomSampler, aliases=("random",))
