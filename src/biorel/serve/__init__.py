"""``biorel serve``: an HTTP API over a trained model, with dynamic micro-batching.

::

    from biorel.serve import create_app, ServeSettings
    app = create_app("bc5cdr-minilm", settings=ServeSettings(max_batch_docs=16))
    # uvicorn.run(app)   or:   biorel serve --model bc5cdr-minilm

Needs the ``serve`` extra (fastapi, uvicorn, prometheus-client) and the
``model`` extra; ``create_app`` is imported on first use, so ``import
biorel.serve`` needs neither. docs/serve.md describes the endpoints, limits,
errors and the batching.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models.shipped import DEFAULT_MODEL
from .settings import INPUT_FORMATS, OUTPUT_MEDIA_TYPES, ServeSettings

if TYPE_CHECKING:
    from .app import create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'biorel.serve' has no attribute {name!r}")


__all__ = ["create_app", "ServeSettings", "DEFAULT_MODEL", "INPUT_FORMATS", "OUTPUT_MEDIA_TYPES"]
