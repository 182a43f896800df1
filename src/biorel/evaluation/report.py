"""Typed evaluation reports.

A :class:`Report` keeps the per-document, per-type TP/FP/FN counts it was built
from (``counts``, shape ``(n_documents, n_types, 3)``), so every figure in it,
its bootstrap intervals and paired comparisons are recomputed from the same
numbers. :meth:`Report.to_dict` gives a JSON-ready form.

Metric names: ``micro_precision``, ``micro_recall``, ``micro_f1``,
``macro_precision``, ``macro_recall``, ``macro_f1`` and, per type,
``<type>:precision`` / ``<type>:recall`` / ``<type>:f1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import error
from .metrics import AGGREGATE_METRICS, FN, FP, TP, aggregate, prf, prf_scalar


@dataclass(frozen=True, slots=True)
class PRF:
    """Counts and the figures derived from them."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return prf_scalar(self.tp, self.fp, self.fn)[0]

    @property
    def recall(self) -> float:
        return prf_scalar(self.tp, self.fp, self.fn)[1]

    @property
    def f1(self) -> float:
        return prf_scalar(self.tp, self.fp, self.fn)[2]

    @property
    def support(self) -> int:
        """Number of gold items (TP + FN)."""
        return self.tp + self.fn

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True, slots=True)
class Averages:
    """Macro averages: the mean of per-type P, R, F1 over types present."""

    precision: float
    recall: float
    f1: float
    n_types: int

    def to_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "n_types": self.n_types}


@dataclass(frozen=True, slots=True)
class Interval:
    """A bootstrap percentile interval of one metric."""

    metric: str
    estimate: float
    low: float
    high: float
    level: float
    n_resamples: int
    seed: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
        }


@dataclass(frozen=True, slots=True)
class Confusion:
    """Gold type (rows) against predicted type (columns) for items whose
    arguments (or spans) match. ``NONE`` (the last label) collects gold items with
    no prediction (row) and predictions with no gold item (column)."""

    labels: tuple[str, ...]
    matrix: np.ndarray

    NONE = "(none)"

    def to_dict(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "matrix": self.matrix.astype(int).tolist()}


@dataclass(frozen=True, slots=True)
class ScoredPrediction:
    """One (deduplicated) prediction: its type, confidence (if any) and whether it
    is a true positive. P/R curves are drawn from these."""

    doc: str
    type: str
    score: float | None
    correct: bool


@dataclass
class Report:
    evaluator: str
    task: str
    primary_metric: str
    doc_ids: list[str]
    types: list[str]
    counts: np.ndarray  # (n_documents, n_types, 3) int64: TP, FP, FN
    settings: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, Interval] = field(default_factory=dict)
    confusion: Confusion | None = None
    predictions: list[ScoredPrediction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # ---- figures ------------------------------------------------------------
    @property
    def n_documents(self) -> int:
        return len(self.doc_ids)

    def type_totals(self) -> np.ndarray:
        return self.counts.sum(axis=0) if self.counts.size else np.zeros((len(self.types), 3), dtype=np.int64)

    @property
    def micro(self) -> PRF:
        t = self.type_totals().sum(axis=0)
        return PRF(int(t[TP]), int(t[FP]), int(t[FN]))

    @property
    def macro(self) -> Averages:
        t = self.type_totals()
        present = int((t.sum(axis=-1) > 0).sum())
        return Averages(*(float(aggregate(t, f"macro_{w}")) for w in ("precision", "recall", "f1")), n_types=present)

    @property
    def per_type(self) -> dict[str, PRF]:
        t = self.type_totals()
        return {ty: PRF(int(t[i, TP]), int(t[i, FP]), int(t[i, FN])) for i, ty in enumerate(self.types)}

    @property
    def n_gold(self) -> int:
        return self.micro.support

    def metric(self, name: str) -> float:
        """A metric by name (see the module docstring)."""
        if name in AGGREGATE_METRICS:
            return float(aggregate(self.type_totals(), name))
        ty, sep, which = name.rpartition(":")
        if sep and ty in self.types and which in ("precision", "recall", "f1"):
            return float(prf(self.type_totals()[self.types.index(ty)])[("precision", "recall", "f1").index(which)])
        choices = list(AGGREGATE_METRICS) + [f"{t}:f1" for t in self.types]
        raise error("E201", option="metric", value=name, reason=f"choose one of {', '.join(choices)}")

    @property
    def primary(self) -> float:
        return self.metric(self.primary_metric)

    def scores(self) -> dict[str, float]:
        """Flat ``{metric: value}``: aggregates and per-type figures."""
        out = {m: self.metric(m) for m in AGGREGATE_METRICS}
        for ty, c in self.per_type.items():
            out[f"{ty}:precision"], out[f"{ty}:recall"], out[f"{ty}:f1"] = c.precision, c.recall, c.f1
        return out

    def document_counts(self) -> dict[str, PRF]:
        """Pooled TP/FP/FN of each document."""
        per_doc = self.counts.sum(axis=1)
        return {d: PRF(int(c[TP]), int(c[FP]), int(c[FN])) for d, c in zip(self.doc_ids, per_doc)}

    # ---- serialisation ------------------------------------------------------
    def to_dict(self, *, documents: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "evaluator": self.evaluator,
            "task": self.task,
            "primary_metric": self.primary_metric,
            "primary": self.primary,
            "n_documents": self.n_documents,
            "settings": self.settings,
            "micro": self.micro.to_dict(),
            "macro": self.macro.to_dict(),
            "per_type": {t: c.to_dict() for t, c in self.per_type.items()},
            "intervals": {m: i.to_dict() for m, i in self.intervals.items()},
        }
        if self.confusion is not None:
            d["confusion"] = self.confusion.to_dict()
        if self.notes:
            d["notes"] = list(self.notes)
        if documents:
            d["documents"] = {doc: {"tp": c.tp, "fp": c.fp, "fn": c.fn} for doc, c in self.document_counts().items()}
        return d


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Paired bootstrap comparison of system A and B on the same gold.

    ``delta = A - B`` on ``metric``; ``p_value`` is the two-sided bootstrap p-value
    of the null hypothesis "no difference" (see :func:`~biorel.evaluation.bootstrap.paired_bootstrap`)."""

    metric: str
    a: float
    b: float
    delta: float
    low: float
    high: float
    p_value: float
    level: float
    n_resamples: int
    seed: int | None

    def to_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}
