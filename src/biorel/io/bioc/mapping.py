"""The BioC <-> biorel mapping shared by BioC XML and BioC JSON.

Both readers first turn one ``<document>`` (or one JSON object under
``documents``) into the same *BioC tree*: plain dicts shaped like BioC JSON
(``{"id", "infons", "passages": [{"offset", "infons", "text", "sentences",
"annotations", "relations"}], "annotations", "relations"}``; an annotation is
``{"id", "infons", "text", "locations": [{"offset", "length"}]}``, a relation
``{"id", "infons", "nodes": [{"refid", "role"}]}``). The XML reader adds a
``"_line"`` to every dict. This module maps that tree to a :class:`Document`
and back, so the two formats follow exactly the same rules.

Reading rules
-------------
* **Passages** become :class:`Passage` (``offset``, ``text``; infon ``type`` ->
  ``Passage.type``; other infons kept). A passage made of ``<sentence>``\\ s and
  no ``<text>`` gets its text laid out from the sentences (gaps are spaces);
  the sentence boundaries are kept in ``Passage.infons["bioc.sentences"]``.
* **Annotations** become :class:`Mention`. Locations are document-level
  character offsets (BioC's convention) and become the spans in file order;
  several locations make a discontinuous mention. Infon ``type`` ->
  ``Mention.type``. The concept ids come from the first of the infons
  ``identifier`` or ``Identifier`` (split on ``,``: BioRED writes
  ``20208,20210,6288``) or ``MESH`` / ``MeSH`` (split on ``|``: BC5CDR writes
  ``D006470|D003556``); ids are kept verbatim (BC5CDR's ``-1`` included). Every
  other infon stays in ``Mention.infons``.
* **Composite mentions (BC5CDR)**: the BC5CDR BioC files carry a composite
  mention *and* its parts, as separate annotations with infon
  ``CompositeRole`` = ``CompositeMention`` / ``IndividualMention``. Each
  annotation is one mention, nothing is merged or dropped: the composite keeps
  all its ids (``("D006470", "D003556")``), each individual mention keeps its
  own id and (often discontinuous) spans, and ``CompositeRole`` stays in
  ``Mention.infons``. That is why the BC5CDR test set has 9,928 BioC mentions
  but 9,809 PubTator mentions (119 individual parts).
* **Relations with nodes** become mention-level relations
  (``level="mention"``): the first node is the head, the second the tail.
  Roles other than ``head``/``tail`` are kept in
  ``Relation.infons["bioc.roles"]`` as a two-item list. A relation must have
  exactly 2 nodes (E102).
* **Relations with infons only** become entity-level relations between
  concept ids: head/tail are infons ``entity1``/``entity2`` (BioRED), or else
  the two infons whose keys are mention types of the document, in file order
  (BC5CDR: ``Chemical``, ``Disease``); none of these -> E103. The relation type
  is infon ``type``, else ``relation`` (BC5CDR's ``CID``). Every other infon
  (BioRED ``novel``) stays in ``Relation.infons``. Passage- and
  sentence-level relations join the document's relations in file order.
* **Entities** are :meth:`Document.entities_from_mentions` unless the
  document carries ``biorel:entities`` (see below).
* **Document infons** become ``Document.metadata``; the collection's
  ``source``, ``date``, ``key`` and ``infons`` (only the non-empty ones) go to
  every document's ``metadata["bioc.collection"]``.
* **Extra JSON keys** that BioC does not define (PubTator's API adds ``pmid``,
  ``journal``, ...) are kept in ``metadata["bioc.extra"]`` (document) or
  ``infons["bioc.extra"]`` (passage, annotation, relation); ``bioctype`` and
  ``version`` are BioC bookkeeping and ignored.

Writing rules (what makes Document -> BioC -> Document lossless)
----------------------------------------------------------------
BioC has no place for some model fields; they travel in infons whose keys
start with ``biorel:`` (other BioC tools simply see extra infons):

* mentions: ``type`` always; concept ids as ``identifier`` joined by ``,``; if
  an id contains ``,``, the list is empty, or the mention's own infons use one
  of the id keys above, the ids go to ``biorel:concept_ids`` (a JSON list),
  which the reader prefers to every id key. The ids separator of an
  ``identifier`` list is recorded by the reader (``,`` included) and used by
  the PubTator writer; a list of several ids whose separator is PubTator's
  default ``|`` (which cannot split an ``identifier``) is written with ``,``
  plus ``biorel:ids_separator`` = ``|``, so PubTator -> BioC -> PubTator is
  the identity. ``components`` ->
  ``biorel:components`` (JSON list). A mention goes in the passage holding its
  first span.
* relations: entity-level ones are written with infons ``type``, ``entity1``,
  ``entity2``; mention-level ones with ``type`` and two nodes. ``directed`` ->
  ``biorel:directed`` = ``true``, ``score`` -> ``biorel:score``, ``evidence``
  -> ``biorel:evidence`` (JSON), only when set.
* entities: when ``Document.entities`` differ from what
  ``entities_from_mentions`` rebuilds (mention-less entities such as ABroad
  labels, names, infons, another order), the whole list is written in the
  document infon ``biorel:entities`` (JSON, the JSONL entity form).
* when the mentions are not in passage order, the document infon
  ``biorel:mention_order`` (JSON list of ids) restores their order.
* an infon value that is not a string is written under ``biorel:json:KEY``
  (JSON-encoded) and read back as the value of ``KEY``.
* ``metadata["bioc.collection"]`` of the first document gives the collection
  header; a document whose value differs from what the header gives back
  (another collection, none at all, a non-string value) carries it in
  ``biorel:collection`` (JSON; ``null`` for none).

Model infons named like the ``biorel:`` keys above, or that name what BioC uses
itself (``type`` on any item, ``entity1``/``entity2`` on an entity-level
relation), cannot be written unambiguously and raise E104.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterable

from ...errors import BiorelError, Diagnostics, FormatError, SourceLocation, error
from ...types import Document, Mention, NaryRelation, Passage, Relation
from ..pubtator import _TMVAR, IDS_FIELD, IDS_SEPARATOR, VARIANT_TYPES
from ..base import RawDocument, report_or_raise

#: infon keys that hold concept ids, in priority order, with their separator
ID_KEYS: tuple[tuple[str, str], ...] = (("identifier", ","), ("Identifier", ","), ("MESH", "|"), ("MeSH", "|"))
WRITE_ID_KEY, WRITE_ID_SEP = "identifier", ","
DEFAULT_ROLES = ("head", "tail")
ENTITY_ROLES = ("entity1", "entity2")
IDENTIFIER_SEPARATORS = ",;"
#: infon keys naming the arguments of an infon-only relation
ARG_KEY = re.compile(r"^(?:entity|role)(\d+)$")

# file-side infons carrying model fields that BioC lacks
PREFIX = "biorel:"
JSON_PREFIX = "biorel:json:"
K_CONCEPT_IDS = "biorel:concept_ids"
K_COMPONENTS = "biorel:components"
K_IDS_SEPARATOR = "biorel:ids_separator"
K_DIRECTED = "biorel:directed"
K_SCORE = "biorel:score"
K_EVIDENCE = "biorel:evidence"
K_ENTITIES = "biorel:entities"
K_MENTION_ORDER = "biorel:mention_order"
K_COLLECTION = "biorel:collection"
#: file-side keys the mapping consumes; model infons may not use them
RESERVED_FILE_KEYS = frozenset(
    {K_CONCEPT_IDS, K_IDS_SEPARATOR, K_COMPONENTS, K_DIRECTED, K_SCORE, K_EVIDENCE, K_ENTITIES, K_MENTION_ORDER, K_COLLECTION}
)

# model-side keys for BioC structure the model has no field for
M_COLLECTION = "bioc.collection"
M_SENTENCES = "bioc.sentences"
M_ROLES = "bioc.roles"
M_EXTRA = "bioc.extra"
M_ID = "bioc.id"  # the file's id of an annotation / relation renamed because it repeats
M_TYPE_KEY = "bioc.type_key"  # relation type read from infon 'relation' (BC5CDR), not 'type'
M_ARG_VALUES = "bioc.arg_values"  # argument infons whose value is an object (PubTator3 role1/role2)
M_NO_TEXT = "bioc.no_text"  # the passage had no <text> (sentences only, or annotations only)
M_PASSAGE_RELATIONS = "bioc.relations"  # ids of the relations that sat in this passage

COLLECTION_FIELDS = ("source", "date", "key")
#: JSON keys that are BioC bookkeeping, not data
IGNORED_KEYS = frozenset({"bioctype", "version"})
DOC_KEYS = frozenset({"id", "infons", "passages", "annotations", "relations"})
PASSAGE_KEYS = frozenset({"offset", "infons", "text", "sentences", "annotations", "relations"})
ANNOTATION_KEYS = frozenset({"id", "infons", "text", "locations"})
RELATION_KEYS = frozenset({"id", "infons", "nodes"})


# ---------------------------------------------------------------------------
# locations
# ---------------------------------------------------------------------------


@dataclass
class Context:
    """How to name places in the source and what to do with bad items."""

    file: str
    style: str  # "xml" or "json"
    lenient: bool = False
    diagnostics: Diagnostics | None = None

    def child(self, parent: SourceLocation, node: dict, kind: str, index: int, ident: str | None = None) -> SourceLocation:
        """Location of ``node``, the ``index``-th ``kind`` child of ``parent``:
        XML ``.../annotation[@id='T5']`` (or ``[3]``, 1-based), JSON
        ``....annotations[2]`` (0-based)."""
        base = parent.path or ""
        if self.style == "xml":
            path = f"{base}/{kind}[@id='{ident}']" if ident else f"{base}/{kind}[{index + 1}]"
        else:
            path = f"{base}.{kind}s[{index}]"
        line = node.get("_line") if isinstance(node, dict) else None
        return SourceLocation(self.file, line if line is not None else parent.line if self.style == "xml" else None, path)

    def infon(self, parent: SourceLocation, key: str) -> SourceLocation:
        base = parent.path or ""
        path = f"{base}/infon[@key='{key}']" if self.style == "xml" else f"{base}.infons[{key!r}]"
        return SourceLocation(parent.file, parent.line, path)

    def skip(self, err: BiorelError, action: str) -> None:
        """Raise ``err`` in strict mode; report it in lenient mode."""
        report_or_raise(err, action, lenient=self.lenient, diagnostics=self.diagnostics)


def _err(code: str, where: SourceLocation, **fields) -> FormatError:
    return error(code, where=where, cls=FormatError, **fields)


# ---------------------------------------------------------------------------
# small readers of BioC values
# ---------------------------------------------------------------------------


def _int(value: Any, what: str, field: str, where: SourceLocation, *, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise _err("E101", where, what=what, field=field, value=value, reason="not an integer")
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        n = int(value.strip())
    elif value is None:
        raise _err("E100", where, what=what, field=field)
    else:
        raise _err("E101", where, what=what, field=field, value=value, reason="not an integer")
    if n < minimum:
        raise _err("E101", where, what=what, field=field, value=value, reason=f"must be >= {minimum}")
    return n


def _str(value: Any, what: str, field: str, where: SourceLocation, *, required: bool = True) -> str:
    if value is None:
        if required:
            raise _err("E100", where, what=what, field=field)
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # BioC JSON in the wild sometimes has numeric ids
    if not isinstance(value, str):
        raise _err("E101", where, what=what, field=field, value=value, reason=f"expected a string, found {type(value).__name__}")
    return value


def _list(node: dict, key: str, what: str, where: SourceLocation) -> list:
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _err("E101", where, what=what, field=key, value=type(value).__name__, reason="expected a list")
    return value


def decode_infons(raw: Any, what: str, where: SourceLocation, ctx: Context) -> dict[str, Any]:
    """BioC infons -> model infons: ``biorel:json:KEY`` is decoded to ``KEY``."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _err("E101", where, what=what, field="infons", value=type(raw).__name__, reason="expected an object of key/value strings")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key.startswith(JSON_PREFIX):
            real = key[len(JSON_PREFIX) :]
            out[real] = _json_infon(key, value, ctx.infon(where, key))
        else:
            out[key] = value
    return out


def _json_infon(key: str, value: Any, where: SourceLocation) -> Any:
    if not isinstance(value, str):
        raise _err("E105", where, key=key, reason=f"expected a JSON string, found {type(value).__name__}")
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise _err("E105", where, key=key, reason=f"not valid JSON ({e.msg} at {e.pos})") from None


def _json_list(infons: dict, key: str, where: SourceLocation, item_type: type = str) -> list | None:
    if key not in infons:
        return None
    value = _json_infon(key, infons.pop(key), where)
    if not isinstance(value, list) or not all(isinstance(v, item_type) for v in value):
        raise _err("E105", where, key=key, reason=f"expected a JSON list of {item_type.__name__}")
    return value


def _extra(node: dict, known: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k not in known and k not in IGNORED_KEYS and k != "_line"}  # _line: the XML reader's


# ---------------------------------------------------------------------------
# BioC tree -> Document
# ---------------------------------------------------------------------------


def collection_metadata(source: Any, date: Any, key: Any, infons: dict | None) -> dict[str, Any]:
    """The ``metadata["bioc.collection"]`` value (non-empty fields only)."""
    out: dict[str, Any] = {}
    for name, value in zip(COLLECTION_FIELDS, (source, date, key)):
        if value not in (None, ""):
            out[name] = value
    if infons:
        out["infons"] = dict(infons)
    return out


def to_document(node: dict, where: SourceLocation, ctx: Context, collection: dict[str, Any]) -> RawDocument | None:
    """Map one BioC document tree. Returns ``None`` when lenient reading had to
    skip the whole document (reported to the diagnostics)."""
    try:
        return _to_document(node, where, ctx, collection)
    except FormatError as err:
        ctx.skip(err, "document skipped")
        return None


def _to_document(node: dict, where: SourceLocation, ctx: Context, collection: dict[str, Any]) -> RawDocument:
    if not isinstance(node, dict):
        raise _err("E101", where, what="document", field="value", value=type(node).__name__, reason="expected an object")
    doc_id = _str(node.get("id"), "document", "id", where)
    if not doc_id.strip():
        raise _err("E100", where, what="document", field="id")
    infons = decode_infons(node.get("infons"), f"document '{doc_id}'", where, ctx)
    entity_data = _json_list(infons, K_ENTITIES, ctx.infon(where, K_ENTITIES), dict)
    order = _json_list(infons, K_MENTION_ORDER, ctx.infon(where, K_MENTION_ORDER))
    coll: dict[str, Any] | None = dict(collection) if collection else None
    if K_COLLECTION in infons:
        coll = _json_infon(K_COLLECTION, infons.pop(K_COLLECTION), ctx.infon(where, K_COLLECTION))
        if coll is not None and not isinstance(coll, dict):
            raise _err("E105", ctx.infon(where, K_COLLECTION), key=K_COLLECTION, reason="expected a JSON object or null")
    metadata = infons
    extra = _extra(node, DOC_KEYS)
    if extra:
        metadata[M_EXTRA] = extra
    if coll is not None:
        metadata[M_COLLECTION] = coll

    # (node, location, slot): slot is (passage index, sentence index or None), or None at document level
    annotations: list[tuple[Any, SourceLocation, tuple | None]] = []
    relations: list[tuple[Any, SourceLocation, tuple | None]] = []
    passages: list[Passage] = []
    for i, pnode in enumerate(_list(node, "passages", "document", where)):
        ploc = ctx.child(where, pnode, "passage", i)
        passages.append(_passage(pnode, ploc, ctx, annotations, relations, i))
    for i, anode in enumerate(_list(node, "annotations", "document", where)):
        annotations.append((anode, ctx.child(where, anode, "annotation", i, _ident(anode)), None))
    for i, rnode in enumerate(_list(node, "relations", "document", where)):
        relations.append((rnode, ctx.child(where, rnode, "relation", i, _ident(rnode)), None))

    doc = Document(id=doc_id, passages=passages, metadata=metadata)
    item_where: dict[str, SourceLocation] = {}
    placed = _mentions(doc, annotations, ctx)
    for m, aloc, _ in placed:
        item_where.setdefault(m.id, aloc)
    if order is not None:
        doc.mentions = _reorder(doc.mentions, order, ctx.infon(where, K_MENTION_ORDER), ctx)

    if entity_data is not None:
        eloc = ctx.infon(where, K_ENTITIES)
        try:
            doc.entities = Document.from_dict({"id": doc_id, "entities": entity_data}).entities
        except (KeyError, TypeError, ValueError) as e:
            raise _err("E105", eloc, key=K_ENTITIES, reason=f"not a list of biorel entities ({type(e).__name__}: {e})") from None
        for ent in doc.entities:
            item_where.setdefault(ent.id, eloc)
    else:
        doc.entities = doc.entities_from_mentions()

    mention_types = {m.type for m in doc.mentions if m.type}
    rels: list[tuple[Relation | NaryRelation, SourceLocation, tuple | None]] = []
    for index, (rnode, rloc, slot) in enumerate(relations):
        try:
            rels.append((_relation(rnode, rloc, ctx, index, mention_types), rloc, slot))
        except FormatError as err:
            ctx.skip(err, "relation skipped")
    _make_unique([r for r, _, _ in rels])
    for r, rloc, _slot in rels:
        item_where.setdefault(r.id, rloc)
        (doc.relations if isinstance(r, Relation) else doc.nary_relations).append(r)
    _record_places(doc.passages, [(m, s) for m, _, s in placed], "annotations")
    _record_places(doc.passages, [(r, s) for r, _, s in rels], "relations")
    return RawDocument(doc, where, item_where)


def _mentions(doc: Document, annotations: list, ctx: Context) -> list[tuple[Mention, SourceLocation, tuple | None]]:
    placed = []
    for index, (anode, aloc, slot) in enumerate(annotations):
        try:
            m = _mention(anode, aloc, ctx, index)
        except FormatError as err:
            ctx.skip(err, "annotation skipped")
            continue
        placed.append((m, aloc, slot))
    doc.mentions = [m for m, _, _ in placed]
    _make_unique(doc.mentions)
    return placed


def _make_unique(items: list) -> None:
    """Give a repeated id (PubTator numbers annotations per passage) a
    deterministic new one, ``<id>~2``, ``<id>~3``, ... in file order, keeping
    the id from the file in ``infons["bioc.id"]`` (the writer restores it)."""
    taken = {it.id for it in items}
    seen: set[str] = set()
    for it in items:
        if it.id in seen:
            k = 2
            while f"{it.id}~{k}" in taken:
                k += 1
            it.infons[M_ID] = it.id
            it.id = f"{it.id}~{k}"
            taken.add(it.id)
        seen.add(it.id)


def _record_places(passages: list[Passage], items: list, kind: str) -> None:
    """Note which passage or sentence held each annotation / relation, so that
    writing puts it back there (``bioc.sentences[i]["annotations"]``,
    ``bioc.relations`` of a passage). Annotations directly in a passage need no
    note: the writer places a mention by its offset."""
    for item, slot in items:
        if slot is None:
            continue
        pi, si = slot
        infons = passages[pi].infons
        if si is not None:
            infons[M_SENTENCES][si].setdefault(kind, []).append(item.id)
        elif kind == "relations":
            infons.setdefault(M_PASSAGE_RELATIONS, []).append(item.id)


def _ident(node: Any) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("id"), (str, int)) and not isinstance(node.get("id"), bool):
        return str(node["id"])
    return None


def _passage(node: dict, where: SourceLocation, ctx: Context, annotations: list, relations: list, pi: int = 0) -> Passage:
    if not isinstance(node, dict):
        raise _err("E101", where, what="passage", field="value", value=type(node).__name__, reason="expected an object")
    offset = _int(node.get("offset"), "passage", "offset", where)
    infons = decode_infons(node.get("infons"), "passage", where, ctx)
    ptype = infons.pop("type", "")
    if ptype is None:
        ptype = ""
    if not isinstance(ptype, str):
        raise _err("E101", ctx.infon(where, "type"), what="passage", field="type", value=ptype, reason="expected a string")
    text = node.get("text")
    sentences = _list(node, "sentences", "passage", where)
    if sentences:
        text = _sentences(sentences, offset, text, where, ctx, infons, annotations, relations, pi)
    if text is None:
        infons[M_NO_TEXT] = True
    text = _str(text, "passage", "text", where, required=False)
    extra = _extra(node, PASSAGE_KEYS)
    if extra:
        infons[M_EXTRA] = extra
    for i, anode in enumerate(_list(node, "annotations", "passage", where)):
        annotations.append((anode, ctx.child(where, anode, "annotation", i, _ident(anode)), (pi, None)))
    for i, rnode in enumerate(_list(node, "relations", "passage", where)):
        relations.append((rnode, ctx.child(where, rnode, "relation", i, _ident(rnode)), (pi, None)))
    return Passage(offset, text, ptype, infons)


def _sentences(
    sentences: list, offset: int, text: Any, where: SourceLocation, ctx: Context, infons: dict, annotations: list, relations: list, pi: int
) -> Any:
    """Read a passage's ``<sentence>``\\ s into ``infons["bioc.sentences"]``
    (offset, length, infons; the ids of their annotations and relations are
    added once known). Returns the passage text, laid out from the sentences
    when the passage has none."""
    pieces: list[tuple[int, str]] = []
    bounds: list[dict[str, Any]] = []
    for si, snode in enumerate(sentences):
        sloc = ctx.child(where, snode, "sentence", si)
        if not isinstance(snode, dict):
            raise _err("E101", sloc, what="sentence", field="value", value=type(snode).__name__, reason="expected an object")
        soff = _int(snode.get("offset"), "sentence", "offset", sloc)
        stext = _str(snode.get("text"), "sentence", "text", sloc, required=False)
        sinfo: dict[str, Any] = {"offset": soff, "length": len(stext)}
        sinfons = decode_infons(snode.get("infons"), "sentence", sloc, ctx)
        if sinfons:
            sinfo["infons"] = sinfons
        bounds.append(sinfo)
        pieces.append((soff, stext))
        for j, anode in enumerate(_list(snode, "annotations", "sentence", sloc)):
            annotations.append((anode, ctx.child(sloc, anode, "annotation", j, _ident(anode)), (pi, si)))
        for j, rnode in enumerate(_list(snode, "relations", "sentence", sloc)):
            relations.append((rnode, ctx.child(sloc, rnode, "relation", j, _ident(rnode)), (pi, si)))
    infons[M_SENTENCES] = bounds
    if text is None:
        infons[M_NO_TEXT] = True
        return _layout(offset, pieces, where)
    return text


def _layout(offset: int, pieces: list[tuple[int, str]], where: SourceLocation) -> str:
    """A passage's text from its sentences at document-level offsets."""
    out: list[str] = []
    pos = offset
    for soff, stext in sorted(pieces):
        if soff < pos:
            raise _err(
                "E101",
                where,
                what="sentence",
                field="offset",
                value=soff,
                reason=f"overlaps the previous sentence or precedes the passage offset {offset}",
            )
        out.append(" " * (soff - pos))
        out.append(stext)
        pos = soff + len(stext)
    return "".join(out)


def _concept_ids(infons: dict, mtype: str, what: str, where: SourceLocation, ctx: Context) -> list[str]:
    """Concept ids from the first id infon that is not null (a null value
    counts as absent and stays in the infons, written back as null). See
    :func:`split_identifier` for ``identifier``."""
    ids = _json_list(infons, K_CONCEPT_IDS, ctx.infon(where, K_CONCEPT_IDS))
    if ids is not None:
        return ids
    for key, sep in ID_KEYS:
        if infons.get(key) is None:
            continue
        value = infons.pop(key)
        if not isinstance(value, str):
            raise _err("E101", ctx.infon(where, key), what=what, field=key, value=value, reason="expected a string")
        if key != WRITE_ID_KEY:
            return value.split(sep)
        split, used = split_identifier(value, mtype)
        written_for = infons.pop(K_IDS_SEPARATOR, None)  # PubTator's '|' list, written by biorel
        if written_for == "|" and used == ",":
            pass  # the model's default separator: nothing recorded
        elif used is not None:  # recorded even for BioC's default ',' so PubTator writes it back
            infons[IDS_SEPARATOR] = used
        if value == "":
            infons[IDS_FIELD] = ""
        return list(split)
    return []


def split_identifier(value: str, mtype: str = "") -> tuple[tuple[str, ...], str | None]:
    """``identifier`` -> ``(ids, separator)``: split at the first of ``,``
    (BioRED gene lists) or ``;`` (PubTator Central) it holds, pieces verbatim;
    ``|`` does not split (a BioRED composite such as ``D007859|D008569`` is the
    id its relations name). Variant types and tmVar ids are one id. The
    separator (BioC's default ``,`` included) goes to the model infon
    ``pubtator.ids_separator`` (the PubTator writer joins with it; the BioC
    writer never writes it); an empty value gives no ids and
    ``pubtator.ids = ""``, as in PubTator."""
    if value == "":
        return (), None
    if mtype in VARIANT_TYPES or _TMVAR.match(value.strip()):
        return (value,), None
    seps = [c for c in value if c in IDENTIFIER_SEPARATORS]
    if not seps:
        return (value,), None
    return tuple(value.split(seps[0])), seps[0]


def identifier_column(m: Mention) -> str | None:
    """The ``identifier`` infon for ``m``, or ``None`` when it cannot say
    exactly ``m.concept_ids`` (then ``biorel:concept_ids`` is written)."""
    verbatim = m.infons.get(IDS_FIELD)
    if isinstance(verbatim, str) and split_identifier(verbatim, m.type)[0] == tuple(m.concept_ids):
        return verbatim
    if not m.concept_ids:
        return None
    sep = m.infons.get(IDS_SEPARATOR)
    sep = sep if isinstance(sep, str) and len(sep) == 1 and sep in IDENTIFIER_SEPARATORS else ","
    column = sep.join(m.concept_ids)
    return column if split_identifier(column, m.type)[0] == tuple(m.concept_ids) else None


def _mention(node: dict, where: SourceLocation, ctx: Context, index: int) -> Mention:
    if not isinstance(node, dict):
        raise _err("E101", where, what="annotation", field="value", value=type(node).__name__, reason="expected an object")
    mid = _str(node.get("id"), "annotation", "id", where, required=False) or f"T{index}"
    what = f"annotation '{mid}'"
    infons = decode_infons(node.get("infons"), what, where, ctx)
    mtype = infons.pop("type", "")
    if mtype is None:
        mtype = ""
    if not isinstance(mtype, str):
        raise _err("E101", ctx.infon(where, "type"), what=what, field="type", value=mtype, reason="expected a string")
    ids = _concept_ids(infons, mtype, what, where, ctx)
    components = _json_list(infons, K_COMPONENTS, ctx.infon(where, K_COMPONENTS)) or []
    spans = []
    for i, loc in enumerate(_list(node, "locations", what, where)):
        lloc = ctx.child(where, loc, "location", i)
        if not isinstance(loc, dict):
            raise _err("E101", lloc, what="location", field="value", value=type(loc).__name__, reason="expected an object")
        start = _int(loc.get("offset"), f"location of {what}", "offset", lloc)
        length = _int(loc.get("length"), f"location of {what}", "length", lloc)
        spans.append((start, start + length))
    text = _str(node.get("text"), what, "text", where, required=False)
    extra = _extra(node, ANNOTATION_KEYS)
    if extra:
        infons[M_EXTRA] = extra
    return Mention(mid, tuple(spans), text, mtype, tuple(ids), tuple(components), infons)


def _reorder(mentions: list[Mention], order: list[str], where: SourceLocation, ctx: Context) -> list[Mention]:
    by_id: dict[str, list[Mention]] = {}
    for m in mentions:
        by_id.setdefault(m.id, []).append(m)
    if sorted(order) != sorted(m.id for m in mentions):
        ctx.skip(
            _err("E105", where, key=K_MENTION_ORDER, reason="it does not list exactly the document's annotation ids; file order kept"),
            "mention order ignored",
        )
        return mentions
    return [by_id[mid].pop(0) for mid in order]


def _relation_type(infons: dict, what: str, where: SourceLocation) -> str:
    if "type" in infons:
        rtype = infons.pop("type")
    elif "relation" in infons:  # BC5CDR: <infon key="relation">CID</infon>
        rtype = infons.pop("relation")
        infons[M_TYPE_KEY] = "relation"
    else:
        rtype = ""
    if rtype is None:
        return ""
    if not isinstance(rtype, str):
        raise _err("E101", where, what=what, field="type", value=rtype, reason="expected a string")
    return rtype


def _relation_extras(infons: dict, where: SourceLocation, ctx: Context) -> tuple[bool, Any, tuple]:
    directed = False
    if K_DIRECTED in infons:
        flag = infons.pop(K_DIRECTED)
        if flag not in ("true", "false"):
            raise _err("E105", ctx.infon(where, K_DIRECTED), key=K_DIRECTED, reason=f"expected 'true' or 'false', found {flag!r}")
        directed = flag == "true"
    score = None
    if K_SCORE in infons:
        score = _json_infon(K_SCORE, infons.pop(K_SCORE), ctx.infon(where, K_SCORE))
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise _err("E105", ctx.infon(where, K_SCORE), key=K_SCORE, reason="expected a number")
    evidence: tuple = ()
    if K_EVIDENCE in infons:
        eloc = ctx.infon(where, K_EVIDENCE)
        value = _json_infon(K_EVIDENCE, infons.pop(K_EVIDENCE), eloc)
        try:
            evidence = tuple((int(s), int(e)) for s, e in value)
        except (TypeError, ValueError):
            raise _err("E105", eloc, key=K_EVIDENCE, reason="expected a JSON list of [start, end] pairs") from None
    return directed, score, evidence


def _relation(node: dict, where: SourceLocation, ctx: Context, index: int, mention_types: set[str]) -> Relation | NaryRelation:
    if not isinstance(node, dict):
        raise _err("E101", where, what="relation", field="value", value=type(node).__name__, reason="expected an object")
    rid = _str(node.get("id"), "relation", "id", where, required=False) or f"R{index}"
    what = f"relation '{rid}'"
    infons = decode_infons(node.get("infons"), what, where, ctx)
    rtype = _relation_type(infons, what, where)
    directed, score, evidence = _relation_extras(infons, where, ctx)
    nodes = _list(node, "nodes", what, where)
    extra = _extra(node, RELATION_KEYS)
    if extra:
        infons[M_EXTRA] = extra
    if nodes:
        level = "mention"
        roles, refs = _nodes(nodes, what, where, ctx)
        if tuple(roles) != DEFAULT_ROLES:
            infons[M_ROLES] = roles
    else:
        level = "entity"
        roles = _argument_keys(infons, mention_types)
        if not roles:
            raise _err("E103", where, id=rid, keys=sorted(infons))
        refs = [_argument(infons, key, what, where, ctx) for key in roles]
        if tuple(roles) != ENTITY_ROLES:
            infons[M_ROLES] = roles
    if len(refs) == 2:
        return Relation(rid, rtype, refs[0], refs[1], level, directed, score, evidence, infons)
    return NaryRelation(rid, rtype, tuple(zip(roles, refs)), level, directed, score, evidence, infons)


def _nodes(nodes: list, what: str, where: SourceLocation, ctx: Context) -> tuple[list[str], list[str]]:
    refs, roles = [], []
    for i, n in enumerate(nodes):
        nloc = ctx.child(where, n, "node", i)
        if not isinstance(n, dict):
            raise _err("E101", nloc, what="node", field="value", value=type(n).__name__, reason="expected an object")
        refs.append(_str(n.get("refid"), f"node of {what}", "refid", nloc))
        roles.append(_str(n.get("role"), f"node of {what}", "role", nloc, required=False))
    return roles, refs


def _argument_keys(infons: dict, mention_types: set[str]) -> list[str]:
    """The infons naming an infon-only relation's arguments, in order:
    ``entity1``, ``entity2``, ... (BioRED), else ``role1``, ``role2``, ...
    (PubTator3), else the two infons keyed by mention types (BC5CDR)."""
    for prefix in ("entity", "role"):
        numbered = sorted((int(m.group(1)), k) for k in infons if (m := ARG_KEY.match(k)) and k.startswith(prefix) and m.group(0) == k)
        if numbered and [n for n, _ in numbered] == list(range(1, len(numbered) + 1)):
            return [k for _, k in numbered]
    keys = [k for k in infons if k in mention_types]
    return keys if len(keys) == 2 else []


def _argument(infons: dict, key: str, what: str, where: SourceLocation, ctx: Context) -> str:
    """An argument infon's value: a string id, or an object with an
    ``identifier`` (PubTator3), kept whole in ``infons["bioc.arg_values"]``."""
    value = infons.pop(key)
    if isinstance(value, dict):
        ident = value.get("identifier", value.get("accession"))
        if isinstance(ident, str) and ident:
            infons.setdefault(M_ARG_VALUES, {})[key] = value
            return ident
    if not isinstance(value, str) or not value:
        raise _err(
            "E101",
            ctx.infon(where, key),
            what=what,
            field=key,
            value=value,
            reason="expected a concept id (a string, or an object with an 'identifier')",
        )
    return value


# ---------------------------------------------------------------------------
# Document -> BioC tree
# ---------------------------------------------------------------------------


def _wfail(doc: Document, reason: str) -> BiorelError:
    return error("E104", doc=doc.id, reason=reason)


#: model infons the mapping turns back into BioC structure; never written as infons
CONSUMED = frozenset({M_SENTENCES, M_NO_TEXT, M_PASSAGE_RELATIONS, M_ID, M_TYPE_KEY, M_ARG_VALUES, M_EXTRA, IDS_FIELD, IDS_SEPARATOR})


def encode_infons(doc: Document, infons: dict[str, Any], what: str, reserved: Iterable[str] = (), *, native: bool = False) -> dict[str, Any]:
    """Model infons -> BioC infons. Strings stay; other values are written as
    themselves in BioC JSON (``native``: numbers stay numbers, null stays null)
    and as ``biorel:json:KEY`` (JSON-encoded) in BioC XML, whose infons are text."""
    reserved = set(reserved)
    out: dict[str, Any] = {}
    for key, value in infons.items():
        if not isinstance(key, str):
            raise _wfail(doc, f"{what} has a non-string infon key {key!r}")
        if key in CONSUMED:
            continue
        if key in RESERVED_FILE_KEYS or key.startswith(JSON_PREFIX) or key in reserved:
            raise _wfail(doc, f"{what} has an infon named {key!r}, which the BioC mapping uses itself")
        if isinstance(value, str):
            out[key] = value
            continue
        try:
            encoded = _dumps(value)
        except (TypeError, ValueError) as e:
            raise _wfail(doc, f"{what} infon {key!r} cannot be written as JSON ({e})") from None
        if native:
            out[key] = value
        else:
            out[JSON_PREFIX + key] = encoded
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def collection_of(doc: Document) -> dict[str, Any] | None:
    """The document's ``metadata["bioc.collection"]`` (``None`` when absent)."""
    if M_COLLECTION not in doc.metadata:
        return None
    coll = doc.metadata[M_COLLECTION]
    ok = isinstance(coll, dict) and set(coll) <= {*COLLECTION_FIELDS, "infons"} and isinstance(coll.get("infons", {}), dict)
    if not ok:
        raise _wfail(doc, f"metadata[{M_COLLECTION!r}] must be a dict with keys among source, date, key, infons (a dict)")
    return coll


@dataclass
class _Writer:
    doc: Document
    native: bool  # BioC JSON: infon values and extra keys keep their JSON type

    def infons(self, infons: dict[str, Any], what: str, reserved: Iterable[str] = ()) -> dict[str, Any]:
        return encode_infons(self.doc, infons, what, reserved, native=self.native)

    def with_extra(self, node: dict[str, Any], infons: dict[str, Any], what: str) -> dict[str, Any]:
        """Extra JSON keys (``bioc.extra``) back as keys in BioC JSON; BioC XML
        has no place for them, so there they travel in an infon."""
        extra = infons.get(M_EXTRA)
        if extra is None:
            return node
        if not isinstance(extra, dict):
            raise _wfail(self.doc, f"{what} infon {M_EXTRA!r} must be a dict")
        if self.native:
            return node | {k: v for k, v in extra.items() if k not in node}
        node["infons"][JSON_PREFIX + M_EXTRA] = _dumps(extra)
        return node


def from_document(doc: Document, header: dict[str, Any], *, style: str = "xml") -> dict[str, Any]:
    """Map a Document to a BioC tree (the shape BioC JSON uses). ``header`` is
    the collection-level data already written; if the document's differs it is
    recorded in ``biorel:collection``. ``style`` is ``"json"`` or ``"xml"``."""
    w = _Writer(doc, style == "json")
    meta = {k: v for k, v in doc.metadata.items() if k != M_COLLECTION}
    infons = w.infons(meta, "document metadata")
    coll = collection_of(doc)
    if coll != (header or None):  # what the reader would give from the header alone
        infons[K_COLLECTION] = _dumps(coll)
    if doc.entities != doc.entities_from_mentions():
        infons[K_ENTITIES] = _dumps(Document(doc.id, entities=doc.entities).to_dict()["entities"])
    passages = [_passage_tree(w, p) for p in doc.passages]
    if doc.mentions and not passages:
        raise _wfail(doc, "it has mentions but no passage to hold them")
    in_sentence = _sentence_slots(doc.passages, "annotations")
    placed: list[tuple[int, str]] = []
    for m in doc.mentions:
        slot = in_sentence.get(m.id)
        i = slot[0] if slot else _passage_index(doc.passages, m)
        holder = passages[i]["sentences"][slot[1]] if slot else passages[i]
        holder["annotations"].append(_annotation(w, m))
        placed.append((i, m.id))
    natural = [mid for _, mid in sorted(placed, key=lambda t: t[0])]  # stable: file order within a passage
    if natural != [m.id for m in doc.mentions]:
        infons[K_MENTION_ORDER] = _dumps([m.id for m in doc.mentions])
    doc_relations = _place_relations(w, doc, passages)
    tree = {"id": doc.id, "infons": infons, "passages": passages, "relations": doc_relations}
    return w.with_extra(tree, doc.metadata, "document")


def _passage_tree(w: _Writer, p: Passage) -> dict[str, Any]:
    what = f"passage at {p.offset}"
    node: dict[str, Any] = {"offset": p.offset, "infons": ({"type": p.type} if p.type else {}) | w.infons(p.infons, what, ("type",))}
    if not p.infons.get(M_NO_TEXT):
        node["text"] = p.text
    sentences = p.infons.get(M_SENTENCES) or []
    if not isinstance(sentences, list):
        raise _wfail(w.doc, f"{what} infon {M_SENTENCES!r} must be a list")
    node["sentences"] = [_sentence_tree(w, p, s, what) for s in sentences]
    node["annotations"], node["relations"] = [], []
    return w.with_extra(node, p.infons, what)


def _sentence_tree(w: _Writer, p: Passage, s: Any, what: str) -> dict[str, Any]:
    try:
        start, length = int(s["offset"]), int(s["length"])
    except (TypeError, KeyError, ValueError):
        raise _wfail(w.doc, f"{what} has a sentence that is not {{'offset', 'length', ...}}: {s!r}") from None
    text = p.text[start - p.offset : start - p.offset + length]
    return {"offset": start, "infons": w.infons(s.get("infons") or {}, f"sentence at {start}"), "text": text, "annotations": [], "relations": []}


def _sentence_slots(passages: list[Passage], kind: str) -> dict[str, tuple[int, int]]:
    """id -> (passage index, sentence index) of the items the reader found in sentences."""
    out: dict[str, tuple[int, int]] = {}
    for pi, p in enumerate(passages):
        for si, s in enumerate(p.infons.get(M_SENTENCES) or []):
            for item_id in (s.get(kind) or []) if isinstance(s, dict) else []:
                out.setdefault(str(item_id), (pi, si))
    return out


def _place_relations(w: _Writer, doc: Document, passages: list[dict]) -> list[dict[str, Any]]:
    """Relations go back where the reader found them (a sentence, a passage),
    else to the document."""
    in_sentence = _sentence_slots(doc.passages, "relations")
    in_passage = {str(rid): pi for pi, p in enumerate(doc.passages) for rid in (p.infons.get(M_PASSAGE_RELATIONS) or [])}
    out = []
    for r in [*doc.relations, *doc.nary_relations]:
        tree = _relation_tree(w, r)
        if r.id in in_sentence:
            pi, si = in_sentence[r.id]
            passages[pi]["sentences"][si]["relations"].append(tree)
        elif r.id in in_passage:
            passages[in_passage[r.id]]["relations"].append(tree)
        else:
            out.append(tree)
    return out


def _passage_index(passages: list[Passage], m: Mention) -> int:
    start = m.spans[0][0] if m.spans else 0
    best = 0
    for i, p in enumerate(passages):
        if p.offset <= start < p.end or (p.offset == start == p.end):
            return i
        if p.offset <= start and p.offset >= passages[best].offset:
            best = i
    return best


def _file_id(w: _Writer, item: Any) -> str:
    orig = item.infons.get(M_ID)
    return orig if isinstance(orig, str) and orig else item.id


def _annotation(w: _Writer, m: Mention) -> dict[str, Any]:
    what = f"mention '{m.id}'"
    own = w.infons(m.infons, what, ("type",))
    infons: dict[str, Any] = {"type": m.type} if m.type else {}
    id_key_in_infons = any(m.infons.get(k) is not None for k, _ in ID_KEYS)
    column = identifier_column(m)
    if not id_key_in_infons and column is not None:
        infons[WRITE_ID_KEY] = column
        if len(m.concept_ids) > 1 and IDS_SEPARATOR not in m.infons and IDS_FIELD not in m.infons:
            infons[K_IDS_SEPARATOR] = "|"  # PubTator's default; ',' is what the identifier holds
    elif m.concept_ids or id_key_in_infons:
        infons[K_CONCEPT_IDS] = _dumps(list(m.concept_ids))
    if m.components:
        infons[K_COMPONENTS] = _dumps(list(m.components))
    infons.update(own)
    node = {
        "id": _file_id(w, m),
        "infons": infons,
        "text": m.text,
        "locations": [{"offset": s, "length": e - s} for s, e in m.spans],
    }
    return w.with_extra(node, m.infons, what)


def _relation_tree(w: _Writer, r: Relation | NaryRelation) -> dict[str, Any]:
    doc = w.doc
    what = f"relation '{r.id}'"
    own_infons = dict(r.infons)
    roles = own_infons.pop(M_ROLES, None)
    args = list(r.args) if isinstance(r, NaryRelation) else None
    if args is None:
        default = DEFAULT_ROLES if r.level == "mention" else ENTITY_ROLES
        roles = list(default) if roles is None else roles
        if not (isinstance(roles, (list, tuple)) and len(roles) == 2 and all(isinstance(x, str) for x in roles)):
            raise _wfail(doc, f"{what} infon {M_ROLES!r} must be a list of two role strings")
        args = [(roles[0], r.head), (roles[1], r.tail)]
    type_key = own_infons.get(M_TYPE_KEY) if own_infons.get(M_TYPE_KEY) in ("relation",) else "type"
    reserved = {"type", type_key}
    # an empty type is left out, unless the reader would then take the type from an infon 'relation'
    infons: dict[str, Any] = {type_key: r.type} if r.type or (type_key == "type" and "relation" in own_infons) else {}
    if r.directed:
        infons[K_DIRECTED] = "true"
    if r.score is not None:
        try:
            infons[K_SCORE] = _dumps(r.score)
        except (TypeError, ValueError):
            raise _wfail(doc, f"{what} has a score that is not a finite number: {r.score!r}") from None
    if r.evidence:
        infons[K_EVIDENCE] = _dumps([list(s) for s in r.evidence])
    nodes: list[dict[str, str]] = []
    if r.level == "entity":
        values = r.infons.get(M_ARG_VALUES) or {}
        for role, ref in args:
            if not role or role in infons:
                raise _wfail(doc, f"{what} has an argument role {role!r} that cannot be an infon key")
            kept = values.get(role) if isinstance(values, dict) else None
            infons[role] = kept if isinstance(kept, dict) and kept.get("identifier", kept.get("accession")) == ref and w.native else ref
            reserved.add(role)
        if values and not w.native:  # BioC XML infons are text: keep the objects as JSON
            infons[JSON_PREFIX + M_ARG_VALUES] = _dumps(values)
    else:
        nodes = [{"refid": ref, "role": role} for role, ref in args]
    infons.update(w.infons(own_infons, what, reserved))
    return w.with_extra({"id": _file_id(w, r), "infons": infons, "nodes": nodes}, r.infons, what)


def header_of(first: Document | None) -> dict[str, Any]:
    """Collection-level data for the header: the first document's, as strings
    (BioC's values are strings), in the form the reader gives back."""
    coll = collection_of(first) if first is not None else None
    if not coll:
        return {}
    infons = {str(k): str(v) for k, v in (coll.get("infons") or {}).items()}
    return collection_metadata(*(None if coll.get(f) is None else str(coll[f]) for f in COLLECTION_FIELDS), infons)
