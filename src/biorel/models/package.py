"""Compact, shippable copies of trained model folders.

:func:`package_model` rewrites a saved model folder so that it is small enough to
ship inside a repository or a wheel:

* encoder weights are stored in ``bf16`` (or kept in ``fp32``) and cast back to
  fp32 on load; the task heads stay fp32;
* every encoder tensor that is bit-identical to the base encoder's (for example
  the word-piece embedding matrix of a model trained with
  ``training.freeze_embeddings``) is left out. ``config.json`` then names the base
  encoder and the sha256 of each omitted tensor; loading takes those tensors
  from the base encoder (an offline alias such as ``minilm``, a folder or a hub
  id) and checks each checksum, so a different base can never be mixed in
  silently (E404).

The packaged folder is an ordinary model folder: :func:`biorel.models.load_model`
reads it, ``biorel extract --model`` uses it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from ..errors import error

BASE_KEY = "base_encoder"


def tensor_digest(t) -> str:
    """sha256 of a tensor's fp32 bytes (its dtype and shape included)."""
    import torch

    x = t.detach().to(torch.float32).contiguous().cpu()
    h = hashlib.sha256(f"{tuple(x.shape)}".encode())
    h.update(x.numpy().tobytes())
    return h.hexdigest()


def _base_state(name: str, local_files_only: bool = True) -> dict[str, Any]:
    """The base encoder's weights (an alias, folder or hub id; no tokenizer needed)."""
    from transformers import AutoModel

    from .encoder import resolve_name

    try:
        enc = AutoModel.from_pretrained(resolve_name(name), local_files_only=local_files_only, trust_remote_code=False)
    except (OSError, ValueError) as e:
        raise error("E405", name=name, reason=str(e).splitlines()[0]) from None
    return enc.state_dict()


def package_model(src: str | Path, dst: str | Path, *, dtype: str = "bf16", base: str | None = None, local_files_only: bool = True) -> dict[str, Any]:
    """Write a compact copy of the model folder ``src`` to ``dst`` (see the
    module docstring). ``base``: the base encoder whose identical tensors are
    left out (default: the encoder the model was trained from; ``""``: keep all).
    Returns a summary (sizes, omitted tensors)."""
    import torch
    from safetensors.torch import load_file, save_file

    from .base import read_model_meta

    src, dst = Path(src), Path(dst)
    meta = read_model_meta(src)
    if dtype not in ("bf16", "fp32"):
        raise error("E412", option=f"dtype={dtype!r}", reason="valid dtypes: bf16, fp32")
    if BASE_KEY in meta:
        raise error("E404", path=str(src), reason="it is already packaged; package the trained folder")
    state = load_file(str(src / "model.safetensors"))
    base_name = meta.get("model", {}).get("encoder", {}).get("name") if base is None else base
    omitted: dict[str, str] = {}
    if base_name:
        base_state = _base_state(base_name, local_files_only)
        for k, v in base_state.items():
            key = f"encoder.{k}"
            if key in state and tuple(state[key].shape) == tuple(v.shape) and torch.equal(state[key].float(), v.float()):
                omitted[key] = tensor_digest(v)
    target_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    # encoder tensors in ``dtype``; the small task heads stay fp32, so a bf16
    # package predicts exactly like the trained model run with precision bf16
    kept = {k: (v.to(target_dtype) if v.is_floating_point() and k.startswith("encoder.") else v).contiguous()
            for k, v in state.items() if k not in omitted}
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("model.safetensors"))
    save_file(kept, str(dst / "model.safetensors"), metadata={"architecture": meta["architecture"], "format": "pt"})
    if omitted:
        meta[BASE_KEY] = {"name": base_name, "local_files_only": local_files_only, "omitted": omitted}
    meta["packaged"] = {"dtype": dtype, "from": str(src.resolve().name)}
    (dst / "config.json").write_text(json.dumps(meta, indent=2), "utf-8")
    return {
        "source_bytes": (src / "model.safetensors").stat().st_size,
        "packaged_bytes": (dst / "model.safetensors").stat().st_size,
        "omitted": sorted(omitted),
        "dtype": dtype,
    }


def complete_state(folder: Path, meta: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The full fp32 state of a packaged model: cast back to fp32 and the
    omitted tensors filled in from the base encoder (checksums checked)."""
    import torch

    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    spec = meta.get(BASE_KEY)
    if not spec:
        return state
    base_state = _base_state(spec["name"], spec.get("local_files_only", True))
    for key, digest in spec["omitted"].items():
        inner = key[len("encoder."):]
        t = base_state.get(inner)
        if t is None:
            raise error("E404", path=str(folder), reason=f"the base encoder {spec['name']!r} has no tensor {inner!r}")
        if tensor_digest(t) != digest:
            raise error("E404", path=str(folder), reason=f"tensor {inner!r} of the base encoder {spec['name']!r} differs from the one the model was trained with")
        state[key] = t.detach().to(torch.float32).clone()
    return state


__all__ = ["package_model", "complete_state", "tensor_digest", "BASE_KEY"]
