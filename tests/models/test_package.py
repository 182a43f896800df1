"""Packaged (compact) model folders: bf16 weights, base-encoder tensors left out
and restored with their checksums."""

import json

import pytest
import torch
from safetensors.torch import load_file

from biorel.config import validate_model_config
from biorel.errors import BiorelError
from biorel.models import build_model, load_model
from biorel.models.package import package_model
from biorel.models.weights import tensor_digest
from biorel.models.testing import make_tiny_tokenizer, tiny_encoder_config, tiny_model_config, toy_corpus


@pytest.fixture()
def trained(tmp_path):
    """A tiny model whose encoder comes from a saved base folder and whose
    word-piece embeddings were frozen during a few training steps."""
    from transformers import AutoConfig, AutoModel

    torch.manual_seed(0)
    tok = make_tiny_tokenizer(tmp_path / "tok")
    enc_cfg = tiny_encoder_config(tok)
    conf = dict(enc_cfg["random_init"])
    base = AutoModel.from_config(AutoConfig.for_model(conf.pop("model_type"), **conf))
    base.save_pretrained(str(tmp_path / "base"))
    cfg = tiny_model_config(tok)
    cfg["encoder"] = {"name": str(tmp_path / "base"), "tokenizer": str(tok), "local_files_only": True}
    docs = toy_corpus(6)
    model = build_model(validate_model_config(cfg), docs)
    model.net.encoder.get_input_embeddings().weight.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.net.parameters() if p.requires_grad], lr=1e-2)
    items = [model.prepare(d) for d in docs]
    model.net.train()
    for step in range(4):
        loss, _ = model.loss(items[step % 3 * 2 :][:2])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.save(tmp_path / "trained")
    return tmp_path, model, docs


def test_package_leaves_out_base_tensors_and_restores_them(trained):
    tmp_path, model, docs = trained
    summary = package_model(tmp_path / "trained", tmp_path / "packaged")
    assert "encoder.embeddings.word_embeddings.weight" in summary["omitted"]
    # trained tensors differ from the base and are kept
    assert "encoder.encoder.layer.0.attention.self.query.weight" not in summary["omitted"]
    assert summary["packaged_bytes"] < 0.6 * summary["source_bytes"]  # tiny model: the fp32 heads are a large share
    stored = load_file(str(tmp_path / "packaged" / "model.safetensors"))
    assert all(k not in stored for k in summary["omitted"])
    assert {v.dtype for k, v in stored.items() if v.is_floating_point() and k.startswith("encoder.")} == {torch.bfloat16}
    assert {v.dtype for k, v in stored.items() if not k.startswith("encoder.")} == {torch.float32}
    meta = json.loads((tmp_path / "packaged" / "config.json").read_text())
    (base,) = meta["bases"]
    assert base["prefix"] == "encoder." and base["omitted"]["encoder.embeddings.word_embeddings.weight"] == tensor_digest(
        model.net.encoder.get_input_embeddings().weight
    )

    loaded = load_model(tmp_path / "packaged")
    original = model.net.state_dict()
    for k, v in loaded.net.state_dict().items():
        rounded = k.startswith("encoder.") and k not in summary["omitted"] and v.is_floating_point()
        expected = original[k].to(torch.bfloat16).float() if rounded else original[k]
        assert torch.equal(v, expected), k
    # the package run in bf16 predicts exactly like the trained model run in bf16
    model.set_precision("bf16")
    loaded.set_precision("bf16")
    for mode in ("extract", "relate"):
        assert [d.to_dict() for d in loaded.predict(docs, mode)] == [d.to_dict() for d in model.predict(docs, mode)]


def test_fp32_package_predicts_exactly_like_the_trained_model(trained):
    tmp_path, model, docs = trained
    package_model(tmp_path / "trained", tmp_path / "p32", dtype="fp32")
    loaded = load_model(tmp_path / "p32")
    for mode in ("extract", "relate"):
        assert [d.to_dict() for d in loaded.predict(docs, mode)] == [d.to_dict() for d in model.predict(docs, mode)]


def test_a_different_base_encoder_is_refused(trained):
    from safetensors.torch import save_file

    tmp_path, model, docs = trained
    package_model(tmp_path / "trained", tmp_path / "packaged")
    weights = tmp_path / "base" / "model.safetensors"
    state = load_file(str(weights))
    key = next(k for k in state if k.endswith("word_embeddings.weight"))
    state[key][3, 0] += 1.0
    save_file(state, str(weights), metadata={"format": "pt"})
    with pytest.raises(BiorelError) as e:
        load_model(tmp_path / "packaged")
    assert e.value.code == "E404" and "word_embeddings" in str(e.value)


def test_packaging_twice_and_bad_dtype_are_refused(trained):
    tmp_path, model, docs = trained
    package_model(tmp_path / "trained", tmp_path / "packaged")
    with pytest.raises(BiorelError) as e:
        package_model(tmp_path / "packaged", tmp_path / "again")
    assert e.value.code == "E404"
    with pytest.raises(BiorelError) as e:
        package_model(tmp_path / "trained", tmp_path / "x", dtype="int4")
    assert e.value.code == "E412" and "bf16" in str(e.value)


def test_package_cli(trained):
    from typer.testing import CliRunner

    from biorel.cli import app

    tmp_path, model, docs = trained
    res = CliRunner().invoke(app, ["package", str(tmp_path / "trained"), str(tmp_path / "cli-packaged")])
    assert res.exit_code == 0, res.output
    import re

    found = re.search(r"(\d+) tensor\(s\) taken from the base encoder", res.output)
    assert found and int(found.group(1)) >= 1
    assert load_model(tmp_path / "cli-packaged").labels.tags == model.labels.tags
    res = CliRunner().invoke(app, ["package", str(tmp_path / "nowhere"), str(tmp_path / "x")])
    assert res.exit_code == 1 and "E404" in res.output
