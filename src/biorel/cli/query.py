"""``biorel query top-relations | evidence | counts | sql OUT``: thin commands
over :mod:`biorel.query` (DuckDB over a Parquet extraction output)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..errors import BiorelError
from .app import app

query_app = typer.Typer(
    help="Ask a Parquet extraction output (biorel extract -t parquet) with DuckDB: top relations, evidence, counts, or SQL.",
    no_args_is_help=True,
)
app.add_typer(query_app, name="query")

out = Console()
err = Console(stderr=True)

FOLDER = typer.Argument(..., help="a Parquet extraction output folder (biorel extract -o OUT -t parquet)")
FORMAT_HELP = "table (default), csv, json (a list of objects) or jsonl"


def _table(result) -> Table:
    from ..query import cell_text

    table = Table(show_lines=False)
    for col in result.columns:
        table.add_column(col, overflow="fold")
    for row in result.rows:
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else cell_text(v) for v in row))
    return table


def _show(answer: Callable, fmt: str) -> None:
    """Run ``answer()`` and print its result in ``fmt``; a coded error exits with 1."""
    from ..query import check_format, format_result

    try:
        check_format(fmt)
        result = answer()
        text = None if fmt == "table" else format_result(result, fmt)
    except BiorelError as e:
        err.print(f"error {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if text is None:
        out.print(_table(result))
        out.print(f"{len(result.rows)} row(s)", markup=False, highlight=False)
    else:
        typer.echo(text, nl=False)


@query_app.command("top-relations", help="Relations ranked by the number of documents they appear in, with mean scores.")
def top_relations_cmd(
    folder: Path = FOLDER,
    type: str | None = typer.Option(None, "--type", help="only relations of this type"),
    limit: int = typer.Option(20, "--limit", help="how many pairs"),
    min_score: float | None = typer.Option(None, "--min-score", help="only relations scoring at least this"),
    format: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    from ..query import top_relations

    _show(lambda: top_relations(folder, type=type, limit=limit, min_score=min_score), format)


@query_app.command("evidence", help="Every evidence sentence of one pair (the title when a relation has none), best scores first.")
def evidence_cmd(
    folder: Path = FOLDER,
    head: str = typer.Option(..., "--head", help="head: a concept id, a key from top-relations, or a name (any case)"),
    tail: str = typer.Option(..., "--tail", help="tail: a concept id, a key from top-relations, or a name (any case)"),
    type: str | None = typer.Option(None, "--type", help="only relations of this type"),
    limit: int | None = typer.Option(None, "--limit", help="at most this many sentences"),
    format: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    from ..query import evidence

    _show(lambda: evidence(folder, head, tail, type=type, limit=limit), format)


@query_app.command("counts", help="Documents, mentions and relations per type, and the models that made them.")
def counts_cmd(folder: Path = FOLDER, format: str = typer.Option("table", "--format", help=FORMAT_HELP)) -> None:
    from ..query import counts

    _show(lambda: counts(folder), format)


@query_app.command("sql", help="Any SQL over the views documents, entities, mentions and relations.")
def sql_cmd(
    folder: Path = FOLDER,
    query: str = typer.Argument(..., help='e.g. "SELECT type, count(*) FROM relations GROUP BY type"'),
    format: str = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    from ..query import sql

    _show(lambda: sql(folder, query), format)
