"""``biorel extract --engine ray``: the Ray half of the extract command (the
command itself is in :mod:`biorel.cli.extract`); see docs/ray.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ..errors import BiorelError, error

ENGINES = ("local", "ray")


def extract_ray_cmd(input: Path, model: str, output: Path, err, *, engine: str, address, workers, shard_docs, threads, options: dict[str, Any]):
    """Run :func:`biorel.extract.ray_engine.extract_ray` and print its summary
    (shards done and resumed, documents, rate); a coded error is printed and
    exits 1. Returns the stats for the findings table."""
    from ..extract.ray_engine import extract_ray

    try:
        if engine not in ENGINES:
            raise error("E555", option=f"--engine {engine}", reason=f"valid engines: {', '.join(ENGINES)}")
        options["output_format"] = options["output_format"] or "jsonl"
        stats = extract_ray(
            input, model, output, workers=workers, address=address, shard_docs=shard_docs, threads_per_worker=max(1, threads), console=err, **options
        )
    except BiorelError as e:
        err.print(f"error {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    for w in stats.warnings:
        err.print(f"warning {w}", markup=False, highlight=False, soft_wrap=True)
    typer.echo(summary(stats))
    return stats


def summary(stats) -> str:
    """One line: what was done and resumed, where, how fast."""
    resumed = f"; {stats.shards_resumed} shards ({stats.resumed} documents) done before" if stats.shards_resumed else ""
    rate = f"{stats.docs_per_second:.1f} docs/s" if stats.written else "nothing to do"
    return (
        f"{stats.written} documents in {stats.shards_done} of {stats.shards} shards written to {stats.output}{resumed}; "
        f"{rate} on ray ({stats.address}, {stats.workers} workers x {stats.threads_per_worker} threads, {stats.precision}; "
        f"first shard after {stats.first_result_seconds:.1f} s); manifest {stats.manifest}"
    )
