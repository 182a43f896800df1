"""Bootstrap confidence intervals over documents and the paired bootstrap test.

Documents are the resampling unit (relations and mentions inside a document are
not independent). A resample draws ``n`` documents with replacement; its figures
are computed from the pooled per-type counts of the drawn documents, exactly as
the point estimate is computed from all of them (see :mod:`.metrics`). In numpy,
resample ``b`` is a row of multinomial weights ``W[b]`` (how often each document
was drawn) and its per-type totals are ``W[b] @ counts``.

* :func:`bootstrap_intervals`: percentile intervals (default 95%, 1000
  resamples, seed 0), for every aggregate metric.
* :func:`paired_bootstrap`: both systems are scored on the *same* resamples of
  the same gold documents. The p-value is two-sided: the share of resampled
  differences ``d_b`` at least as far from the observed difference ``d`` as ``d``
  is from 0, i.e. ``(1 + #{|d_b - d| >= |d|}) / (B + 1)`` (the "shifted"
  bootstrap null, Efron & Tibshirani 1993, sec. 16.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..errors import error
from .metrics import AGGREGATE_METRICS, aggregate, type_metric
from .report import Interval, PairedTest, Report

DEFAULT_RESAMPLES = 1000
_BLOCK = 256  # resamples per matrix product, to bound memory on large corpora


def _check(n_docs: int, n_resamples: int, level: float) -> None:
    if n_docs < 1:
        raise error("E204", need="at least one document", reason="the report scores no document")
    if n_resamples < 1:
        raise error("E204", need="at least one resample", reason=f"n_resamples={n_resamples}")
    if not 0 < level < 1:
        raise error("E201", option="level", value=level, reason="the confidence level must lie strictly between 0 and 1")


def resample_weights(n_docs: int, n_resamples: int, seed: int | None = 0) -> Iterator[np.ndarray]:
    """Yield blocks of multinomial weights, shape ``(block, n_docs)``; row ``b``
    says how many times each document is drawn in resample ``b``."""
    rng = np.random.default_rng(seed)
    p = np.full(n_docs, 1.0 / n_docs)
    done = 0
    while done < n_resamples:
        size = min(_BLOCK, n_resamples - done)
        yield rng.multinomial(n_docs, p, size=size)
        done += size


def resampled_totals(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-type totals ``(B, n_types, 3)`` of the resamples in ``weights``."""
    n, k, _ = counts.shape
    return (weights @ counts.reshape(n, k * 3)).reshape(weights.shape[0], k, 3)


def _metric_values(totals: np.ndarray, metric: str, types: list[str]) -> np.ndarray:
    if metric in AGGREGATE_METRICS:
        return aggregate(totals, metric)
    ty, _, which = metric.rpartition(":")
    if ty not in types or which not in ("precision", "recall", "f1"):
        raise error(
            "E201", option="metric", value=metric, reason=f"choose one of {', '.join(AGGREGATE_METRICS)} or '<type>:f1' with a type in {types}"
        )
    return type_metric(totals, types.index(ty), which)


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [a, 1.0 - a])
    return float(lo), float(hi)


def bootstrap_intervals(
    report: Report,
    metrics: Iterable[str] | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
    level: float = 0.95,
) -> dict[str, Interval]:
    """Percentile intervals of ``metrics`` (default: every aggregate metric)."""
    metrics = list(metrics) if metrics is not None else list(AGGREGATE_METRICS)
    _check(report.n_documents, n_resamples, level)
    values: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    for w in resample_weights(report.n_documents, n_resamples, seed):
        totals = resampled_totals(report.counts, w)
        for m in metrics:
            values[m].append(_metric_values(totals, m, report.types))
    out = {}
    for m in metrics:
        lo, hi = _percentiles(np.concatenate(values[m]), level)
        out[m] = Interval(m, report.metric(m), lo, hi, level, n_resamples, seed)
    return out


def _aligned(a: Report, b: Report) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if a.doc_ids != b.doc_ids:
        if sorted(a.doc_ids) != sorted(b.doc_ids):
            only_a = sorted(set(a.doc_ids) - set(b.doc_ids))[:3]
            only_b = sorted(set(b.doc_ids) - set(a.doc_ids))[:3]
            raise error("E203", reason=f"they score different documents (only in A: {only_a}, only in B: {only_b})")
        order = {d: i for i, d in enumerate(b.doc_ids)}
        b_rows = [order[d] for d in a.doc_ids]
    else:
        b_rows = list(range(len(b.doc_ids)))
    if a.evaluator != b.evaluator or a.settings != b.settings:
        raise error("E203", reason=f"they come from different protocols ({a.evaluator} {a.settings} vs {b.evaluator} {b.settings})")
    types = sorted(set(a.types) | set(b.types))

    def spread(r: Report, rows: list[int]) -> np.ndarray:
        out = np.zeros((len(rows), len(types), 3), dtype=np.int64)
        for j, t in enumerate(r.types):
            out[:, types.index(t), :] = r.counts[rows, j, :]
        return out

    ca, cb = spread(a, list(range(len(a.doc_ids)))), spread(b, b_rows)
    gold_a, gold_b = ca[..., 0] + ca[..., 2], cb[..., 0] + cb[..., 2]
    if not np.array_equal(gold_a, gold_b):
        raise error("E203", reason="their gold counts (TP + FN) differ, so they were not scored on the same gold")
    return ca, cb, types


def paired_bootstrap(
    a: Report,
    b: Report,
    metric: str | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = 0,
    level: float = 0.95,
) -> PairedTest:
    """Compare system A with system B on the same gold documents (see module doc)."""
    metric = metric or a.primary_metric
    ca, cb, types = _aligned(a, b)
    _check(len(a.doc_ids), n_resamples, level)
    va = float(_metric_values(ca.sum(axis=0), metric, types))
    vb = float(_metric_values(cb.sum(axis=0), metric, types))
    delta = va - vb
    deltas = []
    for w in resample_weights(len(a.doc_ids), n_resamples, seed):
        deltas.append(_metric_values(resampled_totals(ca, w), metric, types) - _metric_values(resampled_totals(cb, w), metric, types))
    d = np.concatenate(deltas)
    lo, hi = _percentiles(d, level)
    extreme = int(np.sum(np.abs(d - delta) >= abs(delta) - 1e-12))
    p = (1 + extreme) / (n_resamples + 1)
    return PairedTest(metric, va, vb, delta, lo, hi, min(1.0, p), level, n_resamples, seed)
