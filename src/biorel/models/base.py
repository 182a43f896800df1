"""What every biorel model provides, and loading a saved one.

A model is built from a :class:`~biorel.config.ModelConfig` plus the training
documents (which fix its label maps), turns documents into training items,
computes a loss on a batch of items, predicts documents, and saves to / loads
from a folder::

    model-dir/
      config.json        architecture, model config, biorel version
      labels.json        label maps (tags, entity and relation types, ...)
      model.safetensors  all weights (encoder and heads)
      encoder/config.json, tokenizer/   the encoder architecture and tokenizer
      metrics.json, provenance.json     written by the trainer

The contract test class ``tests/models/contract.py`` checks all of this for
every registered architecture.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar, Iterable, Literal, Sequence

from ..errors import error
from ..registry import registry
from ..types import Document

Mode = Literal["e2e", "gold"]
MODES: tuple[str, ...] = ("e2e", "gold")


class BiorelModel:
    """Interface of a trainable document model (see the module docstring)."""

    architecture: ClassVar[str] = ""

    #: the torch module holding every trainable parameter
    net: Any
    labels: Any

    @classmethod
    def from_config(cls, cfg: Any, train_docs: Sequence[Document]) -> "BiorelModel":
        raise NotImplementedError

    def prepare(self, doc: Document) -> Any:
        """A training item (tokenised, labelled) for one gold document."""
        raise NotImplementedError

    def loss(self, items: Sequence[Any]) -> tuple[Any, dict[str, float]]:
        """``(loss tensor, parts)`` for a batch of items."""
        raise NotImplementedError

    def predict_modes(self, docs: Sequence[Document], modes: Sequence[str] = ("e2e",), **options) -> dict[str, list[Document]]:
        raise NotImplementedError

    def predict(self, docs: Sequence[Document], mode: str = "e2e", **options) -> list[Document]:
        if mode not in MODES:
            raise error("E412", option=f"mode={mode!r}", reason=f"valid modes: {', '.join(MODES)}")
        return self.predict_modes(docs, (mode,), **options)[mode]

    def pipe(self, docs: Iterable[Document], *, batch_tokens: int = 4096, mode: str = "e2e", **options) -> Iterable[Document]:
        """Predict a stream, batched by token budget, in input order."""
        batch: list[Document] = []
        size = 0
        for doc in docs:
            n = self.cost(doc)
            if batch and size + n > batch_tokens:
                yield from self.predict(batch, mode, **options)
                batch, size = [], 0
            batch.append(doc)
            size += n
        if batch:
            yield from self.predict(batch, mode, **options)

    def cost(self, doc: Document) -> int:
        """A cheap size estimate used to batch by token budget."""
        return max(1, len(doc.text) // 4)

    def save(self, path: str | Path, *, metrics: dict | None = None, provenance: dict | None = None) -> Path:
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | Path) -> "BiorelModel":
        raise NotImplementedError


def read_model_meta(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_dir():
        raise error("E404", path=str(p), reason="no such folder")
    cfg = p / "config.json"
    if not cfg.is_file():
        raise error("E404", path=str(p), reason="config.json is missing")
    try:
        meta = json.loads(cfg.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise error("E404", path=str(p), reason=f"config.json: {e}") from None
    if not isinstance(meta, dict) or "architecture" not in meta:
        raise error("E404", path=str(p), reason="config.json names no architecture")
    return meta


def load_model(path: str | Path) -> BiorelModel:
    """Load any saved biorel model; the architecture comes from its config."""
    from . import joint as _joint  # noqa: F401  (registers the built-ins)

    meta = read_model_meta(path)
    cls = registry.models.get(meta["architecture"])
    return cls.load(path)
