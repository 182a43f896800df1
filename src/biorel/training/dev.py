"""Dev-set scoring for training, through the registered evaluators only.

A scorer is called as ``scorer(predictions, gold)``, where ``predictions`` maps a
prediction mode (``extract``, ``relate``) to documents aligned with ``gold``, and
returns ``{metric: value}``. :func:`dev_scorer` builds one from
``evaluation.scorers``: each entry is ``EVALUATOR:MODE``, an evaluator in
``registry.evaluators`` (``ner``, ``cid``, ``e2e``, ``concept`` ...) scoring the
predictions of one of the model's modes. Its metrics come back as
``EVALUATOR:MODE/<metric>`` (``ner:extract/micro_f1``) plus
``EVALUATOR:MODE/primary``, the evaluator's ``primary_metric``. An empty list
means the model's ``capabilities.default_scorers``; an empty
``evaluation.primary_metric`` means the first scorer's ``/primary``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..errors import BiorelError, error
from ..registry import registry
from ..types import Example
from ..types import Document

Scorer = Callable[[Mapping[str, Sequence[Document]], Sequence[Document]], dict[str, float]]


def parse_spec(spec: str, modes: Sequence[str]) -> tuple[str, str]:
    """``(evaluator name, canonical mode)`` of ``EVALUATOR:MODE``; E402 names
    the problem and the valid choices."""
    from ..models.base import MODE_ALIASES

    name, sep, mode = spec.rpartition(":")
    mode = MODE_ALIASES.get(mode, mode)
    if not sep or not name or mode not in modes:
        raise error(
            "E402", key="evaluation.scorers", reason=f"{spec!r}: expected 'EVALUATOR:MODE' with MODE one of the model's modes ({', '.join(modes)})"
        )
    try:
        registry.evaluators.resolve(name)
    except BiorelError as e:
        raise error("E402", key="evaluation.scorers", reason=f"{spec!r}: {e.message}") from None
    return name, mode


def evaluator_scorer(name: str, mode: str) -> Scorer:
    """Score the predictions of ``mode`` with the evaluator ``name`` (no
    bootstrap: dev scoring runs every epoch)."""
    from ..evaluation import make_evaluator

    evaluator = make_evaluator(name, n_resamples=0)
    key = f"{name}:{mode}"

    def score(preds: Mapping[str, Sequence[Document]], gold: Sequence[Document]) -> dict[str, float]:
        report = evaluator([Example(p, g) for p, g in zip(preds[mode], gold)])
        out = {f"{key}/{k}": float(v) for k, v in report.scores().items()}
        out[f"{key}/primary"] = float(report.primary)
        return out

    return score


def dev_scorer(specs: Sequence[str], modes: Sequence[str]) -> tuple[Scorer, tuple[str, ...]]:
    """``(scorer, the prediction modes it needs)`` for ``evaluation.scorers``
    (``modes``: the ones the model declares)."""
    if not specs:
        raise error("E402", key="evaluation.scorers", reason="no scorer given and the model declares no default")
    parsed = [parse_spec(s, modes) for s in specs]
    parts = [evaluator_scorer(name, mode) for name, mode in parsed]

    def score(preds: Mapping[str, Sequence[Document]], gold: Sequence[Document]) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in parts:
            out.update(s(preds, gold))
        return out

    return score, tuple(sorted({mode for _, mode in parsed}))


def default_primary(specs: Sequence[str], modes: Sequence[str]) -> str:
    name, mode = parse_spec(specs[0], modes)
    return f"{name}:{mode}/primary"


def canonical_metric(metric: str) -> str:
    """``cid:gold/primary`` → ``cid:relate/primary`` (older mode names)."""
    from ..models.base import MODE_ALIASES

    head, slash, rest = metric.partition("/")
    name, colon, mode = head.rpartition(":")
    if slash and colon and mode in MODE_ALIASES:
        return f"{name}:{MODE_ALIASES[mode]}/{rest}"
    return metric


def primary_value(metrics: Mapping[str, float], name: str) -> float:
    if name not in metrics:
        raise error("E413", metric=name, choices=", ".join(sorted(metrics)) or "(none)")
    return float(metrics[name])


__all__ = ["Scorer", "dev_scorer", "evaluator_scorer", "parse_spec", "default_primary", "canonical_metric", "primary_value"]
