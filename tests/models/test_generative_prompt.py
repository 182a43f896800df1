"""biorel.GenerativeRE.v1 without adapters: zero- and few-shot prompting of the
base alone (``model.adapter = false``, ``GenerativeRE.prompted``), plain and
through the chat template. The prompt shows the first ``shots`` example
documents and never the document being read; predictions go through the same
decoding, parsing and grounding; the folder round-trips (no tensors, the shots
in ``shots.json``); coded errors E568-E570."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from biorel.errors import BiorelError
from biorel.models import build_model, load_model
from biorel.models.generative import GenerativeRE
from biorel.models.generative_prompt import SHOT_SEPARATOR
from biorel.models.generative_testing import make_tiny_lm, tiny_generative_config
from biorel.models.linearize import linearize, parse
from biorel.models.package import package_model
from biorel.models.testing import toy_corpus
from biorel.validate import check_document


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    return make_tiny_lm(tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def docs():
    return toy_corpus(5)


def _prompted(lm, docs, **options):
    cfg = tiny_generative_config(lm, **options)
    return GenerativeRE.prompted(docs, base=cfg.pop("base"), **{k: v for k, v in cfg.items() if k not in ("architecture", "lora")})


def _outputs(model, docs):
    return [p.metadata["output"] for p in model.predict(docs)]


def test_zero_shot_is_the_base_alone_and_round_trips(lm, docs, tmp_path):
    model = _prompted(lm, docs)
    assert model.cfg.adapter is False and not any(p.requires_grad for p in model.net.parameters())
    assert model._prompt(docs[0], 0, len(docs[0].text)) == f"Text: {docs[0].text}\nRelations:"
    preds = model.predict(docs[:3])
    for doc, pred in zip(docs, preds):
        assert check_document(pred) == [] and pred.metadata["generation"]["shots"] == []
        assert pred.metadata["generation"]["prompt_tokens"] == len(model._prompt_ids(model._prompt(doc, 0, len(doc.text))))
        rels, _ = parse(pred.metadata["output"], "typed")
        assert all(name in doc.text for r in rels for name in (r.head, r.tail))  # the same copy constraint
    model.save(tmp_path / "m")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert "adapter_config.json" not in files and "shots.json" not in files
    assert load_file(str(tmp_path / "m" / "model.safetensors")) == {}
    loaded = load_model(tmp_path / "m")
    assert loaded.cfg.adapter is False and _outputs(loaded, docs[:3]) == [p.metadata["output"] for p in preds]


def test_few_shot_prompt_shows_k_examples_and_never_the_document(lm, docs):
    model = _prompted(lm, docs, shots=2)
    assert [s.id for s in model.shots] == ["doc0", "doc1", "doc2"]  # k + 1: one spare
    outside = docs[3]
    prompt = model._prompt(outside, 0, len(outside.text))
    assert prompt.count(SHOT_SEPARATOR) == 2 and prompt.endswith(f"Text: {outside.text}\nRelations:")
    for shot in docs[:2]:
        assert f"Text: {shot.text}\nRelations: {linearize(shot, 'typed')}{SHOT_SEPARATOR}" in prompt
    for inside in docs[:3]:
        prompt = model._prompt(inside, 0, len(inside.text))
        assert prompt.count(inside.text) == 1 and prompt.count(SHOT_SEPARATOR) == 2
        assert model._shots_for(inside) == [s for s in model.shots if s.id != inside.id][:2]
    same_text = replace(docs[1], id="copy-of-doc1")
    assert [s.id for s in model._shots_for(same_text)] == ["doc0", "doc2"]
    preds = model.predict([docs[0], outside])
    assert [p.metadata["generation"]["shots"] for p in preds] == [["doc1", "doc2"], ["doc0", "doc1"]]


def test_few_shot_chat_prompt_and_folder(lm, docs, tmp_path):
    model = _prompted(lm, docs, shots=1, chat=True, system="Find chemicals that induce diseases.")
    doc = docs[4]
    prompt = model._prompt(doc, 0, len(doc.text))
    eos = model.base.tokenizer.eos_token
    assert prompt == (
        f"system: Find chemicals that induce diseases.{eos}\nuser: Text: {docs[0].text}\nRelations:{eos}\n"
        f"assistant: {linearize(docs[0], 'typed')}{eos}\nuser: Text: {doc.text}\nRelations:{eos}\nassistant:"
    )
    ids = model._prompt_ids(prompt)
    assert ids.count(model.base.eos_id) == 4  # the template's turn ends, no special token added
    before = _outputs(model, docs)
    model.save(tmp_path / "m")
    shots = json.loads((tmp_path / "m" / "shots.json").read_text())
    assert [s["id"] for s in shots] == ["doc0", "doc1"] and shots[0]["answer"] == linearize(docs[0], "typed")
    assert _outputs(load_model(tmp_path / "m"), docs) == before
    package_model(tmp_path / "m", tmp_path / "p")
    assert _outputs(load_model(tmp_path / "p"), docs) == before
    (tmp_path / "m" / "shots.json").unlink()
    with pytest.raises(BiorelError) as e:
        load_model(tmp_path / "m")
    assert e.value.code == "E404" and "shots.json" in str(e.value)


def test_adapters_train_on_the_few_shot_chat_prompt(lm, docs):
    torch.manual_seed(0)
    model = build_model(tiny_generative_config(lm, shots=1, chat=True), docs)
    assert any(p.requires_grad for p in model.net.parameters())
    ((prompt, target),) = model.prepare(docs[0]).sequences
    text = model.base.tokenizer.decode(prompt)
    assert text.endswith("assistant:") and docs[1].text in text and docs[0].text in text and docs[2].text not in text
    assert target[-1] == model.base.eos_id and model.base.tokenizer.decode(target[:-1]) == " " + linearize(docs[0], "typed")
    loss, parts = model.loss([model.prepare(d) for d in docs[:2]])
    loss.backward()
    assert parts["lm"] > 0


def test_a_prompted_model_has_nothing_to_train(lm, docs, tmp_path):
    from biorel.config import validate_config
    from biorel.training import train

    model = _prompted(lm, docs)
    with pytest.raises(BiorelError) as e:
        model.parameter_groups(1e-3, 1e-3, 0.0)
    assert e.value.code == "E568"
    with pytest.raises(BiorelError) as e:
        training = {"epochs": 1, "output_dir": str(tmp_path / "run"), "progress": False}
        train(validate_config({"model": tiny_generative_config(lm, adapter=False), "training": training}), train_docs=docs, dev_docs=docs[:1])
    assert e.value.code == "E568"


def test_too_few_examples(lm, docs):
    with pytest.raises(BiorelError) as e:
        _prompted(lm, docs[:2], shots=3)
    assert e.value.code == "E569" and "only 2 distinct" in str(e.value)
    with pytest.raises(BiorelError) as e:
        _prompted(lm, [docs[0], replace(docs[0], id="again")], shots=2)  # one text twice is one example
    assert e.value.code == "E569"
    model = _prompted(lm, docs[:2], shots=2)
    assert model.predict(docs[2:3])[0].metadata["generation"]["shots"] == ["doc0", "doc1"]
    with pytest.raises(BiorelError) as e:
        model.predict(docs[:1])
    assert e.value.code == "E569" and "'doc0' itself is left out" in str(e.value)


def test_chat_needs_a_chat_template(tmp_path, docs):
    plain = make_tiny_lm(tmp_path / "plain", chat_template=None)
    with pytest.raises(BiorelError) as e:
        _prompted(plain, docs, chat=True)
    assert e.value.code == "E570"


def test_system_needs_chat(lm, docs):
    with pytest.raises(BiorelError) as e:
        _prompted(lm, docs, system="You extract relations.")
    assert e.value.code == "E402" and "model" in str(e.value)


def test_biorel_extract_runs_a_prompted_folder(lm, docs, tmp_path):
    from typer.testing import CliRunner

    from biorel import io
    from biorel.cli import app

    _prompted(lm, docs, shots=2).save(tmp_path / "m")
    txt = tmp_path / "in.txt"
    txt.write_text(docs[0].text.replace("\n", " ") + "\n", "utf-8")
    res = CliRunner().invoke(app, ["extract", str(txt), "--model", str(tmp_path / "m"), "-o", str(tmp_path / "out.jsonl"), "--lines"])
    assert res.exit_code == 0, res.output
    (got,) = io.read(tmp_path / "out.jsonl")
    assert check_document(got) == [] and len(got.metadata["generation"]["shots"]) == 2
