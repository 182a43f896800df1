"""Trainable document models.

Architectures are registered in ``registry.models`` under versioned names, each
with its own config class and declared :class:`~biorel.models.base.Capabilities`::

    from biorel.models import load_model, build_model
    model = build_model(cfg.model, train_docs)     # registry.models.get(cfg.architecture)
    docs = model.predict(docs, mode="extract")
    model.save("runs/m"); load_model("runs/m")

A new architecture is one module that registers its model class (see
docs/architecture.md) plus its line in :data:`BUILTIN_MODEL_MODULES`.

Needs the ``model`` extra (torch, transformers, safetensors).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from ..registry import registry
from ..types import Document
from .base import MODES, BiorelModel, Capabilities, load_model, read_model_meta, resolve_mode
from .grouping import group_mentions, normalise
from .labels import LabelMaps, decode_tags, encode_tags

#: the modules that register the built-in architectures
BUILTIN_MODEL_MODULES = (
    "biorel.models.joint",
    "biorel.models.relclf",
    "biorel.models.generative",
)


def load_builtin_models() -> None:
    """Import the built-in architectures (``registry.models`` calls this on its
    first look-up, so that ``import biorel.models`` needs no torch)."""
    for module in BUILTIN_MODEL_MODULES:
        importlib.import_module(module)


def build_model(cfg, train_docs: Sequence[Document]) -> BiorelModel:
    """A new model of ``cfg.architecture`` (a dict or a config, validated by the
    architecture's config class)."""
    from ..config import ModelConfig, validate_model_config

    if not isinstance(cfg, ModelConfig):
        cfg = validate_model_config(cfg)
    cls = registry.models.get(cfg.architecture)
    if not isinstance(cfg, cls.config_class):
        cfg = validate_model_config(cfg.model_dump())
    return cls.from_config(cfg, train_docs)


__all__ = [
    "BiorelModel",
    "Capabilities",
    "LabelMaps",
    "MODES",
    "build_model",
    "load_model",
    "read_model_meta",
    "resolve_mode",
    "encode_tags",
    "decode_tags",
    "group_mentions",
    "normalise",
    "BUILTIN_MODEL_MODULES",
    "load_builtin_models",
]
