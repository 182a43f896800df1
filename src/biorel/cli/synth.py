"""``biorel synth`` and ``biorel synth-report``: thin commands over :mod:`biorel.synth`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import BiorelError, Diagnostics, error
from .app import app, err, fail

# SynthConfig's defaults, repeated here so that building the CLI does not import
# biorel.synth (a test checks that they agree)
DEFAULT_MAX_ENTITIES = 6
DEFAULT_REPAIRS = 0  # = biorel.synth.job.DEFAULT_REPAIRS (a test checks)


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise error("E321", option="temperatures", value=text, reason="comma-separated numbers, e.g. 0.8,1.0") from None


def backend_options(
    backend: str, model: str | None, base_url: str | None, api_key_env: str | None, timeout: float, retries: int, concurrency: int, n_threads: int
) -> dict[str, Any]:
    """CLI flags -> keyword arguments of the chosen backend."""
    from ..registry import registry
    from ..synth.models import DEFAULT_LLM

    name = registry.llm_backends.resolve(backend)
    if name == "biorel.OpenAIHTTP.v1":
        opts: dict[str, Any] = {"model": model or "default", "timeout": timeout, "max_retries": retries, "max_concurrency": concurrency}
        if base_url:
            opts["base_url"] = base_url
        if api_key_env:
            opts["api_key_env"] = api_key_env
        return opts
    if name == "biorel.LlamaCpp.v1":
        return {"model": model or DEFAULT_LLM, "n_threads": n_threads}
    if name == "biorel.Transformers.v1":
        return {"model": model or DEFAULT_LLM, "n_threads": n_threads}
    return {"model": model} if model else {}


@app.command("synth")
def synth_cmd(
    seeds: Path = typer.Argument(..., help="Seed corpus: ABroad JSON, LOTUS table, biorel JSONL or any readable format."),
    out: Path = typer.Option(
        ..., "-o", "--output", "--out", help="Output folder (created; rerun the same command to resume; one run at a time: a second gets E050)."
    ),
    backend: str = typer.Option("llama-cpp", "--backend", help="LLM backend: openai, llama-cpp, transformers (or a versioned name)."),
    model: str | None = typer.Option(
        None, "--model", help="Model: a packaged name (qwen2.5-coder-0.5b, smollm2-135m), a GGUF path, a folder, or the server's model name."
    ),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="Environment variable holding the API key (default OPENAI_API_KEY if set)."),
    template: str = typer.Option(
        "chat-verbatim", "--template", help="Prompt template: chat-verbatim, chat, paper, few-shot, a versioned name, or a YAML file."
    ),
    n_per_seed: int = typer.Option(
        3, "--n-per-seed", help="Abstracts per seed and temperature (a split seed cycles over its groups; it gets at least one per group)."
    ),
    temperatures: str = typer.Option("0.8", "--temperatures", help="Comma-separated sampling temperatures."),
    max_tokens: int = typer.Option(512, "--max-tokens"),
    threshold: float = typer.Option(1.0, "--threshold", help="Minimum score (share of target entities found) to accept."),
    numbering: str = typer.Option("alternate", "--numbering", help="Compound numbers in the main findings: never, always, alternate."),
    max_entities: int = typer.Option(
        DEFAULT_MAX_ENTITIES,
        "--max-entities",
        help="Split a seed whose relations mention more entities than this into relation groups, one group per abstract (0: never split).",
    ),
    repairs: int = typer.Option(
        DEFAULT_REPAIRS, "--repairs", help="Follow-ups asking the model to rewrite a reply that misses target entities (0: none)."
    ),
    repair_style: str = typer.Option(
        "turn",
        "--repair-style",
        help="Chat templates: turn (a further user turn after the reply) or reprompt (a fresh prompt asking for the missing names).",
    ),
    frequency_penalty: float = typer.Option(
        0.0, "--frequency-penalty", help="OpenAI-style penalty on tokens by how often they were already generated (llama-cpp, openai)."
    ),
    presence_penalty: float = typer.Option(
        0.0, "--presence-penalty", help="OpenAI-style penalty on tokens already generated at all (llama-cpp, openai)."
    ),
    guide: str = typer.Option(
        "auto",
        "--guide",
        help="Grammar-guided decoding: findings (every reply states the main findings verbatim; llama-cpp, or an openai server that takes a GBNF grammar), none, or auto (findings on llama-cpp, none elsewhere).",
    ),
    concurrency: int = typer.Option(4, "--concurrency", help="Requests in flight (HTTP backend)."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds per HTTP request."),
    retries: int = typer.Option(4, "--retries", help="Retries per HTTP request (exponential backoff)."),
    n_threads: int = typer.Option(2, "--n-threads", help="CPU threads (in-process backends)."),
    fmt: str | None = typer.Option(None, "--format", help="Seed format (default: from the file name)."),
    lenient: bool = typer.Option(False, "--lenient", help="Skip bad seed records (each is reported)."),
    limit: int | None = typer.Option(None, "--limit", help="Process at most this many pending keys in this run."),
    force: bool = typer.Option(False, "--force", help="Resume even if the configuration differs from the folder's."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Generate synthetic abstracts that state the seeds' relations; keep the aligned ones."""
    from ..synth import SynthConfig, SynthJob, get_template, make_backend, read_seeds

    diags = Diagnostics()
    try:
        docs = read_seeds(seeds, fmt, lenient=lenient, diagnostics=diags)
        tpl = get_template(template)
        cfg = SynthConfig(
            n_per_seed=n_per_seed,
            temperatures=_floats(temperatures),
            max_tokens=max_tokens,
            threshold=threshold,
            numbering=numbering,
            max_entities=max_entities,
            repairs=repairs,
            repair_style=repair_style,
            guide=guide,
            frequency_penalty=frequency_penalty,
            presence_penalty=presence_penalty,
        )
        cfg.check()
        llm = make_backend(backend, **backend_options(backend, model, base_url, api_key_env, timeout, retries, concurrency, n_threads))
    except BiorelError as e:
        fail(e)
    bar = Progress(
        TextColumn("synth"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[stats]}"),
        console=err,
        disable=not progress,
    )
    try:
        with bar:
            task_id = bar.add_task("synth", total=None, stats="")

            def on_progress(s) -> None:
                bar.update(
                    task_id,
                    total=s.total_keys - s.already_done,
                    completed=s.processed + sum(s.backend_errors.values()),
                    stats=f"{s.per_hour:.0f} abstracts/h (written, wall)  accepted {s.acceptance:.0%} ({s.accepted_after_repair} after repair)  errors {sum(s.backend_errors.values())}",
                )

            job = SynthJob(docs, out, llm, tpl, cfg, diagnostics=diags, force=force, seeds_source=str(seeds), progress=on_progress, limit=limit)
            summary = job.run()
    except BiorelError as e:
        fail(e)
    finally:
        llm.close()
    for p in diags:
        err.print(str(p), highlight=False, markup=False)
    s = summary
    err.print(
        f"{s.processed} written ({s.accepted} accepted, {s.acceptance:.1%}: {s.accepted_first_time} first time, {s.accepted_after_repair} after repair), "
        f"{s.already_done} already done, {sum(s.backend_errors.values())} backend errors left pending, {s.seeds_skipped} seeds skipped, "
        f"{s.seeds_split} seeds split; {s.generations} generations; {s.per_hour:.0f} abstracts/hour (records written per wall hour, repairs included). "
        "Rejected: "
        + (", ".join(f"{k} {v}" for k, v in s.rejected.items()) or "none")
        + ". Failed replies (repaired ones included): "
        + (", ".join(f"{k} {v}" for k, v in s.failed_attempts.items()) or "none"),
        highlight=False,
        markup=False,
    )


@app.command("synth-report")
def synth_report_cmd(
    out: Path = typer.Argument(..., help="A synth output folder."),
    real: Path | None = typer.Option(None, "--real", help="Real abstracts for the diversity baseline (default: the job's seeds)."),
    sample_tokens: int | None = typer.Option(None, "--sample-tokens", help="Tokens per diversity sample (default: the smaller side's total)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Acceptance by reason, entity recall, lengths, and lexical diversity of synthetic vs real abstracts."""
    from ..synth import format_report, read_seeds, synth_report

    try:
        real_path = real
        if real_path is None:
            manifest = out / "job.json"
            if manifest.exists():
                runs = json.loads(manifest.read_text(encoding="utf-8")).get("runs", [])
                src = runs[0].get("seeds") if runs else None
                real_path = Path(src) if src and Path(src).exists() else None
        docs = read_seeds(real_path) if real_path else None
        rep = synth_report(out, docs, sample_tokens=sample_tokens)
    except BiorelError as e:
        fail(e)
    if as_json:
        typer.echo(json.dumps(rep, indent=2, ensure_ascii=False))
    else:
        typer.echo(format_report(rep))
