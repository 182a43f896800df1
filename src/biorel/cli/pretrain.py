"""``biorel pretrain CONFIG`` (MLM training of an encoder) and ``biorel
pretrain-corpus`` (the DAPT corpus builder)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import BiorelError
from .app import app, err, fail
from .options import parse_options


@app.command(
    "pretrain",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Masked-language-model training (whole-word masking) of an encoder on a corpus in any readable format. "
    "Any config value can be overridden with a dotted option, e.g. --training.max_steps 50 --model.name mpnet. "
    "Rerunning the command continues from OUT/last; the trained encoder is OUT/encoder (--model.encoder.name OUT/encoder).",
)
def pretrain_cmd(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="config file (.toml, .yaml, .json); see configs/pretrain/dapt-minilm.toml"),
    output: Path | None = typer.Option(None, "--output", "-o", help="output folder (same as --training.output_dir)"),
    restart: bool = typer.Option(False, "--restart", help="start over instead of continuing from OUT/last"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate the config and print it, then stop"),
) -> None:
    import json

    from ..pretrain.config import load_pretrain_config

    overrides = list(ctx.args) + ([f"--training.output_dir={output}"] if output is not None else [])
    try:
        cfg = load_pretrain_config(config, overrides)
        if dry_run:
            typer.echo(json.dumps(cfg.to_dict(), indent=2))
            return
        from ..pretrain.run import pretrain

        r = pretrain(cfg, restart=restart)
    except BiorelError as e:
        fail(e)
        return
    typer.echo(
        f"{r.steps} steps ({r.precision}); held-out MLM loss {r.eval_loss_before:.4f} -> {r.eval_loss_after:.4f}; "
        f"{r.tokens_per_s:.0f} tokens/s, {r.s_per_step:.2f} s/step, peak RSS {r.peak_rss_mib:.0f} MiB; encoder: {r.encoder_dir}"
    )


@app.command(
    "pretrain-corpus",
    help="Build the DAPT corpus: every abstract of the registered datasets and the mirror's PubMed files, plus --add "
    "files/folders (any readable format, PubMed .xml.gz included), de-duplicated, with every test split of every "
    "registered dataset left out (by PMID, text and shared 13-word sequences). Writes biorel JSONL and NAME.report.json.",
)
def corpus_cmd(
    output: Path = typer.Option(..., "--output", "-o", help="the corpus file (.jsonl)"),
    add: list[Path] | None = typer.Option(None, "--add", help="a file or folder to add (repeatable)"),
    input_format: str | None = typer.Option(None, "--format", "-f", help="format of the --add files when their names do not say"),
    reader_option: list[str] | None = typer.Option(None, "--reader-option", "-r", help="reader option key=value for the --add files"),
    exclude_split: list[str] | None = typer.Option(None, "--exclude-split", help="also leave out this split, e.g. dev (test always is)"),
    no_datasets: bool = typer.Option(False, "--no-datasets", help="leave out the registered datasets (only --add files)"),
    seed: int = typer.Option(13, "--seed", help="seed of the shuffle"),
) -> None:
    from ..pretrain.corpus import build_corpus, report_path

    try:
        report = build_corpus(
            list(add or []),
            output,
            exclude_splits=tuple(dict.fromkeys(["test", *(exclude_split or [])])),
            datasets=not no_datasets,
            fmt=input_format,
            reader_options=parse_options(reader_option),
            seed=seed,
            log=err.log,
        )
    except BiorelError as e:
        fail(e)
        return
    for line in report.lines():
        typer.echo(line)
    if report.unused_files:
        typer.echo(f"{len(report.unused_files)} file(s) not read (reasons in the report)")
    t = report.totals()
    typer.echo(
        f"{output}: {t['written']} documents ({t['excluded']} test overlaps, {t['duplicates']} duplicates left out); report: {report_path(output)}"
    )
