"""PURE / DyGIE span JSON lines, as in the end-to-end ChemProt release
(``chemprot_pure_json/{dev,test}.json``).

One JSON object per line::

    {"doc_key": "23477570",
     "sentences": [["In", "situ", ...], ...],
     "ner": [[[start, end, "CHEMICAL"], ...], ...],            # one list per sentence
     "relations": [[[s1, e1, s2, e2, "CPR:4"], ...], ...]}    # one list per sentence

Token indices are document-global and ``end`` is inclusive (DyGIE convention).

Reading rules:

* Text: each sentence's tokens joined by single spaces; sentences one space
  apart. Every sentence is a passage of type ``sentence``. The original
  whitespace is not in the format, so offsets are those of this rebuilt text.
* ``ner`` spans become mentions ``T1``, ``T2``, ... in file order, typed as given.
  A span outside its sentence's tokens, or with ``end < start``, is E172.
* ``relations`` become mention-level, directed relations ``R1``, ``R2``, ...
  (head = first span, tail = second, type = the label, e.g. ``CPR:4``). An
  argument that is not an ``ner`` span of that sentence is E173.
* ``ner``/``relations`` lists must have one entry per sentence (E022).
  Lenient mode skips a bad span or relation (or a bad line) and reports it.

Writing puts back exactly what was read (same key order and separators); other
documents are written with passages as sentences (type ``sentence``) or split
by :func:`biorel.sentences.split_sentences`, tokens cut at mention boundaries
(``tokenizer`` as in :mod:`biorel.io.conll`). Discontinuous mentions, mentions
crossing a sentence, entity-level relations and relations across sentences
cannot be written (E166).
"""

from __future__ import annotations

import json
from typing import Any, TextIO
from collections.abc import Iterable, Iterator

from ..errors import Diagnostics, FormatError, SourceLocation, error
from ..registry import registry
from ..types import Document, Mention, Passage, Relation
from .base import Format, RawDocument, Source, iter_lines, json_like, report_or_raise
from .conll import _tokens


def _check_shape(d: Any) -> None:
    if not isinstance(d, dict) or "doc_key" not in d or not isinstance(d.get("sentences"), list):
        raise ValueError("expected an object with 'doc_key' and 'sentences'")
    n = len(d["sentences"])
    for key in ("ner", "relations"):
        if key in d and (not isinstance(d[key], list) or len(d[key]) != n):
            raise ValueError(f"'{key}' must be a list with one entry per sentence ({n})")


def _build(d: dict, where: SourceLocation, lenient: bool, diagnostics: Diagnostics | None) -> RawDocument:
    doc = Document(str(d["doc_key"]))
    item_where: dict[str, SourceLocation] = {}
    starts: list[int] = []  # char offset of each global token
    token_text: list[str] = []
    sent_range: list[tuple[int, int]] = []
    pos = 0
    for sent in d["sentences"]:
        first = len(starts)
        if doc.passages:
            pos += 1
        offset = pos
        for tok in sent:
            tok = str(tok)
            starts.append(pos)
            token_text.append(tok)
            pos += len(tok) + 1
        pos -= 1 if sent else 0
        doc.passages.append(Passage(offset, " ".join(str(t) for t in sent), "sentence"))
        sent_range.append((first, len(starts) - 1))

    def report(err: FormatError) -> None:
        report_or_raise(err, "skipped", lenient=lenient, diagnostics=diagnostics)

    by_span: dict[tuple[int, int, int], str] = {}
    for i, spans in enumerate(d.get("ner") or [[] for _ in d["sentences"]]):
        lo, hi = sent_range[i]
        for j, item in enumerate(spans):
            loc = SourceLocation(where.file, where.line, path=f"$.ner[{i}][{j}]")
            try:
                s, e, typ = int(item[0]), int(item[1]), str(item[2])
            except (TypeError, ValueError, IndexError):
                report(error("E022", where=loc, fmt="PURE", reason=f"expected [start, end, type], got {item!r}"))
                continue
            if not (lo <= s <= e <= hi):
                report(error("E172", where=loc, start=s, end=e, sent=i, lo=lo, hi=hi))
                continue
            mid = f"T{len(doc.mentions) + 1}"
            text = " ".join(token_text[s : e + 1])
            doc.mentions.append(Mention(mid, ((starts[s], starts[e] + len(token_text[e])),), text, typ))
            item_where[mid] = loc
            by_span.setdefault((i, s, e), mid)
    for i, rels in enumerate(d.get("relations") or [[] for _ in d["sentences"]]):
        for j, item in enumerate(rels):
            loc = SourceLocation(where.file, where.line, path=f"$.relations[{i}][{j}]")
            try:
                s1, e1, s2, e2, label = int(item[0]), int(item[1]), int(item[2]), int(item[3]), str(item[4])
            except (TypeError, ValueError, IndexError):
                report(error("E022", where=loc, fmt="PURE", reason=f"expected [s1, e1, s2, e2, label], got {item!r}"))
                continue
            head, tail = by_span.get((i, s1, e1)), by_span.get((i, s2, e2))
            if head is None or tail is None:
                bad = (s1, e1) if head is None else (s2, e2)
                report(error("E173", where=loc, rel=list(item), start=bad[0], end=bad[1], sent=i))
                continue
            rid = f"R{len(doc.relations) + 1}"
            doc.relations.append(Relation(rid, label, head, tail, level="mention", directed=True))
            item_where[rid] = loc
    return RawDocument(doc, where, item_where)


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    for where, line in iter_lines(source, fmt="PURE", lenient=lenient, diagnostics=diagnostics):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            _check_shape(d)
        except json.JSONDecodeError as e:
            err = error("E024", where=SourceLocation(where.file, where.line, offset=e.pos), reason=e.msg)
        except ValueError as e:
            err = error("E022", where=where, fmt="PURE", reason=str(e))
        else:
            yield _build(d, where, lenient, diagnostics)
            continue
        report_or_raise(err, "line skipped", lenient=lenient, diagnostics=diagnostics)


# ---- writing -----------------------------------------------------------------


def _sentences(doc: Document, mode: str) -> list[tuple[int, str]]:
    from ..sentences import split_sentences

    out: list[tuple[int, str]] = []
    for p in sorted(doc.passages, key=lambda p: p.offset):
        if mode == "passage" or (mode == "auto" and p.type == "sentence"):
            out.append((p.offset, p.text))
        else:
            out.extend((s, p.text[s - p.offset : e - p.offset]) for s, e in split_sentences(p.text, p.offset))
    return out


def _fail(doc: Document, reason: str) -> FormatError:
    return error("E166", fmt="PURE", reason=f"document '{doc.id}': {reason}")


def to_pure(doc: Document, *, sentences: str = "auto", tokenizer: str = "whitespace") -> dict[str, Any]:
    """The PURE record of ``doc`` (see the module doc for what cannot be written)."""
    sents = _sentences(doc, sentences)
    cuts = {c for m in doc.mentions for s, e in m.spans for c in (s, e)}
    tokens: list[list[tuple[int, int]]] = [_tokens(text, off, cuts, tokenizer) for off, text in sents]
    index: dict[int, tuple[int, int]] = {}  # char start/end -> (sentence, global token)
    ends: dict[int, tuple[int, int]] = {}
    g = 0
    for i, toks in enumerate(tokens):
        for s, e in toks:
            index[s] = (i, g)
            ends[e] = (i, g)
            g += 1
    ner: list[list[list[Any]]] = [[] for _ in sents]
    where: dict[str, tuple[int, int, int]] = {}
    for m in doc.mentions:
        if len(m.spans) != 1:
            raise _fail(doc, f"mention '{m.id}' is discontinuous")
        a, b = index.get(m.start), ends.get(m.end)
        if a is None or b is None or a[0] != b[0]:
            raise _fail(doc, f"mention '{m.id}' {m.spans} does not cover whole tokens of one sentence")
        ner[a[0]].append([a[1], b[1], m.type])
        where[m.id] = (a[0], a[1], b[1])
    rels: list[list[list[Any]]] = [[] for _ in sents]
    for r in doc.relations:
        if r.level != "mention":
            raise _fail(doc, f"relation '{r.id}' is entity-level; PURE holds mention-level relations")
        h, t = where[r.head], where[r.tail]
        if h[0] != t[0]:
            raise _fail(doc, f"relation '{r.id}' crosses sentences")
        rels[h[0]].append([h[1], h[2], t[1], t[2], r.type])
    words = [[doc.text[s:e] for s, e in toks] for toks in tokens]
    return {"doc_key": doc.id, "sentences": words, "ner": ner, "relations": rels}


def _write(docs: Iterable[Document], fh: TextIO, *, sentences: str = "auto", tokenizer: str = "whitespace") -> int:
    n = 0
    for doc in docs:
        fh.write(json.dumps(to_pure(doc, sentences=sentences, tokenizer=tokenizer)))  # ASCII escapes, as the release
        fh.write("\n")
        n += 1
    return n


_api = json_like(_raw, _write, fmt="pure")
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.PURE.v1",
    Format("pure", _api, extensions=(".pure.json", ".pure.jsonl"), description="PURE/DyGIE span JSON lines (end-to-end ChemProt)"),
    aliases=("pure", "dygie"),
)
