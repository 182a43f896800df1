"""ABroad JSON: the seed/evaluation schema of the ABroad-RE organism -> natural-product work.

The file is one JSON object mapping a key (a PMID for real abstracts,
``"<PMID>-<n>"`` for synthetic ones) to a document object::

    {"18167044": {"PMID": "18167044", "ArticleTitle": "...", "AbstractText": "...",
                  "id": "Q46827040", "doi": "10.1002/PTR.2327",
                  "chemicals": [{"id": "Q76280934", "pubchem_id": "5280601", "label": "..."}],
                  "organisms": [{"id": "Q...", "label": "Genista morisii"}],
                  "relations": [["<organism id>", "<chemical id>"], ...]}, ...}

Synthetic files add ``prompt``, ``temperatue`` (sic, the generation settings)
and ``score``, and have no ``PMID``. Rules:

* **Document.** ``id`` = the top-level key. Passages: ``ArticleTitle`` at offset
  0 (type ``title``) and ``AbstractText`` at ``len(title) + 1`` (type
  ``abstract``), both verbatim (synthetic abstracts keep their leading space or
  newline). ``ArticleTitle`` is required (a string); ``AbstractText`` is
  optional. Every other key (``PMID``, ``id``, ``doi``, ``prompt``, ...) goes to
  ``metadata`` unchanged.
* **Entities.** ``chemicals`` -> type ``chemical``, ``organisms`` -> type
  ``organism``; ``name`` = ``label``; the other keys (``pubchem_id``, ``type``,
  ``class``) go to ``infons``. Labels are not located in the text, so there are
  no mentions. A list may name the same id twice (PMID 26896350 lists Q27256545
  as Benzaconine and as Benzoylaconine): the first entry makes the entity, later
  entries are kept verbatim with their list position in
  ``infons["duplicates"]`` (``[{"index": i, "entry": {...}}]``), where a scorer
  can also find the other labels.
* **Relations.** Each ``[organism id, chemical id]`` pair -> a directed
  ``produces`` relation ``R<i>`` (list order; repeated pairs are kept).
* **Lossless.** The key order of each document and of the entity objects is
  kept in ``metadata["abroad_layout"]``; the writer uses it to reproduce the
  file: ``dump(load(f))`` is byte-identical for files written by Python's
  ``json.dump(obj, indent=4)`` (the defaults ``indent=4, ensure_ascii=True``).
* **Errors.** Invalid JSON -> E024 with line; a value of the wrong JSON type
  -> E144, a missing key -> E145, a malformed relation -> E146, a key given twice
  in one object -> E147, all naming file, the line where the document starts and
  the JSON path of the item. Lenient mode skips the bad item (entry, relation)
  or document and reports it.

The whole file is read into memory (these files hold tens to hundreds of
abstracts); documents are then yielded one at a time.
"""

from __future__ import annotations

import json
from typing import Any, TextIO
from collections.abc import Iterable, Iterator

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document, Entity, Passage, Relation
from .base import Format, RawDocument, Source, json_like, read_text, report_or_raise

RELATION_TYPE = "produces"
LAYOUT = "abroad_layout"
#: document keys the model holds itself; everything else is metadata
STRUCTURAL = ("ArticleTitle", "AbstractText", "chemicals", "organisms", "relations")
#: entity key order used when a document carries no layout (README schema order)
DEFAULT_ENTITY_KEYS = ("id", "pubchem_id", "type", "label", "class")
LISTS = (("chemicals", "chemical"), ("organisms", "organism"))


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)


def _jtype(v: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(v), "a number")


# ---- top-level scanning: one (key, value, line) at a time ------------------------


def _ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _items(name: str, text: str) -> Iterator[tuple[str, Any, SourceLocation]]:
    """Yield the top-level ``(key, value, location)`` of a JSON object, decoding
    one value at a time so each document gets the line it starts on."""

    def fail(pos: int, reason: str) -> BiorelError:
        line = text.count("\n", 0, pos) + 1
        return error("E024", where=SourceLocation(name, line, offset=pos), reason=reason)

    i = _ws(text, 0)
    if text[i : i + 1] != "{":
        found = "nothing" if i >= len(text) else repr(text[i])
        raise error(
            "E144",
            where=SourceLocation(name, text.count("\n", 0, i) + 1, path="$"),
            what="top level",
            expected="an object {key: document}",
            found=found,
        )
    i = _ws(text, i + 1)
    seen: set[str] = set()
    if text[i : i + 1] == "}":
        i += 1
    else:
        while True:
            if text[i : i + 1] != '"':
                raise fail(i, "expected a string key")
            try:
                key, i = _DECODER.raw_decode(text, i)
            except json.JSONDecodeError as e:
                raise fail(e.pos, e.msg) from None
            i = _ws(text, i)
            if text[i : i + 1] != ":":
                raise fail(i, "expected ':' after a key")
            i = _ws(text, i + 1)
            where = SourceLocation(name, text.count("\n", 0, i) + 1, path=f"$[{json.dumps(key)}]")
            if key in seen:
                raise error("E147", where=where, key=key)
            seen.add(key)
            try:
                value, i = _DECODER.raw_decode(text, i)
            except json.JSONDecodeError as e:
                raise fail(e.pos, e.msg) from None
            except _DuplicateKey as e:
                raise error("E147", where=where, key=e.key) from None
            yield key, value, where
            i = _ws(text, i)
            if text[i : i + 1] == ",":
                i = _ws(text, i + 1)
                continue
            if text[i : i + 1] == "}":
                i += 1
                break
            raise fail(i, "expected ',' or '}'")
    if _ws(text, i) != len(text):
        raise fail(_ws(text, i), "extra data after the top-level object")


# ---- key order ---------------------------------------------------------------------


def _merge_order(orders: Iterable[list[str]]) -> list[str]:
    """One key order for a list of objects: first-seen, a new key placed right
    after the key that precedes it in the object that introduces it."""
    merged: list[str] = []
    for keys in orders:
        prev: str | None = None
        for k in keys:
            if k not in merged:
                merged.insert(merged.index(prev) + 1 if prev is not None else 0, k)
            prev = k
    return merged


def _ordered(entry: dict[str, Any], order: list[str]) -> dict[str, Any]:
    keys = [k for k in order if k in entry] + [k for k in entry if k not in order]
    return {k: entry[k] for k in keys}


# ---- reading -------------------------------------------------------------------------


class _Reader:
    """Turns one document object into a RawDocument, reporting bad items."""

    def __init__(self, key: str, where: SourceLocation, lenient: bool, diagnostics: Diagnostics | None):
        self.key, self.where, self.lenient, self.diagnostics = key, where, lenient, diagnostics

    def at(self, suffix: str) -> SourceLocation:
        return SourceLocation(self.where.file, self.where.line, path=f"{self.where.path}{suffix}")

    def problem(self, err: BiorelError, action: str) -> None:
        report_or_raise(err, action, lenient=self.lenient, diagnostics=self.diagnostics)

    def document(self, obj: Any) -> RawDocument | None:
        if not isinstance(obj, dict):
            self.problem(error("E144", where=self.where, what=f"document '{self.key}'", expected="an object", found=_jtype(obj)), "document skipped")
            return None
        title = obj.get("ArticleTitle")
        if not isinstance(title, str):
            err = (
                error("E145", where=self.where, what=f"document '{self.key}'", key="ArticleTitle")
                if title is None
                else error("E144", where=self.at(".ArticleTitle"), what="ArticleTitle", expected="a string", found=_jtype(title))
            )
            self.problem(err, "document skipped")
            return None
        passages = [Passage(0, title, "title")]
        abstract = obj.get("AbstractText")
        if "AbstractText" in obj:
            if not isinstance(abstract, str):
                self.problem(
                    error("E144", where=self.at(".AbstractText"), what="AbstractText", expected="a string", found=_jtype(abstract)),
                    "document skipped",
                )
                return None
            passages.append(Passage(len(title) + 1, abstract, "abstract"))
        layout: dict[str, Any] = {"keys": list(obj)}
        metadata = {k: v for k, v in obj.items() if k not in STRUCTURAL}
        doc = Document(id=self.key, passages=passages, metadata=metadata)
        item_where: dict[str, SourceLocation] = {}
        for list_key, etype in LISTS:
            layout[f"{list_key}_keys"] = self.entities(obj, list_key, etype, doc, item_where)
        self.relations(obj, doc, item_where)
        if LAYOUT in metadata:
            self.problem(
                error("E144", where=self.at(f".{LAYOUT}"), what=f"key '{LAYOUT}'", expected="absent (biorel keeps its layout there)", found="it"),
                "document skipped",
            )
            return None
        doc.metadata[LAYOUT] = layout
        return RawDocument(doc, self.where, item_where)

    def entities(self, obj: dict, list_key: str, etype: str, doc: Document, item_where: dict) -> list[str]:
        entries = obj.get(list_key, [])
        if not isinstance(entries, list):
            self.problem(
                error("E144", where=self.at(f".{list_key}"), what=list_key, expected="an array", found=_jtype(entries)), f"{list_key} skipped"
            )
            return []
        good: list[dict] = []
        by_id: dict[str, Entity] = {}
        for i, entry in enumerate(entries):
            path = f".{list_key}[{i}]"
            if not isinstance(entry, dict):
                self.problem(error("E144", where=self.at(path), what=f"{list_key} entry", expected="an object", found=_jtype(entry)), "entry skipped")
                continue
            bad = next((k for k in ("id", "label") if not isinstance(entry.get(k), str)), None)
            if bad is not None:
                err = (
                    error("E145", where=self.at(path), what=f"{list_key} entry", key=bad)
                    if bad not in entry
                    else error("E144", where=self.at(f"{path}.{bad}"), what=bad, expected="a string", found=_jtype(entry[bad]))
                )
                self.problem(err, "entry skipped")
                continue
            good.append(entry)
            first = by_id.get(entry["id"])
            if first is not None:  # the same id listed again: kept verbatim, with its position
                first.infons.setdefault("duplicates", []).append({"index": len(good) - 1, "entry": dict(entry)})
                continue
            infons = {k: v for k, v in entry.items() if k not in ("id", "label")}
            ent = Entity(id=entry["id"], type=etype, name=entry["label"], infons=infons)
            by_id[ent.id] = ent
            doc.entities.append(ent)
            item_where[ent.id] = self.at(path)
        order = _merge_order(list(e) for e in good)
        for ent in by_id.values():  # an entry whose key order the merged order cannot express keeps its own
            own = list(_first_entry(good, ent.id))
            if [k for k in order if k in own] != own:
                ent.infons["abroad_keys"] = own
        return order

    def relations(self, obj: dict, doc: Document, item_where: dict) -> None:
        pairs = obj.get("relations", [])
        if not isinstance(pairs, list):
            self.problem(error("E144", where=self.at(".relations"), what="relations", expected="an array", found=_jtype(pairs)), "relations skipped")
            return
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                self.problem(error("E146", where=self.at(f".relations[{i}]"), found=json.dumps(pair)[:80]), "relation skipped")
                continue
            rid = f"R{i}"
            doc.relations.append(Relation(rid, RELATION_TYPE, pair[0], pair[1], directed=True))
            item_where[rid] = self.at(f".relations[{i}]")


def _first_entry(entries: list[dict], eid: str) -> dict | None:
    return next((e for e in entries if e["id"] == eid), None)


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    name, text = read_text(source)  # invalid UTF-8: E020 with line, in lenient mode too (no document can be trusted)
    if text.startswith("\ufeff"):
        text = text[1:]
    for key, value, where in _items(name, text):
        raw = _Reader(key, where, lenient, diagnostics).document(value)
        if raw is not None:
            yield raw


# ---- writing -------------------------------------------------------------------------


def _passage_texts(doc: Document) -> tuple[str, str | None]:
    """Title and abstract: the passages typed ``title``/``abstract`` (several
    ``abstract`` passages joined by a space), else the first passage and the
    rest joined by a space."""
    by_type = {p.type: p for p in doc.passages}
    if "title" in by_type:
        title = by_type["title"].text
        rest = [p for p in doc.passages if p is not by_type["title"]]
    elif doc.passages:
        title, rest = doc.passages[0].text, doc.passages[1:]
    else:
        raise error("E153", fmt="ABroad JSON", reason=f"document '{doc.id}' has no passages (ArticleTitle is required)")
    abstracts = [p.text for p in doc.passages if p.type == "abstract"]
    if abstracts:  # several (a structured PubMed abstract's sections): one space apart, as they lie in the text
        return title, " ".join(abstracts)
    return title, " ".join(p.text for p in rest) if rest else None


def _entity_lists(doc: Document, layout: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for list_key, etype in LISTS:
        order = layout.get(f"{list_key}_keys") or list(DEFAULT_ENTITY_KEYS)
        primary: list[dict] = []
        placed: dict[int, dict] = {}
        for ent in doc.entities:
            if ent.type.lower() != etype:
                continue
            infons = {k: v for k, v in ent.infons.items() if k not in ("duplicates", "abroad_keys")}
            entry = {"id": ent.id, "label": ent.name if ent.name is not None else "", **infons}
            primary.append(_ordered(entry, ent.infons.get("abroad_keys") or order))
            for dup in ent.infons.get("duplicates", []):
                placed[int(dup["index"])] = dict(dup["entry"])
        entries: list[dict] = []
        remaining = iter(primary)
        i = 0
        while True:
            if i in placed:
                entries.append(placed.pop(i))
            else:
                nxt = next(remaining, None)
                if nxt is None:
                    break
                entries.append(nxt)
            i += 1
        entries += [placed[k] for k in sorted(placed)]  # positions past the end (edited documents)
        out[list_key] = entries
    known = {etype for _, etype in LISTS}
    other = sorted({e.type for e in doc.entities if e.type.lower() not in known})
    if other:
        raise error("E153", fmt="ABroad JSON", reason=f"document '{doc.id}' has entities of type {other}; ABroad holds only chemicals and organisms")
    return out


def to_json_object(doc: Document) -> dict[str, Any]:
    """The ABroad document object of ``doc`` (key order from its layout)."""
    layout = doc.metadata.get(LAYOUT, {})
    title, abstract = _passage_texts(doc)
    values: dict[str, Any] = {k: v for k, v in doc.metadata.items() if k != LAYOUT}
    values["ArticleTitle"] = title
    if abstract is not None:
        values["AbstractText"] = abstract
    values.update(_entity_lists(doc, layout))
    bad = [r.id for r in doc.relations if r.type != RELATION_TYPE or r.level != "entity"]
    if bad:
        raise error("E153", fmt="ABroad JSON", reason=f"relations {bad} of document '{doc.id}' are not entity-level '{RELATION_TYPE}' relations")
    values["relations"] = [[r.head, r.tail] for r in doc.relations]
    keys = layout.get("keys")
    if keys is None:
        head = ["PMID"] if "PMID" in values else []
        keys = (
            head
            + ["ArticleTitle", "AbstractText"]
            + [k for k in values if k not in STRUCTURAL and k not in head]
            + ["chemicals", "organisms", "relations"]
        )
    return _ordered(values, list(keys))


def _write(docs: Iterable[Document], fh: TextIO, *, indent: int | None = 4, ensure_ascii: bool = True) -> int:
    """Stream ``{key: document, ...}`` laid out exactly as ``json.dump(obj,
    indent=indent, ensure_ascii=ensure_ascii)`` would; the keys are document ids."""
    n = 0
    pad = " " * indent if indent is not None else ""
    nl = "\n" if indent is not None else ""
    sep = "," if indent is not None else ", "
    seen: set[str] = set()
    fh.write("{")
    for doc in docs:
        if doc.id in seen:
            raise error("E153", fmt="ABroad JSON", reason=f"two documents have the id '{doc.id}' (the top-level keys must be unique)")
        seen.add(doc.id)
        value = json.dumps(to_json_object(doc), indent=indent, ensure_ascii=ensure_ascii).replace("\n", "\n" + pad)
        fh.write((sep if n else "") + nl + pad + json.dumps(doc.id, ensure_ascii=ensure_ascii) + ": " + value)
        n += 1
    fh.write((nl if n else "") + "}")
    return n


def sniff(path: str) -> bool:
    """True for a JSON object whose first value is an object with an
    ``ArticleTitle`` key. A BioC JSON collection never passes: its top-level
    keys are ``source``/``date``/``key``/``infons``/``documents`` and their
    values are strings, an infons object of strings, or the documents array."""
    try:
        import ijson

        with open(path, "rb") as fh:
            for key, value in ijson.kvitems(fh, ""):
                return key not in ("source", "date", "key", "infons", "documents", "version") and isinstance(value, dict) and "ArticleTitle" in value
    except Exception:  # any unreadable or non-JSON file is simply not ours
        return False
    return False


_api = json_like(_raw, _write, require_text=True, fmt="abroad", blank_is_empty=True)
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.ABroadJSON.v1",
    Format(
        "abroad",
        _api,
        extensions=(".abroad.json", ".json"),
        description="ABroad-RE JSON (PMID -> title, abstract, chemicals, organisms, relations)",
        sniff=sniff,
    ),
    aliases=("abroad",),
)
