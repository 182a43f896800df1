"""Resumable training state: optimizer tensors and RNG state in safetensors,
counters and history in JSON (no pickle).

::

    OUTPUT/last/model/            a full model folder (loadable on its own)
    OUTPUT/last/optimizer.safetensors
    OUTPUT/last/trainer_state.json
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch

from ..errors import error


def optimizer_to_flat(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"state.{idx}.{k}"] = v.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def optimizer_from_flat(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if not key.startswith("state."):
            continue
        _, idx, name = key.split(".", 2)
        state.setdefault(int(idx), {})[name] = v
    for idx, d in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(d)
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_training_state(folder: Path, model, opt: torch.optim.Optimizer, state: dict[str, Any]) -> Path:
    """Write the resumable state atomically (the previous one stays until the
    new one is complete)."""
    from safetensors.torch import save_file

    from ..jobs import atomic_dir

    with atomic_dir(folder) as tmp:
        model.save(tmp / "model")
        tensors, meta = optimizer_to_flat(opt)
        tensors["rng.torch"] = torch.get_rng_state()
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        py_state = random.getstate()
        full = {**state, "optimizer": meta, "python_rng": [py_state[0], list(py_state[1]), py_state[2]]}
        (tmp / "trainer_state.json").write_text(json.dumps(full, indent=1), "utf-8")
    return Path(folder)


def find_resume_folder(path: str | Path) -> Path:
    p = Path(path)
    for cand in (p, p / "last"):
        if (cand / "trainer_state.json").is_file():
            return cand
    raise error("E410", path=str(path), reason="no trainer_state.json here or in its 'last' folder")


def load_training_state(folder: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    from safetensors.torch import load_file

    try:
        state = json.loads((folder / "trainer_state.json").read_text("utf-8"))
        tensors = load_file(str(folder / "optimizer.safetensors"))
    except (OSError, ValueError) as e:
        raise error("E410", path=str(folder), reason=str(e)) from None
    return state, tensors


def restore_rng(state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    if "rng.torch" in tensors:
        torch.set_rng_state(tensors["rng.torch"])
    py = state.get("python_rng")
    if py:
        random.setstate((py[0], tuple(py[1]), py[2]))
