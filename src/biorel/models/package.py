"""Compact, shippable copies of trained model folders.

:func:`package_model` rewrites a saved model folder so that it is small enough to
ship inside a repository or a wheel:

* encoder weights are stored in ``bf16`` (or kept in ``fp32``) and cast back to
  fp32 on load; the task heads stay fp32;
* every tensor that is bit-identical to its base model's (for example the
  word-piece embedding matrix of a model trained with
  ``training.freeze_embeddings``) is left out and referenced by checksum
  (:mod:`biorel.models.weights`); loading takes it from the base (an offline
  alias such as ``minilm``, a folder or a hub id) and checks the checksum, so a
  different base can never be mixed in silently (E404). A folder that already
  references its base (an adapter-only model) keeps its references.

Which prefixes have a base is the architecture's :meth:`~biorel.models.base.BiorelModel.base_models`.

The packaged folder is an ordinary model folder: :func:`biorel.models.load_model`
reads it, ``biorel extract --model`` uses it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import error
from ..registry import registry
from .base import read_model_meta
from .weights import BASES_KEY, LEGACY_BASE_KEY, base_entries, base_state, tensor_digest


def _identical(state: dict[str, Any], prefix: str, name: str, local_files_only: bool) -> dict[str, str]:
    """``{key: sha256}`` of the tensors under ``prefix`` equal to the base's."""
    import torch

    out = {}
    for k, v in base_state(name, local_files_only).items():
        key = prefix + k
        if key in state and tuple(state[key].shape) == tuple(v.shape) and torch.equal(state[key].float(), v.float()):
            out[key] = tensor_digest(v)
    return out


def package_model(src: str | Path, dst: str | Path, *, dtype: str = "bf16", base: str | None = None, local_files_only: bool = True) -> dict[str, Any]:
    """Write a compact copy of the model folder ``src`` to ``dst`` (see the
    module docstring). ``base``: the base model whose identical tensors are left
    out (default: the ones the architecture names for its config; ``""``: keep
    all). Returns a summary (sizes, omitted tensors)."""
    import torch
    from safetensors.torch import load_file, save_file

    from ..config import validate_model_config
    from ..jobs import atomic_dir

    src, dst = Path(src), Path(dst)
    meta = read_model_meta(src)
    if dtype not in ("bf16", "fp32"):
        raise error("E412", option=f"dtype={dtype!r}", reason="valid dtypes: bf16, fp32")
    if "packaged" in meta or LEGACY_BASE_KEY in meta:
        raise error("E404", path=str(src), reason="it is already packaged; package the trained folder")
    cls = registry.models.get(meta["architecture"])
    bases = cls.base_models(validate_model_config(meta["model"]))
    if base is not None:
        bases = {prefix: base for prefix in bases} if base else {}
    state = load_file(str(src / "model.safetensors"))
    entries = base_entries(meta)  # an adapter-only folder's own references
    referenced = {prefix for e in entries for prefix in [e["prefix"]]}
    omitted_all: list[str] = []
    for prefix, name in bases.items():
        if prefix in referenced:
            continue
        omitted = _identical(state, prefix, name, local_files_only)
        if omitted:
            entries.append({"prefix": prefix, "name": name, "local_files_only": local_files_only, "omitted": omitted})
            omitted_all += omitted
    target_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    prefixes = tuple(bases) or tuple(referenced)
    # pretrained tensors in ``dtype``; the small task heads stay fp32, so a bf16
    # package predicts exactly like the trained model run with precision bf16
    kept = {
        k: (v.to(target_dtype) if v.is_floating_point() and prefixes and k.startswith(prefixes) else v).contiguous()
        for k, v in state.items()
        if k not in omitted_all
    }
    if entries:
        meta[BASES_KEY] = entries
    meta["packaged"] = {"dtype": dtype, "from": str(src.resolve().name)}
    with atomic_dir(dst) as tmp:
        shutil.copytree(src, tmp, ignore=shutil.ignore_patterns("model.safetensors"), dirs_exist_ok=True)
        save_file(kept, str(tmp / "model.safetensors"), metadata={"architecture": meta["architecture"], "format": "pt"})
        (tmp / "config.json").write_text(json.dumps(meta, indent=2), "utf-8")
    return {
        "source_bytes": (src / "model.safetensors").stat().st_size,
        "packaged_bytes": (dst / "model.safetensors").stat().st_size,
        "omitted": sorted(omitted_all),
        "dtype": dtype,
    }


__all__ = ["package_model"]
