"""Precision, recall and F1 from TP/FP/FN counts, vectorised.

The rules, the same for every evaluator:

* ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)``,
  ``F1 = 2 TP / (2 TP + FP + FN)`` (the harmonic mean of P and R). A ratio whose
  denominator is 0 is 0.0 (scikit-learn's ``zero_division=0``): an empty
  prediction has precision 0, an empty gold has recall 0.
* **micro** figures pool TP/FP/FN over every document and type, then divide.
* **macro** figures average the per-type P, R and F1 over the types that occur in
  the gold or the prediction (``TP + FP + FN > 0``); with no such type they are 0.

Counts are held as integer arrays whose last axis is ``(TP, FP, FN)`` and whose
second-last axis is the type, so the same functions score one corpus
(``(n_types, 3)``) or a thousand bootstrap resamples at once (``(B, n_types, 3)``).
"""

from __future__ import annotations

import numpy as np

from ..errors import error

TP, FP, FN = 0, 1, 2

#: aggregate metrics every report carries, in display order
AGGREGATE_METRICS = (
    "micro_precision",
    "micro_recall",
    "micro_f1",
    "macro_precision",
    "macro_recall",
    "macro_f1",
)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def prf(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(precision, recall, f1)`` for counts whose last axis is ``(TP, FP, FN)``."""
    c = np.asarray(counts)
    tp, fp, fn = c[..., TP], c[..., FP], c[..., FN]
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)


def prf_scalar(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p, r, f = prf(np.array([tp, fp, fn]))
    return float(p), float(r), float(f)


def aggregate(type_totals: np.ndarray, metric: str) -> np.ndarray:
    """One aggregate metric from per-type totals of shape ``(..., n_types, 3)``.

    ``metric`` is one of :data:`AGGREGATE_METRICS`. Returns an array of shape
    ``(...)`` (a 0-d array for one corpus).
    """
    t = np.asarray(type_totals)
    kind, _, which = metric.partition("_")
    idx = {"precision": 0, "recall": 1, "f1": 2}.get(which)
    if idx is None or kind not in ("micro", "macro"):
        raise error("E201", option="metric", value=metric, reason=f"choose one of {', '.join(AGGREGATE_METRICS)} or '<type>:f1'")
    if kind == "micro":
        return prf(t.sum(axis=-2))[idx]
    per_type = prf(t)[idx]
    present = t.sum(axis=-1) > 0
    n = present.sum(axis=-1)
    return _ratio((per_type * present).sum(axis=-1), n)


def type_metric(type_totals: np.ndarray, type_index: int, which: str) -> np.ndarray:
    """Precision, recall or F1 of one type from ``(..., n_types, 3)`` totals."""
    idx = {"precision": 0, "recall": 1, "f1": 2}[which]
    return prf(np.asarray(type_totals)[..., type_index, :])[idx]
