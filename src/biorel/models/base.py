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
#: inference precisions; ``auto`` picks bf16 where the hardware computes it
#: natively (:func:`native_bf16`), else fp32
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")


def native_bf16() -> bool:
    """Whether bf16 matrix products run natively here: a CUDA device with bf16,
    or a CPU with AVX512-BF16 or AMX-BF16 (elsewhere bf16 is emulated and slower
    than fp32)."""
    import torch

    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


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

    #: the inference precision in use (see :meth:`set_precision`)
    precision: str = "fp32"

    def set_precision(self, precision: str) -> str:
        """Switch inference to ``precision`` (one of :data:`PRECISIONS`);
        returns the precision chosen (``auto`` resolves to a concrete one).
        Models that only run in fp32 accept ``fp32`` and ``auto``."""
        if precision not in PRECISIONS:
            raise error("E412", option=f"precision={precision!r}", reason=f"valid precisions: {', '.join(PRECISIONS)}")
        if precision == "bf16":
            raise error("E412", option="precision='bf16'", reason=f"{self.architecture or type(self).__name__} runs in fp32 only")
        self.precision = "fp32"
        return self.precision

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
    """Load any saved biorel model (a folder, or the name of a shipped model,
    :mod:`biorel.models.shipped`); the architecture comes from its config."""
    from . import joint as _joint  # noqa: F401  (registers the built-ins)
    from .shipped import resolve_model

    path = resolve_model(path)
    meta = read_model_meta(path)
    cls = registry.models.get(meta["architecture"])
    return cls.load(path)
