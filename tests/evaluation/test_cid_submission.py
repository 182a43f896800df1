"""A scorer cannot inflate a score (issue 12, class 11): the official BC5CDR CID
submission format (relation lines with MeSH ids, no mentions) is read and every
prediction is scored, strict or lenient."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from biorel.cli.evaluate import evaluate_files
from biorel.errors import Diagnostics
from biorel.io import pubtator

REPO = Path(__file__).resolve().parents[2]


def _benchmark():
    spec = importlib.util.spec_from_file_location("cid_submission", REPO / "benchmarks" / "cid_submission.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_relation_only_lines_read_as_entities_without_mentions():
    docs = pubtator.loads("101\tCID\tD001\tD002\n101\tCID\tD003\tD002\n\n102\tCID\tD001\tD009\n")
    assert [d.id for d in docs] == ["101", "102"] and docs[0].passages == [] and docs[0].mentions == []
    assert [(e.id, e.mention_ids, e.infons) for e in docs[0].entities] == [(i, (), {pubtator.UNMENTIONED: True}) for i in ("D001", "D002", "D003")]
    assert [(r.head, r.tail, r.directed) for r in docs[0].relations] == [("D001", "D002", True), ("D003", "D002", True)]
    assert pubtator.dumps(docs) == "101\tCID\tD001\tD002\n101\tCID\tD003\tD002\n\n102\tCID\tD001\tD009\n\n"


def test_small_submission_known_answer(tmp_path):
    gold = tmp_path / "gold.pubtator"
    gold.write_text(
        "1|t|Aspirin caused ulcers.\n1\t0\t7\tAspirin\tChemical\tD001241\n1\t15\t21\tulcers\tDisease\tD014456\n1\tCID\tD001241\tD014456\n\n"
        "2|t|Lithium caused tremor.\n2\t0\t7\tLithium\tChemical\tD008094\n2\t15\t21\ttremor\tDisease\tD014202\n2\tCID\tD008094\tD014202\n\n"
    )
    pred = tmp_path / "pred.pubtator"
    # one right, one naming a disease that is not in the abstract at all; document 2 missed
    pred.write_text("1\tCID\tD001241\tD014456\n1\tCID\tD001241\tD999999\n")
    for lenient in (False, True):
        diags = Diagnostics()
        r = evaluate_files(gold, pred, protocol="cid", lenient=lenient, diagnostics=diags, n_resamples=0)
        assert (r.micro.tp, r.micro.fp, r.micro.fn) == (1, 1, 1) and len(diags) == 0


@pytest.mark.realdata
@pytest.mark.parametrize("lenient", [False, True])
def test_bc5cdr_test_submission_every_prediction_counts(mirror, tmp_path, lenient):
    gold = mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt"
    pred = tmp_path / "submission.pubtator"
    built = _benchmark().build_submission(gold, pred)
    assert built == {"gold": 1066, "dropped": 355, "kept": 711, "false": 100}
    diags = Diagnostics()
    r = evaluate_files(gold, pred, protocol="cid", lenient=lenient, diagnostics=diags, n_resamples=0)
    m = r.micro
    assert (m.tp, m.fp, m.fn) == (711, 100, 355) and len(diags) == 0
    assert (round(m.precision, 4), round(m.recall, 4), round(m.f1, 4)) == (0.8767, 0.6670, 0.7576)


@pytest.mark.realdata
def test_cli_evaluate_cid_submission(mirror, tmp_path):
    from typer.testing import CliRunner

    from biorel.cli import app

    gold = mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt"
    pred = tmp_path / "submission.pubtator"
    _benchmark().build_submission(gold, pred)
    for extra in ([], ["--lenient"]):
        res = CliRunner().invoke(app, ["evaluate", str(gold), str(pred), "-p", "cid", "--bootstrap", "0", "-o", str(tmp_path / "r.json"), *extra])
        assert res.exit_code == 0, res.output
        import json

        micro = json.loads((tmp_path / "r.json").read_text())["micro"]
        assert (micro["tp"], micro["fp"], micro["fn"]) == (711, 100, 355)
