"""``biorel view CORPUS [--gold GOLD] -o page.html``: one self-contained HTML page
for a corpus; with ``--gold``, mentions and relations coloured by biorel's scorer.

The work is done by :func:`biorel.view.write_view` (importable)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ..errors import BiorelError
from .app import app

out = Console()
err = Console(stderr=True)


@app.command("view")
def view_cmd(
    corpus: Path = typer.Argument(..., help="documents to show (any format biorel reads; e.g. predictions)"),
    output: Path = typer.Option(..., "--output", "-o", help="the HTML page to write"),
    gold: Path | None = typer.Option(None, "--gold", help="gold documents: colour true positives, false positives and misses"),
    format: str | None = typer.Option(None, "--format", "-f", help="format of CORPUS (default: from the file name)"),
    gold_format: str | None = typer.Option(None, "--gold-format", help="format of GOLD (default: from the file name)"),
    protocol: str = typer.Option("e2e", "--protocol", "-p", help="relation protocol for --gold: e2e, concept, cid or mention (ner: mentions only)"),
    match: str = typer.Option("strict", "--match", help="mention matching for --gold: strict, overlap or type-agnostic"),
    title: str | None = typer.Option(None, "--title", help="page title"),
) -> None:
    """Write a self-contained HTML page showing CORPUS (search, mentions, relations, evidence)."""
    from ..view import write_view

    try:
        summary = write_view(corpus, output, gold=gold, format=format, gold_format=gold_format, protocol=protocol, ner_match=match, title=title)
    except BiorelError as e:
        err.print(f"[red]error[/red] {e}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1)
    out.print(f"{summary.path}: {summary.n_documents} documents, {summary.n_bytes / 1e6:.2f} MB", markup=False, highlight=False, soft_wrap=True)
    for what, s in (summary.scoring or {}).items():
        tp, fp, fn = s["total"]
        out.print(f"{what} ({s['protocol']}): TP {tp}  FP {fp}  FN {fn}", markup=False, highlight=False, soft_wrap=True)
