"""``biorel pairs CORPUS -o OUT.csv|OUT.parquet``: the candidate pair table of
a corpus (:func:`biorel.pairs_table.export_pairs`); prints the output, then
rows, positives per type, negatives and unreachable gold relations."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ..errors import BiorelError
from .app import app

err = Console(stderr=True)


@app.command(
    "pairs",
    help="Export the candidate entity pairs of CORPUS (a file or folder in any readable format, or dataset:split such as "
    "biored:dev?variant=bioc-json) as a table with one row per ordered pair: the sentence or document text with the two "
    "arguments marked, their offsets, ids, types and the gold label (relation types joined by '|', or none).",
)
def pairs_cmd(
    corpus: str = typer.Argument(..., help="input file or folder, or dataset:split[?option=value]"),
    output: Path = typer.Option(..., "--output", "-o", help="output table: .csv or .parquet (Parquet needs pyarrow)"),
    format: str | None = typer.Option(None, "--format", "-f", help="input format (default: from the file name and content)"),
    scope: str = typer.Option("sentence", "--scope", help="sentence (both entities mentioned in one sentence) or document (any two mentions)"),
    pair_types: list[str] | None = typer.Option(
        None,
        "--pair-types",
        help="allowed HEAD:TAIL entity types (repeat it, or separate by commas); "
        "default: the type pairs of the gold relations, both orders for undirected types",
    ),
    marker: str = typer.Option("typed", "--marker", help="typed (@ * Type * text @, # ^ Type ^ text #), plain (@ text @, # text #) or none"),
    window: int | None = typer.Option(
        None,
        "--window",
        help="sentences of context on each side of the marked mentions (default: 0 at sentence scope, the whole document at document scope)",
    ),
    negatives: str = typer.Option("all", "--negatives", help="all (keep pairs without a relation, labelled none) or none (positives only)"),
    lenient: bool = typer.Option(False, "--lenient", help="skip bad input records (counted) instead of stopping"),
) -> None:
    from ..pairs_table import export_pairs

    try:
        stats = export_pairs(
            corpus,
            output,
            format=format,
            scope=scope,
            pair_types=pair_types or (),
            marker=marker,
            window=window,
            negatives=negatives,
            lenient=lenient,
        )
    except BiorelError as e:
        err.print(f"error {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    typer.echo(f"{stats.rows} candidate pairs written to {output} (scope {scope}, markers {marker})")
    for line in stats.summary_lines():
        typer.echo(line)
