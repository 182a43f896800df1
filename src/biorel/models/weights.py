"""Weights taken from a base model by reference and checksum.

A saved model folder may leave out tensors that are the base model's own (the
frozen weights under a LoRA adapter, a frozen word-piece matrix). Its
``config.json`` then lists, per base, the parameter prefix, the base's name (an
offline alias, a folder or a hub id) and the sha256 of each left-out tensor::

    "bases": [{"prefix": "encoder.", "name": "minilm", "local_files_only": true,
               "omitted": {"encoder.embeddings.word_embeddings.weight": "<sha256>"}}]

Loading takes those tensors from the base and checks every checksum, so a
different base is never mixed in silently (E404). Folders written by
``biorel package`` before this module used one ``base_encoder`` entry with the
prefix ``encoder.``; they load the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping

from ..errors import error

BASES_KEY = "bases"
#: the single-base form written by earlier versions (prefix ``encoder.``)
LEGACY_BASE_KEY = "base_encoder"


def tensor_digest(t) -> str:
    """sha256 of a tensor's fp32 bytes (its shape included)."""
    import torch

    x = t.detach().to(torch.float32).contiguous().cpu()
    h = hashlib.sha256(f"{tuple(x.shape)}".encode())
    h.update(x.numpy().tobytes())
    return h.hexdigest()


def base_state(name: str, local_files_only: bool = True) -> dict[str, Any]:
    """The weights of a base transformer (an alias, folder or hub id)."""
    from transformers import AutoModel

    from .encoder import resolve_name

    try:
        model = AutoModel.from_pretrained(resolve_name(name), local_files_only=local_files_only, trust_remote_code=False)
    except (OSError, ValueError) as e:
        raise error("E405", name=name, reason=str(e).splitlines()[0]) from None
    return model.state_dict()


def reference_tensors(
    state: dict[str, Any], bases: Mapping[str, str], keys: Iterable[str], local_files_only: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Leave the tensors named in ``keys`` that fall under a base prefix out of
    ``state``; returns the rest and the ``bases`` entries that describe them."""
    keys = set(keys)
    kept = dict(state)
    entries = []
    for prefix, name in bases.items():
        omitted = {k: tensor_digest(state[k]) for k in sorted(keys) if k.startswith(prefix) and k in state}
        for k in omitted:
            del kept[k]
        if omitted:
            entries.append({"prefix": prefix, "name": name, "local_files_only": local_files_only, "omitted": omitted})
    return kept, entries


def base_entries(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The base references of a saved folder's ``config.json`` (both forms)."""
    entries = list(meta.get(BASES_KEY) or [])
    legacy = meta.get(LEGACY_BASE_KEY)
    if legacy:
        entries.append({"prefix": "encoder.", **legacy})
    return entries


def complete_state(folder: Path, meta: Mapping[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The full fp32 state of a saved folder: floating tensors cast to fp32 and
    the referenced tensors filled in from their bases (checksums checked)."""
    import torch

    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    for entry in base_entries(meta):
        prefix = entry["prefix"]
        base = base_state(entry["name"], entry.get("local_files_only", True))
        for key, digest in entry["omitted"].items():
            inner = key[len(prefix) :]
            t = base.get(inner)
            if t is None:
                raise error("E404", path=str(folder), reason=f"the base {entry['name']!r} has no tensor {inner!r}")
            if tensor_digest(t) != digest:
                raise error(
                    "E404", path=str(folder), reason=f"tensor {inner!r} of the base {entry['name']!r} differs from the one the model was trained with"
                )
            state[key] = t.detach().to(torch.float32).clone()
    return state


__all__ = ["BASES_KEY", "LEGACY_BASE_KEY", "tensor_digest", "base_state", "reference_tensors", "base_entries", "complete_state"]
