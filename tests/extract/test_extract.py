"""``biorel extract``: formats, batching, and resuming after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from biorel import io
from biorel.config import validate_model_config
from biorel.errors import BiorelError
from biorel.extract import FAULT_ENV, batches_by_tokens, extract, partial_paths, read_journal
from biorel.models import build_model
from biorel.models.testing import long_document, make_tiny_tokenizer, tiny_model_config, toy_corpus

DOCS = toy_corpus(30, seed=3)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    import torch

    root = tmp_path_factory.mktemp("extract")
    tok = make_tiny_tokenizer(root / "tok")
    torch.manual_seed(0)
    model = build_model(validate_model_config(tiny_model_config(tok)), DOCS)
    # a few steps so that the model predicts something
    opt = torch.optim.AdamW(model.net.parameters(), lr=3e-3)
    items = [model.prepare(d) for d in DOCS[:8]]
    model.net.train()
    for step in range(30):
        loss, _ = model.loss(items[(step % 4) * 2 :][:2])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.save(root / "model")


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "in.pubtator"
    io.write(DOCS, path)
    return path


def strip_scores(docs):
    out = []
    for d in docs:
        x = d.to_dict()
        for r in x["relations"]:
            r.pop("score", None)
        for m in x["mentions"]:
            m.pop("infons", None)
        out.append(x)
    return out


def test_extract_jsonl_and_scores(model_dir, corpus, tmp_path):
    out = tmp_path / "out.jsonl"
    stats = extract(corpus, model_dir, out, progress=False, batch_tokens=200)
    assert stats.written == len(DOCS) and stats.resumed == 0
    docs = io.load(out)
    assert [d.id for d in docs] == [d.id for d in DOCS]
    assert any(d.mentions for d in docs)
    for d in docs:
        for m in d.mentions:
            assert 0.0 <= m.infons["score"] <= 1.0 and d.text[m.start : m.end] == m.text
        for r in d.relations:
            assert 0.5 < r.score <= 1.0
    assert not any(p.exists() for p in partial_paths(out))


@pytest.mark.parametrize("name", ["out.pubtator", "out.bioc.xml"])
def test_extract_other_output_format_and_gold_mode(model_dir, corpus, tmp_path, name):
    out = tmp_path / name
    extract(corpus, model_dir, out, mode="gold", progress=False)
    docs = io.load(out)
    assert [len(d.mentions) for d in docs] == [len(d.mentions) for d in DOCS]


def test_extract_raw_text(model_dir, tmp_path):
    txt = tmp_path / "abstracts.txt"
    txt.write_text("\n".join(d.text for d in DOCS[:5]) + "\n")
    out = tmp_path / "o.jsonl"
    extract(txt, model_dir, out, reader_options={"lines": True}, progress=False)
    docs = io.load(out)
    assert [d.id for d in docs] == ["1", "2", "3", "4", "5"]
    with pytest.raises(BiorelError) as e:
        extract(txt, model_dir, tmp_path / "g.jsonl", mode="gold", reader_options={"lines": True}, progress=False)
    assert e.value.code == "E412"


def test_batching_does_not_change_predictions(model_dir, corpus, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    extract(corpus, model_dir, a, batch_tokens=1, progress=False)
    extract(corpus, model_dir, b, batch_tokens=10_000, progress=False)
    assert strip_scores(io.load(a)) == strip_scores(io.load(b))


def test_batches_by_tokens():
    sizes = {"a": 3, "b": 3, "c": 5, "d": 1}
    docs = [type("D", (), {"id": k})() for k in sizes]
    got = [[d.id for d in b] for b in batches_by_tokens(docs, lambda d: sizes[d.id], 6)]
    assert got == [["a", "b"], ["c", "d"]]


def test_bad_options(model_dir, corpus, tmp_path):
    for kw in ({"mode": "x"}, {"batch_tokens": 0}, {"threshold": 2.0}):
        with pytest.raises(BiorelError) as e:
            extract(corpus, model_dir, tmp_path / "x.jsonl", progress=False, **kw)
        assert e.value.code == "E412"
    with pytest.raises(BiorelError) as e:
        extract(corpus, tmp_path / "no-model", tmp_path / "x.jsonl", progress=False)
    assert e.value.code == "E404"


def _cli(*args, env=None):
    code = "from biorel.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, env=env, timeout=600)


def test_kill_9_then_resume_gives_the_same_output(model_dir, corpus, tmp_path):
    reference = tmp_path / "ref.jsonl"
    r = _cli("extract", corpus, "--model", model_dir, "-o", reference, "--no-progress", "--batch-tokens", "150")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "killed.jsonl"
    env = {**os.environ, FAULT_ENV: "7"}
    r = _cli("extract", corpus, "--model", model_dir, "-o", out, "--no-progress", "--batch-tokens", "150", env=env)
    assert r.returncode == -signal.SIGKILL
    journal, meta = partial_paths(out)
    assert not out.exists() and journal.exists() and meta.exists()
    raw = journal.read_bytes()
    assert raw.count(b"\n") == 7 and not raw.endswith(b"\n")  # 7 whole documents and a torn line
    r = _cli("extract", corpus, "--model", model_dir, "-o", out, "--no-progress", "--batch-tokens", "150")
    assert r.returncode == 0, r.stderr
    assert "7 already done" in r.stdout
    assert strip_scores(io.load(out)) == strip_scores(io.load(reference))
    assert not journal.exists() and not meta.exists()


def test_resume_refuses_changed_settings(model_dir, corpus, tmp_path):
    out = tmp_path / "o.jsonl"
    journal, meta = partial_paths(out)
    journal.write_text('{"id":"doc0","passages":[]}\n{"id":"doc1","pass')
    meta.write_text(json.dumps({"mode": "gold"}))
    with pytest.raises(BiorelError) as e:
        extract(corpus, model_dir, out, progress=False)
    assert e.value.code == "E411"
    # --no-resume starts over
    stats = extract(corpus, model_dir, out, progress=False, resume=False)
    assert stats.resumed == 0 and stats.written == len(DOCS)


def test_read_journal_cuts_torn_line(tmp_path):
    j = tmp_path / "j.partial.jsonl"
    j.write_bytes(b'{"id":"a"}\n{"id":"b"}\n{"id":"c", "pa')
    assert read_journal(j) == {"a", "b"}
    assert j.read_bytes() == b'{"id":"a"}\n{"id":"b"}\n'
    j.write_bytes(b'{"id":"a"}\nnot json\n')
    with pytest.raises(BiorelError) as e:
        read_journal(j)
    assert e.value.code == "E411"


def test_very_long_and_empty_documents(model_dir, tmp_path):
    from biorel.types import Document, Passage

    docs = [long_document("long", n_sentences=40), Document("blank", [Passage(0, "   ")])]
    src = tmp_path / "in.jsonl"
    io.write(docs, src)
    out = tmp_path / "o.jsonl"
    extract(src, model_dir, out, progress=False, batch_tokens=64)
    got = io.load(out)
    assert [d.id for d in got] == ["long", "blank"] and got[1].mentions == []
    for m in got[0].mentions:
        assert got[0].text[m.start : m.end] == m.text


def test_progress_bar_shows_documents_per_second(model_dir, corpus, tmp_path):
    import io as _io

    from rich.console import Console

    buf = _io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    stats = extract(corpus, model_dir, tmp_path / "p.jsonl", progress=True, console=console)
    assert stats.written == len(DOCS) and stats.docs_per_second > 0
    assert "docs/s" in buf.getvalue() and f"{len(DOCS)} docs" in buf.getvalue()


def test_cost_counts_encoder_tokens(model_dir):
    from biorel.models import load_model

    model = load_model(model_dir)
    doc = DOCS[0]
    f = model.encoder.featurizer(doc)
    assert model.cost(doc) == f.n_tokens + model.encoder.featurizer.n_special  # one window
    long = long_document(n_sentences=40)
    assert model.cost(long) > model.encoder.featurizer(long).n_tokens  # overlapping windows cost more
