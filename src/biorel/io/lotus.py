"""LOTUS tables: organism -> natural product occurrences, one row per (structure, organism, reference).

The LOTUS export (and its samples, e.g. the GME sampler's ``test_data.csv``) is a
delimited table with LOTUS column names: ``structure_*``, ``organism_*`` and
``reference_*``. Rules of this module:

* **Delimiter.** Sniffed from the header line: whichever of TAB, ``,`` and ``;``
  splits it into the most cells (a ``.csv`` name does not imply commas; the GME
  example is tab-separated). ``delimiter=`` forces one. Cells are parsed with the
  :mod:`csv` module (RFC-4180 quoting with ``"``), streaming, row by row.
* **Required columns.** ``structure_wikidata``, ``structure_nameTraditional``,
  ``organism_wikidata``, ``organism_name`` and at least one of the key columns;
  a missing one raises E140 listing what is expected.
* **Rows.** Every row must have as many cells as the header (E141 names file and
  line); blank lines are ignored. Each row is one relation ``produces``,
  directed organism -> chemical; its entities need non-empty ids (E142).
* **One Document per reference.** Consecutive rows with the same key make one
  document whose id is the key. The key of a row is the first non-empty cell of
  ``key`` (default ``reference_doi``, then ``reference_wikidata``, then
  ``reference_pubmed_id``). Rows of one reference must be contiguous: a key that
  comes back after another reference started raises E143 (file, line, and where
  the reference was seen before) -- sort or group the table first. Memory is
  bounded by one reference's rows plus the set of keys already seen (a string per
  reference, no rows). Lenient mode reports each row of such a run to
  ``Diagnostics`` and skips it.
* **Entities.** organism: id ``organism_wikidata``, name ``organism_name``,
  infons = the other ``organism_*`` cells (``organism_taxonomy_02kingdom`` ...);
  chemical: id ``structure_wikidata``, name ``structure_nameTraditional``,
  infons = the other ``structure_*`` cells. Each entity appears once per document
  with the cells of the first row that names it. No mentions: LOTUS has no text.
* **Lossless.** ``reference_*`` cells of the first row go to ``metadata``; the
  column list, delimiter and line terminator to ``metadata["lotus"]``. Any cell of
  a row that differs from what entities + metadata give (a second spelling of an
  organism name, columns with no prefix, ...) is kept in that relation's
  ``infons["lotus_cells"]``. Writing rebuilds every row in order from those, so
  ``load`` then ``dump`` gives the same table, cell for cell, and byte for byte
  for files written with minimal quoting.

For table work that needs no documents (the GME sampler), :func:`iter_rows`
streams raw rows as ``dict`` s (column -> cell, in header order) with the same
checks, :func:`write_rows` writes such rows back, and :func:`document_rows`
rebuilds the rows of a :class:`Document`.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, TextIO
from collections.abc import Iterable, Iterator, Sequence

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document, Entity, Relation
from .base import Format, RawDocument, Source, iter_lines, json_like, source_name, report_or_raise

ORGANISM_ID, ORGANISM_NAME = "organism_wikidata", "organism_name"
CHEMICAL_ID, CHEMICAL_NAME = "structure_wikidata", "structure_nameTraditional"
#: default grouping key: the first non-empty of these cells names the reference
DEFAULT_KEY = ("reference_doi", "reference_wikidata", "reference_pubmed_id")
REQUIRED_COLUMNS = (CHEMICAL_ID, CHEMICAL_NAME, ORGANISM_ID, ORGANISM_NAME)
RELATION_TYPE = "produces"
DELIMITERS = ("\t", ",", ";")

Row = dict[str, str]


# ---- raw rows ------------------------------------------------------------------


def sniff_delimiter(header: str) -> str:
    """The delimiter that splits the header line into the most cells (TAB wins ties)."""
    return max(DELIMITERS, key=lambda d: header.count(d))


class _Table:
    """A streaming reader of one delimited table: header, then rows located at
    the (physical) line where each starts."""

    def __init__(self, source: Source, delimiter: str | None, lenient: bool = False, diagnostics: Diagnostics | None = None):
        self.name = source_name(source)
        self._lines = iter_lines(source, keepends=True, lenient=lenient, diagnostics=diagnostics)
        first = next(self._lines, None)
        if first is None:
            raise error("E022", where=SourceLocation(self.name, 1), fmt="LOTUS table", reason="the file is empty (no header line)")
        header = first[1]
        self.lineterminator = "\r\n" if header.endswith("\r\n") else "\n"
        self.delimiter = delimiter or sniff_delimiter(header.rstrip("\r\n"))
        self._pending = [first]
        self._start: int | None = None  # line of the first physical line of the record being read
        self._reader = csv.reader(self._feed(), delimiter=self.delimiter)
        self.columns: list[str] = next(self._reader)
        self.header_line = self._start
        self._start = None

    def _feed(self) -> Iterator[str]:
        while True:
            if self._pending:
                where, line = self._pending.pop()
            else:
                nxt = next(self._lines, None)
                if nxt is None:
                    return
                where, line = nxt
            if self._start is None:
                self._start = where.line
            yield line

    def rows(self) -> Iterator[tuple[SourceLocation, list[str]]]:
        while True:
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise error("E022", where=SourceLocation(self.name, self._start), fmt="LOTUS table", reason=str(e)) from None
            start, self._start = self._start, None
            if cells:  # csv yields [] for a blank line
                yield SourceLocation(self.name, start), cells


def _check_columns(columns: Sequence[str], key: Sequence[str], where: SourceLocation) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if not any(k in columns for k in key):
        missing.append(" or ".join(key))
    if missing:
        expected = ", ".join(REQUIRED_COLUMNS) + ", and one of " + ", ".join(key)
        raise error("E140", where=where, missing=", ".join(missing), expected=expected)


def _report(err: BiorelError, lenient: bool, diagnostics: Diagnostics | None, action: str = "row skipped") -> None:
    report_or_raise(err, action, lenient=lenient, diagnostics=diagnostics)


def iter_located_rows(
    source: Source,
    *,
    delimiter: str | None = None,
    require: Sequence[str] = (),
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
) -> Iterator[tuple[SourceLocation, Row]]:
    """Yield ``(location, row)`` for each data row. ``require`` names columns the
    header must have (E140). A row with the wrong number of cells raises E141;
    in lenient mode it is reported to ``diagnostics`` and skipped."""
    table = _Table(source, delimiter, lenient, diagnostics)
    missing = [c for c in require if c not in table.columns]
    if missing:
        raise error("E140", where=SourceLocation(table.name, table.header_line), missing=", ".join(missing), expected=", ".join(require))
    n = len(table.columns)
    for where, cells in table.rows():
        if len(cells) != n:
            _report(error("E141", where=where, fmt="LOTUS", found=len(cells), expected=n, delimiter=repr(table.delimiter)), lenient, diagnostics)
            continue
        yield where, dict(zip(table.columns, cells))


def iter_rows(
    source: Source, *, delimiter: str | None = None, require: Sequence[str] = (), lenient: bool = False, diagnostics: Diagnostics | None = None
) -> Iterator[Row]:
    """Stream the rows of a LOTUS (or any delimited) table as ``{column: cell}``
    dicts in header order, cells verbatim (strings, ``""`` for empty). The
    delimiter is sniffed from the header unless given. See
    :func:`iter_located_rows` for errors."""
    for _, row in iter_located_rows(source, delimiter=delimiter, require=require, lenient=lenient, diagnostics=diagnostics):
        yield row


def read_header(source: Source, *, delimiter: str | None = None) -> tuple[list[str], str]:
    """The column names and the (sniffed) delimiter of a table."""
    table = _Table(source, delimiter)
    return table.columns, table.delimiter


def write_rows(
    rows: Iterable[Row],
    target: str | os.PathLike | TextIO,
    *,
    columns: Sequence[str] | None = None,
    delimiter: str = "\t",
    lineterminator: str = "\n",
) -> int:
    """Write row dicts as a table (header first). ``columns`` default to the
    first row's keys; a row with a non-empty cell outside ``columns`` raises
    E153 (it would be lost). Returns the number of rows written."""
    if isinstance(target, (str, os.PathLike)):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8", newline="") as fh:
            return write_rows(rows, fh, columns=columns, delimiter=delimiter, lineterminator=lineterminator)
    writer = csv.writer(target, delimiter=delimiter, lineterminator=lineterminator)
    cols: list[str] | None = list(columns) if columns is not None else None
    n = 0
    for row in rows:
        if cols is None:
            cols = list(row)
        if n == 0:
            writer.writerow(cols)
        extra = [c for c, v in row.items() if c not in cols and v not in ("", None)]
        if extra:
            raise error("E153", fmt="LOTUS table", reason=f"row {n + 1} has cells in columns {extra} that are not in the header {cols}")
        writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in cols])
        n += 1
    if n == 0 and cols is not None:
        writer.writerow(cols)
    return n


# ---- rows <-> documents ----------------------------------------------------------


def _row_key(row: Row, key: Sequence[str]) -> str:
    for k in key:
        v = row.get(k)
        if v:
            return v
    return ""


def _entity(row: Row, id_col: str, name_col: str, prefix: str, type_: str) -> Entity:
    infons = {c: v for c, v in row.items() if c.startswith(prefix) and c not in (id_col, name_col)}
    return Entity(id=row[id_col], type=type_, name=row[name_col], infons=infons)


def _compose(doc: Document, rel: Relation, columns: Sequence[str], ents: dict[str, Entity]) -> Row:
    """The row a relation stands for: ``reference_*`` metadata, then its
    entities (id, name and the infons with the entity's column prefix), then the
    relation's own cells (``infons["lotus_cells"]``), which win. Cells outside
    ``columns`` are returned too, so writers can refuse to lose them."""
    cells: dict[str, Any] = {c: doc.metadata[c] for c in columns if c.startswith("reference_") and c in doc.metadata}
    for ent_id, id_col, name_col, prefix in (
        (rel.head, ORGANISM_ID, ORGANISM_NAME, "organism_"),
        (rel.tail, CHEMICAL_ID, CHEMICAL_NAME, "structure_"),
    ):
        ent = ents.get(ent_id)
        if ent is None:
            cells[id_col] = ent_id
            continue
        cells.update((k, v) for k, v in ent.infons.items() if k.startswith(prefix))
        cells[id_col] = ent.id
        if ent.name is not None:
            cells[name_col] = ent.name
    cells.update(rel.infons.get("lotus_cells", {}))
    return {c: "" if cells.get(c) is None else str(cells.get(c)) for c in columns} | {
        c: str(v) for c, v in cells.items() if c not in columns and v not in ("", None)
    }


def document_rows(doc: Document, columns: Sequence[str] | None = None) -> list[Row]:
    """The table rows of a document, one per ``produces`` relation, in order.
    ``columns`` default to ``metadata["lotus"]["columns"]``."""
    cols = list(columns or doc.metadata.get("lotus", {}).get("columns") or _default_columns(doc))
    _check_writable(doc)
    ents = doc.entity_index()
    rows = []
    for rel in doc.relations:
        if rel.type != RELATION_TYPE:
            raise error(
                "E153",
                fmt="LOTUS table",
                reason=f"relation '{rel.id}' of document '{doc.id}' has type '{rel.type}'; LOTUS rows are '{RELATION_TYPE}' relations",
            )
        rows.append(_check_key(doc, _compose(doc, rel, cols, ents)))
    return rows


def _check_writable(doc: Document) -> None:
    """E153 for a document that would have no row (no relation): it would be lost."""
    if not doc.relations:
        raise error("E153", fmt="LOTUS table", reason=f"document '{doc.id}' has no '{RELATION_TYPE}' relation, so it would have no row")


def _check_key(doc: Document, row: Row) -> Row:
    """E153 for a row that names no reference: the reader groups rows into
    documents by their ``reference_*`` cell, so the row could not be read back."""
    if not any(row.get(c) for c in DEFAULT_KEY):
        raise error(
            "E153",
            fmt="LOTUS table",
            reason=f"document '{doc.id}' names no reference ({', '.join(DEFAULT_KEY)} in its metadata or columns), which every LOTUS row needs",
        )
    return row


def _default_columns(doc: Document) -> list[str]:
    cols = [CHEMICAL_ID, CHEMICAL_NAME, ORGANISM_ID, ORGANISM_NAME]
    for e in doc.entities:
        cols += [k for k in e.infons if k.startswith(("organism_", "structure_")) and k not in cols]
    cols += [k for k in doc.metadata if k.startswith("reference_") and k not in cols]
    return cols


class _Group:
    """The rows of one reference being collected into a document."""

    def __init__(self, key: str, where: SourceLocation, columns: list[str], delimiter: str, lineterminator: str, first: Row):
        meta: dict[str, Any] = {c: v for c, v in first.items() if c.startswith("reference_")}
        meta["lotus"] = {"columns": columns, "delimiter": delimiter, "lineterminator": lineterminator}
        self.doc = Document(id=key, metadata=meta)
        self.where = where
        self.last_line = where.line
        self.item_where: dict[str, SourceLocation] = {}
        self.ents: dict[str, Entity] = {}

    def add(self, where: SourceLocation, row: Row) -> None:
        org = self.ents.get(row[ORGANISM_ID]) or self._new(_entity(row, ORGANISM_ID, ORGANISM_NAME, "organism_", "organism"), where)
        chem = self.ents.get(row[CHEMICAL_ID]) or self._new(_entity(row, CHEMICAL_ID, CHEMICAL_NAME, "structure_", "chemical"), where)
        rel = Relation(id=f"R{len(self.doc.relations)}", type=RELATION_TYPE, head=org.id, tail=chem.id, directed=True)
        composed = _compose(self.doc, rel, list(row), self.ents)
        extra = {c: v for c, v in row.items() if composed.get(c) != v}
        if extra:
            rel.infons["lotus_cells"] = extra
        self.doc.relations.append(rel)
        self.item_where[rel.id] = where
        self.last_line = where.line

    def _new(self, ent: Entity, where: SourceLocation) -> Entity:
        self.ents[ent.id] = ent
        self.doc.entities.append(ent)
        self.item_where[ent.id] = where
        return ent

    def raw(self) -> RawDocument:
        return RawDocument(self.doc, self.where, self.item_where)


def _raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    key: str | Sequence[str] = DEFAULT_KEY,
    delimiter: str | None = None,
) -> Iterator[RawDocument]:
    keys = (key,) if isinstance(key, str) else tuple(key)
    table = _Table(source, delimiter, lenient, diagnostics)
    _check_columns(table.columns, keys, SourceLocation(table.name, table.header_line))
    n = len(table.columns)
    group: _Group | None = None
    seen: dict[str, tuple[int, int]] = {}  # key -> (first line, last line) of a finished reference
    for where, cells in table.rows():
        if len(cells) != n:
            _report(error("E141", where=where, fmt="LOTUS", found=len(cells), expected=n, delimiter=repr(table.delimiter)), lenient, diagnostics)
            continue
        row = dict(zip(table.columns, cells))
        k = _row_key(row, keys)
        empty = [c for c in (ORGANISM_ID, CHEMICAL_ID) if not row[c]] or ([] if k else [" / ".join(c for c in keys if c in row)])
        if empty:
            _report(
                error("E142", where=where, column=empty[0], reason="every row needs an organism id, a structure id and a reference key"),
                lenient,
                diagnostics,
            )
            continue
        if group is not None and k == group.doc.id:
            group.add(where, row)
            continue
        if k in seen:
            first, last = seen[k]
            _report(error("E143", where=where, key=k, first=first, last=last, column=" / ".join(keys)), lenient, diagnostics)
            continue
        if group is not None:
            seen[group.doc.id] = (group.where.line, group.last_line)
            yield group.raw()
        group = _Group(k, where, table.columns, table.delimiter, table.lineterminator, row)
        group.add(where, row)
    if group is not None:
        yield group.raw()


def _write(
    docs: Iterable[Document], fh: TextIO, *, columns: Sequence[str] | None = None, delimiter: str | None = None, lineterminator: str | None = None
) -> int:
    """Write documents as one table; the header, delimiter and line terminator
    come from the options, else from the first document's ``metadata["lotus"]``.
    Returns the number of documents written."""
    it = iter(docs)
    first = next(it, None)
    if first is None:
        return 0
    fmt = first.metadata.get("lotus", {})
    cols = list(columns or fmt.get("columns") or _default_columns(first))
    delim = delimiter or fmt.get("delimiter") or "\t"
    term = lineterminator or fmt.get("lineterminator") or "\n"
    count = 0

    def rows() -> Iterator[Row]:
        nonlocal count
        for doc in (first, *it):
            count += 1
            yield from document_rows(doc, cols)

    write_rows(rows(), fh, columns=cols, delimiter=delim, lineterminator=term)
    return count


def sniff(path: str) -> bool:
    """A table whose header has every required LOTUS column and a reference key
    column (a table with only some LOTUS names, like the GME sampler's
    ``expected_top_10.tsv``, is not a LOTUS table)."""
    try:
        with open(path, "rb") as fh:
            header = fh.readline(65536).decode("utf-8-sig", "replace").rstrip("\r\n")
    except OSError:
        return False
    cells = next(csv.reader([header], delimiter=sniff_delimiter(header)), [])
    return all(c in cells for c in REQUIRED_COLUMNS) and any(k in cells for k in DEFAULT_KEY)


_api = json_like(_raw, _write, require_text=False, fmt="lotus", blank_is_empty=True)
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.LOTUS.v1",
    Format(
        "lotus",
        _api,
        extensions=(".lotus.tsv", ".lotus.csv", ".tsv", ".csv"),
        description="LOTUS organism/structure/reference tables (one document per reference)",
        sniff=sniff,
    ),
    aliases=("lotus",),
)
