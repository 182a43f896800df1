"""Test helpers for the HTTP service: a tiny offline model, a model wrapper
that counts (and can hold or fail) model calls, and a real uvicorn server on
a free loopback port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from biorel.types import Document

#: a text that makes :class:`CountingModel` raise inside ``predict``
BOOM = "boom-trigger-text"


def tiny_model(folder: Path) -> Any:
    """A small random joint model over the toy corpus (no network, ~1 s)."""
    import torch

    from biorel.config import validate_model_config
    from biorel.models import build_model
    from biorel.models.testing import make_tiny_tokenizer, tiny_model_config, toy_corpus

    torch.manual_seed(0)
    tok = make_tiny_tokenizer(folder / "tok")
    return build_model(validate_model_config(tiny_model_config(tok)), toy_corpus(6))


class CountingModel:
    """Wraps a model: counts ``predict`` calls and the documents of each; a
    closed ``gate`` holds every call until it is opened; a document whose
    text contains :data:`BOOM` makes the call raise."""

    def __init__(self, model: Any):
        self._model = model
        self.calls: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def predict(self, docs: Sequence[Document], mode: str | None = None, **options: Any) -> list[Document]:
        with self._lock:
            self.calls.append(len(docs))
        self.entered.set()
        self.gate.wait(60)
        if any(BOOM in d.text for d in docs):
            raise RuntimeError("injected failure")
        return self._model.predict(docs, mode, **options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(app: Any, *, wait_ready: bool = True) -> Iterator[str]:
    """``app`` served by uvicorn in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(600):
            if server.started or not thread.is_alive():
                break
            thread.join(0.05)
        assert server.started, "uvicorn did not start"
        if wait_ready:
            assert app.state.service.wait_ready(60), "the model did not load"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def wait_until(predicate, timeout: float = 30.0) -> bool:
    """Wait for a condition another thread makes true (not a timing assertion)."""
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return True
        done.wait(0.01)
    return bool(predicate())
