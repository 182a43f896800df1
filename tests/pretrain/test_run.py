"""``biorel pretrain`` on a tiny random BERT: the loss falls, a run killed with
SIGKILL resumes to the same weights, and the encoder folder loads everywhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from biorel import io
from biorel.errors import BiorelError
from biorel.models.testing import make_tiny_tokenizer, tiny_encoder_config, tiny_model_config, toy_corpus
from biorel.pretrain.config import load_pretrain_config, validate_pretrain_config
from biorel.pretrain.run import FAULT_ENV, mlm_loss, pretrain, read_metrics


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrain")
    tok = make_tiny_tokenizer(root / "tok")
    io.write(toy_corpus(60), root / "corpus.jsonl")
    return root, tok


def config(root, tok, out, **training):
    return {
        "data": {"corpus": str(root / "corpus.jsonl"), "eval_docs": 10},
        "model": tiny_encoder_config(tok),
        "mlm": {"max_length": 32},
        "training": {
            "max_steps": 8,
            "batch_size": 4,
            "grad_accum": 2,
            "lr": 2e-3,
            "eval_every": 4,
            "checkpoint_every": 3,
            "log_every": 2,
            "threads": 1,
            "progress": False,
            "precision": "fp32",
            "output_dir": str(out),
            **training,
        },
    }


def weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_loss_falls_and_the_encoder_folder_loads(setup, tmp_path):
    from transformers import AutoModel

    from biorel.models import build_model

    root, tok = setup
    r = pretrain(validate_pretrain_config(config(root, tok, tmp_path / "out", max_steps=40, eval_every=10, checkpoint_every=20)))
    assert r.steps == 40 and r.resumed_from is None and r.precision == "fp32"
    assert r.eval_loss_after < r.eval_loss_before - 0.3
    evals = [m for m in read_metrics(tmp_path / "out") if m["kind"] == "eval"]
    assert [m["step"] for m in evals] == [0, 10, 20, 30, 40] and evals[-1]["loss"] == pytest.approx(r.eval_loss_after, abs=1e-5)
    enc = AutoModel.from_pretrained(tmp_path / "out" / "encoder", local_files_only=True)
    assert type(enc).__name__ == "BertModel"
    info = json.loads((tmp_path / "out" / "encoder" / "pretrain.json").read_text())
    assert info["steps"] == 40 and info["initialised_here"] == ["pooler.dense.bias", "pooler.dense.weight"]
    # a joint model takes it as --model.encoder.name DIR
    docs = toy_corpus(4)
    model = build_model({**tiny_model_config(tok), "encoder": {"name": str(tmp_path / "out" / "encoder")}}, docs)
    loss, _ = model.loss([model.prepare(d) for d in docs[:2]])
    assert torch.isfinite(loss)
    trained = weights(tmp_path / "out" / "encoder")
    assert torch.equal(model.encoder.module.embeddings.word_embeddings.weight, trained["embeddings.word_embeddings.weight"])


def test_kill_9_then_resume_gives_the_same_weights(setup, tmp_path):
    root, tok = setup
    reference = pretrain(validate_pretrain_config(config(root, tok, tmp_path / "ref")))
    cfg_file = tmp_path / "cfg.json"
    cfg_file.write_text(json.dumps(config(root, tok, tmp_path / "killed")))
    env = {**os.environ, FAULT_ENV: "5", "OMP_NUM_THREADS": "1"}
    code = "from biorel.cli import main; main()"
    r = subprocess.run([sys.executable, "-c", code, "pretrain", str(cfg_file)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == -signal.SIGKILL, r.stderr
    state = json.loads((tmp_path / "killed" / "last" / "trainer_state.json").read_text())
    assert state["step"] == 3 and not (tmp_path / "killed" / "encoder").exists()
    assert max(m["step"] for m in read_metrics(tmp_path / "killed")) == 4  # records past the checkpoint (step 3): dropped on resume
    resumed = pretrain(load_pretrain_config(cfg_file))
    assert resumed.resumed_from == 3 and resumed.steps == 8
    ref_w, got_w = weights(tmp_path / "ref" / "encoder"), weights(tmp_path / "killed" / "encoder")
    assert ref_w.keys() == got_w.keys() and all(torch.equal(ref_w[k], got_w[k]) for k in ref_w)
    assert resumed.eval_loss_after == reference.eval_loss_after and resumed.eval_loss_before == reference.eval_loss_before

    def strip(ms):
        return [{k: v for k, v in m.items() if k != "seconds"} for m in ms]

    assert strip(read_metrics(tmp_path / "killed")) == strip(read_metrics(tmp_path / "ref"))


def test_resume_refuses_a_changed_config(setup, tmp_path):
    root, tok = setup
    pretrain(validate_pretrain_config(config(root, tok, tmp_path / "o", max_steps=3)))
    with pytest.raises(BiorelError) as e:
        pretrain(validate_pretrain_config(config(root, tok, tmp_path / "o", max_steps=3, lr=1e-3)))
    assert e.value.code == "E582" and "training.lr" in str(e.value)
    r = pretrain(validate_pretrain_config(config(root, tok, tmp_path / "o", max_steps=3, lr=1e-3)), restart=True)
    assert r.resumed_from is None and r.steps == 3


def test_a_corpus_without_training_text_is_refused(setup, tmp_path):
    root, tok = setup
    io.write(toy_corpus(3), tmp_path / "small.jsonl")
    cfg = config(root, tok, tmp_path / "o")
    cfg["data"]["corpus"] = str(tmp_path / "small.jsonl")
    with pytest.raises(BiorelError) as e:
        pretrain(validate_pretrain_config(cfg))
    assert e.value.code == "E581" and "data.eval_docs" in str(e.value)
    cfg["data"]["corpus"] = ""
    with pytest.raises(BiorelError) as e:
        pretrain(validate_pretrain_config(cfg))
    assert e.value.code == "E402" and "data.corpus" in str(e.value)


def test_config_errors_name_the_key(setup, tmp_path):
    root, tok = setup
    with pytest.raises(BiorelError) as e:
        validate_pretrain_config({**config(root, tok, tmp_path), "mlm": {"mask_rate": 1.5}})
    assert e.value.code == "E402" and "mlm.mask_rate" in str(e.value)
    with pytest.raises(BiorelError) as e:
        load_pretrain_config(None, ["--training.no_such_key", "1"])
    assert e.value.code == "E402" and "training.no_such_key" in str(e.value)


def test_shipped_pretrain_configs_validate():
    from pathlib import Path

    configs = sorted((Path(__file__).resolve().parents[2] / "configs" / "pretrain").glob("*.toml"))
    assert configs
    for p in configs:
        cfg = load_pretrain_config(p)
        assert cfg.data.corpus and cfg.model.name


def test_masked_positions_loss_equals_the_full_forward_loss(setup):
    from transformers import AutoConfig, AutoModelForMaskedLM

    _, tok = setup
    conf = dict(tiny_encoder_config(tok)["random_init"])
    torch.manual_seed(0)
    model = AutoModelForMaskedLM.from_config(AutoConfig.for_model(conf.pop("model_type"), **conf)).eval()
    ids = torch.randint(5, 60, (3, 20))
    labels = torch.full_like(ids, -100)
    labels[:, ::4] = ids[:, ::4]
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    with torch.no_grad():
        assert torch.allclose(mlm_loss(model, batch), model(**batch).loss, atol=1e-5)
