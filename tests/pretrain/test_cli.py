"""``biorel pretrain`` and ``biorel pretrain-corpus`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.models.testing import toy_corpus
from biorel.pretrain import corpus as corpus_mod

runner = CliRunner()
CONFIG = str(Path(__file__).resolve().parents[2] / "configs" / "pretrain" / "dapt-minilm.toml")


def test_pretrain_dry_run_applies_dotted_overrides(tmp_path):
    r = runner.invoke(app, ["pretrain", CONFIG, "--dry-run", "-o", str(tmp_path / "o"), "--mlm.mask_rate", "0.2"])
    assert r.exit_code == 0, r.output
    cfg = json.loads(r.output)
    assert cfg["mlm"]["mask_rate"] == 0.2 and cfg["training"]["output_dir"] == str(tmp_path / "o")
    r = runner.invoke(app, ["pretrain", CONFIG, "--dry-run", "--mlm.no_such_key", "1"])
    assert r.exit_code == 1 and "E402" in r.output and "mlm.no_such_key" in r.output


def test_pretrain_corpus_command(tmp_path, monkeypatch):
    monkeypatch.delenv("BIOREL_DATA_MIRROR", raising=False)
    monkeypatch.setattr(corpus_mod, "test_sources", lambda splits: [])  # no registered test data offline
    io.write(toy_corpus(5) + toy_corpus(3), tmp_path / "in.jsonl")  # the second three repeat the first
    out = tmp_path / "c.jsonl"
    r = runner.invoke(app, ["pretrain-corpus", "-o", str(out), "--add", str(tmp_path / "in.jsonl"), "--no-datasets", "--exclude-split", "dev"])
    assert r.exit_code == 0, r.output
    assert "5 documents (0 test overlaps, 3 duplicates left out)" in r.output
    report = json.loads((tmp_path / "c.report.json").read_text())
    assert report["excluded_splits"] == ["test", "dev"] and report["totals"]["written"] == len(io.load(out)) == 5
    r = runner.invoke(app, ["pretrain-corpus", "-o", str(tmp_path / "c.txt"), "--no-datasets"])
    assert r.exit_code == 1 and "E585" in r.output
