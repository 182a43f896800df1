"""``biorel extract INPUT --model DIR -o OUT`` (owned by the model work)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ..errors import BiorelError
from .app import app

err = Console(stderr=True)


@app.command("extract", help="Extract mentions, entities and relations from INPUT (raw text, PubTator, BioC, JSONL, ...) "
             "with a trained model. Resumable: rerun the same command after an interruption.")
def extract_cmd(
    input: Path = typer.Argument(..., help="input file or folder"),
    model: Path = typer.Option(..., "--model", "-m", help="a trained model folder"),
    output: Path = typer.Option(..., "--output", "-o", help="output file; its format comes from the name or --output-format"),
    input_format: Optional[str] = typer.Option(None, "--input-format", "-f"),
    output_format: Optional[str] = typer.Option(None, "--output-format", "-t"),
    mode: str = typer.Option("e2e", "--mode", help="e2e (find mentions too) or gold (entities given, relations predicted)"),
    batch_tokens: int = typer.Option(4096, "--batch-tokens", help="token budget per batch"),
    threshold: float = typer.Option(0.5, "--threshold", help="minimum relation score"),
    gold_ids: bool = typer.Option(False, "--gold-ids", help="e2e: predicted mentions matching a gold mention take its concept ids"),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="continue an interrupted run (default) or start over"),
    lenient: bool = typer.Option(False, "--lenient", help="skip bad input records (reported) instead of stopping"),
    lines: bool = typer.Option(False, "--lines", help="raw text: one document per line"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    threads: int = typer.Option(0, "--threads", help="torch CPU threads (0 = default)"),
    precision: str = typer.Option("auto", "--precision", help="auto (bf16 where the hardware computes bf16 natively, else fp32), fp32 or bf16"),
) -> None:
    from ..extract import extract

    if threads > 0:
        import torch

        torch.set_num_threads(threads)

    opts = {"lines": True} if lines else None
    try:
        stats = extract(input, model, output, input_format=input_format, output_format=output_format, mode=mode, batch_tokens=batch_tokens,
                        threshold=threshold, use_gold_ids=gold_ids, resume=resume, lenient=lenient, reader_options=opts, progress=progress, console=err, precision=precision)
    except BiorelError as e:
        err.print(f"error {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    resumed = f" ({stats.resumed} already done before)" if stats.resumed else ""
    typer.echo(f"{stats.written} documents written to {stats.output}{resumed}; {stats.docs_per_second:.1f} docs/s ({stats.precision})")
