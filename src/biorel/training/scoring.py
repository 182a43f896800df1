"""Dev-set scoring for training: any callable returning a dict of metrics.

A scorer is called as ``scorer(predictions, gold)`` where ``predictions`` maps a
prediction mode (``e2e``, ``gold``) to documents aligned with ``gold``, and
returns ``{metric: value}``. :func:`make_scorer` builds one from the
``evaluation.scorers`` config list:

* ``builtin`` - the quick scorer below: ``ner_precision/recall/f1`` (strict
  span and type, e2e mode), ``re_precision/recall/f1`` (entity-level relations
  over gold entities, gold mode; undirected types match in either order) and
  ``e2e_re_f1`` (a predicted relation is right when some mention of each
  argument matches a mention of the gold arguments, span and type);
* ``NAME:MODE`` - an evaluator from ``registry.evaluators`` (``ner:e2e``,
  ``cid:gold``) scoring the predictions of ``MODE``; its metrics come back as
  ``NAME:MODE/<metric>`` plus ``NAME:MODE/primary``.
"""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from ..errors import error
from ..types import Document, Example

Scorer = Callable[[Mapping[str, Sequence[Document]], Sequence[Document]], dict[str, float]]


def _prf(tp: int, n_pred: int, n_gold: int, prefix: str) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {f"{prefix}_precision": p, f"{prefix}_recall": r, f"{prefix}_f1": f}


def builtin_scorer(entity_types: Sequence[str] = (), relation_types: Sequence[str] = (), directed: Mapping[str, bool] | None = None) -> Scorer:
    etypes, rtypes, directed = set(entity_types), set(relation_types), dict(directed or {})

    def rel_key(r, h, t):
        return (r.type, h, t) if directed.get(r.type, r.directed) else (r.type, *sorted((h, t)))

    def score(preds: Mapping[str, Sequence[Document]], gold: Sequence[Document]) -> dict[str, float]:
        out: dict[str, float] = {}
        if "e2e" in preds:
            tp = n_p = n_g = 0
            rtp = rn_p = rn_g = 0
            for p, g in zip(preds["e2e"], gold):
                gm = {(m.spans, m.type) for m in g.mentions if not etypes or m.type in etypes}
                pm = {(m.spans, m.type) for m in p.mentions}
                tp += len(gm & pm)
                n_p += len(pm)
                n_g += len(gm)
                # end-to-end relations through mention matches
                g_ments = {m.id: (m.spans, m.type) for m in g.mentions}
                g_ents = g.entity_index() if g.entities else {e.id: e for e in g.entities_from_mentions()}
                p_ments = {m.id: (m.spans, m.type) for m in p.mentions}
                p_ents = p.entity_index()

                def keys(ents, ments, eid):
                    e = ents.get(eid)
                    return {ments[m] for m in (e.mention_ids if e else ()) if m in ments}

                golds = [(r, keys(g_ents, g_ments, r.head), keys(g_ents, g_ments, r.tail)) for r in g.relations if not rtypes or r.type in rtypes]
                used = set()
                for r in p.relations:
                    ph, pt = keys(p_ents, p_ments, r.head), keys(p_ents, p_ments, r.tail)
                    for k, (gr, gh, gt) in enumerate(golds):
                        if k in used or gr.type != r.type:
                            continue
                        ok = (ph & gh and pt & gt) or (not directed.get(gr.type, gr.directed) and ph & gt and pt & gh)
                        if ok:
                            used.add(k)
                            break
                rtp += len(used)
                rn_p += len(p.relations)
                rn_g += len(golds)
            out.update(_prf(tp, n_p, n_g, "ner"))
            out.update(_prf(rtp, rn_p, rn_g, "e2e_re"))
        if "gold" in preds:
            tp = n_p = n_g = 0
            for p, g in zip(preds["gold"], gold):
                gk = {rel_key(r, r.head, r.tail) for r in g.relations if r.level == "entity" and (not rtypes or r.type in rtypes)}
                pk = {rel_key(r, r.head, r.tail) for r in p.relations}
                tp += len(gk & pk)
                n_p += len(pk)
                n_g += len(gk)
            out.update(_prf(tp, n_p, n_g, "re"))
        return out

    return score


def registry_scorer(spec: str) -> tuple[Scorer, str]:
    """A scorer for ``NAME:MODE`` using ``registry.evaluators``; returns it with
    the mode it needs."""
    name, _, mode = spec.rpartition(":")
    if not name or mode not in ("e2e", "gold"):
        raise error("E402", key="evaluation.scorers", reason=f"{spec!r}: expected 'builtin' or 'EVALUATOR:MODE' with MODE e2e or gold")
    from ..registry import registry

    factory = registry.evaluators.get(name)
    try:
        evaluator = factory(n_resamples=0)
    except TypeError:
        evaluator = factory()

    def score(preds: Mapping[str, Sequence[Document]], gold: Sequence[Document]) -> dict[str, float]:
        examples = [Example(p, g) for p, g in zip(preds[mode], gold)]
        report = evaluator(examples)
        out: dict[str, float] = {}
        if hasattr(report, "scores"):
            out.update({f"{spec}/{k}": float(v) for k, v in report.scores().items()})
            out[f"{spec}/primary"] = float(report.primary)
        elif isinstance(report, Mapping):
            out.update({f"{spec}/{k}": float(v) for k, v in report.items() if isinstance(v, (int, float))})
        return out

    return score, mode


def make_scorer(specs: Sequence[str], *, labels=None) -> tuple[Scorer, tuple[str, ...]]:
    """``(scorer, modes it needs)`` from ``evaluation.scorers``."""
    parts: list[Scorer] = []
    modes: set[str] = set()
    for spec in specs:
        if spec == "builtin":
            parts.append(builtin_scorer(
                labels.entity_types if labels else (), labels.relation_types if labels else (), labels.directed if labels else None
            ))
            modes.update(("e2e", "gold") if (labels is None or labels.relation_types) else ("e2e",))
        else:
            s, mode = registry_scorer(spec)
            parts.append(s)
            modes.add(mode)

    def score(preds, gold):
        out: dict[str, float] = {}
        for s in parts:
            out.update(s(preds, gold))
        return out

    return score, tuple(sorted(modes))


def primary_value(metrics: Mapping[str, float], name: str) -> float:
    if name not in metrics:
        raise error("E413", metric=name, choices=", ".join(sorted(metrics)) or "(none)")
    return float(metrics[name])


__all__ = ["Scorer", "builtin_scorer", "registry_scorer", "make_scorer", "primary_value"]
