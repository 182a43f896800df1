"""biorel.GenerativeRE.v1 beyond the contract: outputs parsed and grounded
(known answers, nothing dropped), windows, adapter-only folders (save, load,
package, another base refused), the seq2seq path, coded errors, ``biorel
extract --model`` and the GGUF cache (one builder, others wait)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from biorel import io
from biorel.errors import BiorelError
from biorel.models import build_model, load_model
from biorel.models.generative import WindowOutput, cut_windows
from biorel.models.generative_testing import make_tiny_lm, tiny_generative_config
from biorel.models.package import package_model
from biorel.models.testing import long_document, toy_corpus
from biorel.types import Document, Entity, Passage, Relation
from biorel.validate import check_document


def _train(model, docs, steps: int = 30, lr: float = 1e-2) -> None:
    opt = torch.optim.AdamW(model.parameter_groups(lr, lr, 0.0), lr=lr)
    items = [model.prepare(d) for d in docs]
    model.net.train()
    for _ in range(steps):
        loss, _ = model.loss(items)
        opt.zero_grad()
        loss.backward()
        opt.step()


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    return make_tiny_lm(tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def trained(lm):
    torch.manual_seed(0)
    docs = toy_corpus(4)
    model = build_model(tiny_generative_config(lm, max_new_tokens=40), docs)
    _train(model, docs)
    return model, docs


def _outputs(model, doc):
    return [p.metadata["output"] for p in model.predict([doc])]


def test_outputs_are_parsed_and_grounded_and_nothing_is_dropped(trained):
    model, _ = trained
    text = "Famotidine-associated delirium. Delirium induced by famotidine in rats."
    doc = Document("d", [Passage(0, text[:31], "title"), Passage(32, text[32:], "abstract")])
    raw = (
        " famotidine @Chemical@ delirium @Disease@ @CID@; aspirin @Chemical@ delirium @Disease@ @CID@; "
        "no relation here; Famotidine @Chemical@ Delirium @Disease@ @CID@"
    )
    pred = model._to_document(doc, [WindowOutput(raw, True, 0, 40)])
    assert check_document(pred) == []
    # each name where it occurs with its case (another case only where it occurs in none: linearize.ground)
    assert [(m.text, m.spans, m.type) for m in pred.mentions] == [("famotidine", ((52, 62),), "Chemical"), ("delirium", ((22, 30),), "Disease")]
    ((r,),) = [pred.relations]
    ents = pred.entity_index()
    assert (r.type, ents[r.head].name, ents[r.tail].name) == ("CID", "famotidine", "delirium")
    gen = pred.metadata["generation"]
    assert gen["unparsable_items"] == [["no relation here", "not 'HEAD @TYPE@ TAIL @TYPE@ @RELATION@'"]]
    assert gen["ungrounded_relations"] == [["aspirin", "delirium"]]
    assert gen["duplicate_relations"] == 1 and gen["items"] == 4 and gen["windows"] == 1
    assert pred.metadata["output"] == raw.strip()
    assert doc.mentions == [] and "output" not in doc.metadata  # the input is not changed


def test_a_name_across_two_passages_gets_no_mention_and_is_counted(trained):
    model, _ = trained
    doc = Document("d", [Passage(0, "Lithium.", "title"), Passage(9, "Ulcers in rats.", "abstract")])
    pred = model._to_document(doc, [WindowOutput("Lithium. Ulcers @Chemical@ rats @Disease@ @CID@", True, 0, 12)])
    assert check_document(pred) == [] and [m.text for m in pred.mentions] == ["rats"]
    assert len(pred.relations) == 1 and pred.metadata["generation"]["mentions_across_passages"] == 1


def test_abroad_outputs_take_the_argument_types_and_score(lm):
    from biorel.evaluation import evaluate
    from biorel.types import Example

    text = "Streptomycin from Streptomyces griseus. Streptomyces griseus also makes grisein."
    gold = Document("a", [Passage(0, text, "abstract")])
    gold.entities = [Entity("o", "organism", (), "Streptomyces griseus"), Entity("c", "chemical", (), "streptomycin")]
    gold.relations = [Relation("R0", "produces", "o", "c")]
    model = build_model(tiny_generative_config(lm, form="abroad"), [gold])
    pred = model._to_document(gold, [WindowOutput("Streptomyces griseus produces Streptomycin", True, 0, 9)])
    ents = pred.entity_index()
    assert [(ents[r.head].type, ents[r.tail].type, r.type) for r in pred.relations] == [("organism", "chemical", "produces")]
    assert evaluate([Example(pred, gold)], "abroad", n_resamples=0).micro.f1 == 1.0


def test_cut_windows():
    text = "One two three. Four five six seven. Eight."
    starts = [i for i, c in enumerate(text) if c != " " and (i == 0 or text[i - 1] == " ")]
    ends = [14, 35, 42]
    assert cut_windows(text, starts, ends, 100) == [(0, 42)]
    assert cut_windows(text, starts, ends, 4) == [(0, 14), (15, 35), (36, 42)]
    assert cut_windows(text, starts, ends, 2) == [(0, 8), (8, 14), (15, 25), (25, 35), (36, 42)]  # sentences longer than a window are cut
    assert cut_windows("   ", [], [], 4) == []


def test_long_documents_are_read_in_windows(trained):
    model, _ = trained
    long = long_document(n_sentences=30)
    (pred,) = model.predict([long])
    assert pred.metadata["generation"]["windows"] == len(model._windows(long)) > 1
    assert check_document(pred) == []
    item = model.prepare(long)
    assert len(item.sequences) == item.stats["windows"] > 1
    assert all(len(p) <= model.cfg.max_length + 16 for p, _ in item.sequences)


def test_targets_mask_the_prompt(trained):
    model, docs = trained
    item = model.prepare(docs[0])
    ((prompt, target),) = item.sequences
    batch = model._collate(item.sequences)
    labels = batch["labels"][0].tolist()
    assert labels[: len(prompt)] == [-100] * len(prompt) and labels[len(prompt) :] == target
    assert target[-1] == model.base.eos_id
    text = model.base.tokenizer.decode(target[:-1])
    assert text.startswith(" ") and " @Chemical@ " in text and text.endswith("@CID@")


def test_adapter_only_folder_round_trip_and_package(trained, tmp_path):
    model, docs = trained
    before = [_outputs(model, d) for d in docs]
    assert any(p.relations for p in model.predict(docs))
    model.save(tmp_path / "m")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert {"config.json", "labels.json", "model.safetensors", "adapter_config.json", "base_model.json"} <= files
    stored = load_file(str(tmp_path / "m" / "model.safetensors"))
    assert stored and all(".lora_A." in k or ".lora_B." in k for k in stored)
    base = json.loads((tmp_path / "m" / "base_model.json").read_text())
    assert base["fingerprint"].startswith("sha256:") and base["name"] == model.cfg.base
    loaded = load_model(tmp_path / "m")
    assert [_outputs(loaded, d) for d in docs] == before
    loaded.cfg.decoding.strategy = "beam"
    model.cfg.decoding.strategy = "beam"
    try:
        assert [_outputs(loaded, d) for d in docs] == [_outputs(model, d) for d in docs]
    finally:
        model.cfg.decoding.strategy = "greedy"
    summary = package_model(tmp_path / "m", tmp_path / "p")
    assert summary["omitted"] == [] and summary["packaged_bytes"] == summary["source_bytes"]
    assert [_outputs(load_model(tmp_path / "p"), d) for d in docs] == before


def test_another_base_is_refused(lm, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(lm, base)
    docs = toy_corpus(2)
    model = build_model(tiny_generative_config(base), docs)
    model.save(tmp_path / "m")
    weights = load_file(str(base / "model.safetensors"))
    weights = {k: v + 0.01 for k, v in weights.items()}
    save_file(weights, str(base / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(BiorelError) as e:
        load_model(tmp_path / "m")
    assert e.value.code == "E565" and "was trained on sha256:" in str(e.value)


def test_seq2seq_base(tmp_path):
    lm = make_tiny_lm(tmp_path / "bart", seq2seq=True)
    docs = toy_corpus(3)
    targets = ["q_proj", "v_proj", "fc1"]
    model = build_model(tiny_generative_config(lm, lora={"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": targets}), docs)
    assert model.base.encoder_decoder
    _train(model, docs, steps=5)
    preds = model.predict(docs)
    assert all(check_document(p) == [] for p in preds)
    model.save(tmp_path / "m")
    assert [p.to_dict() for p in load_model(tmp_path / "m").predict(docs)] == [p.to_dict() for p in preds]


@pytest.mark.parametrize(
    "change, code, needle",
    [
        ({"prompt": "Relations:"}, "E402", "model.prompt"),
        ({"prompt": "{text} {title}"}, "E402", "model.prompt"),
        ({"decoding": {"strategy": "sample"}}, "E402", "model.decoding.strategy"),
        ({"form": "tsv"}, "E402", "model.form"),
        ({"lora": {"target_modules": ["c_attn"]}}, "E567", "q_proj"),
    ],
)
def test_coded_errors(lm, change, code, needle):
    with pytest.raises(BiorelError) as e:
        build_model({**tiny_generative_config(lm), **change}, toy_corpus(2))
    assert e.value.code == code and needle in str(e.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where there is no CUDA")
def test_qlora_needs_cuda(lm):
    with pytest.raises(BiorelError) as e:
        build_model(tiny_generative_config(lm, qlora=True), toy_corpus(2))
    assert e.value.code == "E561" and "CUDA" in str(e.value)


def test_gold_ids_are_refused(trained):
    model, docs = trained
    with pytest.raises(BiorelError) as e:
        model.predict(docs[:1], use_gold_ids=True)
    assert e.value.code == "E566"


def test_biorel_extract_runs_it(trained, tmp_path):
    from biorel.cli import app

    model, docs = trained
    model.save(tmp_path / "m")
    txt = tmp_path / "in.txt"
    txt.write_text("\n".join(d.text.replace("\n", " ") for d in docs[:2]) + "\n", "utf-8")
    res = CliRunner().invoke(app, ["extract", str(txt), "--model", str(tmp_path / "m"), "-o", str(tmp_path / "out.jsonl"), "--lines"])
    assert res.exit_code == 0, res.output
    got = list(io.read(tmp_path / "out.jsonl"))
    assert len(got) == 2 and all("generation" in d.metadata and check_document(d) == [] for d in got)


FAKE_BUILD = textwrap.dedent(
    """
    import json, sys, time
    from biorel.jobs import atomic_dir
    from biorel.models import gguf_cache

    def fake_build(name, gguf, digest, target):
        with open(sys.argv[2], "a") as fh:
            fh.write("build\\n")
        time.sleep(1.5)
        with atomic_dir(target) as tmp:
            (tmp / gguf_cache.SIDECAR).write_text(json.dumps({"sha256": digest}))
        return {"sha256": digest}

    gguf_cache._build = fake_build
    gguf_cache.POLL_S = 0.1
    print(gguf_cache.dequantised_folder(sys.argv[1])[0])
    """
)


def test_the_gguf_cache_is_built_once_while_others_wait(tmp_path):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + bytes(64))
    script = tmp_path / "build.py"
    script.write_text(FAKE_BUILD, "utf-8")
    env = {**os.environ, "BIOREL_CACHE": str(tmp_path / "cache")}
    calls = tmp_path / "calls.txt"
    procs = [subprocess.Popen([sys.executable, str(script), str(gguf), str(calls)], env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    folders = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert calls.read_text().count("build") == 1 and len(folders) == 1
    (folder,) = folders
    assert folder.startswith(str(tmp_path / "cache" / "hf" / "tiny-")) and not list((tmp_path / "cache" / "hf").glob(".*tmp"))
