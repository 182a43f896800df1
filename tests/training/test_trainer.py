"""The training loop on a tiny random encoder: determinism, resume, early
stopping, checkpoints, the CLI."""

from __future__ import annotations

import json

import pytest
import torch

from biorel import io
from biorel.config import Config
from biorel.errors import BiorelError
from biorel.models import load_model
from biorel.models.testing import make_tiny_tokenizer, tiny_model_config, toy_corpus
from biorel.training import Trainer, dev_scorer, lr_factor, primary_value, train
from biorel.training.checkpoint import optimizer_from_flat, optimizer_to_flat


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return make_tiny_tokenizer(tmp_path_factory.mktemp("tok"))


def make_cfg(tok, out, **training):
    t = {"epochs": 2, "batch_size": 3, "lr": 1e-3, "head_lr": 3e-3, "output_dir": str(out), "progress": False, "log_every": 0, "seed": 7}
    t.update(training)
    return Config.model_validate({"model": tiny_model_config(tok, dropout=0.1), "training": t})


TRAIN = toy_corpus(12, seed=1)
DEV = toy_corpus(4, seed=2, prefix="dev")


def weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_lr_schedule():
    assert [round(lr_factor(s, 10, 2), 3) for s in range(10)] == [0.5, 1.0, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125]
    assert lr_factor(0, 5, 0) == 1.0


def test_same_seed_same_model(tok, tmp_path):
    a = train(make_cfg(tok, tmp_path / "a"), train_docs=TRAIN, dev_docs=DEV)
    b = train(make_cfg(tok, tmp_path / "b"), train_docs=TRAIN, dev_docs=DEV)
    assert same_weights(weights(a.best_dir), weights(b.best_dir))
    c = train(make_cfg(tok, tmp_path / "c", seed=8), train_docs=TRAIN, dev_docs=DEV)
    assert not same_weights(weights(a.best_dir), weights(c.best_dir))


def test_output_folder_contents(tok, tmp_path):
    res = train(make_cfg(tok, tmp_path / "o", grad_accum=2), train_docs=TRAIN, dev_docs=DEV)
    best = res.best_dir
    for name in (
        "config.json",
        "labels.json",
        "model.safetensors",
        "encoder/config.json",
        "tokenizer/tokenizer.json",
        "metrics.json",
        "provenance.json",
    ):
        assert (best / name).exists(), name
    metrics = json.loads((best / "metrics.json").read_text())
    # the joint model's default dev scorers, through the registered evaluators
    assert {"ner:extract/micro_f1", "e2e:extract/micro_f1", "concept:relate/micro_f1"} <= set(metrics["dev"])
    assert metrics["primary_metric"] == "ner:extract/primary"
    prov = json.loads((best / "provenance.json").read_text())
    assert prov["data"]["train"]["documents"] == 12 and len(prov["data"]["train"]["content_sha256"]) == 64
    assert prov["seed"] == 7 and prov["config"]["training"]["grad_accum"] == 2
    assert len(res.history) == 2 and res.global_step == 2 * 2  # 4 batches per epoch, 2 per step
    assert all(h["train_seconds"] > 0 and h["peak_rss_mib"] > 50 for h in res.history)
    assert not any(p.suffix == ".pkl" or p.suffix == ".bin" for p in best.rglob("*"))
    # the best model is loadable and predicts
    model = load_model(best)
    assert len(model.predict(DEV, "extract")) == len(DEV)


def test_resume_gives_the_same_model(tok, tmp_path, monkeypatch):
    import shutil

    from biorel.training import loop

    original = loop.save_training_state

    def snapshot(folder, model, opt, state):  # keep the state written after step 5 (mid-epoch 2)
        out = original(folder, model, opt, state)
        if state["global_step"] == 5:
            shutil.copytree(out, tmp_path / "snap")
        return out

    monkeypatch.setattr(loop, "save_training_state", snapshot)
    straight = train(make_cfg(tok, tmp_path / "s", epochs=3, checkpoint_every=5), train_docs=TRAIN, dev_docs=DEV)
    monkeypatch.setattr(loop, "save_training_state", original)
    state = json.loads((tmp_path / "snap" / "trainer_state.json").read_text())
    assert state["epoch"] == 1 and state["batch"] == 1 and state["global_step"] == 5
    resumed = train(make_cfg(tok, tmp_path / "r", epochs=3, checkpoint_every=5), train_docs=TRAIN, dev_docs=DEV, resume=tmp_path / "snap")
    assert resumed.global_step == straight.global_step == 12
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    wa, wb = weights(straight.output_dir / "last" / "model"), weights(resumed.output_dir / "last" / "model")
    assert wa.keys() == wb.keys()
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)


def test_resume_refuses_a_different_model_config(tok, tmp_path):
    train(make_cfg(tok, tmp_path / "x", epochs=1), train_docs=TRAIN, dev_docs=DEV)
    cfg = make_cfg(tok, tmp_path / "x", epochs=2)
    cfg.model.pair_dim = 64
    with pytest.raises(BiorelError) as e:
        train(cfg, train_docs=TRAIN, dev_docs=DEV, resume=tmp_path / "x")
    assert e.value.code == "E410"
    with pytest.raises(BiorelError) as e:
        train(cfg, train_docs=TRAIN, resume=tmp_path / "nothing-here")
    assert e.value.code == "E410"


def test_early_stopping_and_best_selection(tok, tmp_path):
    calls = []

    def scorer(preds, gold):  # a dev metric that peaks at epoch 2
        calls.append(sorted(preds))
        return {"score": [0.1, 0.5, 0.4, 0.3, 0.2, 0.9][len(calls) - 1]}

    t = Trainer(make_cfg(tok, tmp_path / "e", epochs=6, patience=2), train_docs=TRAIN, dev_docs=DEV, scorer=scorer, scorer_modes=("relate",))
    t.cfg.evaluation.primary_metric = "score"
    res = t.train()
    assert res.best_epoch == 2 and res.best_metric == 0.5 and len(res.history) == 4
    assert "early stopping" in res.stopped and calls[0] == ["relate"]
    assert json.loads((res.best_dir / "metrics.json").read_text())["epoch"] == 2


def test_missing_primary_metric_is_e413(tok, tmp_path):
    t = Trainer(make_cfg(tok, tmp_path / "m", epochs=1), train_docs=TRAIN, dev_docs=DEV, scorer=lambda p, g: {"a": 1.0})
    with pytest.raises(BiorelError) as e:
        t.train()
    assert e.value.code == "E413" and "a" in str(e.value)
    assert primary_value({"x": 0.5}, "x") == 0.5


def test_registry_evaluators_as_scorers():
    docs = toy_corpus(3)
    scorer, modes = dev_scorer(["ner:extract", "cid:gold"], ("extract", "relate"))
    assert modes == ("extract", "relate")  # 'gold' is the older name of 'relate'
    m = scorer({"extract": docs, "relate": docs}, docs)
    assert m["ner:extract/primary"] == m["cid:relate/primary"] == 1.0 and "cid:relate/micro_f1" in m
    for bad, needle in (("cid:nomode", "extract, relate"), ("nosuch:extract", "Unknown evaluator"), ("cid", "EVALUATOR:MODE")):
        with pytest.raises(BiorelError) as e:
            dev_scorer([bad], ("extract", "relate"))
        assert e.value.code == "E402" and needle in str(e.value)


def test_scorer_modes_follow_the_model(tok, tmp_path):
    """A mode the model does not declare is refused up front (E402)."""
    cfg = make_cfg(tok, tmp_path / "m", epochs=1)
    cfg.evaluation.scorers = ["ner:generate"]
    with pytest.raises(BiorelError) as e:
        train(cfg, train_docs=TRAIN, dev_docs=DEV)
    assert e.value.code == "E402" and "evaluation.scorers" in str(e.value)


def test_unknown_loss_part_is_e402(tok, tmp_path):
    cfg = make_cfg(tok, tmp_path / "w", epochs=1)
    cfg.training.loss_weights = {"ner": 1.0, "contrastive": 0.5}
    with pytest.raises(BiorelError) as e:
        train(cfg, train_docs=TRAIN, dev_docs=DEV)
    assert e.value.code == "E402" and "training.loss_weights.contrastive" in str(e.value) and "ner, re" in str(e.value)


def test_second_writer_is_refused(tok, tmp_path):
    """One trainer per output folder: a second one gets E050 while the first holds it."""
    from biorel.jobs import exclusive_lock

    with exclusive_lock(tmp_path / "busy"):
        import subprocess
        import sys

        code = (
            "import sys; from biorel.config import Config; from biorel.training import train; "
            "from biorel.models.testing import tiny_model_config, toy_corpus; from biorel.errors import BiorelError\n"
            f"cfg = Config.model_validate({{'model': tiny_model_config({str(tok)!r}), 'training': {{'epochs': 1, 'output_dir': {str(tmp_path / 'busy')!r}, 'progress': False}}}})\n"
            "try:\n    train(cfg, train_docs=toy_corpus(3))\nexcept BiorelError as e:\n    print(e.code); sys.exit(3)\n"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 3 and r.stdout.strip() == "E050", r.stdout + r.stderr


def test_optimizer_state_roundtrip():
    p = torch.nn.Parameter(torch.randn(3, 2))
    opt = torch.optim.AdamW([p], lr=0.1)
    p.sum().backward()
    opt.step()
    tensors, meta = optimizer_to_flat(opt)
    json.dumps(meta)  # JSON-serialisable
    opt2 = torch.optim.AdamW([torch.nn.Parameter(p.detach().clone())], lr=0.1)
    optimizer_from_flat(opt2, tensors, meta)
    s1, s2 = opt.state_dict()["state"][0], opt2.state_dict()["state"][0]
    assert all(torch.equal(s1[k], s2[k]) for k in s1)


def test_cli_train_with_overrides_and_data_files(tok, tmp_path):
    from typer.testing import CliRunner

    from biorel.cli import app

    io.write(TRAIN, tmp_path / "train.jsonl")
    io.write(DEV, tmp_path / "dev.jsonl")
    model = tiny_model_config(tok)
    enc = model.pop("encoder")
    lines = ["[data]", f'train = "{tmp_path / "train.jsonl"}"', f'dev = "{tmp_path / "dev.jsonl"}"', "[model]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in model.items()]
    lines += ["[model.encoder]", f'name = "{enc["name"]}"', f'tokenizer = "{enc["tokenizer"]}"', "[model.encoder.random_init]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in enc["random_init"].items()]
    lines += ["[training]", "epochs = 5", "progress = false"]
    cfg = tmp_path / "tiny.toml"
    cfg.write_text("\n".join(lines) + "\n")
    runner = CliRunner()
    r = runner.invoke(app, ["train", str(cfg), "--dry-run", "--training.lr", "2e-3"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["training"]["lr"] == 2e-3
    r = runner.invoke(app, ["train", str(cfg), "-o", str(tmp_path / "out"), "--training.epochs", "1", "--training.batch_size=4"])
    assert r.exit_code == 0, r.output
    assert "1 epochs" not in r.stdout and (tmp_path / "out" / "best" / "model.safetensors").exists()
    r = runner.invoke(app, ["train", str(cfg), "--training.lr", "-5"])
    assert r.exit_code == 1 and "E402" in r.output
    r = runner.invoke(app, ["train", str(tmp_path / "none.toml")])
    assert r.exit_code == 1 and "E400" in r.output


def test_no_training_data_is_e407(tok, tmp_path):
    with pytest.raises(BiorelError) as e:
        train(make_cfg(tok, tmp_path / "n"), train_docs=[])
    assert e.value.code == "E407"
    with pytest.raises(BiorelError) as e:
        train(Config.model_validate({"data": {"train": str(tmp_path / "missing.jsonl")}, "training": {"output_dir": str(tmp_path / "z")}}))
    assert e.value.code == "E408"


def test_freeze_embeddings_keeps_the_word_piece_matrix(tok, tmp_path):
    cfg = make_cfg(tok, tmp_path / "frozen", epochs=1, freeze_embeddings=True)
    torch.manual_seed(0)
    t = Trainer(cfg, train_docs=TRAIN, dev_docs=[])
    res = t.train()
    from biorel.models import build_model

    torch.manual_seed(cfg.training.seed)
    fresh = build_model(cfg.model, TRAIN)  # same seed: the same initial encoder
    w = weights(res.best_dir)
    key = "encoder.embeddings.word_embeddings.weight"
    assert torch.equal(w[key], fresh.net.encoder.get_input_embeddings().weight.detach())
    assert not torch.equal(
        w["encoder.encoder.layer.0.attention.self.query.weight"], fresh.net.state_dict()["encoder.encoder.layer.0.attention.self.query.weight"]
    )
    assert t.provenance["frozen"]["input_embeddings"] == list(w[key].shape)


def test_attention_dropout_override(tok):
    from biorel.config import validate_model_config
    from biorel.models.encoder import load_encoder

    cfg = validate_model_config(tiny_model_config(tok))
    enc, _ = load_encoder(cfg.encoder.model_copy(update={"attention_dropout": 0.0}))
    assert enc.config.attention_probs_dropout_prob == 0.0
    enc, _ = load_encoder(cfg.encoder)
    assert enc.config.attention_probs_dropout_prob == 0.1  # the HF default is kept
