"""The base language model of a generative architecture and its LoRA adapters.

``base`` is the name of a packaged GGUF model (``smollm2-135m``,
``qwen2.5-coder-0.5b``) or the path of a ``.gguf`` file (dequantised once into
the cache, :mod:`.gguf_cache`), a local model folder, or a Hugging Face id (resolved to its local snapshot; with
``local_files_only = false`` it may be downloaded). Decoder-only models load
with ``AutoModelForCausalLM``, encoder-decoder ones (``is_encoder_decoder`` in
their config) with ``AutoModelForSeq2SeqLM``; always from safetensors (no
pickle) and with ``trust_remote_code=False``.

The base's **fingerprint** is what an adapter records so that it is never put
on another base: the GGUF file's sha256 for a GGUF model, else the sha256
of the folder's safetensors files.

QLoRA (``qlora = true``): the base is loaded in 4-bit NF4 with bitsandbytes on
the CUDA device (compute in bf16) and prepared for k-bit training; it needs
CUDA and bitsandbytes (E561 otherwise).
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import error
from .gguf_cache import dequantised_folder, file_sha256, is_gguf


@dataclass
class BaseLM:
    model: Any
    tokenizer: Any
    name: str
    folder: Path
    fingerprint: str
    encoder_decoder: bool

    @property
    def eos_id(self) -> int:
        return int(self.tokenizer.eos_token_id)

    @property
    def pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return self.eos_id if pad is None else int(pad)


def weights_fingerprint(folder: Path) -> str:
    """sha256 over a model folder's safetensors files (names and contents)."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise error("E560", name=str(folder), reason="no *.safetensors weights in the folder (pickled weights are never loaded)")
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name}:{file_sha256(f)}\n".encode())
    return "sha256:" + h.hexdigest()


def _hub_folder(name: str, revision: str | None, local_files_only: bool) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, revision=revision, local_files_only=local_files_only))
    except (OSError, ValueError) as e:
        hint = " (local_files_only is set: only the local Hugging Face cache is searched)" if local_files_only else ""
        raise error("E560", name=name, reason=f"not a packaged model, a folder or a cached hub id{hint}: {str(e).splitlines()[0]}") from None


def resolve_base(name: str, *, revision: str | None = None, local_files_only: bool = True) -> tuple[Path, str]:
    """``(folder, fingerprint)`` of a base model reference."""
    if is_gguf(name):
        folder, info = dequantised_folder(name)
        return folder, "gguf-sha256:" + info["sha256"]
    p = Path(name).expanduser()
    folder = p if p.is_dir() else _hub_folder(name, revision, local_files_only)
    return folder, weights_fingerprint(folder)


def _qlora_options() -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        raise error("E561", reason="no CUDA device (4-bit bitsandbytes kernels need one)")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise error("E561", reason="the bitsandbytes package is not installed (pip install bitsandbytes)")
    from transformers import BitsAndBytesConfig

    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16)
    return {"quantization_config": quant, "device_map": {"": 0}}


def load_base(name: str, *, revision: str | None = None, local_files_only: bool = True, qlora: bool = False) -> BaseLM:
    """The base model and its fast tokenizer (E560 when they cannot be loaded)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    extra = _qlora_options() if qlora else {}
    folder, fingerprint = resolve_base(name, revision=revision, local_files_only=local_files_only)
    common = dict(local_files_only=True, trust_remote_code=False)
    try:
        tok = AutoTokenizer.from_pretrained(str(folder), use_fast=True, **common)
        conf = AutoConfig.from_pretrained(str(folder), **common)
        cls = AutoModelForSeq2SeqLM if conf.is_encoder_decoder else AutoModelForCausalLM
        model = cls.from_pretrained(str(folder), config=conf, use_safetensors=True, dtype=torch.float32, **common, **extra)
    except (OSError, ValueError, KeyError) as e:
        raise error("E560", name=name, reason=str(e).splitlines()[0]) from None
    if not getattr(tok, "is_fast", False):
        raise error("E560", name=name, reason="its tokenizer is not a fast tokenizer (offsets are needed)")
    if tok.eos_token_id is None:
        raise error("E560", name=name, reason="its tokenizer has no end-of-sequence token")
    return BaseLM(model, tok, name, folder, fingerprint, bool(conf.is_encoder_decoder))


def linear_layer_names(model: Any) -> list[str]:
    """The distinct last names of a model's linear layers (LoRA targets)."""
    from torch import nn
    from transformers.pytorch_utils import Conv1D

    return sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if n and isinstance(m, (nn.Linear, Conv1D))})


def add_adapters(base: BaseLM, *, r: int, alpha: float, dropout: float, target_modules: list[str] | str, qlora: bool = False) -> Any:
    """The base wrapped with fresh LoRA adapters (peft); only they train.
    E567 names target modules the base does not have."""
    from peft import LoraConfig, TaskType, get_peft_model, prepare_model_for_kbit_training

    if target_modules != "all-linear":
        names = linear_layer_names(base.model)
        missing = [t for t in target_modules if t not in names]
        if missing:
            raise error("E567", modules=", ".join(missing), name=base.name, choices=", ".join(names))
    model = prepare_model_for_kbit_training(base.model, use_gradient_checkpointing=False) if qlora else base.model
    task = TaskType.SEQ_2_SEQ_LM if base.encoder_decoder else TaskType.CAUSAL_LM
    conf = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules, bias="none", task_type=task)
    return get_peft_model(model, conf)


__all__ = ["BaseLM", "load_base", "resolve_base", "weights_fingerprint", "add_adapters", "linear_layer_names"]
