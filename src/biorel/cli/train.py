"""``biorel train CONFIG [--section.key VALUE ...]`` (owned by the model work)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import BiorelError
from .app import app, fail


@app.command(
    "train",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Train a model from a TOML/YAML config. Any config value can be overridden with a dotted option, "
    "e.g. --training.lr 3e-5 --model.encoder.name mpnet.",
)
def train_cmd(
    ctx: typer.Context,
    config: Path = typer.Argument(..., help="config file (.toml, .yaml, .json)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="output folder (same as --training.output_dir)"),
    resume: Path | None = typer.Option(None, "--resume", help="resume from OUTPUT or OUTPUT/last"),
    dry_run: bool = typer.Option(False, "--dry-run", help="validate the config and print it, then stop"),
) -> None:
    import json

    from ..config import load_config

    overrides = list(ctx.args)
    if output is not None:
        overrides += [f"--training.output_dir={output}"]
    try:
        cfg = load_config(config, overrides)
        if dry_run:
            typer.echo(json.dumps(cfg.to_dict(), indent=2))
            return
        from ..training import train

        result = train(cfg, resume=resume, overrides=overrides)
    except BiorelError as e:
        fail(e)
        return
    best = f"{result.best_metric:.4f}" if result.best_metric is not None else "n/a"
    typer.echo(
        f"{result.stopped}; {result.global_step} steps; best {cfg.evaluation.primary_metric} {best} (epoch {result.best_epoch}); model: {result.best_dir}"
    )


@app.command(
    "package",
    help="Write a compact copy of a trained model folder: bf16 weights, and the tensors that are identical "
    "to the base encoder's left out (taken from the base at load time, checked by sha256).",
)
def package_cmd(
    model: Path = typer.Argument(..., help="a trained model folder (e.g. runs/bc5cdr/best)"),
    output: Path = typer.Argument(..., help="folder to write"),
    dtype: str = typer.Option("bf16", "--dtype", help="bf16 or fp32"),
    base: str | None = typer.Option(
        None, "--base", help="base encoder (alias, folder or id); default: the one the model was trained from; '' keeps every tensor"
    ),
) -> None:
    from ..models.package import package_model

    try:
        summary = package_model(model, output, dtype=dtype, base=base)
    except BiorelError as e:
        fail(e)
        return
    mib = 1024 * 1024
    typer.echo(
        f"{output}: {summary['packaged_bytes'] / mib:.1f} MiB of weights ({summary['dtype']}), was {summary['source_bytes'] / mib:.1f} MiB; "
        f"{len(summary['omitted'])} tensor(s) taken from the base encoder at load time"
    )
