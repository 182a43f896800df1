from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.cli.formats import convert_file, file_stats, format_rows, validate_file
from biorel.errors import BiorelError
from biorel.registry import registry
from biorel.stats import corpus_stats
from biorel.types import Document, Mention, Passage, Relation

runner = CliRunner()


def _docs() -> list[Document]:
    out = []
    for i in range(3):
        text = "Aspirin causes ulcers. Ulcers bleed."
        d = Document(
            f"d{i}",
            passages=[Passage(0, text, "abstract")],
            mentions=[Mention("m1", ((0, 7),), "Aspirin", "Chemical", ("C1",))],
        )
        # d0: the disease mention is in sentence 1 (with Aspirin); d1, d2: only in sentence 2
        span, surface = ((15, 21), "ulcers") if i == 0 else ((23, 29), "Ulcers")
        d.mentions.append(Mention("m2", (span,), surface, "Disease", (f"D{i % 2}",)))
        d.entities = d.entities_from_mentions()
        d.relations = [Relation("r1", "CID", "C1", f"D{i % 2}")]
        out.append(d)
    return out


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "c.jsonl"
    io.write(_docs(), path)
    return path


def _broken(tmp_path):
    """A JSONL file with a bad JSON line (line 2) and a mention whose text drifts (line 3)."""
    lines = [json.dumps(d.to_dict()) for d in _docs()]
    bad = _docs()[2].to_dict()
    bad["mentions"][0]["text"] = "Aspirim"
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join([lines[0], "{not json", json.dumps(bad)]) + "\n")
    return path


def test_convert_streams_and_reports_count(corpus, tmp_path):
    out = tmp_path / "c.conll"
    res = runner.invoke(app, ["convert", str(corpus), str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote 3 documents" in res.output
    back = io.load(out)
    assert [m.text for m in back[0].mentions] == ["Aspirin", "ulcers"]
    # explicit formats and writer options
    res = runner.invoke(app, ["convert", str(corpus), str(tmp_path / "x.txt"), "--to", "conll", "-w", "sentences=split"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x.txt").read_text().count("\n\n") == 6  # 2 sentences x 3 documents


def test_convert_strict_fails_with_location_and_lenient_reports_skips(tmp_path):
    src = _broken(tmp_path)
    res = runner.invoke(app, ["convert", str(src), str(tmp_path / "o.jsonl")])
    assert res.exit_code == 1 and "E024" in res.output and "broken.jsonl:2" in res.output
    res = runner.invoke(app, ["convert", str(src), str(tmp_path / "o.jsonl"), "--lenient"])
    assert res.exit_code == 0, res.output
    assert "wrote 2 documents" in res.output and "2 problem(s) skipped" in res.output
    assert "broken.jsonl:2" in res.output and "E010" in res.output
    assert [len(d.mentions) for d in io.load(tmp_path / "o.jsonl")] == [2, 1]


def test_convert_file_function(corpus, tmp_path):
    res = convert_file(corpus, tmp_path / "o.jsonl")
    assert res.documents == 3 and len(res.diagnostics) == 0
    assert io.load(tmp_path / "o.jsonl") == _docs()
    with pytest.raises(BiorelError) as e:
        convert_file(corpus, corpus)
    assert e.value.code == "E170"
    with pytest.raises(BiorelError) as e:
        convert_file(tmp_path / "missing.jsonl", tmp_path / "o.jsonl")
    assert e.value.code == "E171"


def test_validate_lists_every_problem_and_sets_exit_code(tmp_path, corpus):
    src = _broken(tmp_path)
    report = validate_file(src)
    assert report.documents == 2
    assert [(p.code, p.where.line) for p in report.problems] == [("E024", 2), ("E010", 3)]
    res = runner.invoke(app, ["validate", str(src)])
    assert res.exit_code == 1
    assert "broken.jsonl:2" in res.output and "broken.jsonl:3" in res.output and "2 problem(s)" in res.output
    res = runner.invoke(app, ["validate", str(corpus)])
    assert res.exit_code == 0 and "no problems" in res.output


def test_validate_reports_a_fatal_error_as_the_last_problem(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_bytes(b"a\tO\n\xff\tO\n")
    report = validate_file(path)
    assert [(p.code, p.where.line) for p in report.problems] == [("E020", 2)]


def test_stats_json_equals_library_stats(corpus):
    res = runner.invoke(app, ["stats", str(corpus), "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert got == json.loads(json.dumps(corpus_stats(_docs()).to_dict()))
    # hand check: 3 docs of 2 sentences; d0's relation is within a sentence, d1's and d2's cross
    assert got["sentences"] == 6
    assert got["cross_sentence"] == {"cross": 2, "within": 1, "ungrounded": 0, "share": pytest.approx(2 / 3)}
    assert got["concepts"]["by_type"] == {"Chemical": 1, "Disease": 2}
    res = runner.invoke(app, ["stats", str(corpus)])
    assert res.exit_code == 0 and "cross-sentence" in res.output and "Disease" in res.output


def test_stats_missing_file_is_a_coded_error(tmp_path):
    res = runner.invoke(app, ["stats", str(tmp_path / "nope.jsonl")])
    assert res.exit_code == 1 and "E171" in res.output
    with pytest.raises(BiorelError):
        file_stats(tmp_path / "nope.jsonl")


def test_formats_lists_registry():
    res = runner.invoke(app, ["formats", "--json"])
    assert res.exit_code == 0
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert {"jsonl", "conll", "bc2"} <= set(rows)
    assert rows["conll"]["registered"] == "biorel.CoNLL.v1" and rows["conll"]["read"] and rows["conll"]["write"]
    assert {r["name"] for r in format_rows()} == set(io.format_names())


def test_demo_converts_the_sample(tmp_path):
    if "pubtator" not in registry.formats:
        pytest.skip("the PubTator format module is not registered yet")
    res = runner.invoke(app, ["demo", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    docs = io.load(tmp_path / "demo" / "sample.jsonl")
    assert len(docs) == 5 and sum(len(d.relations) for d in docs) == 5
    assert (tmp_path / "demo" / "sample.conll").read_text().count("B-Chemical") == 19
    assert "0.4000" in res.output  # cross-sentence share of the sample (2 of 5)
    if (tmp_path / "demo" / "sample.extracted.bioc.xml").exists():  # the model extras are installed
        page = (tmp_path / "demo" / "sample.view.html").read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and "sample.view.html" in res.output


@pytest.mark.realdata
def test_convert_real_file_round_trip(mirror, tmp_path):
    src = mirror / "ncbi_disease/conll/devel.tsv"
    out = tmp_path / "dev.jsonl"
    assert convert_file(src, out, from_format="conll").documents == 923
    back = tmp_path / "dev.tsv"
    assert convert_file(out, back, to_format="conll").documents == 923
    assert back.read_bytes() == src.read_bytes()
