"""Parquet extraction output: a folder of four tables (``biorel.Parquet.v1``,
alias ``parquet``), written by ``biorel extract -t parquet`` and read by
``biorel query`` (DuckDB) or back into documents. See docs/query.md.

Layout of an output folder ``OUT``::

    OUT/_biorel_parquet.json          format, schema version, tables and their columns
    OUT/documents/part-<id>.parquet   one row per document
    OUT/entities/part-<id>.parquet    one row per entity
    OUT/mentions/part-<id>.parquet    one row per mention
    OUT/relations/part-<id>.parquet   one row per (binary) relation

A **part** is one file per table, written together by :func:`write_part` (a
Ray engine writes one part per output shard; :func:`dump` writes one part,
``part-00000``). Each file is written to a hidden temporary file and renamed
in place (``biorel.jobs.atomic_file``), the documents file last, so a part
whose four files are not all there was interrupted: reading says so (E542).
Within a part, the rows of every table follow the documents' order, and the
documents table says how many rows of each table belong to a document
(``n_mentions``, ``n_entities``, ``n_relations``).

The columns (:data:`COLUMNS`) hold every field of the documents, so reading
back gives the documents that were written (``to_dict`` equal): JSON columns
keep what has no column of its own (``infons``, ``metadata``, relations that
are not binary). Some columns are denormalised for querying: a mention's
``score`` (its ``infons["score"]``) and ``entity_id`` (the first entity naming
it); an entity's readable ``name`` (its own name, else its first mention's
text, else its id: ``name_source`` says which) and ``ids`` (its normalised
concept ids); a relation's argument names, types and concept ids
(``head_name``, ``head_type``, ``head_ids``, ...) and its ``evidence``
sentences as text beside their spans (``evidence_spans``). A mention's
``ids`` are its concept ids as the source gave them (BC5CDR's ``-1``
included); ``head_ids``/``tail_ids`` and an entity's ``ids`` hold only
normalised ones. Mentions and relations carry the **provenance** columns
``model`` and ``model_version``: from ``provenance`` when writing, else from
the document's ``metadata["provenance"]`` (``{"model", "model_version"}``).

Reading (:func:`iterparse`) streams part by part and record batch by record
batch; a missing table or part file is E542, a file without biorel's
columns E543, a different schema version E541, a row that cannot be read
E544 naming the file and ``row k`` (lenient: the document is skipped and
reported, unless the tables are out of step, which always stops the read).
A Parquet output cannot be a string (``loads``/``dumps``: E546).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document, Entity, Mention, Passage, Relation
from .base import Format, JsonLikeAPI, RawDocument, Reporter, Source, check_options, json_like

FMT = "parquet"
FORMAT_NAME = "biorel.Parquet.v1"
SCHEMA_VERSION = 1
MANIFEST = "_biorel_parquet.json"
#: ``Document.metadata`` key whose ``model`` / ``model_version`` fill the provenance columns
PROVENANCE = "provenance"
PROVENANCE_KEYS = ("model", "model_version")
DEFAULT_PART = "00000"
#: documents per record batch (and row group) when writing
BATCH_DOCUMENTS = 512
#: rows per record batch when reading
BATCH_ROWS = 4096
TITLE_TYPES = ("title", "front")

_PASSAGE = "struct<offset: int64, length: int64, type: string, text: string, infons: string>"
_PROV = {"model": "string", "model_version": "string"}

#: table -> column -> type (pyarrow's spelling, as in the manifest)
COLUMNS: dict[str, dict[str, str]] = {
    "documents": {
        "document_id": "string",
        "title": "string",
        "text": "string",
        "passages": f"list<{_PASSAGE}>",
        "metadata": "string",
        "nary_relations": "string",
        "n_mentions": "int64",
        "n_entities": "int64",
        "n_relations": "int64",
    },
    "entities": {
        "document_id": "string",
        "entity_id": "string",
        "type": "string",
        "ids": "list<string>",
        "name": "string",
        "name_source": "string",
        "mention_ids": "list<string>",
        "infons": "string",
    },
    "mentions": {
        "document_id": "string",
        "mention_id": "string",
        "start": "int64",
        "end": "int64",
        "text": "string",
        "type": "string",
        "ids": "list<string>",
        "score": "double",
        "entity_id": "string",
        "spans": "list<list<int64>>",
        "components": "list<string>",
        "infons": "string",
        **_PROV,
    },
    "relations": {
        "document_id": "string",
        "relation_id": "string",
        "type": "string",
        "level": "string",
        "directed": "bool",
        "head": "string",
        "head_name": "string",
        "head_type": "string",
        "head_ids": "list<string>",
        "tail": "string",
        "tail_name": "string",
        "tail_type": "string",
        "tail_ids": "list<string>",
        "score": "double",
        "evidence": "list<string>",
        "evidence_spans": "list<list<int64>>",
        "infons": "string",
        **_PROV,
    },
}
TABLES = tuple(COLUMNS)
#: the tables whose rows belong to a document row, with the count column that says how many
CHILD_TABLES = {"mentions": "n_mentions", "entities": "n_entities", "relations": "n_relations"}
#: columns that may not be null
REQUIRED = {
    "documents": ("document_id", "text", "passages", "n_mentions", "n_entities", "n_relations"),
    "entities": ("document_id", "entity_id", "type", "mention_ids"),
    "mentions": ("document_id", "mention_id", "text", "type", "ids", "spans"),
    "relations": ("document_id", "relation_id", "type", "level", "directed", "head", "tail"),
}
_PART = re.compile(r"^[A-Za-z0-9_-]+$")


# ---------------------------------------------------------------- pyarrow and the schema


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise error("E547", what="The Parquet output format", package="pyarrow", reason=str(e), extra="parquet") from None
    return pa, pq


def _arrow_type(pa, spec: str):
    """The pyarrow type of a :data:`COLUMNS` spelling."""
    if spec.startswith("list<"):
        return pa.list_(_arrow_type(pa, spec[5:-1]))
    if spec.startswith("struct<"):
        fields = [f.split(": ") for f in spec[7:-1].split(", ")]
        return pa.struct([(name, _arrow_type(pa, t)) for name, t in fields])
    return {"string": pa.string(), "int64": pa.int64(), "double": pa.float64(), "bool": pa.bool_()}[spec]


@functools.cache
def schemas() -> dict[str, Any]:
    """Table name -> its ``pyarrow.Schema``."""
    pa, _ = _pyarrow()
    return {t: pa.schema([(c, _arrow_type(pa, spec)) for c, spec in cols.items()]) for t, cols in COLUMNS.items()}


def manifest() -> dict[str, Any]:
    """What ``_biorel_parquet.json`` holds."""
    tables = {t: {"files": f"{t}/part-*.parquet", "columns": cols} for t, cols in COLUMNS.items()}
    return {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, "tables": tables}


# ---------------------------------------------------------------- documents -> rows


def _json(value: Any) -> str | None:
    """JSON text of a non-empty value (``None`` for an empty one)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _title(doc: Document) -> str | None:
    return next((p.text for p in doc.passages if p.type.lower() in TITLE_TYPES), None)


def _passage_row(p: Passage, text: str) -> dict[str, Any]:
    laid_out = text[p.offset : p.offset + len(p.text)] == p.text  # else (overlapping passages) kept in full
    return {"offset": p.offset, "length": len(p.text), "type": p.type, "text": None if laid_out else p.text, "infons": _json(p.infons)}


def _concepts(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _entity_ids(e: Entity, mentions: dict[str, Mention]) -> list[str]:
    """An entity's normalised concept ids: its own id when a mention has it as
    a concept id, else the ids all its mentions share."""
    grounded = [mentions[m].grounded_ids for m in e.mention_ids if m in mentions]
    if any(e.id in g for g in grounded):
        return [e.id]
    if not grounded:
        return []
    shared = set(grounded[0]).intersection(*grounded[1:])
    return [c for c in _concepts(grounded[0]) if c in shared]


def _entity_name(e: Entity, mentions: dict[str, Mention]) -> tuple[str, str]:
    """``(readable name, where it comes from)``."""
    if e.name is not None:
        return e.name, "entity"
    first = next((mentions[m].text for m in e.mention_ids if m in mentions), None)
    return (first, "mention") if first is not None else (e.id, "id")


@dataclass(slots=True)
class _Argument:
    name: str | None
    type: str | None
    ids: list[str]


class _RowMaker:
    """The rows of one document in every table."""

    def __init__(self, doc: Document, provenance: dict[str, str | None]):
        self.doc = doc
        self.text = doc.text
        self.prov = provenance
        self.mentions = doc.mention_index()
        self.entity_of: dict[str, str] = {}
        for e in doc.entities:
            for m in e.mention_ids:
                self.entity_of.setdefault(m, e.id)
        self.entities = {e.id: (e, *_entity_name(e, self.mentions), _entity_ids(e, self.mentions)) for e in doc.entities}

    def document(self) -> dict[str, Any]:
        d = self.doc
        nary = d.to_dict()["nary_relations"] if d.nary_relations else None
        return {
            "document_id": d.id,
            "title": _title(d),
            "text": self.text,
            "passages": [_passage_row(p, self.text) for p in d.passages],
            "metadata": _json(d.metadata),
            "nary_relations": _json(nary),
            "n_mentions": len(d.mentions),
            "n_entities": len(d.entities),
            "n_relations": len(d.relations),
        }

    def mention(self, m: Mention) -> dict[str, Any]:
        return {
            "document_id": self.doc.id,
            "mention_id": m.id,
            "start": m.start if m.spans else None,
            "end": m.end if m.spans else None,
            "text": m.text,
            "type": m.type,
            "ids": list(m.concept_ids),
            "score": _number(m.infons.get("score")),
            "entity_id": self.entity_of.get(m.id),
            "spans": [list(s) for s in m.spans],
            "components": list(m.components),
            "infons": _json(m.infons),
            **self.prov,
        }

    def entity(self, e: Entity) -> dict[str, Any]:
        _, name, source, ids = self.entities[e.id]
        row = {"document_id": self.doc.id, "entity_id": e.id, "type": e.type, "ids": ids, "name": name, "name_source": source}
        return {**row, "mention_ids": list(e.mention_ids), "infons": _json(e.infons)}

    def argument(self, ref: str, level: str) -> _Argument:
        if level == "mention" and ref in self.mentions:
            m = self.mentions[ref]
            return _Argument(m.text, m.type, list(m.grounded_ids))
        if ref in self.entities:
            e, name, _, ids = self.entities[ref]
            return _Argument(name, e.type, ids)
        return _Argument(None, None, [])  # a dangling reference: validation reports it on reading

    def relation(self, r: Relation) -> dict[str, Any]:
        row: dict[str, Any] = {"document_id": self.doc.id, "relation_id": r.id, "type": r.type, "level": r.level, "directed": r.directed}
        for side, ref in (("head", r.head), ("tail", r.tail)):
            arg = self.argument(ref, r.level)
            row.update({side: ref, f"{side}_name": arg.name, f"{side}_type": arg.type, f"{side}_ids": arg.ids})
        row["score"] = _number(r.score)
        if r.score is not None and row["score"] is None:
            raise ValueError(f"relation '{r.id}' has the score {r.score!r}, which is not a number")
        row["evidence"] = [self.text[s:e] for s, e in r.evidence]
        row["evidence_spans"] = [list(s) for s in r.evidence]
        return {**row, "infons": _json(r.infons), **self.prov}

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        d = self.doc
        return {
            "documents": [self.document()],
            "entities": [self.entity(e) for e in d.entities],
            "mentions": [self.mention(m) for m in d.mentions],
            "relations": [self.relation(r) for r in d.relations],
        }


# ---------------------------------------------------------------- writing


def _part_name(part: str) -> str:
    """``part-<id>.parquet`` for ``<id>`` or ``part-<id>`` (E545 for anything else)."""
    ident = str(part).removeprefix("part-")
    if not _PART.match(ident):
        raise error("E545", path=str(part), reason=f"part {part!r} is not a part id (letters, digits, '_' and '-')")
    return f"part-{ident}.parquet"


def _check_provenance(provenance: dict | None, folder: Path) -> dict[str, str | None] | None:
    if provenance is None:
        return None
    unknown = set(provenance) - set(PROVENANCE_KEYS) if isinstance(provenance, dict) else {"(not a dict)"}
    if unknown:
        raise error("E545", path=str(folder), reason=f"provenance keys {sorted(map(str, unknown))}: its keys are {', '.join(PROVENANCE_KEYS)}")
    return {k: None if provenance.get(k) is None else str(provenance[k]) for k in PROVENANCE_KEYS}


def _doc_provenance(doc: Document, provenance: dict[str, str | None] | None) -> dict[str, str | None]:
    if provenance is not None:
        return provenance
    stamp = doc.metadata.get(PROVENANCE)
    stamp = stamp if isinstance(stamp, dict) else {}
    return {k: None if stamp.get(k) is None else str(stamp[k]) for k in PROVENANCE_KEYS}


def _write_manifest(root: Path) -> None:
    """Write ``_biorel_parquet.json`` (atomically) unless it is there already;
    E541 for an output of another schema version."""
    from ..jobs import atomic_file

    path, want = root / MANIFEST, manifest()
    if path.is_file():
        found = _read_manifest(root)
        if found == want:
            return
        _check_version(root, found)
    with atomic_file(path) as fh:
        json.dump(want, fh, indent=1)
        fh.write("\n")


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _batch_rows(batch: list[Document], provenance, folder: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    for doc in batch:
        try:
            rows = _RowMaker(doc, _doc_provenance(doc, provenance)).rows()
        except (TypeError, ValueError) as e:  # infons or metadata that JSON cannot hold
            raise error("E545", path=str(folder), reason=f"document '{doc.id}': {type(e).__name__}: {e}") from None
        for t in TABLES:
            out[t].extend(rows[t])
    return out


@contextmanager
def _table_writers(root: Path, name: str) -> Iterator[dict[str, Any]]:
    """One ``ParquetWriter`` per table, each on an atomic file; the documents
    file is renamed in place last (an exit stack unwinds in reverse)."""
    from ..jobs import atomic_file

    _, pq = _pyarrow()
    with ExitStack() as stack:
        writers = {}
        for t in TABLES:
            fh = stack.enter_context(atomic_file(root / t / name, "wb"))
            writers[t] = pq.ParquetWriter(fh, schemas()[t])
            stack.callback(writers[t].close)
        yield writers


def write_part(docs: Iterable[Document], folder: str | os.PathLike, part: str, provenance: dict | None = None) -> int:
    """Write ``docs`` as part ``part`` of the output ``folder`` (one file per
    table, ``<table>/part-<part>.parquet``, each atomic; the manifest too) and
    return the number of documents. ``provenance`` (``{"model": ...,
    "model_version": ...}``) fills the ``model`` and ``model_version`` columns
    of every mention and relation; without it they come from each document's
    ``metadata["provenance"]``. Streams: ``BATCH_DOCUMENTS`` documents per
    record batch. A part of the same name is replaced whole; other parts stay."""
    pa, _ = _pyarrow()
    root = Path(folder)
    name, prov = _part_name(part), _check_provenance(provenance, root)
    if root.exists() and not root.is_dir():
        raise error("E545", path=str(root), reason="it is a file; a Parquet output is a folder")
    root.mkdir(parents=True, exist_ok=True)
    _write_manifest(root)
    n = 0
    with _table_writers(root, name) as writers:
        for batch in _batches(docs, BATCH_DOCUMENTS):
            rows = _batch_rows(batch, prov, root)
            for t in TABLES:
                try:
                    writers[t].write_table(pa.Table.from_pylist(rows[t], schema=schemas()[t]))
                except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
                    first = batch[0].id
                    raise error("E545", path=str(root), reason=f"table {t}, documents from '{first}': {e}") from None
            n += len(batch)
    return n


WRITER_OPTIONS = ("part", "provenance")


def _dump(docs: Iterable[Document], target: str | os.PathLike, *, part: str = DEFAULT_PART, provenance: dict | None = None) -> int:
    if not isinstance(target, (str, os.PathLike)):
        raise error("E546", action="written to", hint="Give a folder")
    return write_part(docs, target, part, provenance)


@functools.wraps(_dump, assigned=())  # __wrapped__: its signature names the options (``io.base.option_names``)
def dump(docs: Iterable[Document], target: str | os.PathLike, **options) -> int:
    """Write ``docs`` into the folder ``target`` as one part (``part``,
    default ``00000``) with ``provenance`` (see :func:`write_part`); an
    unknown option is E005."""
    check_options(options, WRITER_OPTIONS, "parquet writer")
    return _dump(docs, target, **options)


def dumps(docs: Iterable[Document], **options) -> str:
    raise error("E546", action="written as", hint="Write to a folder: biorel.io.write(docs, folder, 'parquet')")


def loads(text: str, **options) -> list[Document]:
    raise error("E546", action="read from", hint="Read a folder: biorel.io.load(folder, 'parquet')")


# ---------------------------------------------------------------- the folder


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    try:
        found = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise error("E540", where=SourceLocation(str(path)), path=str(root), reason=f"{MANIFEST} cannot be read ({e})") from None
    if not isinstance(found, dict) or found.get("format") != FORMAT_NAME:
        raise error("E540", where=SourceLocation(str(path)), path=str(root), reason=f"{MANIFEST} does not name the format {FORMAT_NAME}")
    return found


def _root(source: str | os.PathLike) -> Path:
    """The output folder of ``source`` (the folder or its manifest file); E540 when it is none."""
    path = Path(source)
    if path.name == MANIFEST and path.is_file():
        path = path.parent
    if not path.exists():
        raise error("E540", path=str(path), reason="no such folder")
    if not path.is_dir():
        raise error("E540", path=str(path), reason="it is a file, not a folder")
    if not any(path.iterdir()):
        raise error("E540", path=str(path), reason="the folder is empty")
    if not (path / MANIFEST).is_file():
        raise error("E540", path=str(path), reason=f"it has no {MANIFEST} (write one with biorel extract -t parquet)")
    return path


def _parts_of(root: Path, table: str) -> set[str]:
    folder = root / table
    if not folder.is_dir():
        raise error("E542", where=SourceLocation(str(folder)), path=str(root), reason=f"the table folder {table}/ is missing")
    return {p.name for p in folder.glob("part-*.parquet") if p.is_file()}


@dataclass(frozen=True)
class Output:
    """A checked Parquet output folder and its parts (file names, sorted)."""

    root: Path
    parts: tuple[str, ...]

    def files(self, table: str) -> list[Path]:
        return [self.root / table / name for name in self.parts]


def _check_version(root: Path, found: dict[str, Any]) -> None:
    if found.get("schema_version") != SCHEMA_VERSION:
        where = SourceLocation(str(root / MANIFEST))
        raise error("E541", where=where, path=str(root), found=found.get("schema_version"), expected=SCHEMA_VERSION)


def open_output(source: str | os.PathLike) -> Output:
    """Check that ``source`` is a Parquet output (E540), of this schema version
    (E541), whose every part has its four files (E542)."""
    root = _root(source)
    _check_version(root, _read_manifest(root))
    parts = {t: _parts_of(root, t) for t in TABLES}
    every = set().union(*parts.values())
    for t in TABLES:
        missing = sorted(every - parts[t])
        if missing:
            where = SourceLocation(str(root / t / missing[0]))
            raise error("E542", where=where, path=str(root), reason=f"{t}/{missing[0]} is missing (a write was interrupted, or a file was removed)")
    return Output(root, tuple(sorted(every)))


def check_schema(path: Path, table: str, schema) -> None:
    """E543 unless the file's columns and types are the table's."""
    want = schemas()[table]
    names, expected = schema.names, want.names
    if names != expected:
        missing, extra = [c for c in expected if c not in names], [c for c in names if c not in expected]
        reason = f"missing {missing}, unexpected {extra}" if missing or extra else f"columns in the order {names}, expected {expected}"
        raise error("E543", where=SourceLocation(str(path)), reason=reason)
    for field in want:
        found = schema.field(field.name).type
        if not found.equals(field.type):
            raise error("E543", where=SourceLocation(str(path)), reason=f"column {field.name} is {found}, expected {field.type}")


def _arrow_errors() -> tuple[type[Exception], ...]:
    pa, _ = _pyarrow()
    return (pa.ArrowException, OSError, ValueError)


def open_table_file(path: Path, table: str):
    """A ``pyarrow.parquet.ParquetFile`` with the table's columns (E543 for
    a file that is not Parquet or has other columns)."""
    _, pq = _pyarrow()
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except _arrow_errors() as e:
        raise error("E543", where=SourceLocation(str(path)), reason=f"not a readable Parquet file ({e})") from None
    check_schema(path, table, schema)
    return pf


def check_files(output: Output) -> None:
    """Check the columns of every file of ``output`` (E543), reading only their footers."""
    for table in TABLES:
        for path in output.files(table):
            open_table_file(path, table)


# ---------------------------------------------------------------- reading


def _bad_row(where: SourceLocation, reason: str) -> BiorelError:
    return error("E544", where=where, reason=reason)


class _Rows:
    """The rows of one table file, record batch by record batch, counted (``row k``)."""

    def __init__(self, path: Path, table: str):
        self.path, self.table, self.k = path, table, 0
        self.file = open_table_file(path, table)
        self._errors = _arrow_errors()
        self._it = self._rows()

    def _rows(self) -> Iterator[dict[str, Any]]:
        for batch in self.file.iter_batches(batch_size=BATCH_ROWS):
            yield from batch.to_pylist()

    def where(self, k: int | None = None) -> SourceLocation:
        return SourceLocation(str(self.path), path=f"row {self.k if k is None else k}")

    def next(self) -> dict[str, Any] | None:
        try:
            row = next(self._it, None)
        except self._errors as e:
            raise _bad_row(self.where(self.k + 1), f"the file cannot be read from here on ({e})") from None
        if row is not None:
            self.k += 1
        return row

    def take(self, n: int, doc_id: str) -> list[tuple[SourceLocation, dict[str, Any]]]:
        """The next ``n`` rows, which must be document ``doc_id``'s (E544: the tables are out of step)."""
        out = []
        for _ in range(n):
            row = self.next()
            if row is None:
                raise _bad_row(self.where(self.k + 1), f"the {self.table} table ends, but document '{doc_id}' has {n} rows in it")
            if row["document_id"] != doc_id:
                raise _bad_row(self.where(), f"a row of document '{row['document_id']}' where document '{doc_id}' has its {n} rows")
            out.append((self.where(), row))
        return out

    def finish(self) -> None:
        row = self.next()
        if row is not None:
            raise _bad_row(self.where(), f"a row of document '{row['document_id']}' that no row of the documents table counts")


def _loads(value: str | None, kind: type, what: str, where: SourceLocation):
    if value is None:
        return kind()
    try:
        out = json.loads(value)
    except ValueError as e:
        raise _bad_row(where, f"{what} is not JSON ({e})") from None
    if not isinstance(out, kind):
        raise _bad_row(where, f"{what} is not a JSON {'object' if kind is dict else 'array'}")
    return out


def _passages(row: dict[str, Any], where: SourceLocation) -> list[Passage]:
    text, out = row["text"], []
    for p in row["passages"]:
        if p is None or p["offset"] is None or p["length"] is None or p["offset"] < 0:
            raise _bad_row(where, f"passage {p} has no offset and length")
        ptext = p["text"] if p["text"] is not None else text[p["offset"] : p["offset"] + p["length"]]
        if len(ptext) != p["length"]:
            raise _bad_row(where, f"passage at offset {p['offset']} of length {p['length']} does not lie in the text ({len(text)} characters)")
        out.append(Passage(p["offset"], ptext, p["type"] or "", _loads(p["infons"], dict, "passage infons", where)))
    return out


def _mention(row: dict[str, Any], where: SourceLocation) -> Mention:
    _required(row, "mentions", where)
    spans = row["spans"]
    if any(s is None or len(s) != 2 or None in s for s in spans):
        raise _bad_row(where, f"spans {spans} are not [start, end] pairs")
    infons, components = _loads(row["infons"], dict, "infons", where), tuple(row["components"] or ())
    return Mention(row["mention_id"], tuple((s, e) for s, e in spans), row["text"], row["type"], tuple(row["ids"]), components, infons)


def _entity(row: dict[str, Any], where: SourceLocation) -> Entity:
    _required(row, "entities", where)
    name = row["name"] if row["name_source"] == "entity" else None
    return Entity(row["entity_id"], row["type"], tuple(row["mention_ids"]), name, _loads(row["infons"], dict, "infons", where))


def _relation(row: dict[str, Any], where: SourceLocation) -> Relation:
    _required(row, "relations", where)
    spans = row["evidence_spans"] or []
    if any(s is None or len(s) != 2 or None in s for s in spans):
        raise _bad_row(where, f"evidence_spans {spans} are not [start, end] pairs")
    if row["level"] not in ("entity", "mention"):
        raise _bad_row(where, f"level {row['level']!r} is not 'entity' or 'mention'")
    infons = _loads(row["infons"], dict, "infons", where)
    evidence = tuple((s, e) for s, e in spans)
    return Relation(row["relation_id"], row["type"], row["head"], row["tail"], row["level"], row["directed"], row["score"], evidence, infons)


_BUILD = {"mentions": _mention, "entities": _entity, "relations": _relation}
_ID = {"mentions": "mention_id", "entities": "entity_id", "relations": "relation_id"}


def _document(row: dict[str, Any], where: SourceLocation, children: dict[str, list]) -> RawDocument:
    _required(row, "documents", where)
    doc_id = row["document_id"]
    nary = _loads(row["nary_relations"], list, "nary_relations", where)
    try:
        nary_relations = Document.from_dict({"id": doc_id, "nary_relations": nary}).nary_relations
    except (KeyError, TypeError, ValueError) as e:
        raise _bad_row(where, f"nary_relations is not a list of relations ({type(e).__name__}: {e})") from None
    doc = Document(doc_id, _passages(row, where), metadata=_loads(row["metadata"], dict, "metadata", where), nary_relations=nary_relations)
    item_where: dict[str, SourceLocation] = {}
    for table, rows in children.items():
        items = getattr(doc, table)
        for at, child in rows:
            items.append(_BUILD[table](child, at))
            item_where.setdefault(child[_ID[table]], at)
    return RawDocument(doc, where, item_where)


def _required(row: dict[str, Any], table: str, where: SourceLocation) -> None:
    missing = [c for c in REQUIRED[table] if row[c] is None]
    if missing:
        raise _bad_row(where, f"{', '.join(missing)} is empty")


def _count(row: dict[str, Any], column: str, where: SourceLocation) -> int:
    n = row[column]
    if n is None or n < 0:
        raise _bad_row(where, f"{column} is {n}; the rows of the other tables cannot be matched to documents")
    return n


def _read_part(output: Output, name: str, report: Reporter) -> Iterator[RawDocument]:
    docs = _Rows(output.root / "documents" / name, "documents")
    children = {t: _Rows(output.root / t / name, t) for t in CHILD_TABLES}
    while (row := docs.next()) is not None:
        where = docs.where()
        taken = {t: rows.take(_count(row, CHILD_TABLES[t], where), row["document_id"]) for t, rows in children.items()}
        try:
            raw = _document(row, where, taken)
        except BiorelError as err:
            report(err, "document skipped")
            continue
        yield raw
    for rows in children.values():
        rows.finish()


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    if not isinstance(source, (str, os.PathLike)):
        raise error("E546", action="read from", hint="Give the output folder")
    output = open_output(source)
    report = Reporter(lenient, diagnostics)
    for name in output.parts:
        yield from _read_part(output, name, report)


def sniff(path: str) -> bool:
    """A folder holding ``_biorel_parquet.json``."""
    return (Path(path) / MANIFEST).is_file()


# Extraction output may hold text-less documents (as JSONL may), so text is not required.
_base = json_like(_raw, None, require_text=False, fmt=FMT)
iterparse, load = _base.iterparse, _base.load
_api = JsonLikeAPI(iterparse, load, loads, dump, dumps)

registry.formats.register(
    FORMAT_NAME,
    Format(FMT, _api, directory=True, description="Parquet extraction output: documents, entities, mentions, relations tables", sniff=sniff),
    aliases=(FMT,),
)

__all__ = ["write_part", "open_output", "check_files", "Output", "iterparse", "load", "loads", "dump", "dumps", "schemas", "manifest", "COLUMNS"]
