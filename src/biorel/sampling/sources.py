"""Adapters from inputs to :class:`~biorel.sampling.table.ItemTable`.

* **Tables** (LOTUS exports: ``.tsv``/``.csv``, optionally ``.gz``): one row per
  relation; ``item`` names the item column (default ``reference_doi``), ``on``
  the variable columns, ``stratify`` an optional stratum column (e.g.
  ``organism_taxonomy_02kingdom``). Rows come from ``biorel.io.lotus.iter_rows``
  when that module is installed, else from a small built-in reader (tab
  separated when the header has a tab, else comma separated). A row with an
  empty item or variable value is an error (E222, with file and line); in
  lenient mode it is skipped and reported. (The reference implementation
  would count an empty value as an entity ``""``; biorel does not.)
* **biorel corpora** (any format :func:`biorel.io.read` knows): the item is the
  document id; each relation is a record whose variables are the *entity types*
  of its arguments (``Chemical``/``Disease`` for BC5CDR CID relations; matched
  exactly, then case-insensitively) and the value is the argument's entity id
  (its concept id). A mention-level argument contributes the grounded concept
  ids of its mention (each id of a composite mention counts); an ungrounded one
  is reported (E230) and ignored. A variable that is no argument type is looked
  up in the relation's ``infons`` and then in the document ``metadata`` (named
  columns). A relation with no value for any variable is reported (E226) and
  ignored; a document without usable relations cannot be ranked (E224). The
  stratum of a relation is ``stratify`` in its infons, then in its argument
  entities' infons, then in the document metadata.
"""

from __future__ import annotations

import csv
import gzip
import importlib
import io as _io
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..errors import Diagnostics, SourceLocation, error
from ..types import Document
from .table import ItemTable, Record

TABLE_SUFFIXES = (".tsv", ".csv", ".tab", ".tsv.gz", ".csv.gz", ".tab.gz")
DEFAULT_ITEM_COLUMNS = ("reference_doi", "reference_wikidata", "reference_pubmed_id")


def is_table(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(TABLE_SUFFIXES)


# ---- tables ------------------------------------------------------------------
def iter_table_rows(path: str | os.PathLike, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[tuple[SourceLocation, dict[str, str]]]:
    """``(location, row)`` for each data row of a delimited table (``.gz`` ok)."""
    lotus = _lotus_module()
    if lotus is None or not hasattr(lotus, "iter_located_rows"):
        yield from _builtin_rows(path)
        return
    if str(path).lower().endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            yield from lotus.iter_located_rows(fh, lenient=lenient, diagnostics=diagnostics)
    else:
        yield from lotus.iter_located_rows(path, lenient=lenient, diagnostics=diagnostics)


def _lotus_module():
    try:
        return importlib.import_module("biorel.io.lotus")
    except ImportError:
        return None


def _open_text(path: str | os.PathLike):
    raw = gzip.open(path, "rb") if str(path).lower().endswith(".gz") else open(path, "rb")
    return _io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _builtin_rows(path: str | os.PathLike) -> Iterator[tuple[SourceLocation, dict[str, str]]]:
    name = str(path)
    with _open_text(path) as fh:
        try:
            header_line = fh.readline()
        except UnicodeDecodeError as e:
            raise error("E020", where=SourceLocation(name, 1), byte=e.start, reason=e.reason) from None
        if not header_line.strip():
            raise error("E227", where=SourceLocation(name, 1), reason="the first line must be a header naming the columns")
        delim = "\t" if "\t" in header_line else ","
        header = next(csv.reader([header_line], delimiter=delim))
        reader = csv.reader(fh, delimiter=delim)
        lineno = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as e:
                raise error("E020", where=SourceLocation(name, reader.line_num + 1), byte=e.start, reason=e.reason) from None
            except csv.Error as e:
                raise error("E227", where=SourceLocation(name, reader.line_num + 1), reason=str(e)) from None
            lineno = reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) != len(header):
                raise error("E227", where=SourceLocation(name, lineno), reason=f"{len(fields)} fields where the header has {len(header)}")
            yield SourceLocation(name, lineno), dict(zip(header, fields))


def table_records(
    path: str | os.PathLike,
    on: Sequence[str],
    item: str | None = None,
    stratify: str | None = None,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
) -> Iterator[Record]:
    """Records of a LOTUS-style table (see module doc)."""
    if lenient and diagnostics is None:
        diagnostics = Diagnostics()
    checked_header = False
    for where, row in iter_table_rows(path, lenient=lenient, diagnostics=diagnostics):
        if not checked_header:
            item = item or _default_item(row, path)
            _check_columns(row, [item, *on] + ([stratify] if stratify else []), path)
            checked_header = True
        key = (row.get(item) or "").strip()
        missing = next((c for c in (item, *on) if not (row.get(c) or "").strip()), None)
        if missing is not None:
            err = error("E222", where=where, column=missing, item=key)
            if not lenient:
                raise err
            diagnostics.add(err, "row skipped")
            continue
        stratum = ((row.get(stratify) or "").strip() or None) if stratify else None
        yield Record(key, {v: row[v].strip() for v in on}, stratum)


def _default_item(row: dict[str, Any], path) -> str:
    for c in DEFAULT_ITEM_COLUMNS:
        if c in row:
            return c
    raise error("E221", column="(item column)", source=str(path), choices=", ".join(row))


def _check_columns(row: dict[str, Any], needed: Sequence[str], path) -> None:
    for c in needed:
        if c not in row:
            raise error("E221", column=c, source=str(path), choices=", ".join(row))


def write_table_subset(path: str | os.PathLike, out: str | os.PathLike, item: str | None, keep: set[str]) -> int:
    """Copy the rows of items in ``keep`` (file order) to a TSV (or CSV) file."""
    out = Path(out)
    n = 0
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        delim = "," if out.name.lower().endswith(".csv") else "\t"
        with open(out, "w", encoding="utf-8", newline="") as fh:
            writer = None
            for _, row in iter_table_rows(path):
                if writer is None:
                    item = item or _default_item(row, path)
                    writer = csv.DictWriter(fh, fieldnames=list(row), delimiter=delim, lineterminator="\n")
                    writer.writeheader()
                if (row.get(item) or "").strip() in keep:
                    writer.writerow(row)
                    n += 1
    except OSError as e:
        raise error("E228", what="the sub-corpus", path=str(out), reason=e.strerror or str(e)) from None
    return n


# ---- biorel corpora ------------------------------------------------------------
def document_records(docs: Iterable[Document], on: Sequence[str], stratify: str | None = None, *, diagnostics: Diagnostics | None = None) -> Iterator[Record]:
    """Records of biorel documents (see module doc)."""
    for doc in docs:
        used = 0
        ents = doc.entity_index()
        ments = doc.mention_index()
        for r in doc.relations:
            values = _relation_values(doc, r, on, ents, ments, diagnostics)
            if not values:
                if diagnostics is not None:
                    diagnostics.add(error("E226", relation=r.id, doc=doc.id, variables=", ".join(on)), "relation ignored")
                continue
            used += 1
            yield Record(doc.id, values, _stratum_of(doc, r, stratify, ents))
        if not used:
            yield Record(doc.id, {}, _stratum_of(doc, None, stratify))


def _relation_values(doc: Document, r, on: Sequence[str], ents, ments, diagnostics) -> dict[str, list[str]]:
    args: list[tuple[str, list[str]]] = []  # (type, concept ids)
    for arg in (r.head, r.tail):
        if r.level == "mention":
            m = ments.get(arg)
            if m is None:
                _report(diagnostics, arg, r, doc, "names no mention of the document")
                continue
            if not m.grounded_ids:
                _report(diagnostics, arg, r, doc, f"is an ungrounded {m.type} mention (no concept id)")
                continue
            args.append((m.type, list(m.grounded_ids)))
        else:
            e = ents.get(arg)
            if e is None:
                _report(diagnostics, arg, r, doc, "names no entity of the document")
                continue
            args.append((e.type, [e.id]))
    values: dict[str, list[str]] = {}
    for var in on:
        vals = [i for t, ids in args if t == var for i in ids]
        if not vals:
            vals = [i for t, ids in args if t.lower() == var.lower() for i in ids]
        if not vals and var in r.infons and r.infons[var] not in (None, ""):
            vals = [str(r.infons[var])]
        if not vals and var in doc.metadata and doc.metadata[var] not in (None, ""):
            vals = [str(doc.metadata[var])]
        if vals:
            values[var] = vals
    return values


def _report(diagnostics, arg, r, doc, reason) -> None:
    if diagnostics is not None:
        diagnostics.add(error("E230", arg=arg, relation=r.id, doc=doc.id, reason=reason), "argument ignored")


def _stratum_of(doc: Document, r, stratify: str | None, ents=None) -> str | None:
    """The stratum value of a relation: its infons, then its arguments' entity
    infons (LOTUS keeps ``organism_taxonomy_02kingdom`` on the organism), then
    the document metadata."""
    if stratify is None:
        return None
    if r is not None:
        if r.infons.get(stratify) not in (None, ""):
            return str(r.infons[stratify])
        for arg in (r.head, r.tail):
            e = (ents or {}).get(arg)
            if e is not None and e.infons.get(stratify) not in (None, ""):
                return str(e.infons[stratify])
    val = doc.metadata.get(stratify)
    return None if val in (None, "") else str(val)


# ---- one entry point ------------------------------------------------------------
def load_table(
    path: str | os.PathLike,
    on: Sequence[str],
    *,
    item: str | None = None,
    stratify: str | None = None,
    format: str | None = None,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
) -> ItemTable:
    """Build the sampler input from a table file or a biorel corpus. A path
    ending in a table suffix is read as a table unless ``format`` is given."""
    if not Path(path).exists():
        raise error("E171", path=str(path))
    if format is None and is_table(path):
        recs = table_records(path, on, item, stratify, lenient=lenient, diagnostics=diagnostics)
    else:
        from .. import io as bio

        docs = bio.read(path, format, lenient=lenient, diagnostics=diagnostics)
        recs = document_records(docs, on, stratify, diagnostics=diagnostics)
    table = ItemTable.from_records(recs, on, stratify=stratify)
    if table.n_items == 0:
        raise error("E223", reason=f"{path} holds no item")
    return table
