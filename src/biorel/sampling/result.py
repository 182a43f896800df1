"""What a sampler returns: the picks in order with the entropy trajectory, the
stopping rule, and the TSV/JSON writers.

Stopping rule (the paper's "stop when diversity starts to deteriorate"): the
objective of the sample ``S_k`` made of the first ``k`` picks is its distance
to the utopia point for ``dutopia`` (lower is better) and its summed entropy
for ``sum`` (higher is better). The stop step is the smallest ``k`` whose
objective is within ``tolerance`` (absolute, default 0) of the best objective
over the recorded trajectory. On a full ranking this is the size after which
adding documents only makes the sample less diverse. Per-variable peaks (the
first step of maximal ``H(V)``) are reported beside it.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import error


@dataclass
class StopPoint:
    step: int  # 1-based number of picks
    objective: float
    variable_peaks: dict[str, int]


@dataclass
class SampleResult:
    """Picks in order. ``entropies[k, v]`` is ``H(V_v)`` of the first ``k+1``
    picks (full precision); ``objective[k]`` the selector's objective for them
    (distance to utopia, or summed entropy)."""

    sampler: str
    config: dict[str, Any]
    variables: tuple[str, ...]
    items: list[str]
    indices: np.ndarray
    entropies: np.ndarray
    objective: np.ndarray
    objective_name: str  # "dutopia" (minimised) or "sum" (maximised)
    utopia: np.ndarray  # log |V| per variable over the whole input
    strata: list[str] | None = None
    quota: dict[str, int] | None = None
    unranked: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    # ---- stopping rule -----------------------------------------------------
    def stop(self, tolerance: float = 0.0) -> StopPoint:
        """The stop step (see module doc)."""
        if len(self.objective) == 0:
            raise error("E223", reason="the sample is empty, so it has no stopping point")
        obj = self.objective if self.objective_name == "dutopia" else -self.objective
        best = float(obj.min())
        k = int(np.flatnonzero(obj <= best + tolerance)[0])
        peaks = {v: int(np.argmax(self.entropies[:, j])) + 1 for j, v in enumerate(self.variables)}
        return StopPoint(k + 1, float(self.objective[k]), peaks)

    # ---- output ------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        out = []
        for k, item in enumerate(self.items):
            row: dict[str, Any] = {"rank": k + 1, "item": item}
            if self.strata is not None:
                row["stratum"] = self.strata[k]
            for j, v in enumerate(self.variables):
                row[f"H({v})"] = float(self.entropies[k, j])
            row[self.objective_name] = float(self.objective[k])
            out.append(row)
        return out

    def to_dict(self, tolerance: float = 0.0) -> dict[str, Any]:
        d: dict[str, Any] = {
            "sampler": self.sampler,
            "config": self.config,
            "variables": list(self.variables),
            "utopia": {v: float(u) for v, u in zip(self.variables, self.utopia)},
            "n": len(self.items),
        }
        if len(self.items):
            sp = self.stop(tolerance)
            d["stop"] = {"step": sp.step, "objective": sp.objective, "variable_peaks": sp.variable_peaks, "tolerance": tolerance}
        if self.quota is not None:
            d["quota"] = self.quota
        d["unranked"] = self.unranked
        d["picks"] = self.rows()
        return d

    def write(self, path: str | os.PathLike, tolerance: float = 0.0) -> None:
        """Write the picks as TSV (``.tsv``/``.txt``) or JSON (``.json``)."""
        p = Path(path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.suffix.lower() == ".json":
                p.write_text(json.dumps(self.to_dict(tolerance), ensure_ascii=False, indent=1, default=_jsonable), encoding="utf-8")
            elif p.suffix.lower() in (".tsv", ".txt", ".tab"):
                p.write_text(self.to_tsv(), encoding="utf-8")
            else:
                raise error("E228", what="the sample", path=str(p), reason="use a .tsv or .json file name")
        except OSError as e:
            raise error("E228", what="the sample", path=str(p), reason=e.strerror or str(e)) from None

    def to_tsv(self) -> str:
        rows = self.rows()
        header = ["rank", "item"] + (["stratum"] if self.strata is not None else []) + [f"H({v})" for v in self.variables] + [self.objective_name]
        lines = ["\t".join(header)]
        for r in rows:
            lines.append("\t".join(_fmt(r[h]) for h in header))
        return "\n".join(lines) + "\n"


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.6f}"
    return str(x).replace("\t", " ").replace("\n", " ")


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x).__name__)
