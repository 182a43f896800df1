"""Trainable document models (joint NER + relation extraction).

Architectures are registered in ``registry.models`` under versioned names::

    from biorel.models import load_model, build_model
    model = build_model(cfg.model, train_docs)     # registry.models.get(cfg.architecture)
    docs = model.predict(docs, mode="e2e")
    model.save("runs/m"); load_model("runs/m")

Needs the ``model`` extra (torch, transformers, safetensors).
"""

from __future__ import annotations

from typing import Sequence

from ..registry import registry
from ..types import Document
from .base import MODES, BiorelModel, load_model, read_model_meta
from .labels import LabelMaps, decode_tags, encode_tags
from .grouping import group_mentions, normalise
from . import joint as _joint  # noqa: F401  (registers biorel.JointNERRE.v1)
from .joint import JointNERRE


def build_model(cfg, train_docs: Sequence[Document]) -> BiorelModel:
    """A new model of ``cfg.architecture`` (a :class:`~biorel.config.ModelConfig`)."""
    return registry.models.get(cfg.architecture).from_config(cfg, train_docs)


__all__ = [
    "BiorelModel", "JointNERRE", "LabelMaps", "MODES", "build_model", "load_model", "read_model_meta",
    "encode_tags", "decode_tags", "group_mentions", "normalise",
]
