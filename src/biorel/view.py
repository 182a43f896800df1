"""``biorel view``: one self-contained HTML page for a corpus, optionally coloured against gold.

:func:`render_view` turns predicted (or any) documents into a single HTML file:
the viewer's JavaScript and CSS (``biorel/data/web/``, the same files the
``biorel serve`` page uses) are inlined and the documents are embedded as JSON
in a ``<script type="application/json">`` element, with ``<``, ``>``, ``&`` and
the JavaScript line separators escaped so that no text can close the element.
Nothing is fetched when the page is opened.

With gold documents every mention and relation carries a **status** computed
here, in Python, with biorel's own scorers, so that the colours agree with
``biorel evaluate`` (run leniently):

* mentions are scored by ``biorel.NER.v1`` (``ner_match``: strict by default, or
  the protocol itself when it is an NER protocol);
* relations by the chosen relation protocol (``concept``, ``cid``, ``mention``,
  ``e2e``; default ``e2e``, the protocol that compares entity strings and so
  suits models without a normaliser).

The statuses are those of the scorer's own items: each object (mention or
relation) is turned into the protocol's match items, the items are deduplicated
and matched with :mod:`biorel.evaluation.matching` exactly as the scorer does,
and the per-document TP/FP/FN that result are checked against the scorer's report
(E523 if they ever differ). An object is ``tp`` when all its items are matched,
``fp`` (predicted) or ``fn`` (gold) when none is, ``partial`` when some are, and
``ignored`` when the protocol does not score it (a type it leaves out). Duplicate
objects share their item's status; the counts count the item once, as the scorer
does. Gold objects that were missed are embedded under ids prefixed ``gold:``,
together with the gold entities and mentions that a missed relation names.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from . import io
from .errors import Diagnostics, error
from .evaluation.base import Evaluator, make_evaluator
from .evaluation.matching import MatchItem, dedupe, match
from .evaluation.ner import NEREvaluator, overlap_matrix, spans_overlap
from .evaluation.relations import _RelationEvaluator
from .registry import registry
from .types import Document, Example, pair_examples

DEFAULT_PROTOCOL = "e2e"
GOLD_PREFIX = "gold:"
WEB_ASSETS = ("biorel-view.js", "biorel-view.css")

Status = str  # "tp" | "fp" | "fn" | "partial" | "ignored" | "ctx"


# ---- package assets ---------------------------------------------------------------------


def web_asset(name: str) -> str:
    """The text of a file of the viewer (``biorel/data/web/<name>``)."""
    path = files("biorel") / "data" / "web" / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise error("E524", name=name, reason=str(e)) from None


# ---- scoring: statuses per object ----------------------------------------------------------


@dataclass(slots=True)
class Scored:
    """Statuses of one side's objects and the per-type ``[TP, FP, FN]`` they add up to."""

    pred: list[Status]
    gold: list[Status]
    counts: dict[str, list[int]]

    def total(self) -> list[int]:
        return [sum(c[i] for c in self.counts.values()) for i in range(3)]


def resolve_evaluators(protocol: str = DEFAULT_PROTOCOL, *, ner_match: str = "strict") -> tuple[Evaluator, Evaluator | None]:
    """The mention scorer and the relation scorer (``None`` when ``protocol`` is
    an NER protocol: relations are shown unscored). E521 for a protocol that does
    not score the annotations of documents (``abroad``, ``sentence``)."""
    name = registry.evaluators.resolve(protocol)
    cls = registry.evaluators.get(name)
    if issubclass(cls, NEREvaluator):
        return make_evaluator(name, match=ner_match, n_resamples=0), None
    if issubclass(cls, _RelationEvaluator):
        return make_evaluator("ner", match=ner_match, n_resamples=0), make_evaluator(name, n_resamples=0)
    raise error("E521", name=name, reason="it does not score the mentions or relations of documents")


def _compatibility(ev: Evaluator) -> tuple[Callable[[Hashable, Hashable], bool] | None, Any]:
    """The ``compatible`` test and ``adjacency`` that the evaluator's
    ``score_document`` hands to :func:`~biorel.evaluation.matching.score_items`."""
    if isinstance(ev, NEREvaluator):
        return (spans_overlap, overlap_matrix) if ev.match == "overlap" else (None, None)
    return getattr(ev, "compatible", None), None


def _object_items(ev: Evaluator, doc: Document, side: str) -> list[list[MatchItem]]:
    """The scorer's match items of each mention (NER) or relation, in document
    order; their concatenation is what the scorer builds for the whole document."""
    scratch = Diagnostics()  # problems are reported once, by the scorer's own run (scorer_counts)
    ev._lenient = True  # as that run: an item that cannot be scored is a false positive / negative
    if isinstance(ev, NEREvaluator):
        return [ev._items(dataclasses.replace(doc, mentions=[m]), side) for m in doc.mentions]
    assert isinstance(ev, _RelationEvaluator)
    return [ev.items(dataclasses.replace(doc, relations=[r]), side, scratch) for r in doc.relations]


def _status(flags: Sequence[bool], miss: Status) -> Status:
    if not flags:
        return "ignored"
    if all(flags):
        return "tp"
    return miss if not any(flags) else "partial"


def score_objects(ev: Evaluator, example: Example) -> Scored:
    """Statuses of the predicted and gold objects of one example under ``ev``
    (see the module docstring) and the counts they give."""
    pred_objs = _object_items(ev, example.predicted, "predicted")
    gold_objs = _object_items(ev, example.reference, "gold")
    pred = dedupe(it for items in pred_objs for it in items)
    gold = dedupe(it for items in gold_objs for it in items)
    compatible, adjacency = _compatibility(ev)
    pairs = match(gold, pred, compatible, adjacency=adjacency)
    g_hit = {(gold[i].type, gold[i].key) for i, _ in pairs}
    p_hit = {(pred[j].type, pred[j].key) for _, j in pairs}
    counts: dict[str, list[int]] = {}
    for it in gold:
        counts.setdefault(it.type, [0, 0, 0])[0 if (it.type, it.key) in g_hit else 2] += 1
    for it in pred:
        if (it.type, it.key) not in p_hit:
            counts.setdefault(it.type, [0, 0, 0])[1] += 1
    return Scored(
        pred=[_status([(it.type, it.key) in p_hit for it in items], "fp") for items in pred_objs],
        gold=[_status([(it.type, it.key) in g_hit for it in items], "fn") for items in gold_objs],
        counts=counts,
    )


def scorer_counts(ev: Evaluator, examples: list[Example], diagnostics: Diagnostics) -> list[dict[str, list[int]]]:
    """Per document ``{type: [TP, FP, FN]}`` as the scorer itself reports them (lenient)."""
    report = ev(examples, diagnostics=diagnostics, lenient=True)
    out = []
    for d in range(report.n_documents):
        out.append({t: [int(x) for x in report.counts[d, i]] for i, t in enumerate(report.types) if report.counts[d, i].any()})
    return out


def _check(ev: Evaluator, doc: str, mine: dict[str, list[int]], theirs: dict[str, list[int]]) -> None:
    mine = {t: c for t, c in mine.items() if any(c)}
    if mine != theirs:
        raise error("E523", doc=doc, name=ev.name, what=f"view {mine} vs scorer {theirs}")


# ---- the embedded documents ----------------------------------------------------------------


def _round(x: Any) -> Any:
    return round(x, 4) if isinstance(x, float) else x


def pack_mention(m: dict[str, Any], text: str) -> list[Any]:
    """A mention dict as a row ``[id, spans, type, status, score, rest]`` (trailing
    ``null`` s dropped): ``score`` is ``infons["score"]`` rounded to 4 places,
    ``rest`` the other keys; a single-span mention's text is left out when it is
    the text at its span (the page rebuilds it). The page unpacks rows."""
    rest = {k: v for k, v in m.items() if k not in ("id", "spans", "type", "status", "infons")}
    infons = dict(m.get("infons") or {})
    score = _round(infons.pop("score", None))
    if infons:
        rest["infons"] = infons
    spans = m["spans"]
    if len(spans) == 1 and text[spans[0][0] : spans[0][1]] == rest.get("text"):
        del rest["text"]
    row = [m["id"], spans, m["type"], m.get("status"), score, rest or None]
    while row[-1] is None:
        row.pop()
    return row


def _compact(d: dict[str, Any], text: str) -> dict[str, Any]:
    """A document dict without what the page can rebuild (metadata, mention texts),
    mentions packed as rows (:func:`pack_mention`), relation scores rounded to 4 places."""
    d.pop("metadata", None)
    d["mentions"] = [pack_mention(m, text) for m in d.get("mentions", ())]
    for r in d.get("relations", ()):
        if "score" in r:
            r["score"] = _round(r["score"])
    return d


def _gold_extras(gold: Document, scored_m: Scored | None, scored_r: Scored | None) -> dict[str, list[dict[str, Any]]]:
    """Missed gold mentions and relations (ids prefixed), with the gold entities and
    mentions the missed relations name (mentions not missed get status ``ctx``)."""
    pre = GOLD_PREFIX
    gd = gold.to_dict()
    mentions: dict[str, dict[str, Any]] = {}
    m_status = scored_m.gold if scored_m else ["ignored"] * len(gold.mentions)
    for m, st in zip(gd["mentions"], m_status):
        if st in ("fn", "partial"):
            mentions[m["id"]] = {**m, "id": pre + m["id"], "status": st, "gold": True}
    relations, entities = [], {}
    ents = {e["id"]: e for e in gd["entities"]}
    by_id = {m["id"]: m for m in gd["mentions"]}
    r_status = scored_r.gold if scored_r else []
    for r, st in zip(gd["relations"], r_status):
        if st not in ("fn", "partial"):
            continue
        relations.append({**r, "id": pre + r["id"], "head": pre + r["head"], "tail": pre + r["tail"], "status": st, "gold": True})
        for ref in (r["head"], r["tail"]):
            mids = [ref] if r.get("level") == "mention" else list(ents.get(ref, {}).get("mention_ids", ()))
            if r.get("level") != "mention" and ref in ents and ref not in entities:
                e = ents[ref]
                entities[ref] = {**e, "id": pre + e["id"], "mention_ids": [pre + x for x in mids], "gold": True}
            for mid in mids:
                if mid in by_id and mid not in mentions:
                    mentions[mid] = {**by_id[mid], "id": pre + mid, "status": "ctx", "gold": True}
    return {"mentions": list(mentions.values()), "entities": list(entities.values()), "relations": relations}


def view_document(pred: Document, gold: Document | None = None, scored_m: Scored | None = None, scored_r: Scored | None = None) -> dict[str, Any]:
    """The embedded form of one document: :meth:`Document.to_dict` (compacted), with
    statuses and the missed gold objects when scored."""
    text = pred.text
    d = pred.to_dict()
    if gold is not None:
        for m, st in zip(d["mentions"], scored_m.pred if scored_m else ()):
            m["status"] = st
        for r, st in zip(d["relations"], scored_r.pred if scored_r else ()):
            r["status"] = st
        extras = _gold_extras(gold, scored_m, scored_r)
        for key in ("mentions", "entities", "relations"):
            d[key].extend(extras[key])
        d["counts"] = {"mentions": scored_m.total() if scored_m else None, "relations": scored_r.total() if scored_r else None}
    return _compact(d, text)


@dataclass(slots=True)
class ViewData:
    """What the page embeds: the documents and, with gold, the scorers and their totals."""

    title: str
    documents: list[dict[str, Any]]
    scoring: dict[str, Any] | None = None
    notes: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "documents": self.documents, "scoring": self.scoring, "notes": self.notes}


def _totals(ev: Evaluator, per_doc: list[dict[str, list[int]]]) -> dict[str, Any]:
    by_type: dict[str, list[int]] = {}
    for counts in per_doc:
        for t, c in counts.items():
            acc = by_type.setdefault(t, [0, 0, 0])
            for i in range(3):
                acc[i] += c[i]
    total = [sum(c[i] for c in by_type.values()) for i in range(3)]
    return {"protocol": ev.name, "settings": ev.settings(), "per_type": dict(sorted(by_type.items())), "total": total}


def build_view(
    pred_docs: Iterable[Document],
    gold_docs: Iterable[Document] | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    *,
    ner_match: str = "strict",
    title: str = "biorel view",
) -> ViewData:
    """The data of a view page (see :func:`render_view`)."""
    preds = list(pred_docs)
    if gold_docs is None:
        return ViewData(title, [view_document(d) for d in preds])
    mention_ev, relation_ev = resolve_evaluators(protocol, ner_match=ner_match)
    examples = pair_examples(preds, gold_docs)
    diags = Diagnostics()
    evs = [ev for ev in (mention_ev, relation_ev) if ev is not None]
    theirs = {ev.name: scorer_counts(ev, examples, diags) for ev in evs}
    documents = []
    for n, ex in enumerate(examples):
        scored = {}
        for ev in evs:
            scored[ev.name] = s = score_objects(ev, ex)
            _check(ev, ex.reference.id, s.counts, theirs[ev.name][n])
        documents.append(
            view_document(ex.predicted, ex.reference, scored.get(mention_ev.name), scored.get(relation_ev.name) if relation_ev else None)
        )
    scoring = {"mentions": _totals(mention_ev, theirs[mention_ev.name])}
    if relation_ev is not None:
        scoring["relations"] = _totals(relation_ev, theirs[relation_ev.name])
    notes = sorted({str(p) for p in diags.problems})
    return ViewData(title, documents, scoring, notes)


# ---- the page --------------------------------------------------------------------------------


def script_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&``
    (so no ``</script>`` or ``<!--``) and no U+2028/U+2029."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _inline_js(js: str) -> str:
    # the viewer's own code never holds '</' followed by 'script'; make sure of it
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def page_html(data: ViewData) -> str:
    """The self-contained HTML page for ``data``."""
    css = web_asset("biorel-view.css").replace("</style", "<\\/style")
    js = _inline_js(web_asset("biorel-view.js"))
    title = html.escape(data.title)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{title}</title>\n<style>\n{css}\n</style>\n</head>\n"
        f"<body class='bv-corpus'>\n<header class='bv-header'><h1>{title}</h1></header>\n"
        "<main id='bv-app' class='bv-app'><noscript>This page needs JavaScript.</noscript></main>\n"
        f"<script type='application/json' id='biorel-data'>{script_json(data.to_dict())}</script>\n"
        f"<script>\n{js}\n</script>\n</body>\n</html>\n"
    )


def render_view(
    pred_docs: Iterable[Document],
    gold_docs: Iterable[Document] | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    *,
    ner_match: str = "strict",
    title: str = "biorel view",
) -> str:
    """One self-contained HTML page showing ``pred_docs``; with ``gold_docs``
    every mention and relation is coloured true positive / false positive /
    missed by biorel's scorers (mentions: ``ner`` with ``ner_match``;
    relations: ``protocol``)."""
    return page_html(build_view(pred_docs, gold_docs, protocol, ner_match=ner_match, title=title))


# ---- files -----------------------------------------------------------------------------------


@dataclass(slots=True)
class ViewSummary:
    path: Path
    n_documents: int
    n_bytes: int
    scoring: dict[str, Any] | None


def _read(path: str | os.PathLike, fmt: str | None) -> list[Document]:
    if not Path(path).exists():
        raise error("E520", path=str(path))
    # as biorel evaluate reads: a PubTator relation naming a concept id that no
    # mention carries is a relation to an entity without mentions
    opts = {"unmentioned": "entity"} if io.resolve_format(path, fmt).name == "pubtator" else {}
    return io.load(path, fmt, **opts)


def write_view(
    corpus: str | os.PathLike,
    output: str | os.PathLike,
    *,
    gold: str | os.PathLike | None = None,
    format: str | None = None,
    gold_format: str | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    ner_match: str = "strict",
    title: str | None = None,
) -> ViewSummary:
    """Read CORPUS (and GOLD) in any format biorel reads and write the view page
    to ``output`` atomically (a failure leaves the old file or none)."""
    from .jobs import atomic_file, exclusive_lock

    pred_docs = _read(corpus, format)
    gold_docs = _read(gold, gold_format) if gold is not None else None
    name = title or f"biorel view {Path(corpus).name}" + (f" vs {Path(gold).name}" if gold is not None else "")
    data = build_view(pred_docs, gold_docs, protocol, ner_match=ner_match, title=name)
    page = page_html(data).encode("utf-8")
    try:
        with exclusive_lock(output), atomic_file(output, "wb") as fh:
            fh.write(page)
    except OSError as e:
        raise error("E522", path=str(output), reason=str(e)) from None
    return ViewSummary(Path(output), len(data.documents), len(page), data.scoring)
