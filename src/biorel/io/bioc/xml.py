"""BioC XML (``biorel.BioCXML.v1``, alias ``bioc-xml``), streaming both ways.

Reading uses :func:`lxml.etree.iterparse`: each ``<document>`` is turned into a
BioC tree, mapped (:mod:`biorel.io.bioc.mapping`, which states the mapping
rules) and then cleared, so memory stays flat however large the collection.
The collection's ``source``/``date``/``key``/``infons`` (which BioC puts before
the documents) go to every document's ``metadata["bioc.collection"]``.

Errors name the file, the line and the XML path, e.g.
``/collection/document[3]/passage[2]/annotation[@id='T5']``:

* broken or truncated XML -> E023 with the line, after the documents before it
  have been yielded; invalid UTF-8 -> E020 with line and byte offset. In
  lenient mode the error is reported and reading stops there.
* a root element other than ``<collection>`` -> E107.
* BioC v2 attributes are read as well as v1 elements: ``<collection source=
  date= key=>``, ``<document id=>``, ``<passage offset=>`` /
  ``<sentence offset=>`` (an element, when also present, is E106 "second");
  annotation and relation ids are attributes in both versions. Writing
  produces v1 (elements).
* elements BioC does not define, stray text and repeated infon keys -> E106
  (lenient: reported and skipped); missing or non-integer offsets, ids, ... ->
  E100/E101 (lenient: the annotation, relation or document is skipped).

Writing streams too: the header (taken from the first document's
``metadata["bioc.collection"]``), then one serialised ``<document>`` at a time,
then the footer. Strings that XML 1.0 cannot hold (control characters) raise
E104. ``\\r`` in texts is written as ``&#13;`` so offsets survive.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import Any, TextIO
from collections.abc import Iterable, Iterator

from lxml import etree

from ...errors import Diagnostics, FormatError, SourceLocation, error
from ...registry import registry
from ...types import Document
from ..base import Format, RawDocument, Source, ensure_diagnostics, report_or_raise, json_like, source_name
from ._io import find_bad_utf8, open_input
from .mapping import Context, collection_metadata, from_document, header_of, to_document

FMT = "BioC XML"
XML_HEADER = "<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE collection SYSTEM 'BioC.dtd'>\n"

# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    name = source_name(source)
    diagnostics = ensure_diagnostics(lenient, diagnostics)
    ctx = Context(name, "xml", lenient, diagnostics)
    with open_input(source) as (fh, was_text):
        events = etree.iterparse(
            fh,
            events=("start", "end"),
            encoding="utf-8" if was_text else None,  # text is already decoded: ignore the declaration
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=True,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            yield from _documents(events, ctx)
        except etree.XMLSyntaxError as e:
            err = _syntax_error(e, source, name)
            report_or_raise(err, "rest of file skipped", lenient=lenient, diagnostics=diagnostics)


def _documents(events, ctx: Context) -> Iterator[RawDocument]:
    root = None
    depth = 0
    n_docs = 0
    coll: dict[str, Any] = {"source": None, "date": None, "key": None}
    coll_infons: dict[str, str] = {}
    for event, el in events:
        if event == "start":
            depth += 1
            if depth == 1:
                root = el
                if el.tag != "collection":
                    raise error(
                        "E107",
                        where=SourceLocation(ctx.file, el.sourceline, f"/{el.tag}"),
                        fmt=FMT,
                        reason=f"the root element is <{el.tag}>, not <collection>",
                    )
                _v2_header(el, coll)
            continue
        depth -= 1
        if depth != 1:
            continue
        tag = el.tag
        if tag == "document":
            n_docs += 1
            where = SourceLocation(ctx.file, el.sourceline, f"/collection/document[{n_docs}]")
            try:
                tree = _document_tree(el, where, ctx)
            except FormatError as err:
                ctx.skip(err, "document skipped")
                tree = None
            if tree is not None:
                raw = to_document(tree, where, ctx, collection_metadata(coll["source"], coll["date"], coll["key"], coll_infons))
                if raw is not None:
                    yield raw
        elif tag in ("source", "date", "key"):
            coll[tag] = el.text or ""
        elif tag == "infon":
            _add_infon(coll_infons, el, SourceLocation(ctx.file, el.sourceline, "/collection"), ctx)
        else:
            where = SourceLocation(ctx.file, el.sourceline, f"/collection/{el.tag}")
            ctx.skip(
                error("E106", where=where, what=f"element <{el.tag}>", parent="<collection>", reason="BioC does not define it"), "element skipped"
            )
        el.clear(keep_tail=True)
        while el.getprevious() is not None:
            del root[0]


def _syntax_error(e: etree.XMLSyntaxError, source: Source, name: str):
    line = e.lineno if e.lineno else None
    column = e.position[1] if e.position else None
    msg = (e.msg or str(e)).strip()
    if "encoding" in msg.lower() or "utf-8" in msg.lower():
        located = find_bad_utf8(source, FMT)
        if located is not None:
            return located
        return error("E020", where=SourceLocation(name, line), byte=column, reason=msg)
    return error("E023", where=SourceLocation(name, line, offset=column), reason=msg)


# ---- element -> BioC tree ---------------------------------------------------


def _children(el, where: SourceLocation, ctx: Context, allowed: tuple[str, ...]):
    """The child elements of ``el`` whose tag is allowed; anything else
    (unknown elements, stray non-blank text) is E106."""
    if el.text and el.text.strip():
        ctx.skip(error("E106", where=where, what="text", parent=f"<{el.tag}>", reason=f"stray text {el.text.strip()[:40]!r}"), "text skipped")
    for child in el:
        if child.tail and child.tail.strip():
            ctx.skip(
                error(
                    "E106",
                    where=SourceLocation(where.file, child.sourceline, where.path),
                    what="text",
                    parent=f"<{el.tag}>",
                    reason=f"stray text {child.tail.strip()[:40]!r}",
                ),
                "text skipped",
            )
        if child.tag in allowed:
            yield child
        else:
            cloc = SourceLocation(where.file, child.sourceline, f"{where.path}/{child.tag}")
            ctx.skip(
                error("E106", where=cloc, what=f"element <{child.tag}>", parent=f"<{el.tag}>", reason="BioC does not define it here"),
                "element skipped",
            )


def _add_infon(infons: dict[str, str], el, parent: SourceLocation, ctx: Context) -> None:
    key = el.get("key")
    where = SourceLocation(parent.file, el.sourceline, f"{parent.path}/infon" + (f"[@key='{key}']" if key is not None else ""))
    if key is None:
        ctx.skip(error("E100", where=where, what="infon", field="key attribute"), "infon skipped")
        return
    if len(el):
        ctx.skip(error("E106", where=where, what=f"element <{el[0].tag}>", parent="<infon>", reason="an infon holds text only"), "infon skipped")
        return
    if key in infons:
        ctx.skip(
            error("E106", where=where, what=f"second infon '{key}'", parent="element", reason="infon keys must be unique; the first value is kept"),
            "infon skipped",
        )
        return
    infons[key] = el.text or ""


def _single_text(node: dict, field: str, el, where: SourceLocation, ctx: Context) -> None:
    if field in node:
        ctx.skip(
            error(
                "E106",
                where=SourceLocation(where.file, el.sourceline, f"{where.path}/{el.tag}"),
                what=f"second <{el.tag}>",
                parent="element",
                reason="only one is allowed; the first is kept",
            ),
            "element skipped",
        )
        return
    node[field] = el.text or ""


def _document_tree(el, where: SourceLocation, ctx: Context) -> dict:
    node: dict[str, Any] = {"_line": el.sourceline, "infons": {}, "passages": [], "annotations": [], "relations": []}
    counts = {"passage": 0, "annotation": 0, "relation": 0}
    if el.get("id") is not None:  # BioC v2: <document id="...">
        node["id"] = el.get("id")
    for child in _children(el, where, ctx, ("id", "infon", "passage", "annotation", "relation")):
        tag = child.tag
        if tag == "id":
            _single_text(node, "id", child, where, ctx)
        elif tag == "infon":
            _add_infon(node["infons"], child, where, ctx)
        elif tag == "passage":
            counts[tag] += 1
            node["passages"].append(_passage_tree(child, SourceLocation(where.file, child.sourceline, f"{where.path}/passage[{counts[tag]}]"), ctx))
        elif tag == "annotation":
            node["annotations"].append(_annotation_tree(child, where, ctx))
        else:
            node["relations"].append(_relation_tree(child, where, ctx))
    if isinstance(node.get("id"), str):
        node["id"] = node["id"].strip()
    return node


def _v2_header(el, coll: dict[str, Any]) -> None:
    """BioC v2 puts the collection's source / date / key in attributes."""
    for tag in ("source", "date", "key"):
        if el.get(tag) is not None:
            coll[tag] = el.get(tag)


def _passage_tree(el, where: SourceLocation, ctx: Context, *, sentence: bool = False) -> dict:
    node: dict[str, Any] = {"_line": el.sourceline, "infons": {}, "annotations": [], "relations": []}
    allowed = ("infon", "offset", "text", "annotation", "relation") + (() if sentence else ("sentence",))
    n_sent = 0
    if el.get("offset") is not None:  # BioC v2: <passage offset="...">
        node["offset"] = el.get("offset")
    for child in _children(el, where, ctx, allowed):
        tag = child.tag
        if tag == "infon":
            _add_infon(node["infons"], child, where, ctx)
        elif tag in ("offset", "text"):
            _single_text(node, tag, child, where, ctx)
        elif tag == "sentence":
            n_sent += 1
            node.setdefault("sentences", []).append(
                _passage_tree(child, SourceLocation(where.file, child.sourceline, f"{where.path}/sentence[{n_sent}]"), ctx, sentence=True)
            )
        elif tag == "annotation":
            node["annotations"].append(_annotation_tree(child, where, ctx))
        else:
            node["relations"].append(_relation_tree(child, where, ctx))
    return node


def _annotation_tree(el, parent: SourceLocation, ctx: Context) -> dict:
    node: dict[str, Any] = {"_line": el.sourceline, "infons": {}, "locations": []}
    if el.get("id") is not None:
        node["id"] = el.get("id")
    ident = f"[@id='{el.get('id')}']" if el.get("id") is not None else ""
    where = SourceLocation(parent.file, el.sourceline, f"{parent.path}/annotation{ident}")
    for child in _children(el, where, ctx, ("infon", "location", "text")):
        if child.tag == "infon":
            _add_infon(node["infons"], child, where, ctx)
        elif child.tag == "location":
            node["locations"].append({"_line": child.sourceline, "offset": child.get("offset"), "length": child.get("length")})
        else:
            _single_text(node, "text", child, where, ctx)
    return node


def _relation_tree(el, parent: SourceLocation, ctx: Context) -> dict:
    node: dict[str, Any] = {"_line": el.sourceline, "infons": {}, "nodes": []}
    if el.get("id") is not None:
        node["id"] = el.get("id")
    ident = f"[@id='{el.get('id')}']" if el.get("id") is not None else ""
    where = SourceLocation(parent.file, el.sourceline, f"{parent.path}/relation{ident}")
    for child in _children(el, where, ctx, ("infon", "node")):
        if child.tag == "infon":
            _add_infon(node["infons"], child, where, ctx)
        else:
            node["nodes"].append({"_line": child.sourceline, "refid": child.get("refid"), "role": child.get("role")})
    return node


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


def _sub(parent, tag: str, text: str | None = None, **attrs: str):
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = text
    return el


def _infons(parent, infons: dict[str, Any]) -> None:
    for key, value in infons.items():
        _sub(parent, "infon", str(value), key=key)


def _document_element(tree: dict) -> etree._Element:
    doc = etree.Element("document")
    _sub(doc, "id", tree["id"])
    _infons(doc, tree["infons"])
    for p in tree["passages"]:
        pel = _sub(doc, "passage")
        _infons(pel, p["infons"])
        _sub(pel, "offset", str(p["offset"]))
        if "text" in p:
            _sub(pel, "text", p["text"])
        for s in p["sentences"]:
            sel = _sub(pel, "sentence")
            _infons(sel, s["infons"])
            _sub(sel, "offset", str(s["offset"]))
            _sub(sel, "text", s["text"])
            _items(sel, s)
        _items(pel, p)
    for r in tree["relations"]:
        _relation_element(doc, r)
    return doc


def _items(parent, node: dict) -> None:
    for a in node["annotations"]:
        ael = _sub(parent, "annotation", id=a["id"])
        _infons(ael, a["infons"])
        for loc in a["locations"]:
            _sub(ael, "location", offset=str(loc["offset"]), length=str(loc["length"]))
        _sub(ael, "text", a["text"])
    for r in node["relations"]:
        _relation_element(parent, r)


def _relation_element(parent, r: dict) -> None:
    rel = _sub(parent, "relation", id=r["id"])
    _infons(rel, r["infons"])
    for n in r["nodes"]:
        _sub(rel, "node", refid=n["refid"], role=n["role"])


def _header(coll: dict[str, Any]) -> str:
    parts = []
    for tag in ("source", "date", "key"):
        el = etree.Element(tag)
        el.text = coll.get(tag, "")
        parts.append(etree.tostring(el, encoding="unicode"))
    for key, value in (coll.get("infons") or {}).items():
        el = etree.Element("infon", key=key)
        el.text = value
        parts.append(etree.tostring(el, encoding="unicode"))
    return "\n".join(parts) + "\n"


def _write(docs: Iterable[Document], fh: TextIO, *, pretty: bool = True) -> int:
    """Stream ``docs`` as one BioC XML collection; returns the number written."""
    it = iter(docs)
    first = next(it, None)
    header = header_of(first)
    try:
        head = _header(header)
    except (ValueError, TypeError) as e:
        raise error("E104", doc=first.id if first else "", reason=f"collection header: {e}") from None
    fh.write(XML_HEADER + "<collection>\n" + head)
    n = 0
    for doc in chain([first], it) if first is not None else ():
        if doc.id != doc.id.strip():
            raise error("E104", doc=doc.id, reason="the id has leading or trailing whitespace, which BioC XML readers strip")
        tree = from_document(doc, header)
        try:
            el = _document_element(tree)
        except (ValueError, TypeError) as e:  # lxml refuses strings XML cannot hold
            raise error("E104", doc=doc.id, reason=str(e)) from None
        fh.write(etree.tostring(el, encoding="unicode", pretty_print=pretty))
        n += 1
    fh.write("</collection>\n")
    return n


# ---------------------------------------------------------------------------
# registration
# ---------------------------------------------------------------------------


def sniff(path: str) -> bool:
    """True when the file's root element is ``<collection>``."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096).decode("utf-8", "replace")
    except OSError:
        return False
    m = re.search(r"<([A-Za-z_][\w.\-:]*)", re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", "", head, flags=re.S))
    return bool(m) and m.group(1) == "collection"


_api = json_like(_raw, _write, require_text=True, fmt="bioc-xml", blank_is_empty=True)
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.BioCXML.v1",
    Format("bioc-xml", _api, extensions=(".bioc.xml", ".xml"), description="BioC XML collection (streaming)", sniff=sniff),
    aliases=("bioc-xml",),
)
