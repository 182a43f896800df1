"""biorel view on the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from biorel import io
from biorel.cli import app

from .fixtures import gold_doc, pred_doc

runner = CliRunner()


def test_view_command(tmp_path):
    pred, gold = tmp_path / "pred.jsonl", tmp_path / "gold.PubTator.txt"
    io.write([pred_doc()], pred)
    io.write([gold_doc()], gold)
    out = tmp_path / "page.html"
    res = runner.invoke(app, ["view", str(pred), "--gold", str(gold), "-p", "e2e", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "1 documents" in res.output
    assert "TP 2  FP 2  FN 2" in res.output  # mentions
    assert "TP 1  FP 2  FN 1" in res.output  # relations
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "biorel-data" in page


def test_view_without_gold_and_formats(tmp_path):
    src = tmp_path / "docs.data"
    io.write([pred_doc()], src, "jsonl")
    out = tmp_path / "page.html"
    res = runner.invoke(app, ["view", str(src), "-f", "jsonl", "-o", str(out), "--title", "mine"])
    assert res.exit_code == 0, res.output
    assert "<title>mine</title>" in out.read_text(encoding="utf-8")


def test_view_errors(tmp_path):
    res = runner.invoke(app, ["view", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "p.html")])
    assert res.exit_code == 1 and "E520" in res.output
    pred = tmp_path / "pred.jsonl"
    io.write([pred_doc()], pred)
    res = runner.invoke(app, ["view", str(pred), "--gold", str(pred), "-p", "sentence", "-o", str(tmp_path / "p.html")])
    assert res.exit_code == 1 and "E521" in res.output
    assert not (tmp_path / "p.html").exists()
