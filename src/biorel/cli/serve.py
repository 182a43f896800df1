"""``biorel serve``: the HTTP API (docs/serve.md) on uvicorn."""

from __future__ import annotations

import typer
from rich.console import Console

from ..errors import BiorelError
from .app import app

err = Console(stderr=True)


@app.command(
    "serve",
    help="Serve a model over HTTP: POST /v1/extract (JSON), POST /v1/extract/{format} (text, pubtator, bioc-xml, "
    "bioc-json, jsonl), GET /v1/models, /healthz, /readyz, /metrics, the page at / and the API docs at /docs.",
)
def serve_cmd(
    model: str = typer.Option("bc5cdr-minilm", "--model", "-m", help="a trained model folder, or a shipped model's name"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(8000, "--port"),
    max_body_bytes: int = typer.Option(5_000_000, "--max-body-bytes", help="larger request bodies get 413"),
    max_doc_chars: int = typer.Option(100_000, "--max-doc-chars", help="longer documents get 422"),
    timeout_s: float = typer.Option(60.0, "--timeout-s", help="requests not answered in this time get 504"),
    max_queue: int = typer.Option(256, "--max-queue", help="documents that may wait for the model; more get 503 with Retry-After"),
    max_queue_tokens: int = typer.Option(262_144, "--max-queue-tokens", help="encoder tokens that may wait for the model"),
    batch_tokens: int = typer.Option(2048, "--batch-tokens", help="token budget of one model call"),
    batch_wait_ms: float = typer.Option(5.0, "--batch-wait-ms", help="how long a batch waits for more documents (0: never)"),
    max_batch_docs: int = typer.Option(32, "--max-batch-docs", help="documents per model call at most (1: no batching)"),
    api_key: str | None = typer.Option(None, "--api-key", envvar="BIOREL_API_KEY", help="require this key on /v1/* (Bearer or X-API-Key)"),
    cors_origin: list[str] | None = typer.Option(None, "--cors-origin", help="allow this origin (repeatable; CORS is off without it)"),
    threads: int = typer.Option(0, "--threads", help="torch CPU threads (0 = default)"),
    precision: str = typer.Option(
        "auto",
        "--precision",
        help="auto (bf16 where the hardware computes bf16 natively, else fp32), fp32, bf16, or int8 (CPU: the encoder's linear layers quantised; faster where bf16 is not native, slightly less accurate: docs/model.md)",
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level"),
) -> None:
    from ..serve.settings import ServeSettings

    try:
        from ..models.shipped import resolve_model

        resolve_model(model)  # a bad model reference stops here, not after the server started
        settings = ServeSettings(
            max_body_bytes=max_body_bytes,
            max_doc_chars=max_doc_chars,
            timeout_s=timeout_s,
            max_queue=max_queue,
            max_queue_tokens=max_queue_tokens,
            batch_tokens=batch_tokens,
            batch_wait_ms=batch_wait_ms,
            max_batch_docs=max_batch_docs,
            api_key=api_key,
            cors_origins=tuple(cors_origin or ()),
            threads=threads,
            precision=precision,
        )
    except BiorelError as e:
        err.print(f"error {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    run_server(model, settings, host=host, port=port, log_level=log_level)


def run_server(model: str, settings, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``create_app(model, settings=settings)`` with uvicorn until stopped."""
    try:
        import uvicorn

        from ..serve.app import create_app
    except ImportError as e:
        err.print(f"biorel serve needs the serve extra ({e}); pip install 'biorel[serve]'", markup=False, highlight=False)
        raise typer.Exit(1)
    uvicorn.run(create_app(model, settings=settings), host=host, port=port, log_level=log_level, timeout_graceful_shutdown=10)
