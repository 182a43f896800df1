"""The evaluator base class, report assembly and the registry helpers.

An evaluator is a small configuration object (matching mode, switches) with a
versioned registry name, aliases, a ``task`` and a ``primary_metric``. Calling it
on :class:`~biorel.types.Example` s is a pure function: it scores each document
(:meth:`Evaluator.score_document`) and pools the per-document counts into a
:class:`~biorel.evaluation.report.Report` with bootstrap intervals.

Problems in the input (a relation that names a missing entity, an output that
cannot be parsed) raise a coded error; when a :class:`~biorel.errors.Diagnostics`
is passed they are reported there instead and the item is skipped.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar
from collections.abc import Iterable

import numpy as np

from ..errors import BiorelError, Diagnostics, error
from ..registry import registry
from ..types import Example
from .bootstrap import DEFAULT_RESAMPLES, bootstrap_intervals
from .matching import DocResult
from .metrics import AGGREGATE_METRICS
from .report import Confusion, Report, ScoredPrediction


class Evaluator:
    """Base class. Subclasses set ``name``, ``aliases``, ``task`` and implement
    :meth:`score_document`."""

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    task: ClassVar[str] = ""
    primary_metric: ClassVar[str] = "micro_f1"

    def __init__(self, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int | None = 0, level: float = 0.95):
        if n_resamples < 0:
            raise error("E201", option="n_resamples", value=n_resamples, reason="must be >= 0 (0 turns the bootstrap off)")
        if not 0 < level < 1:
            raise error("E201", option="level", value=level, reason="must lie strictly between 0 and 1")
        self.n_resamples = n_resamples
        self.seed = seed
        self.level = level
        self._notes: Counter = Counter()
        self._lenient = False

    # ---- to implement ---------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The options that define the protocol (recorded in the report)."""
        return {}

    def score_document(self, example: Example, diagnostics: Diagnostics | None) -> DocResult:
        raise NotImplementedError

    # ---- shared ---------------------------------------------------------------
    def note(self, message: str, n: int = 1) -> None:
        """Count something the protocol excludes on purpose (shown in the report)."""
        self._notes[message] += n

    def problem(self, err: BiorelError, diagnostics: Diagnostics | None, action: str = "skipped") -> None:
        """Raise ``err``, or, when lenient, report it to ``diagnostics`` and go on."""
        if not self._lenient or diagnostics is None:
            raise err
        diagnostics.add(err, action)

    def __call__(self, examples: Iterable[Example], *, diagnostics: Diagnostics | None = None, lenient: bool | None = None) -> Report:
        """Score ``examples``. Bad input (E202, E210) raises unless lenient; lenient
        (the default when ``diagnostics`` is given) reports it there and skips the
        item. Items a protocol skips by its own rules (ABroad's unparsable output
        items) are always reported to ``diagnostics`` when one is given."""
        self._lenient = diagnostics is not None if lenient is None else lenient
        self._notes = Counter()
        results = [self.score_document(ex, diagnostics) for ex in examples]
        for r in results:
            if r.gold_duplicates:
                self.note("gold items the protocol cannot tell apart, counted once", r.gold_duplicates)
            if r.pred_duplicates:
                self.note("duplicate predictions, counted once", r.pred_duplicates)
        report = build_report(self, results)
        if self.n_resamples and report.n_documents:
            report.intervals = bootstrap_intervals(report, AGGREGATE_METRICS, n_resamples=self.n_resamples, seed=self.seed, level=self.level)
        return report

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({opts})"


def build_report(evaluator: Evaluator, results: list[DocResult]) -> Report:
    """Pool per-document results into a report (no intervals)."""
    types = sorted({t for r in results for t in r.counts})
    index = {t: i for i, t in enumerate(types)}
    counts = np.zeros((len(results), len(types), 3), dtype=np.int64)
    for d, r in enumerate(results):
        for t, c in r.counts.items():
            counts[d, index[t]] = c
    confusion = _confusion([p for r in results for p in r.confusion])
    predictions = [ScoredPrediction(r.doc, t, s, ok) for r in results for t, s, ok in r.outcomes]
    notes = [f"{msg}: {n}" for msg, n in sorted(evaluator._notes.items())]
    settings = {"protocol": evaluator.name, **evaluator.settings()}
    return Report(
        evaluator=evaluator.name,
        task=evaluator.task,
        primary_metric=evaluator.primary_metric,
        doc_ids=[r.doc for r in results],
        types=types,
        counts=counts,
        settings=settings,
        confusion=confusion,
        predictions=predictions,
        notes=notes,
    )


def _confusion(pairs: list[tuple[str | None, str | None]]) -> Confusion | None:
    if not pairs:
        return None
    labels = sorted({t for pair in pairs for t in pair if t is not None}) + [Confusion.NONE]
    idx = {t: i for i, t in enumerate(labels)}
    m = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in pairs:
        m[idx[g if g is not None else Confusion.NONE], idx[p if p is not None else Confusion.NONE]] += 1
    return Confusion(tuple(labels), m)


# ---- registry -------------------------------------------------------------------
def register(cls: type[Evaluator]) -> type[Evaluator]:
    """Class decorator: register an evaluator under its versioned name and aliases."""
    registry.evaluators.register(cls.name, cls, aliases=cls.aliases)
    return cls


def make_evaluator(protocol: str, **options: Any) -> Evaluator:
    """Build the evaluator registered as ``protocol`` (a versioned name or an
    alias) with ``options``; unknown options raise E201 listing the valid ones."""
    return registry.evaluators.create(protocol, **options)


def evaluate(
    examples: Iterable[Example], protocol: str = "ner", *, diagnostics: Diagnostics | None = None, lenient: bool | None = None, **options: Any
) -> Report:
    """Score ``examples`` with the evaluator registered as ``protocol``."""
    return make_evaluator(protocol, **options)(examples, diagnostics=diagnostics, lenient=lenient)
