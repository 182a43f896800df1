"""The packaged GGUF models (:mod:`biorel.synth.models`: ``smollm2-135m``,
``qwen2.5-coder-0.5b``) as Hugging Face model folders, dequantised once.

Training LoRA adapters needs ordinary float weights. The first use of a
packaged model loads its GGUF file with transformers (``gguf_file=``,
dequantised to float32) and saves model and tokenizer as a folder in
safetensors under ``$BIOREL_CACHE/hf/<name>-<sha256 of the GGUF, 12 hex>/``;
later uses load that folder (seconds instead of the half-minute the GGUF
conversion takes). The folder is built in a temporary folder and renamed into
place (:func:`biorel.jobs.atomic_dir`), so it is absent or complete. One process
builds it under the output's lock (:func:`biorel.jobs.exclusive_lock`); another
one asking at the same time waits for it and then reuses the folder.

The folder's ``biorel-gguf.json`` names the GGUF file and its sha256: the
fingerprint of the base that a trained adapter records. transformers' GGUF
tokenizer conversion takes the end-of-sequence token from the beginning-of-
sequence id and always adds a BOS token; the saved tokenizer gets both from the
GGUF metadata instead.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import BiorelError, error
from ..jobs import atomic_dir, cache_dir, exclusive_lock

SIDECAR = "biorel-gguf.json"
#: how long a second process waits for the one that dequantises (seconds)
WAIT_S = 1800.0
POLL_S = 1.0


def is_packaged(name: str) -> bool:
    from ..synth.models import PACKAGED

    return name in PACKAGED


def is_gguf(name: str) -> bool:
    """A packaged model's name or the path of a ``.gguf`` file."""
    return is_packaged(name) or (name.endswith(".gguf") and Path(name).expanduser().is_file())


@lru_cache(maxsize=32)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes (remembered per path, size and mtime in this process)."""
    st = path.stat()
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


def _ready(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / SIDECAR).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _gguf_flag(path: Path, key: str) -> bool | None:
    """A boolean field of a GGUF file's metadata (``None`` when absent)."""
    from gguf import GGUFReader

    fld = GGUFReader(str(path)).fields.get(key)
    return None if fld is None or not fld.data else bool(fld.parts[fld.data[0]][0])


def _fix_special_tokens(tok: Any, config: Any, gguf: Path) -> None:
    """BOS, EOS and padding tokens from the model config's ids (read from the
    GGUF metadata), and whether a BOS token is added, from the GGUF."""
    for role in ("bos", "eos", "pad"):
        tid = getattr(config, f"{role}_token_id", None)
        if isinstance(tid, int) and 0 <= tid < len(tok):
            setattr(tok, f"{role}_token", tok.convert_ids_to_tokens(tid))
    add_bos = _gguf_flag(gguf, "tokenizer.ggml.add_bos_token")
    if add_bos is not None and hasattr(tok, "add_bos_token"):
        tok.add_bos_token = add_bos


def _build(name: str, gguf: Path, digest: str, target: Path) -> dict[str, Any]:
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"biorel: dequantising {name} ({gguf.name}) into {target} (once)", file=sys.stderr)
    start = time.perf_counter()
    info = {"name": name, "gguf": gguf.name, "sha256": digest, "size": gguf.stat().st_size, "transformers": transformers.__version__}
    with atomic_dir(target) as tmp:
        try:
            common = dict(gguf_file=gguf.name, local_files_only=True, trust_remote_code=False)
            tok = AutoTokenizer.from_pretrained(str(gguf.parent), **common)
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=torch.float32, **common)
        except (OSError, ValueError, ImportError, KeyError) as e:
            raise error("E563", name=name, path=str(target), reason=str(e).splitlines()[0]) from None
        _fix_special_tokens(tok, model.config, gguf)
        model.save_pretrained(str(tmp), safe_serialization=True)
        tok.save_pretrained(str(tmp))
        info["seconds"] = round(time.perf_counter() - start, 1)
        (tmp / SIDECAR).write_text(json.dumps(info, indent=1), "utf-8")
    print(f"biorel: {name} ready in {info['seconds']} s", file=sys.stderr)
    return info


def dequantised_folder(name: str, *, wait_s: float = WAIT_S) -> tuple[Path, dict[str, Any]]:
    """``(folder, info)``: the HF folder of the packaged GGUF model ``name``
    (or of a ``.gguf`` file), built on first use (see the module docstring); ``info`` holds the GGUF's
    name and sha256. E303 when the model's package is not installed, E563 when
    it cannot be converted, E564 after ``wait_s`` seconds of waiting for
    another process."""
    from ..synth.models import resolve_llm

    gguf = resolve_llm(name)
    digest = file_sha256(gguf)
    label = name if is_packaged(name) else gguf.stem
    target = cache_dir() / "hf" / f"{label}-{digest[:12]}"
    deadline = time.monotonic() + wait_s
    waiting = False
    while True:
        info = _ready(target)
        if info is not None:
            return target, info
        try:
            with exclusive_lock(target):
                return target, _ready(target) or _build(name, gguf, digest, target)
        except BiorelError as e:
            if e.code != "E050":
                raise
            if time.monotonic() > deadline:
                raise error("E564", seconds=int(wait_s), name=name, path=str(target), reason=e.message) from None
            if not waiting:
                print(f"biorel: waiting for another process to dequantise {name} into {target}", file=sys.stderr)
                waiting = True
            time.sleep(POLL_S)


__all__ = ["SIDECAR", "is_packaged", "is_gguf", "file_sha256", "dequantised_folder"]
