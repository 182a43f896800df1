"""``biorel query``: what a curator asks of a Parquet extraction output
(:mod:`biorel.io.parquet`), answered by DuckDB over its files.

::

    from biorel.query import top_relations, evidence, counts, sql
    top_relations("out/", type="CID", limit=10)        # a QueryResult
    evidence("out/", head="D015738", tail="delirium")
    sql("out/", "SELECT type, count(*) FROM relations GROUP BY type")

Every query runs on four views, ``documents``, ``entities``, ``mentions`` and
``relations``, over the output's part files (checked first: E540-E543). An
argument of a relation is named by its **key**: its normalised concept ids
(sorted, ``|``-joined) when it has any, else its lower-cased name; the
arguments of an undirected relation are put in key order, so ``A-B`` and
``B-A`` are one pair. A query DuckDB refuses is E548, a bad option E549.
docs/query.md shows the commands.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import error

#: what ``--format`` takes (``table``: a rich table, printed by the command line)
OUTPUT_FORMATS = ("table", "csv", "json", "jsonl")

#: DuckDB macros every query can use: an argument's key, and whether a name given on the command line means it
MACROS = (
    "CREATE MACRO biorel_key(ids, name) AS CASE WHEN len(ids) > 0 THEN array_to_string(list_sort(list_distinct(ids)), '|') ELSE lower(name) END",
    "CREATE MACRO biorel_names(ids, name, x) AS biorel_key(ids, name) = x OR list_contains(ids, x) OR lower(name) = lower(x)",
)

TOP_RELATIONS = """
WITH keyed AS (
    SELECT document_id, type, score, directed,
           biorel_key(head_ids, head_name) AS hk, biorel_key(tail_ids, tail_name) AS tk, head_name, tail_name
    FROM relations
    WHERE ($type IS NULL OR type = $type) AND ($min_score IS NULL OR score >= $min_score)
), pairs AS (
    SELECT document_id, type, score,
           CASE WHEN NOT directed AND tk < hk THEN tk ELSE hk END AS head,
           CASE WHEN NOT directed AND tk < hk THEN hk ELSE tk END AS tail
    FROM keyed
), names AS (
    SELECT key, first(name ORDER BY n DESC, name) AS name
    FROM (SELECT key, name, count(*) AS n
          FROM (SELECT hk AS key, head_name AS name FROM keyed UNION ALL SELECT tk, tail_name FROM keyed)
          GROUP BY key, name)
    GROUP BY key
)
SELECT p.head, h.name AS head_name, p.type, p.tail, t.name AS tail_name,
       count(DISTINCT p.document_id) AS documents, count(*) AS relations, avg(p.score) AS mean_score
FROM pairs p LEFT JOIN names h ON h.key IS NOT DISTINCT FROM p.head LEFT JOIN names t ON t.key IS NOT DISTINCT FROM p.tail
GROUP BY p.head, h.name, p.type, p.tail, t.name
ORDER BY documents DESC, relations DESC, p.head, p.type, p.tail
LIMIT $limit
"""

EVIDENCE = """
WITH hits AS (
    SELECT r.*, d.title, d.text
    FROM relations r JOIN documents d USING (document_id)
    WHERE ($type IS NULL OR r.type = $type)
      AND ((biorel_names(head_ids, head_name, $head) AND biorel_names(tail_ids, tail_name, $tail))
           OR (NOT directed AND biorel_names(head_ids, head_name, $tail) AND biorel_names(tail_ids, tail_name, $head)))
)
SELECT document_id, relation_id, type, head_name, tail_name, score,
       CASE WHEN len(evidence) > 0 THEN 'evidence' WHEN title IS NOT NULL THEN 'title' ELSE 'text' END AS source,
       unnest(CASE WHEN len(evidence) > 0 THEN evidence ELSE [coalesce(title, text)] END) AS sentence
FROM hits
ORDER BY score DESC NULLS LAST, document_id, relation_id
"""

COUNTS = """
SELECT what, name, count FROM (
    SELECT 1 AS section, 'documents' AS what, '' AS name, count(*) AS count FROM documents
    UNION ALL SELECT 2, 'mentions', type, count(*) FROM mentions GROUP BY type
    UNION ALL SELECT 3, 'relations', type, count(*) FROM relations GROUP BY type
    UNION ALL SELECT 4, 'mentions by model', concat_ws(' ', coalesce(model, '(no model)'), model_version), count(*)
              FROM mentions GROUP BY model, model_version
    UNION ALL SELECT 5, 'relations by model', concat_ws(' ', coalesce(model, '(no model)'), model_version), count(*)
              FROM relations GROUP BY model, model_version
)
ORDER BY section, count DESC, name
"""


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of an answer."""

    columns: tuple[str, ...]
    rows: list[tuple]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


def _duckdb():
    try:
        import duckdb
    except ImportError as e:
        raise error("E547", what="biorel query", package="duckdb", reason=str(e), extra="query") from None
    return duckdb


def _file_list(paths: Sequence[os.PathLike]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def connect(folder: str | os.PathLike):
    """An in-memory DuckDB connection with the views ``documents``,
    ``entities``, ``mentions`` and ``relations`` over the output ``folder``
    (checked: E540-E543) and the :data:`MACROS`."""
    from .io.parquet import TABLES, check_files, open_output

    output = open_output(folder)
    check_files(output)
    duckdb = _duckdb()
    con = duckdb.connect(":memory:")
    for table in TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({_file_list(output.files(table))})")
    for macro in MACROS:
        con.execute(macro)
    return con


def _run(folder: str | os.PathLike, query: str, params: dict[str, Any] | None = None) -> QueryResult:
    duckdb = _duckdb()
    con = connect(folder)
    try:
        cur = con.execute(query, params or {})
        columns = tuple(d[0] for d in cur.description or ())
        rows = cur.fetchall() if columns else []
    except duckdb.Error as e:
        raise error("E548", path=str(folder), reason=str(e).strip().splitlines()[0].rstrip(".!")) from None
    finally:
        con.close()
    return QueryResult(columns, rows)


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise error("E549", option=f"--limit {limit}", reason="must be at least 1")


def top_relations(folder: str | os.PathLike, *, type: str | None = None, limit: int = 20, min_score: float | None = None) -> QueryResult:
    """Relations ranked by the number of distinct documents they appear in
    (then by how often), one row per (head key, type, tail key), with each
    argument's most frequent name, the number of documents and relations and
    the mean score; ``type`` and ``min_score`` filter the relations first."""
    _check_limit(limit)
    return _run(folder, TOP_RELATIONS, {"type": type, "min_score": min_score, "limit": limit})


def evidence(folder: str | os.PathLike, head: str, tail: str, *, type: str | None = None, limit: int | None = None) -> QueryResult:
    """Every evidence sentence of the relations between ``head`` and ``tail``
    (each a key, a concept id or a name, any case), one row per sentence; a
    relation without evidence gives its document's title (or text): the
    ``source`` column says which. Best scores first."""
    _check_limit(limit)
    for option, value in (("--head", head), ("--tail", tail)):
        if not value or not value.strip():
            raise error("E549", option=option, reason="give a concept id or a name")
    query = EVIDENCE + (f"LIMIT {int(limit)}" if limit is not None else "")
    return _run(folder, query, {"head": head.strip(), "tail": tail.strip(), "type": type})


def counts(folder: str | os.PathLike) -> QueryResult:
    """Documents; mentions and relations per type; mentions and relations per model and version."""
    return _run(folder, COUNTS)


def sql(folder: str | os.PathLike, query: str) -> QueryResult:
    """Any SQL over the views ``documents``, ``entities``, ``mentions`` and ``relations``."""
    if not query.strip():
        raise error("E549", option="SQL", reason="the query is empty")
    return _run(folder, query)


# ---------------------------------------------------------------- output


def cell_text(value: Any) -> str:
    """A cell as text: lists ``|``-joined, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "|".join(cell_text(v) for v in value)
    return str(value)


def _csv(result: QueryResult) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([cell_text(v) for v in row] for row in result.rows)
    return buf.getvalue()


def _json(result: QueryResult) -> str:
    return json.dumps(result.records(), ensure_ascii=False, indent=1, default=str) + "\n"


def _jsonl(result: QueryResult) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in result.records())


WRITERS: dict[str, Callable[[QueryResult], str]] = {"csv": _csv, "json": _json, "jsonl": _jsonl}


def check_format(fmt: str) -> None:
    """E549 unless ``fmt`` is one of :data:`OUTPUT_FORMATS`."""
    if fmt not in OUTPUT_FORMATS:
        raise error("E549", option=f"--format {fmt}", reason=f"valid formats: {', '.join(OUTPUT_FORMATS)}")


def format_result(result: QueryResult, fmt: str) -> str:
    """The result as ``csv``, ``json`` (a list of objects) or ``jsonl`` text (E549 for another format)."""
    if fmt not in WRITERS:
        check_format(fmt)
        raise error("E549", option=f"--format {fmt}", reason="a table is drawn by the command line; give csv, json or jsonl")
    return WRITERS[fmt](result)


__all__ = ["QueryResult", "connect", "top_relations", "evidence", "counts", "sql", "format_result", "check_format", "cell_text", "OUTPUT_FORMATS"]
