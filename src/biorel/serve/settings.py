"""The options of ``biorel serve`` (:class:`ServeSettings`), checked once.

Every limit has a default that suits PubMed abstracts on a small CPU machine;
``biorel serve --help`` and docs/serve.md say what each one does.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import error

#: formats ``POST /v1/extract/{format}`` reads, by their biorel names
INPUT_FORMATS: tuple[str, ...] = ("text", "pubtator", "bioc-xml", "bioc-json", "jsonl")
#: ``output=`` choices and their media types
OUTPUT_MEDIA_TYPES: dict[str, str] = {"json": "application/json", "bioc-json": "application/json", "bioc-xml": "application/xml"}


@dataclass(frozen=True)
class ServeSettings:
    """Limits, batching and access options of the HTTP service."""

    #: request bodies larger than this are refused (413, E500)
    max_body_bytes: int = 5_000_000
    #: documents longer than this (characters) are refused (422, E501)
    max_doc_chars: int = 100_000
    #: a request not answered within this many seconds gets 504 (E502)
    timeout_s: float = 60.0
    #: documents that may wait for the model; more gives 503 with Retry-After (E503)
    max_queue: int = 256
    #: encoder tokens (``model.cost``) that may wait for the model
    max_queue_tokens: int = 262_144
    #: token budget of one model call
    batch_tokens: int = 2048
    #: how long the batcher waits for more documents once it has one
    batch_wait_ms: float = 5.0
    #: documents in one model call at most (1: plain batch-1 serving)
    max_batch_docs: int = 32
    #: required in ``Authorization: Bearer`` or ``X-API-Key`` on ``/v1/*`` when set
    api_key: str | None = None
    #: origins allowed by CORS; empty: CORS off
    cors_origins: tuple[str, ...] = ()
    #: inference precision (one of :data:`biorel.models.base.PRECISIONS`)
    precision: str = "auto"
    #: torch CPU threads (0: torch's default)
    threads: int = 0
    #: tokens of attribution per relation kept by ``evidence=true``
    evidence_top_k: int = 8
    #: the name ``/v1/models`` gives an in-memory model (a folder or shipped model is named by its reference)
    model_name: str | None = None

    def __post_init__(self) -> None:
        positive = ("max_body_bytes", "max_doc_chars", "max_queue", "max_queue_tokens", "batch_tokens", "max_batch_docs", "evidence_top_k")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise error("E514", option=f"--{name.replace('_', '-')} {getattr(self, name)}", reason="must be at least 1")
        if not self.timeout_s > 0:
            raise error("E514", option=f"--timeout-s {self.timeout_s}", reason="must be more than 0")
        if self.batch_wait_ms < 0:
            raise error("E514", option=f"--batch-wait-ms {self.batch_wait_ms}", reason="must be 0 or more")
        if self.threads < 0:
            raise error("E514", option=f"--threads {self.threads}", reason="must be 0 (torch's default) or more")
        from ..models.base import PRECISIONS

        if self.precision not in PRECISIONS:
            raise error("E514", option=f"--precision {self.precision}", reason=f"valid precisions: {', '.join(PRECISIONS)}")
        if self.api_key is not None and not self.api_key.strip():
            raise error("E514", option="--api-key", reason="an empty key would let everyone in; leave it unset instead")
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise error("E514", option=f"--cors-origin {origin}", reason="an origin looks like https://example.org (or * for any)")

    def with_options(self, **changes: Any) -> ServeSettings:
        """A copy with ``changes`` applied (``None`` values keep the current one)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise error("E514", option=", ".join(unknown), reason=f"not a serve option; options: {', '.join(sorted(known))}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


__all__ = ["ServeSettings", "INPUT_FORMATS", "OUTPUT_MEDIA_TYPES"]
