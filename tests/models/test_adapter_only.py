"""Adapter-only folders: a model that declares base references saves only the
tensors it trained; the frozen base tensors are referenced by name and sha256,
filled in at load time and checked, and `biorel package` keeps the references."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from biorel.errors import BiorelError
from biorel.models import build_model, load_model
from biorel.models.joint import JointNERRE
from biorel.models.package import package_model
from biorel.models.testing import make_tiny_tokenizer, tiny_model_config, toy_corpus
from biorel.registry import registry


class FrozenBaseJoint(JointNERRE):
    """The joint model with its encoder frozen and referenced (a stand-in for a
    LoRA model: the base stays as loaded, only the heads train)."""

    architecture = "test.FrozenBaseJoint.v1"
    base_folder = ""

    def base_references(self):
        return {"encoder.": self.base_folder}


if "test.FrozenBaseJoint.v1" not in registry.models:
    registry.models.register(FrozenBaseJoint.architecture, FrozenBaseJoint)


@pytest.fixture()
def adapter(tmp_path):
    torch.manual_seed(0)
    tok = make_tiny_tokenizer(tmp_path / "tok")
    docs = toy_corpus(6)
    model = build_model({**tiny_model_config(tok), "architecture": FrozenBaseJoint.architecture}, docs)
    base = tmp_path / "base"
    model.net.encoder.save_pretrained(str(base))  # the "pretrained" base, as a folder
    FrozenBaseJoint.base_folder = str(base)
    for p in model.net.encoder.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameter_groups(1e-3, 1e-3, 0.0), lr=1e-3)
    items = [model.prepare(d) for d in docs]
    for _ in range(3):
        loss, _ = model.loss(items[:3])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return tmp_path, model, docs


def test_saves_only_what_it_trained_and_loads_the_same(adapter):
    tmp_path, model, docs = adapter
    model.save(tmp_path / "m")
    stored = load_file(str(tmp_path / "m" / "model.safetensors"))
    assert stored and not any(k.startswith("encoder.") for k in stored)  # heads only
    (entry,) = json.loads((tmp_path / "m" / "config.json").read_text())["bases"]
    assert entry["prefix"] == "encoder." and len(entry["omitted"]) == len(model.net.encoder.state_dict())
    loaded = load_model(tmp_path / "m")
    for mode in ("extract", "relate"):
        assert [d.to_dict() for d in loaded.predict(docs, mode)] == [d.to_dict() for d in model.predict(docs, mode)]
    # the package keeps the references and stores the heads
    summary = package_model(tmp_path / "m", tmp_path / "p", dtype="fp32")
    assert summary["omitted"] == []
    assert json.loads((tmp_path / "p" / "config.json").read_text())["bases"] == [entry]
    assert [d.to_dict() for d in load_model(tmp_path / "p").predict(docs)] == [d.to_dict() for d in model.predict(docs)]


def test_a_different_base_is_refused(adapter):
    tmp_path, model, docs = adapter
    model.save(tmp_path / "m")
    from transformers import AutoModel

    base = AutoModel.from_pretrained(FrozenBaseJoint.base_folder)
    with torch.no_grad():
        base.embeddings.word_embeddings.weight.add_(1.0)
    base.save_pretrained(FrozenBaseJoint.base_folder)
    with pytest.raises(BiorelError) as e:
        load_model(tmp_path / "m")
    assert e.value.code == "E404" and "differs from the one the model was trained with" in str(e.value)
