"""``biorel query ...`` on the command line: the same answers as the functions,
every output format, coded errors with exit code 1."""

from __future__ import annotations

import csv
import io as _io
import json

import pytest
from typer.testing import CliRunner

from biorel.cli import app
from biorel.query import counts, evidence, top_relations

runner = CliRunner()


@pytest.fixture
def out(out) -> str:  # the two-part output of conftest.py, as a command-line argument
    return str(out)


def invoke(*args: str):
    res = runner.invoke(app, ["query", *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res


def test_json_output_is_the_functions_answer(out):
    res = invoke("top-relations", out, "--type", "CID", "--limit", "5", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == json.loads(json.dumps(top_relations(out, type="CID", limit=5).records()))
    res = invoke("evidence", out, "--head", "aspirin", "--tail", "D1", "--type", "CID", "--format", "jsonl")
    assert [json.loads(line) for line in res.output.splitlines()] == evidence(out, "aspirin", "D1", type="CID").records()


def test_csv_and_table_output(out):
    res = invoke("counts", out, "--format", "csv")
    assert res.exit_code == 0
    rows = list(csv.reader(_io.StringIO(res.output)))
    assert rows[0] == ["what", "name", "count"] and rows[1:] == [[str(c) for c in row] for row in counts(out).rows]
    res = invoke("top-relations", out, "--min-score", "0.45")
    assert res.exit_code == 0 and "Aspirin" in res.output and "2 row(s)" in res.output
    res = invoke("sql", out, "SELECT type, count(*) AS n FROM relations GROUP BY type ORDER BY n DESC")
    assert res.exit_code == 0 and "CID" in res.output and "2 row(s)" in res.output


@pytest.mark.parametrize(
    "args,code",
    [
        (["sql", "{out}", "SELECT nope FROM relations"], "E548"),
        (["counts", "{tmp}"], "E540"),
        (["top-relations", "{out}", "--limit", "0"], "E549"),
        (["counts", "{out}", "--format", "xml"], "E549"),
        (["evidence", "{out}", "--head", "", "--tail", "x"], "E549"),
    ],
)
def test_errors_exit_1_with_their_code(out, tmp_path, args, code):
    res = invoke(*(a.format(out=out, tmp=tmp_path) for a in args))
    assert res.exit_code == 1 and f"[{code}]" in res.output, res.output


def test_help_lists_the_queries():
    res = runner.invoke(app, ["query", "--help"])
    assert res.exit_code == 0
    assert all(cmd in res.output for cmd in ("top-relations", "evidence", "counts", "sql"))
