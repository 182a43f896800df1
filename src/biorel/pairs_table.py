"""Candidate pair tables: the "filtered data" step of ``biorel pairs``.

Any readable corpus becomes a flat table with one row per ordered candidate
pair of entities, ready for a relation classifier of any kind:

* **Candidate pairs** are those of the relation models
  (:func:`biorel.models.pairs.candidate_pairs`): every ordered pair of distinct
  entities whose argument types are allowed. The allowed type pairs are the
  ones seen in gold relations, both orders for undirected types
  (:meth:`~biorel.models.labels.LabelMaps.from_documents`), or the ones given.
  Entities are the document's (grouped from its mentions when it has none, as
  the relation classifier does); an entity needs a mention in the text.
* **Scope** ``sentence``: the two entities must be mentioned in one sentence;
  the closest such pair of mentions is marked (as
  ``biorel.RelationClassifier.v1`` does). ``document``: any two mentions, the
  closest pair in the document.
* **Text**: at sentence scope the sentence, plus ``window`` sentences on each
  side; at document scope the whole document, or, with ``window``, the
  sentences from the first marked mention to the second plus ``window`` on
  each side. ``text`` is the plain text and ``head_start``/``head_end`` (and
  the tail's) locate the arguments in it; ``marked_text`` has markers around
  them (``typed``: ``@ * Type * text @`` and ``# ^ Type ^ text #``;
  ``plain``: ``@ text @`` and ``# text #``; ``none``: no markers) and
  ``marked_head_start``... locate the argument texts inside the markers.
* **Label**: the gold relation type(s) of the ordered pair, joined by ``|``
  in the label maps' order, or ``none``; an undirected relation labels both
  orders; relations with ``infons["negative"]`` state no relation (``none``).
  ``directed`` says whether the labelled types are directed (empty for
  ``none``).
* **Nothing is lost silently**: gold relations that fall on no candidate pair
  are counted per reason in :class:`PairStats` (as are relations marked
  negative, and pairs left out with ``negatives="none"``).

:func:`pair_rows` yields the rows (dicts in :data:`COLUMNS` order),
:func:`write_pairs` writes them as CSV or Parquet (atomic, one writer per
output), :func:`read_pairs` reads a table back with its types and
:func:`export_pairs` does all of it for a corpus reference (what ``biorel
pairs`` calls). CSV cells: booleans are ``true``/``false``, a missing value
(``sentence_index`` at document scope, ``directed`` of ``none`` rows) is empty.
"""

from __future__ import annotations

import csv
import os
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from collections.abc import Iterable, Iterator, Sequence

from .errors import BiorelError, SourceLocation, error
from .types import Document

#: the label of a pair with no relation
NONE_LABEL = "none"
SCOPES = ("sentence", "document")
MARKERS = ("typed", "plain", "none")
NEGATIVES = ("all", "none")
#: output file suffix -> table format
TABLE_FORMATS = {".csv": "csv", ".parquet": "parquet"}

#: the table's columns, in order, with their types ("str", "int", "bool")
COLUMNS: dict[str, str] = {
    "doc_id": "str",
    "pair_index": "int",
    "scope": "str",
    "sentence_index": "int",
    "text_start": "int",
    "text_end": "int",
    "text": "str",
    "marked_text": "str",
    "head_start": "int",
    "head_end": "int",
    "tail_start": "int",
    "tail_end": "int",
    "marked_head_start": "int",
    "marked_head_end": "int",
    "marked_tail_start": "int",
    "marked_tail_end": "int",
    "head_entity": "str",
    "tail_entity": "str",
    "head_mention": "str",
    "tail_mention": "str",
    "head_text": "str",
    "tail_text": "str",
    "head_type": "str",
    "tail_type": "str",
    "head_doc_start": "int",
    "head_doc_end": "int",
    "tail_doc_start": "int",
    "tail_doc_end": "int",
    "label": "str",
    "directed": "bool",
    "source": "str",
    "format": "str",
}
#: columns that may be empty (None)
NULLABLE = frozenset({"sentence_index", "directed"})

__all__ = [
    "COLUMNS",
    "MARKERS",
    "NEGATIVES",
    "NONE_LABEL",
    "NULLABLE",
    "SCOPES",
    "TABLE_FORMATS",
    "PairStats",
    "export_pairs",
    "mark_text",
    "pair_labels",
    "pair_rows",
    "parse_pair_types",
    "iter_pairs",
    "read_pairs",
    "table_format",
    "write_pairs",
]


# ---------------------------------------------------------------- options
def _choice(option: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise error("E180", option=option, value=value, reason="not a valid choice", choices=", ".join(choices))
    return value


def _check_options(scope: str, marker: str, window: int | None, negatives: str) -> None:
    _choice("scope", scope, SCOPES)
    _choice("marker", marker, MARKERS)
    _choice("negatives", negatives, NEGATIVES)
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 0):
        raise error("E180", option="window", value=window, reason="sentences of context on each side", choices="an integer >= 0, or none")


def parse_pair_types(values: Iterable[str] | None) -> list[tuple[str, str]]:
    """``["Chemical:Disease", "Gene:Gene,Gene:Disease"]`` -> type pairs
    (several may be given in one value, separated by commas)."""
    out: list[tuple[str, str]] = []
    for value in values or ():
        for item in filter(None, (x.strip() for x in value.split(","))):
            head, sep, tail = item.partition(":")
            if not sep or not head.strip() or not tail.strip() or ":" in tail:
                raise error(
                    "E180", option="pair-types", value=item, reason="expected HEAD:TAIL entity types", choices="HEAD:TAIL, e.g. Chemical:Disease"
                )
            pair = (head.strip(), tail.strip())
            if pair not in out:
                out.append(pair)
    return out


def table_format(path: str | os.PathLike) -> str:
    """``csv`` or ``parquet`` from the output's suffix (E181 otherwise)."""
    fmt = TABLE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise error("E181", path=str(path), reason="the table format comes from the file name", choices=", ".join(TABLE_FORMATS))
    return fmt


# ---------------------------------------------------------------- labels
def pair_labels(docs: Sequence[Document], pair_types: Sequence[tuple[str, str]] = (), *, source: str = "the corpus"):
    """The label maps that decide the candidate pairs: relation types and
    directions from the gold relations, and the given pair types or those
    seen in gold relations (E183 for a type no mention has, E184 when there
    are no pair types at all)."""
    from .models.labels import LabelMaps

    labels = LabelMaps.from_documents(docs, pair_types=pair_types)
    known = set(labels.entity_types)
    for head, tail in pair_types:
        missing = [t for t in (head, tail) if t not in known]
        if missing:
            raise error("E183", value=f"{head}:{tail}", missing=", ".join(missing), source=source, choices=", ".join(labels.entity_types) or "(none)")
    if not labels.pair_types:
        reason = (
            "it has no gold relations between entities"
            if not labels.relation_types
            else "its gold relations connect no entities whose types its mentions have"
        )
        raise error("E184", source=source, reason=reason, choices=", ".join(labels.entity_types) or "(none)")
    if not labels.relation_types:
        # an unlabelled corpus (pairs for prediction): candidate_pairs needs a relation type to list any pair
        labels = LabelMaps(labels.entity_types, relation_types=[NONE_LABEL], pair_types=labels.pair_types)
    return labels


# ---------------------------------------------------------------- statistics
@dataclass
class PairStats:
    """What an export wrote and what it could not represent."""

    documents: int = 0
    rows: int = 0
    #: rows per relation type (a row with two types counts for both)
    positives: Counter = field(default_factory=Counter)
    positive_rows: int = 0
    #: rows labelled ``none`` that were written
    negatives: int = 0
    #: rows labelled ``none`` left out (``negatives="none"``)
    negatives_left_out: int = 0
    #: gold relations marked ``infons["negative"]`` (they label no pair)
    negative_relations: int = 0
    #: gold relations that fall on no candidate pair, per reason
    unreachable: Counter = field(default_factory=Counter)
    #: input problems skipped by a lenient read
    skipped_problems: int = 0

    def summary_lines(self) -> list[str]:
        per_type = ", ".join(f"{t} {n}" for t, n in sorted(self.positives.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
        lines = [
            f"rows: {self.rows} from {self.documents} documents",
            f"positives: {self.positive_rows} rows ({per_type})",
            f"negatives: {self.negatives} rows labelled {NONE_LABEL}"
            + (f"; {self.negatives_left_out} more left out (negatives=none)" if self.negatives_left_out else ""),
            f"unreachable gold relations: {sum(self.unreachable.values())}"
            + (" (" + "; ".join(f"{why}: {n}" for why, n in self.unreachable.most_common()) + ")" if self.unreachable else ""),
        ]
        if self.negative_relations:
            lines.append(f"gold relations marked negative (labelled {NONE_LABEL}): {self.negative_relations}")
        if self.skipped_problems:
            lines.append(f"input problems skipped (lenient): {self.skipped_problems}")
        return lines


# ---------------------------------------------------------------- marking
def _marker_strings(who: str, typ: str, marker: str) -> tuple[str, str]:
    sym, inner = ("@", "*") if who == "head" else ("#", "^")
    if marker == "typed":
        return f"{sym} {inner} {typ} {inner} ", f" {sym}"
    return f"{sym} ", f" {sym}"


def mark_text(
    text: str, head: tuple[int, int], tail: tuple[int, int], head_type: str, tail_type: str, marker: str = "typed"
) -> tuple[str, tuple[int, int], tuple[int, int]]:
    """``text`` with markers around ``head`` and ``tail`` (spans in ``text``),
    and the spans of the two argument texts inside the marked text. Where one
    span ends and another starts at the same character the first is closed
    before the second opens; nested spans nest their markers."""
    if marker == "none":
        return text, head, tail
    inserts = []
    for who, (s, e), typ in (("head", head, head_type), ("tail", tail, tail_type)):
        opening, closing = _marker_strings(who, typ, marker)
        inserts.append((s, 1, -e, opening, who))  # at one position: closings first, the outer span opens first
        inserts.append((e, 0, -s, closing, who))
    pieces: list[str] = []
    length = pos = 0
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    for at, is_open, _, mark, who in sorted(inserts, key=lambda x: x[:3]):
        pieces.append(text[pos:at])
        length += at - pos
        pos = at
        if not is_open:
            ends[who] = length
        pieces.append(mark)
        length += len(mark)
        if is_open:
            starts[who] = length
    pieces.append(text[pos:])
    return "".join(pieces), (starts["head"], ends["head"]), (starts["tail"], ends["tail"])


# ---------------------------------------------------------------- rows
def _window(sents: Sequence[tuple[int, int]], h, t, scope: str, window: int | None, length: int) -> tuple[int, int]:
    """Document span of a row's text (see the module docstring)."""
    lo, hi = min(h.start, t.start), max(h.end, t.end)
    if scope == "document" and window is None:
        return 0, length
    if not sents:  # no sentence holds a mention: the two mentions alone
        return lo, hi
    if scope == "sentence":
        first = last = h.sentence
    else:
        first = min(bisect_right([e for _, e in sents], lo), len(sents) - 1)
        last = max(bisect_left([s for s, _ in sents], hi) - 1, 0)
    n = window or 0
    first, last = max(0, first - n), min(len(sents) - 1, last + n)
    return min(sents[first][0], lo), max(sents[last][1], hi)


def _why_unreached(rel, keys_hit: bool, entity_ids: set[str], grounded: dict[str, str], labels, scope: str) -> str | None:
    """Why a gold relation labels no candidate pair (``None``: it labels one)."""
    if rel.level != "entity":
        return "mention-level relation"
    if rel.type not in labels.relation_index:
        return f"relation type {rel.type!r} not in the label maps"
    if keys_hit:
        return None
    if rel.head == rel.tail:
        return "head and tail are one entity"
    if rel.head not in entity_ids or rel.tail not in entity_ids:
        return "argument is not an entity of the document"
    if rel.head not in grounded or rel.tail not in grounded:
        return "argument has no mention in the text"
    h, t = grounded[rel.head], grounded[rel.tail]
    if (h, t) not in labels.pair_type_set and (labels.directed.get(rel.type) or (t, h) not in labels.pair_type_set):
        return f"argument types {h}:{t} not among the pair types"
    if scope == "sentence":
        return "arguments never mentioned in one sentence"
    return "arguments share their only mention"


def _count_relations(doc: Document, refs, pairs, labels, entity_ids: set[str], scope: str, stats: PairStats) -> None:
    index = {(refs[i].id, refs[j].id) for i, j in pairs}
    grounded = {r.id: r.type for r in refs}
    for rel in doc.relations:
        if rel.infons.get("negative"):
            stats.negative_relations += 1
            continue
        if rel.type == NONE_LABEL:
            raise error("E185", rel=rel.id, doc=doc.id, type=rel.type)
        keys = [(rel.head, rel.tail)] + ([] if labels.directed.get(rel.type) else [(rel.tail, rel.head)])
        why = _why_unreached(rel, any(k in index for k in keys), entity_ids, grounded, labels, scope)
        if why is not None:
            stats.unreachable[why] += 1
    for _ in doc.nary_relations:
        stats.unreachable["not a binary relation"] += 1


def _row(
    doc: Document, text: str, k: int, h, t, head, tail, labels, scope: str, marker: str, window: int | None, sents, types: list[str]
) -> dict[str, Any]:
    w0, w1 = _window(sents, h, t, scope, window, len(text))
    plain = text[w0:w1]
    hspan, tspan = (h.start - w0, h.end - w0), (t.start - w0, t.end - w0)
    marked, mh, mt = mark_text(plain, hspan, tspan, head.type, tail.type, marker)
    return {
        "doc_id": doc.id,
        "pair_index": k,
        "scope": scope,
        "sentence_index": h.sentence if scope == "sentence" else None,
        "text_start": w0,
        "text_end": w1,
        "text": plain,
        "marked_text": marked,
        "head_start": hspan[0],
        "head_end": hspan[1],
        "tail_start": tspan[0],
        "tail_end": tspan[1],
        "marked_head_start": mh[0],
        "marked_head_end": mh[1],
        "marked_tail_start": mt[0],
        "marked_tail_end": mt[1],
        "head_entity": head.id,
        "tail_entity": tail.id,
        "head_mention": h.mention,
        "tail_mention": t.mention,
        "head_text": text[h.start : h.end],
        "tail_text": text[t.start : t.end],
        "head_type": head.type,
        "tail_type": tail.type,
        "head_doc_start": h.start,
        "head_doc_end": h.end,
        "tail_doc_start": t.start,
        "tail_doc_end": t.end,
        "label": "|".join(types) if types else NONE_LABEL,
        "directed": any(labels.directed.get(x, False) for x in types) if types else None,
    }


def _doc_rows(doc: Document, labels, scope: str, marker: str, window: int | None, negatives: str, stats: PairStats) -> Iterator[dict[str, Any]]:
    from .models.grouping import group_mentions
    from .models.pairs import candidate_pairs, char_grounding, closest_spans, pair_targets
    from .sentences import sentence_spans

    entities = list(doc.entities) if doc.entities else group_mentions(doc.mentions)
    sents = sentence_spans(doc)
    refs, where = char_grounding(entities, doc.mentions, sents)
    chosen: dict[tuple[str, str], Any] = {}

    def keep(h, t) -> bool:
        found = closest_spans(where[h.id], where[t.id], same_sentence=scope == "sentence")
        if found is not None:
            chosen[h.id, t.id] = found
        return found is not None

    pairs = candidate_pairs(refs, labels, keep=keep)
    targets, _ = pair_targets(doc, refs, pairs, labels)
    _count_relations(doc, refs, pairs, labels, {e.id for e in entities}, scope, stats)
    stats.documents += 1
    text = doc.text
    for k, (i, j) in enumerate(pairs):
        types = [labels.relation_types[r] for r in sorted(targets[k])]
        if not types and negatives == "none":
            stats.negatives_left_out += 1
            continue
        h, t = chosen[refs[i].id, refs[j].id]
        yield _row(doc, text, k, h, t, refs[i], refs[j], labels, scope, marker, window, sents, types)
        stats.rows += 1
        stats.positives.update(types)
        stats.positive_rows += bool(types)
        stats.negatives += not types


def pair_rows(
    docs: Iterable[Document],
    *,
    scope: str = "sentence",
    pair_types: Sequence[tuple[str, str]] = (),
    marker: str = "typed",
    window: int | None = None,
    negatives: str = "all",
    labels=None,
    stats: PairStats | None = None,
    source: str = "",
    format: str = "",
) -> Iterator[dict[str, Any]]:
    """The rows of the candidate pair table of ``docs`` (see the module
    docstring), each a dict in :data:`COLUMNS` order. ``labels`` (label maps)
    fixes the relation and pair types; by default they come from ``docs``
    (:func:`pair_labels`). ``stats`` is filled in as the rows are consumed;
    ``source`` and ``format`` are the provenance written in every row.
    Options are checked at once (E180), before any row is made."""
    _check_options(scope, marker, window, negatives)
    docs = list(docs)
    if labels is None:
        labels = pair_labels(docs, [(a, b) for a, b in pair_types], source=source or "the documents")
    stats = stats if stats is not None else PairStats()
    return _all_rows(docs, labels, scope, marker, window, negatives, stats, {"source": source, "format": format})


def _all_rows(docs, labels, scope, marker, window, negatives, stats, provenance) -> Iterator[dict[str, Any]]:
    for doc in docs:
        for row in _doc_rows(doc, labels, scope, marker, window, negatives, stats):
            row.update(provenance)
            yield row


# ---------------------------------------------------------------- writing
def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise error("E182", reason=str(e)) from None
    return pa, pq


def _checked(row: dict[str, Any], n: int) -> dict[str, Any]:
    """``row`` if it has exactly the table's columns with their types (E186)."""
    if list(row) != list(COLUMNS):
        missing = [c for c in COLUMNS if c not in row]
        extra = [c for c in row if c not in COLUMNS]
        reason = f"missing {missing}, unknown {extra}" if missing or extra else "columns out of order"
        raise error("E186", row=n, reason=reason, choices=", ".join(COLUMNS))
    for col, kind in COLUMNS.items():
        if not _value_ok(col, kind, row[col]):
            raise error("E186", row=n, reason=f"column {col} must be {kind}, not {row[col]!r}", choices=", ".join(COLUMNS))
    return row


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _write_csv(rows: Iterable[dict[str, Any]], fh: IO[str]) -> int:
    writer = csv.writer(fh)
    writer.writerow(COLUMNS)
    n = 0
    for n, row in enumerate(rows, 1):
        writer.writerow([_csv_cell(v) for v in _checked(row, n).values()])
    return n


def _schema(pa):
    kinds = {"str": pa.string(), "int": pa.int64(), "bool": pa.bool_()}
    return pa.schema([pa.field(c, kinds[k], nullable=c in NULLABLE) for c, k in COLUMNS.items()])


def _write_parquet(rows: Iterable[dict[str, Any]], fh: IO[bytes], pa, pq, batch: int = 4096) -> int:
    schema = _schema(pa)
    n = 0
    with pq.ParquetWriter(fh, schema) as writer:
        chunk: list[dict[str, Any]] = []
        for n, row in enumerate(rows, 1):
            chunk.append(_checked(row, n))
            if len(chunk) >= batch:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                chunk = []
        if chunk or n == 0:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
    return n


def write_pairs(rows: Iterable[dict[str, Any]], path: str | os.PathLike) -> int:
    """Write the rows as CSV or Parquet (from the suffix, E181) with the
    columns of :data:`COLUMNS`; returns the number of rows. The output is
    written whole or not at all (a temporary file beside it, renamed) and by
    one process at a time (E050)."""
    from .jobs import atomic_file, exclusive_lock

    fmt = table_format(path)
    arrow = _pyarrow() if fmt == "parquet" else None
    with exclusive_lock(path):
        if arrow is None:
            with atomic_file(path, "w", newline="") as fh:
                return _write_csv(rows, fh)
        with atomic_file(path, "wb") as fh:
            return _write_parquet(rows, fh, *arrow)


# ---------------------------------------------------------------- reading
_INT = re.compile(r"-?[0-9]+")


def _typed(value: str, kind: str, col: str) -> Any:
    """A CSV cell as its column's type; ``ValueError`` with the reason."""
    if value == "" and col in NULLABLE:
        return None
    if kind == "str":
        return value
    if kind == "bool" and value in ("true", "false"):
        return value == "true"
    if kind == "int" and _INT.fullmatch(value):
        return int(value)
    raise ValueError(f"column {col} must be {kind}, found {value!r}")


def _value_ok(col: str, kind: str, value: Any) -> bool:
    if value is None:
        return col in NULLABLE
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, int) and not isinstance(value, bool)


def _is_parquet(source: Any) -> bool:
    name = source if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "")
    return isinstance(name, (str, os.PathLike)) and Path(name).suffix.lower() == ".parquet"


def _csv_records(source: Any) -> Iterator[tuple[int, list[str], BiorelError | None]]:
    """``(first line, cells, error)`` per CSV record (a quoted cell may span
    lines); ``error`` is the E020 of an undecodable line in the record or the
    csv module's complaint (E187)."""
    from .io.base import iter_decoded_lines, source_name

    name = source_name(source)
    bad: dict[int, BiorelError] = {}
    seen = [0]

    def lines() -> Iterator[str]:
        for where, line, err in iter_decoded_lines(source, keepends=True):
            seen[0] = where.line
            if err is not None:
                bad[where.line] = err
            yield line

    reader = csv.reader(lines())
    last = 0
    while True:
        try:
            cells = next(reader)
            err = next((bad[k] for k in range(last + 1, seen[0] + 1) if k in bad), None)
        except StopIteration:
            return
        except csv.Error as e:
            cells, err = [], error("E187", where=SourceLocation(name, last + 1), path=f"{name}:{last + 1}", reason=str(e))
        first, last = last + 1, seen[0]
        if cells or err is not None:  # csv gives [] for a blank line
            yield first, cells, err


def _csv_pairs(source: Any) -> Iterator[tuple[SourceLocation, dict[str, Any] | BiorelError]]:
    from .io.base import source_name

    name = source_name(source)
    records = _csv_records(source)
    first = next(records, None)
    if first is None or first[2] is not None or first[1] != list(COLUMNS):
        if first is not None and first[2] is not None:
            raise first[2]
        header = None if first is None else first[1]
        raise error("E187", where=SourceLocation(name, 1), path=name, reason=f"header {header}, expected {list(COLUMNS)}")
    for line, cells, err in records:
        where = SourceLocation(name, line)
        if err is not None:
            yield where, err
        elif len(cells) != len(COLUMNS):
            yield where, error("E187", where=where, path=f"{name}:{line}", reason=f"{len(cells)} cells, expected {len(COLUMNS)}")
        else:
            try:
                yield where, {c: _typed(v, k, c) for (c, k), v in zip(COLUMNS.items(), cells)}
            except ValueError as e:
                yield where, error("E187", where=where, path=f"{name}:{line}", reason=str(e))


def _parquet_pairs(source: Any) -> Iterator[tuple[SourceLocation, dict[str, Any] | BiorelError]]:
    from .io.base import source_name

    _, pq = _pyarrow()
    name = source_name(source)
    try:
        table = pq.read_table(source)
    except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds for a file that is not Parquet
        raise error("E187", where=SourceLocation(name), path=name, reason=f"not a Parquet file ({e})") from None
    if table.column_names != list(COLUMNS):
        raise error("E187", where=SourceLocation(name), path=name, reason=f"columns {table.column_names}, expected {list(COLUMNS)}")
    for k, row in enumerate(table.to_pylist(), 1):
        where = SourceLocation(name, path=f"row {k}")
        wrong = next((c for c, kind in COLUMNS.items() if not _value_ok(c, kind, row[c])), None)
        if wrong is None:
            yield where, row
        else:
            yield where, error("E187", where=where, path=f"{name} row {k}", reason=f"column {wrong} must be {COLUMNS[wrong]}, found {row[wrong]!r}")


def iter_pairs(source: str | os.PathLike | IO[str] | IO[bytes]) -> Iterator[tuple[SourceLocation, dict[str, Any] | BiorelError]]:
    """Every row of a pairs table with where it is (CSV: the line it starts
    on; Parquet: ``row k``), as a typed dict or as the coded error that makes
    it unreadable (E187: cell count or type, a CSV syntax error; E020:
    invalid UTF-8), so that a lenient reader can skip it and go on. A header
    that is not :data:`COLUMNS` (or a file that is not Parquet) raises E187:
    nothing in it can be read. ``source`` is a path or a stream; Parquet is
    told by the name's ``.parquet`` suffix."""
    return _parquet_pairs(source) if _is_parquet(source) else _csv_pairs(source)


def read_pairs(path: str | os.PathLike | IO[str] | IO[bytes]) -> Iterator[dict[str, Any]]:
    """The rows of a table written by :func:`write_pairs`, with their types
    (the first bad row raises its coded error, see :func:`iter_pairs`)."""
    for _, row in iter_pairs(path):
        if isinstance(row, BiorelError):
            raise row
        yield row


# ---------------------------------------------------------------- the command's function
def _provenance(ref: str, prov: dict[str, Any], format: str | None) -> tuple[str, str]:
    """``(source, format)`` of a loaded reference: a file's path and the
    format read, or the dataset reference and its variant's format(s)."""
    if "path" in prov:
        from . import io

        return prov["path"], io.resolve_format(prov["path"], format).name
    from .registry import registry

    spec = registry.datasets.get(prov["dataset"])
    variant = prov.get("options", {}).get("variant") or spec.default_variant
    formats = sorted({p.format for s in spec.variants.get(variant, {}).values() for p in s.parts})
    return ref, "+".join(formats)  # a dataset is read in its own format(s)


def export_pairs(
    ref: str,
    output: str | os.PathLike,
    *,
    format: str | None = None,
    scope: str = "sentence",
    pair_types: Sequence[str] = (),
    marker: str = "typed",
    window: int | None = None,
    negatives: str = "all",
    lenient: bool = False,
) -> PairStats:
    """Read the corpus ``ref`` (a file or folder in any readable format, or
    ``dataset:split[?option=value]``), write its candidate pair table to
    ``output`` (``.csv`` or ``.parquet``) and return what was written.
    ``pair_types`` are ``HEAD:TAIL`` strings. Options and the output name are
    checked before the corpus is read."""
    from .training.data import load_split

    _check_options(scope, marker, window, negatives)
    types = parse_pair_types(pair_types)
    if table_format(output) == "parquet":
        _pyarrow()
    docs, prov = load_split(ref, format=format, lenient=lenient)
    source, fmt = _provenance(ref, prov, format)
    stats = PairStats(skipped_problems=prov.get("skipped_problems", 0))
    labels = pair_labels(docs, types, source=source)
    rows = pair_rows(docs, scope=scope, marker=marker, window=window, negatives=negatives, labels=labels, stats=stats, source=source, format=fmt)
    write_pairs(rows, output)
    return stats
