"""Adapters from inputs to :class:`~biorel.sampling.table.ItemTable`.

* **Tables** (LOTUS exports: ``.tsv``/``.csv``, optionally ``.gz``): one row per
  relation; ``item`` names the item column (default ``reference_doi``), ``on``
  the variable columns, ``stratify`` an optional stratum column (e.g.
  ``organism_taxonomy_02kingdom``). Rows are read by
  :func:`biorel.io.lotus.iter_located_rows` (any delimited table). A row with an
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

import gzip
import os
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterable, Iterator, Sequence

from ..errors import Diagnostics, SourceLocation, error
from ..io import lotus
from ..types import Document
from .table import ItemTable, Record

TABLE_SUFFIXES = (".tsv", ".csv", ".tab", ".tsv.gz", ".csv.gz", ".tab.gz")
DEFAULT_ITEM_COLUMNS = ("reference_doi", "reference_wikidata", "reference_pubmed_id")


def is_table(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(TABLE_SUFFIXES)


# ---- tables ------------------------------------------------------------------
@contextmanager
def _opened(path: str | os.PathLike):
    """A path, or a binary stream for ``.gz`` files (the LOTUS reader takes both)."""
    if str(path).lower().endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            yield fh
    else:
        yield path


def table_columns(path: str | os.PathLike) -> list[str]:
    with _opened(path) as src:
        return lotus.read_header(src)[0]


def iter_table_rows(
    path: str | os.PathLike, *, lenient: bool = False, diagnostics: Diagnostics | None = None
) -> Iterator[tuple[SourceLocation, dict[str, str]]]:
    """``(location, row)`` for each data row of a delimited table (``.gz`` ok),
    read by :func:`biorel.io.lotus.iter_located_rows` (delimiter sniffed,
    ragged rows are E141 errors, or skipped and reported in lenient mode)."""
    with _opened(path) as src:
        yield from lotus.iter_located_rows(src, lenient=lenient, diagnostics=diagnostics)


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
    columns = table_columns(path)
    item = item or _default_item(columns, path)
    _check_columns(columns, [item, *on] + ([stratify] if stratify else []), path)
    for where, row in iter_table_rows(path, lenient=lenient, diagnostics=diagnostics):
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


def _default_item(columns: Sequence[str], path) -> str:
    for c in DEFAULT_ITEM_COLUMNS:
        if c in columns:
            return c
    raise error("E221", column=" or ".join(DEFAULT_ITEM_COLUMNS) + " (the item column; give --item)", source=str(path), choices=", ".join(columns))


def _check_columns(columns: Sequence[str], needed: Sequence[str], path) -> None:
    for c in needed:
        if c not in columns:
            raise error("E221", column=c, source=str(path), choices=", ".join(columns))


def write_table_subset(path: str | os.PathLike, out: str | os.PathLike, item: str | None, keep: set[str]) -> int:
    """Copy the rows of items in ``keep`` (file order) to a TSV (or CSV) file."""
    out = Path(out)
    columns = table_columns(path)
    item = item or _default_item(columns, path)
    rows = (row for _, row in iter_table_rows(path) if (row.get(item) or "").strip() in keep)
    delim = "," if out.name.lower().endswith(".csv") else "\t"
    try:
        return lotus.write_rows(rows, out, columns=columns, delimiter=delim)
    except OSError as e:
        raise error("E228", what="the sub-corpus", path=str(out), reason=e.strerror or str(e)) from None


# ---- biorel corpora ------------------------------------------------------------
def document_records(
    docs: Iterable[Document], on: Sequence[str], stratify: str | None = None, *, diagnostics: Diagnostics | None = None
) -> Iterator[Record]:
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
