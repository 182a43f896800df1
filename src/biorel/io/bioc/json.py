"""BioC JSON (``biorel.BioCJSON.v1``, alias ``bioc-json``), streaming both ways.

The layout is the one the ``bioc`` package (2.x) reads and writes:
``{"source", "date", "key", "infons", "documents": [...]}`` with documents,
passages, annotations and relations as in BioC XML. Reading walks the
:mod:`ijson` event stream and builds one document object at a time (items
under ``documents``), which :mod:`biorel.io.bioc.mapping` maps with the same
rules as BioC XML. The collection fields must come before ``documents`` (every
BioC writer puts them there); one that comes after is E106, since the
documents already yielded cannot carry it.

Errors carry a JSON path such as ``$.documents[2].passages[1].annotations[4]``
(0-based). Broken JSON is E024 with the line and character offset (found by a
second, slower pass over the file when it can be re-read), after the
documents before it have been yielded; invalid UTF-8 is E020. In lenient mode
the error is reported and reading stops there.

Writing streams: a header, then each document as one JSON object per line
inside the ``documents`` array, then the footer. Every passage carries
``infons``/``sentences``/``annotations``/``relations`` so ``bioc.biocjson``
can load the output.
"""

from __future__ import annotations

import json as _json
import os
import re
from itertools import chain
from typing import Any, TextIO
from collections.abc import Iterable, Iterator

import ijson

from ...errors import Diagnostics, SourceLocation, error
from ...registry import registry
from ...types import Document
from ..base import Format, RawDocument, Source, ensure_diagnostics, report_or_raise, iter_lines, json_like, source_name
from ._io import find_bad_utf8, open_input, rereadable
from .mapping import IGNORED_KEYS, Context, collection_metadata, from_document, header_of, to_document

FMT = "BioC JSON"
COLLECTION_KEYS = ("source", "date", "key", "infons")

# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    name = source_name(source)
    diagnostics = ensure_diagnostics(lenient, diagnostics)
    ctx = Context(name, "json", lenient, diagnostics)
    with open_input(source) as (fh, _):
        try:
            yield from _values(_events(fh), ctx, source)
        except ijson.JSONError as e:
            err = _syntax_error(e, source, name)
            report_or_raise(err, "rest of file skipped", lenient=lenient, diagnostics=diagnostics)


def _events(fh, chunk_size: int = 64 * 1024) -> Iterator[tuple[str, str, Any]]:
    """ijson's ``(prefix, event, value)`` stream, fed block by block through
    its push interface so that the events parsed before a syntax error are
    still delivered (the pull interface drops the failing block's events).
    Several top-level values in a row are allowed (PubTator Central's export
    is one document object per line)."""
    events = ijson.sendable_list()
    coro = ijson.parse_coro(events, use_float=True, multiple_values=True)
    while True:
        chunk = fh.read(chunk_size)
        try:
            if chunk:
                coro.send(chunk)
            else:
                coro.close()  # end of input: an unfinished value raises here
        except ijson.JSONError:
            yield from events
            raise
        yield from events
        del events[:]
        if not chunk:
            return


def _value(event: str, value: Any, events) -> Any:
    """Build the JSON value that starts with ``(event, value)``."""
    if event not in ("start_map", "start_array"):
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for _, ev, val in events:
        builder.event(ev, val)
        if ev in ("start_map", "start_array"):
            depth += 1
        elif ev in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                break
    return builder.value


def _values(events, ctx: Context, source: Source) -> Iterator[RawDocument]:
    """Every top-level value: a collection (its keys in any order), one
    document, a list of documents, or an object wrapping one list of
    documents (PubTator3's ``{"PubTator3": [...]}``). An empty input gives no
    document."""
    events = iter(events)
    n = 0
    for _, ev, _val in events:
        where = f"$[{n}]" if n else "$"
        if ev == "start_array":
            yield from _document_items(events, ctx, {}, where)
        elif ev == "start_map":
            yield from _object(events, ctx, source, where)
        else:
            raise error(
                "E107",
                where=SourceLocation(ctx.file, path=where),
                fmt=FMT,
                reason=f"the top level is a JSON {ev.replace('start_', '')}, not an object or a list of documents",
            )
        n += 1


def _object(events, ctx: Context, source: Source, path: str) -> Iterator[RawDocument]:
    """A top-level object. Its ``documents`` are streamed when every
    collection field is known by then (BioC writers put them first); a file
    with ``documents`` earlier (sorted keys, ...) has its remaining collection
    fields found by a first pass over the file, or, for a stream that cannot be
    re-read, its documents are buffered until the object ends."""
    coll: dict[str, Any] = {}
    other: dict[str, Any] = {}
    buffered: list | None = None
    for prefix, event, key in events:
        if event == "end_map" and prefix == "":
            break
        _, ev, val = next(events)
        SourceLocation(ctx.file, path=f"{path}.{key}")
        if key == "documents" and ev == "start_array" and buffered is None:
            missing = [k for k in COLLECTION_KEYS if k not in coll]
            later = _later_fields(source, missing) if missing else {}
            if later is None:  # cannot re-read: keep the documents until the end
                buffered = _value(ev, val, events)
                continue
            coll.update(later)
            buffered = []
            yield from _document_items(events, ctx, _meta(coll, ctx, path), f"{path}.documents")
            continue
        value = _value(ev, val, events)
        if key in COLLECTION_KEYS and buffered is not None and not isinstance(buffered, list):
            coll[key] = value
        elif key in COLLECTION_KEYS and buffered == []:
            pass  # found by the first pass
        elif key in COLLECTION_KEYS:
            coll[key] = value
        else:
            other[key] = value
    if buffered:
        meta = _meta(coll, ctx, path)
        for i, node in enumerate(buffered):
            raw = to_document(node, SourceLocation(ctx.file, path=f"{path}.documents[{i}]"), ctx, meta)
            if raw is not None:
                yield raw
    if buffered is not None:
        for key in other:
            if key not in IGNORED_KEYS:
                ctx.skip(
                    error(
                        "E106",
                        where=SourceLocation(ctx.file, path=f"{path}.{key}"),
                        what=f"key '{key}'",
                        parent="collection",
                        reason="BioC does not define it",
                    ),
                    "key skipped",
                )
        return
    yield from _not_a_collection(coll | other, ctx, path)


def _not_a_collection(obj: dict, ctx: Context, path: str) -> Iterator[RawDocument]:
    """An object without ``documents``: one document (PubTator Central), or
    a wrapper holding one list of documents (PubTator3)."""
    if any(k in obj for k in ("passages", "id")):
        raw = to_document(obj, SourceLocation(ctx.file, path=path), ctx, {})
        if raw is not None:
            yield raw
        return
    lists = [(k, v) for k, v in obj.items() if isinstance(v, list) and k not in IGNORED_KEYS]
    if len(lists) == 1 and all(isinstance(d, dict) for d in lists[0][1]):
        key, docs = lists[0]
        for i, node in enumerate(docs):
            raw = to_document(node, SourceLocation(ctx.file, path=f"{path}.{key}[{i}]"), ctx, {})
            if raw is not None:
                yield raw
        return
    raise error(
        "E107",
        where=SourceLocation(ctx.file, path=path),
        fmt=FMT,
        reason=f"the object has no 'documents' list and is not a BioC document (keys: {', '.join(sorted(obj))[:200]})",
    )


def _meta(coll: dict[str, Any], ctx: Context, path: str) -> dict[str, Any]:
    infons = coll.get("infons")
    if infons is not None and not isinstance(infons, dict):
        ctx.skip(
            error(
                "E101",
                where=SourceLocation(ctx.file, path=f"{path}.infons"),
                what="collection",
                field="infons",
                value=type(infons).__name__,
                reason="expected an object",
            ),
            "field skipped",
        )
        infons = None
    return collection_metadata(coll.get("source"), coll.get("date"), coll.get("key"), infons)


def _later_fields(source: Source, wanted: list[str]) -> dict[str, Any] | None:
    """The top-level ``wanted`` collection fields of a file, read by a first
    pass that builds nothing else (``None``: the source is a stream)."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    found: dict[str, Any] = {}
    with open(source, "rb") as fh:
        events = ijson.parse(fh, use_float=True)
        try:
            for prefix, event, value in events:
                if prefix == "" and event == "map_key" and value in wanted:
                    _, ev, val = next(events)
                    found[value] = _value(ev, val, events)
        except ijson.JSONError:
            pass  # the second pass reports it where it is
    return found


def _document_items(events, ctx: Context, meta: dict[str, Any], path: str = "$.documents") -> Iterator[RawDocument]:
    index = 0
    for _, ev, val in events:
        if ev == "end_array":
            return
        node = _value(ev, val, events)
        where = SourceLocation(ctx.file, path=f"{path}[{index}]")
        index += 1
        raw = to_document(node, where, ctx, meta)
        if raw is not None:
            yield raw


def _syntax_error(e: Exception, source: Source, name: str):
    reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if "utf8" in reason.lower() or "utf-8" in reason.lower() or "codec" in reason.lower():
        located = find_bad_utf8(source, FMT)
        if located is not None:
            return located
        return error("E020", where=SourceLocation(name), byte=None, reason=reason)
    line, offset = _locate(source)
    return error("E024", where=SourceLocation(name, line, offset=offset), reason=reason)


def _locate(source: Source) -> tuple[int | None, int | None]:
    """Line and character offset of a JSON syntax error (second pass with
    ijson's pure-Python backend, which reports positions)."""
    target = rereadable(source)
    if target is None:
        return None, None
    pos: int | None = None
    with open_input(target) as (fh, _):
        try:
            for _ in ijson.get_backend("python").basic_parse(fh):
                pass
        except ijson.JSONError as e:
            m = re.search(r" at (\d+)$", str(e))
            pos = int(m.group(1)) if m else None
        except Exception:  # pragma: no cover - decoding problems are found before
            return None, None
    target = rereadable(source)
    if target is None:
        return None, pos
    line, seen = 1, 0
    for where, text in iter_lines(target, fmt=FMT):
        line = where.line
        if pos is not None and seen + len(text) + 1 > pos:
            return line, pos
        seen += len(text) + 1
    return line, pos if pos is not None else seen


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return _json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _document_json(tree: dict) -> dict:
    """The BioC JSON object of a document tree (every list present, as the
    ``bioc`` package expects; extra keys a source had come after them)."""
    head = {"id": tree["id"], "infons": tree["infons"], "passages": tree["passages"], "annotations": [], "relations": tree["relations"]}
    return head | {k: v for k, v in tree.items() if k not in head}


def _write(docs: Iterable[Document], fh: TextIO) -> int:
    """Stream ``docs`` as one BioC JSON collection; returns the number written."""
    it = iter(docs)
    first = next(it, None)
    header = header_of(first)
    head = {k: header.get(k, "") for k in ("source", "date", "key")}
    head["infons"] = header.get("infons", {})
    fh.write(_dumps(head)[:-1] + ',"documents":[')
    n = 0
    for doc in chain([first], it) if first is not None else ():
        tree = from_document(doc, header, style="json")
        fh.write(("\n" if n == 0 else ",\n") + _dumps(_document_json(tree)))
        n += 1
    fh.write("\n]}\n")
    return n


# ---------------------------------------------------------------------------
# registration
# ---------------------------------------------------------------------------


def sniff(path: str) -> bool:
    """True for a BioC collection: an object with a ``documents`` list whose
    leading keys are BioC collection fields (not an ABroad-style dict keyed by
    PMIDs)."""
    try:
        with open(path, "rb") as fh:
            events = ijson.parse(fh)
            for prefix, event, value in events:
                if prefix == "" and event == "start_map":
                    continue
                if prefix == "" and event == "map_key":
                    if value == "documents":
                        _, ev, _ = next(events)
                        return ev == "start_array"
                    if value not in COLLECTION_KEYS and value not in IGNORED_KEYS:
                        return False
                    continue
                if prefix == "":
                    return False
    except (ijson.JSONError, OSError, StopIteration, UnicodeDecodeError):
        return False
    return False


_api = json_like(_raw, _write, require_text=True, fmt="bioc-json", blank_is_empty=True)
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.BioCJSON.v1",
    Format("bioc-json", _api, extensions=(".bioc.json", ".json"), description="BioC JSON collection (streaming)", sniff=sniff),
    aliases=("bioc-json",),
)
