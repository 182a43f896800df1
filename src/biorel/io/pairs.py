"""Candidate pair tables as documents: ``biorel.PairsTable.v1`` (alias ``pairs``).

A table written by ``biorel pairs`` (:mod:`biorel.pairs_table`, CSV or
Parquet) is read back as training or test data: **one document per row**.
Rows are read by :func:`biorel.pairs_table.iter_pairs` (the reader of
:func:`~biorel.pairs_table.read_pairs`), so the columns and their types are
exactly :data:`~biorel.pairs_table.COLUMNS`. Rules:

* **Id** ``<doc_id>:<pair_index>``: stable (the table's own numbering of a
  document's candidate pairs) and unique (the pair index is an integer, so
  the part after the last ``:`` is always it). A repeated id is E016.
* **Text**: one passage at offset 0 holding the row's plain ``text`` (no
  markers); its type is the row's ``scope`` (``sentence`` or ``document``).
* **Arguments**: two mentions at ``head_start:head_end`` and
  ``tail_start:tail_end`` with the row's ``head_mention``/``tail_mention``
  ids (``<id>:head``/``<id>:tail`` when one mention stands for both), the
  entity types as mention types; two entities ``head_entity`` and
  ``tail_entity``, one mention each.
* **Labels**: one relation per type of ``label`` (``|``-joined types give
  several; ids ``R1``, ``R2``...) from the head entity to the tail entity,
  ``directed`` as the row says; ``none`` gives no relation. The label is not
  copied to ``metadata["label"]`` (the ``sentence`` scorer would count it a
  second time): the relations are the labels.
* **One candidate**: ``metadata["candidate_pairs"]`` names the row's ordered
  pair, so relation models consider that pair alone (not also its reverse,
  which is the table's own next row for undirected types).
* **Nothing is lost**: every other cell (``doc_id``, ``pair_index``,
  ``sentence_index``, ``marked_text`` and the marked offsets, the document
  offsets, ``label``, ``source``, ``format``...) is kept in
  ``metadata["pair"]`` under its column name.
* **Checks**: a row must hold together as a document or it is E188 naming
  file and line (Parquet: ``row k``) and what is wrong: empty ids, types or
  text, the same entity as head and tail, an argument span outside the text
  or whose text differs from ``head_text``/``tail_text``, marked spans that
  are not the argument texts in ``marked_text``, document offsets that do not
  agree with the text offsets, an unknown scope, an empty or malformed label
  (an empty type, ``none`` with other types, a repeated type), a labelled row
  without ``directed``. Header, cell count and cell types are E187, invalid
  UTF-8 is E020. Lenient mode skips the row and reports it (``row
  skipped``); a bad header stops the read in both modes.
* **Detection**: ``.parquet`` names only this format; a ``.csv`` is this
  format when its first line is exactly the table's header (:func:`sniff`),
  else LOTUS as before (:data:`biorel.io.READ_DEFAULTS`).
* Read only: tables are written by ``biorel pairs``
  (:func:`biorel.pairs_table.export_pairs`).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..pairs_table import COLUMNS, NONE_LABEL, SCOPES, iter_pairs
from ..registry import registry
from ..types import CANDIDATE_PAIRS, Document, Entity, Mention, Passage, Relation
from .base import Format, RawDocument, Reporter, Source, json_like

ARGS = ("head", "tail")


def document_id(row: dict[str, Any]) -> str:
    """The id of a row's document: ``<doc_id>:<pair_index>``."""
    return f"{row['doc_id']}:{row['pair_index']}"


def label_types(label: str) -> list[str]:
    """The relation types of a ``label`` cell (``[]`` for ``none``);
    ``ValueError`` with the reason for a malformed one."""
    if label == NONE_LABEL:
        return []
    types = label.split("|")
    if any(not t.strip() for t in types):
        raise ValueError(f"label {label!r} has an empty type")
    if NONE_LABEL in types:
        raise ValueError(f"label {label!r} joins {NONE_LABEL!r} with relation types")
    if len(set(types)) < len(types):
        raise ValueError(f"label {label!r} repeats a type")
    return types


def _required(row: dict[str, Any]) -> str | None:
    for col in ("doc_id", "text", *(f"{a}_{x}" for a in ARGS for x in ("entity", "mention", "type"))):
        if not row[col].strip():
            return f"{col} is empty"
    if row["pair_index"] < 0:
        return f"pair_index {row['pair_index']} is negative"
    if row["head_entity"] == row["tail_entity"]:
        return f"head and tail are one entity ({row['head_entity']!r})"
    if row["scope"] not in SCOPES:
        return f"scope {row['scope']!r} is not one of {list(SCOPES)}"
    return None


def _span_problem(row: dict[str, Any], arg: str) -> str | None:
    """What is wrong with one argument's offsets (``None``: nothing)."""
    text, want = row["text"], row[f"{arg}_text"]
    s, e = row[f"{arg}_start"], row[f"{arg}_end"]
    if not 0 <= s < e <= len(text):
        return f"{arg} span [{s}, {e}) is not inside the text (length {len(text)})"
    if text[s:e] != want:
        return f"text[{s}:{e}] is {text[s:e]!r}, not {arg}_text {want!r}"
    ms, me = row[f"marked_{arg}_start"], row[f"marked_{arg}_end"]
    if not 0 <= ms <= me <= len(row["marked_text"]) or row["marked_text"][ms:me] != want:
        return f"marked_text[{ms}:{me}] is not {arg}_text {want!r}"
    if (row[f"{arg}_doc_start"] - row["text_start"], row[f"{arg}_doc_end"] - row["text_start"]) != (s, e):
        return f"{arg}_doc_start/{arg}_doc_end do not agree with {arg}_start/{arg}_end and text_start"
    return None


def row_problem(row: dict[str, Any]) -> str | None:
    """Why a typed row cannot be a document (``None``: it can)."""
    why = _required(row)
    if why is None and row["text_end"] - row["text_start"] != len(row["text"]):
        why = f"text_end - text_start is {row['text_end'] - row['text_start']}, but the text has {len(row['text'])} characters"
    why = why or _span_problem(row, "head") or _span_problem(row, "tail")
    if why is None and (row["head_start"], row["head_end"]) == (row["tail_start"], row["tail_end"]):
        why = "head and tail are the same span"
    if why is None:
        try:
            types = label_types(row["label"])
        except ValueError as e:
            return str(e)
        if types and row["directed"] is None:
            return f"directed is empty on a row labelled {row['label']!r}"
    return why


def _mention_ids(row: dict[str, Any]) -> tuple[str, str]:
    head, tail = row["head_mention"], row["tail_mention"]
    return (f"{head}:head", f"{tail}:tail") if head == tail else (head, tail)


def row_document(row: dict[str, Any], where: SourceLocation) -> Document:
    """The document of one typed row (E188 when it is not one, see the module docstring)."""
    why = row_problem(row)
    if why is not None:
        raise error("E188", where=where, reason=why)
    text = row["text"]
    doc = Document(document_id(row), passages=[Passage(0, text, row["scope"])])
    for arg, mid in zip(ARGS, _mention_ids(row)):
        s, e, typ = row[f"{arg}_start"], row[f"{arg}_end"], row[f"{arg}_type"]
        doc.mentions.append(Mention(mid, ((s, e),), text[s:e], typ))
        doc.entities.append(Entity(row[f"{arg}_entity"], typ, (mid,)))
    for k, rtype in enumerate(label_types(row["label"]), 1):
        doc.relations.append(Relation(f"R{k}", rtype, row["head_entity"], row["tail_entity"], directed=bool(row["directed"])))
    doc.metadata["pair"] = {c: row[c] for c in COLUMNS if c != "text"}
    doc.metadata[CANDIDATE_PAIRS] = [[row["head_entity"], row["tail_entity"]]]
    return doc


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    report = Reporter(lenient, diagnostics)
    for where, row in iter_pairs(source):
        try:
            if isinstance(row, BiorelError):
                raise row
            doc = row_document(row, where)
        except BiorelError as err:
            report(err, "row skipped")
            continue
        yield RawDocument(doc, where)


def sniff(path: str) -> bool:
    """A ``.parquet`` file, or a file whose first line is exactly the table's
    header (:data:`~biorel.pairs_table.COLUMNS`, comma-separated)."""
    if Path(path).suffix.lower() == ".parquet":
        return True
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 16).decode("utf-8-sig", "replace").rstrip("\r\n")
    except OSError:
        return False
    return next(csv.reader([first]), []) == list(COLUMNS)


_api = json_like(_raw, None, require_text=True, fmt="pairs", blank_is_empty=True)
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.PairsTable.v1",
    Format(
        "pairs",
        _api,
        extensions=(".pairs.csv", ".pairs.parquet", ".csv", ".parquet"),
        description="candidate pair tables of biorel pairs (CSV or Parquet), one document per row (read only)",
        sniff=sniff,
    ),
    aliases=("pairs",),
)

__all__ = ["document_id", "label_types", "row_document", "row_problem", "sniff", "iterparse", "load", "loads", "dump", "dumps"]
