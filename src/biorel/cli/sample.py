"""``biorel sample``: diversity-optimised sampling (GME) or random sampling.

Thin command over :mod:`biorel.sampling`; :func:`run_sample` does the work and
can be called from Python.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..errors import BiorelError, Diagnostics, error
from ..registry import registry
from .app import app

err = Console(stderr=True)

#: runs with more steps than this show a progress bar
PROGRESS_FROM = 2000


@dataclass
class SampleRun:
    result: object  # SampleResult
    table: object  # ItemTable
    selected: int  # picks used for the sub-corpus and the report
    written: dict[str, str] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


def parse_n(n: str | int | None) -> int | str | None:
    """``-n``: a positive integer, ``all`` (full ranking) or ``stop`` (full
    ranking cut at the stopping rule's step)."""
    if n is None or n == "all":
        return None
    if n == "stop":
        return "stop"
    try:
        value = int(n)
    except (TypeError, ValueError):
        raise error("E220", option="n", value=n, reason="give a positive integer, 'all' or 'stop'") from None
    if value < 1:
        raise error("E220", option="n", value=n, reason="give a positive integer, 'all' or 'stop'")
    return value


def run_sample(
    input: str | os.PathLike,
    on: list[str],
    n: int | str | None = None,
    *,
    sampler: str = "gme",
    selector: str = "dutopia",
    binarised: bool = False,
    stratify: str | None = None,
    quota: str = "balanced",
    item: str | None = None,
    format: str | None = None,
    seed: int = 0,
    decimals: int | None = 5,
    output: str | os.PathLike | None = None,
    subcorpus: str | os.PathLike | None = None,
    to: str | None = None,
    report: str | os.PathLike | None = None,
    seeds: int = 10,
    tolerance: float = 0.0,
    lenient: bool = False,
    progress: bool | None = None,
) -> SampleRun:
    """Load ``input``, sample, and write what was asked for (see the command's help)."""
    from ..sampling import get_sampler, load_table

    diags = Diagnostics()
    n = parse_n(n)
    table = load_table(input, on, item=item, stratify=stratify, format=format, lenient=lenient, diagnostics=diags)
    name = registry.samplers.resolve(sampler)
    options = {"binarised": binarised, "quota": quota, "selector": selector}
    if name == "biorel.GME.v1":
        options["decimals"] = decimals
    else:
        options["seed"] = seed
    smp = get_sampler(name, **options)
    want = None if n in (None, "stop") else n
    with _progress(progress, want or table.n_items) as bar:
        result = smp.sample(table, want, progress=bar, diagnostics=diags)
    selected = result.stop(tolerance).step if n == "stop" else len(result)
    run = SampleRun(result, table, selected, diagnostics=diags)
    if output is not None:
        result.write(output, tolerance)
        run.written["picks"] = str(output)
    if subcorpus is not None:
        keep = set(result.items[:selected])
        count = write_subcorpus(input, subcorpus, keep, item=item, format=format, to=to)
        run.written["subcorpus"] = f"{subcorpus} ({count} items)"
    if report is not None:
        from ..sampling.report import diversity_report

        diversity_report(table, result, seeds=seeds, first_seed=seed + 1 if name != "biorel.GME.v1" else 0, n=selected).write(report)
        run.written["report"] = str(report)
    return run


def write_subcorpus(input, out, keep: set[str], *, item: str | None, format: str | None, to: str | None) -> int:
    """Write the selected items of ``input`` to ``out``: table rows (file order)
    when both are tables, otherwise documents (file order) in any format."""
    from .. import io
    from ..sampling.sources import is_table, write_table_subset

    if format is None and is_table(input) and to is None and is_table(out):
        return write_table_subset(input, out, item, keep)
    in_format = format or ("lotus" if is_table(input) else None)
    docs = (d for d in io.read(input, in_format) if d.id in keep)
    try:
        count = io.write(docs, out, to)
    except OSError as e:
        raise error("E228", what="the sub-corpus", path=str(out), reason=e.strerror or str(e)) from None
    if count != len(keep):
        raise error(
            "E228",
            what="the sub-corpus",
            path=str(out),
            reason=f"only {count} of the {len(keep)} selected items were found as documents of {input} (document ids must be the item ids; for LOTUS tables the item column must be the reference key)",
        )
    return count


class _progress:
    """A rich progress bar on stderr for long runs (``enabled`` None: automatic)."""

    def __init__(self, enabled: bool | None, total: int):
        self.enabled = total > PROGRESS_FROM if enabled is None else enabled
        self.total = total
        self.bar: Progress | None = None

    def __enter__(self):
        if not self.enabled:
            return None
        self.bar = Progress(
            TextColumn("sampling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True
        )
        self.bar.start()
        task = self.bar.add_task("sampling", total=self.total)
        every = max(1, self.total // 500)

        def update(k: int, n: int) -> None:
            if k % every == 0 or k == n:
                self.bar.update(task, completed=k, total=n)

        return update

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


@app.command()
def sample(
    input: Path = typer.Argument(..., help="a LOTUS-style table (.tsv/.csv[.gz]) or a corpus in any biorel format"),
    n: str | None = typer.Option(
        None, "-n", help="items to pick; 'all' (default) ranks everything; 'stop' ranks everything and keeps the picks up to the stopping rule's step"
    ),
    on: str = typer.Option(
        ..., "--on", help="variables, comma-separated: table columns, or entity types of relation arguments (e.g. Chemical,Disease)"
    ),
    sampler: str = typer.Option("gme", "--sampler", help="sampler name or alias: gme, random"),
    selector: str = typer.Option("dutopia", "--selector", help="dutopia (distance to the utopia point) or sum (summed entropies)"),
    binarised: bool = typer.Option(False, "--binarised", help="count each distinct entity once per item"),
    stratify: str | None = typer.Option(None, "--stratify", help="stratum column or key, e.g. organism_taxonomy_02kingdom"),
    quota: str = typer.Option("balanced", "--quota", help="stratum quotas: balanced or proportional"),
    item: str | None = typer.Option(None, "--item", help="item column of a table (default: reference_doi)"),
    format: str | None = typer.Option(
        None, "--format", "-f", help="read INPUT as this document format (default: tables by suffix, else from the file name)"
    ),
    seed: int = typer.Option(0, "--seed", help="random seed (random sampler; report baselines use the next seeds)"),
    decimals: int = typer.Option(
        5, "--decimals", help="GME compares entropies rounded to this many decimals (reference behaviour); -1: full precision"
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="picks with per-step entropies: .tsv or .json (default: TSV on stdout)"),
    subcorpus: Path | None = typer.Option(
        None, "--subcorpus", help="write the selected items: a table for table input, else documents in any format"
    ),
    to: str | None = typer.Option(None, "--to", help="format of --subcorpus (default: from its file name)"),
    report: Path | None = typer.Option(None, "--report", help="folder for the diversity report (JSON, Markdown, PNG plots)"),
    seeds: int = typer.Option(10, "--seeds", help="random samples in the report's baseline (at least 10)"),
    tolerance: float = typer.Option(0.0, "--tolerance", help="stopping rule: first step within this of the best objective"),
    lenient: bool = typer.Option(False, "--lenient", help="skip bad rows/items (each is reported) instead of stopping"),
    no_progress: bool = typer.Option(False, "--no-progress", help="never show a progress bar"),
) -> None:
    """Pick a diverse subset of documents (GME, arXiv 2311.06364) or a random one."""
    try:
        run = run_sample(
            input,
            [v.strip() for v in on.split(",") if v.strip()],
            n,
            sampler=sampler,
            selector=selector,
            binarised=binarised,
            stratify=stratify,
            quota=quota,
            item=item,
            format=format,
            seed=seed,
            decimals=None if decimals < 0 else decimals,
            output=output,
            subcorpus=subcorpus,
            to=to,
            report=report,
            seeds=seeds,
            tolerance=tolerance,
            lenient=lenient,
            progress=False if no_progress else None,
        )
    except BiorelError as e:
        err.print(f"error {e}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1)
    for p in run.diagnostics.problems:
        err.print(str(p), highlight=False, markup=False, soft_wrap=True)
    res = run.result
    if output is None:
        sys.stdout.write(res.to_tsv())
    stop = res.stop(tolerance)
    err.print(
        f"{len(res)} picks from {run.table.n_items} items ({len(res.unranked)} unrankable); "
        f"stopping rule: step {stop.step} ({res.objective_name} {stop.objective:.4f})"
        + (f"; kept {run.selected}" if run.selected != len(res) else ""),
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    for what, where in run.written.items():
        err.print(f"wrote {what}: {where}", highlight=False, markup=False, soft_wrap=True)
