"""``biorel evaluate``: table, --json, --report, --outputs, coded errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.types import Document, Entity, Passage, Relation

runner = CliRunner()


def _doc(doc_id: str, pairs: list[tuple[str, str]]) -> Document:
    return Document(doc_id, [Passage(0, "some text")], relations=[Relation(f"r{i}", "CID", h, t, directed=True) for i, (h, t) in enumerate(pairs)])


@pytest.fixture
def files(tmp_path):
    # gold: 1: C1-D1, C2-D2; 2: C3-D3.  pred: 1: C1-D1, C9-D9; 2: none.
    # -> TP 1, FP 1, FN 2: P 1/2, R 1/3, F1 2/5
    gold = [_doc("1", [("C1", "D1"), ("C2", "D2")]), _doc("2", [("C3", "D3")])]
    pred = [_doc("1", [("C1", "D1"), ("C9", "D9")]), _doc("2", [])]
    for d in gold + pred:  # relation arguments must exist to pass validation
        d.entities = [Entity(x, "Chemical" if x[0] == "C" else "Disease") for r in d.relations for x in (r.head, r.tail)]
    io.write(gold, tmp_path / "gold.jsonl")
    io.write(pred, tmp_path / "pred.jsonl")
    return tmp_path


def test_table_json_and_report(files):
    out = files / "out" / "scores.json"
    res = runner.invoke(
        app,
        [
            "evaluate",
            str(files / "gold.jsonl"),
            str(files / "pred.jsonl"),
            "-p",
            "cid",
            "--json",
            str(out),
            "--report",
            str(files / "rep"),
            "--bootstrap",
            "200",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "micro" in res.output and "95% CI" in res.output and "HTML report" in res.output
    d = json.loads(out.read_text())
    assert d["evaluator"] == "biorel.RE.CID.v1"
    assert (d["micro"]["tp"], d["micro"]["fp"], d["micro"]["fn"]) == (1, 1, 2)
    assert d["micro"]["precision"] == pytest.approx(1 / 2) and d["micro"]["recall"] == pytest.approx(1 / 3)
    assert d["micro"]["f1"] == pytest.approx(2 / 5)
    assert d["intervals"]["micro_f1"]["n_resamples"] == 200
    assert d["documents"] == {"1": {"tp": 1, "fp": 1, "fn": 1}, "2": {"tp": 0, "fp": 0, "fn": 1}}
    assert (files / "rep" / "index.html").exists() and (files / "rep" / "0-per_type.png").exists()


def test_json_to_stdout_and_switches(files):
    res = runner.invoke(
        app,
        [
            "evaluate",
            str(files / "gold.jsonl"),
            str(files / "pred.jsonl"),
            "--task",
            "re",
            "--untyped",
            "--undirected",
            "--json",
            "-",
            "--bootstrap",
            "0",
        ],
    )
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["evaluator"] == "biorel.RE.Concept.v1" and d["settings"]["typed"] is False and d["settings"]["directed"] is False
    assert list(d["per_type"]) == ["*"] and d["intervals"] == {}


def test_ner_match_option(files):
    res = runner.invoke(app, ["evaluate", str(files / "gold.jsonl"), str(files / "pred.jsonl"), "--task", "ner", "--match", "overlap", "--json", "-"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["settings"]["match"] == "overlap" and d["micro"]["tp"] == 0  # no mentions at all


def test_abroad_outputs(tmp_path):
    ents = [
        Entity("o", "organism", name="Erylus nobilis"),
        Entity("c1", "chemical", name="Eryloside G"),
        Entity("c2", "chemical", name="Eryloside H"),
    ]
    gold = [
        Document("a", [Passage(0, "t")], entities=ents, relations=[Relation("R0", "produces", "o", "c1"), Relation("R1", "produces", "o", "c2")]),
        Document("b", [Passage(0, "t")], entities=ents, relations=[Relation("R0", "produces", "o", "c1")]),
    ]
    io.write(gold, tmp_path / "gold.jsonl")
    (tmp_path / "out.json").write_text(json.dumps({"a": "The Erylus nobilis produces eryloside g; Erylus nobilis produces X", "b": None}))
    res = runner.invoke(app, ["evaluate", str(tmp_path / "gold.jsonl"), str(tmp_path / "out.json"), "-p", "abroad", "--outputs", "--json", "-"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    # a: TP eryloside g, FP x, FN eryloside h;  b: failed output, FN 1
    assert (d["micro"]["tp"], d["micro"]["fp"], d["micro"]["fn"]) == (1, 1, 2)
    (tmp_path / "bad.json").write_text("[1, 2]")
    res = runner.invoke(app, ["evaluate", str(tmp_path / "gold.jsonl"), str(tmp_path / "bad.json"), "-p", "abroad", "--outputs"])
    assert res.exit_code == 1 and "E208" in res.output


@pytest.mark.parametrize(
    "args,code",
    [
        (["-p", "nope"], "E001"),
        (["--task", "ner", "-p", "cid"], "E200"),
        (["-p", "cid", "--match", "overlap"], "E201"),
        (["-p", "cid", "-O", "composite=merge"], "E201"),
    ],
)
def test_coded_errors(files, args, code):
    res = runner.invoke(app, ["evaluate", str(files / "gold.jsonl"), str(files / "pred.jsonl"), *args])
    assert res.exit_code == 1 and code in res.output, res.output


def test_missing_file_and_unknown_documents(files, tmp_path):
    res = runner.invoke(app, ["evaluate", str(files / "gold.jsonl"), str(files / "nope.jsonl")])
    assert res.exit_code == 1 and "E171" in res.output
    io.write([_doc("99", [])], tmp_path / "extra.jsonl")
    res = runner.invoke(app, ["evaluate", str(files / "gold.jsonl"), str(tmp_path / "extra.jsonl"), "-p", "cid"])
    assert res.exit_code == 1 and "E018" in res.output


@pytest.mark.realdata
def test_bc5cdr_across_formats(mirror, tmp_path):
    if "pubtator" not in io.format_names():
        pytest.skip("biorel.io.pubtator not available")
    gold = mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt"
    io.write(io.read(gold, "pubtator"), tmp_path / "pred.jsonl")  # the same documents, another format
    res = runner.invoke(app, ["evaluate", str(gold), str(tmp_path / "pred.jsonl"), "-p", "cid", "--json", "-", "--bootstrap", "100"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["micro"] == {"tp": 1066, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_lenient_reports_and_skips(files):
    args = ["evaluate", str(files / "gold.jsonl"), str(files / "pred.jsonl"), "-p", "mention", "--bootstrap", "0"]
    res = runner.invoke(app, args)  # entity-level relations cannot be scored at mention level
    assert res.exit_code == 1 and "E210" in res.output
    res = runner.invoke(app, [*args, "--lenient", "--json", "-"])
    assert res.exit_code == 0
    assert res.stderr.count("E210") == 5  # 3 gold + 2 predicted relations, each reported
    assert json.loads(res.stdout)["micro"]["tp"] == 0
