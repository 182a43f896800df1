"""``biorel sample`` end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.types import Document, Entity, Passage, Relation

runner = CliRunner()

ROWS = [
    # structure, organism, kingdom, reference
    ("c1", "o1", "Plants", "ref_a"),
    ("c2", "o1", "Plants", "ref_a"),
    ("c3", "o1", "Plants", "ref_a"),
    ("c1", "o2", "Fungi", "ref_b"),
    ("c4", "o3", "Fungi", "ref_c"),
    ("c5", "o3", "Fungi", "ref_c"),
    ("c1", "o1", "Plants", "ref_d"),
    ("c6", "o4", "Metazoa", "ref_e"),
]


@pytest.fixture
def lotus(tmp: Path) -> Path:
    p = tmp / "lotus.tsv"
    with open(p, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(
            ["structure_wikidata", "structure_nameTraditional", "organism_wikidata", "organism_name", "organism_taxonomy_02kingdom", "reference_doi"]
        )
        for c, o, k, r in ROWS:
            w.writerow([c, c.upper(), o, o.upper(), k, r])
    return p


def invoke(*args):
    return runner.invoke(app, ["sample", *map(str, args)])


def test_picks_to_stdout(lotus):
    r = invoke(lotus, "-n", 3, "--on", "structure_wikidata,organism_wikidata")
    assert r.exit_code == 0, r.output
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert lines[0].startswith("rank\titem\tH(structure_wikidata)\tH(organism_wikidata)\tdutopia")
    assert len(lines) == 4
    # ref_a has 3 distinct chemicals: the best first pick by distance to utopia
    assert lines[1].split("\t")[1] == "ref_a"


def test_files_subcorpus_and_report(lotus, tmp):
    r = invoke(
        lotus,
        "-n",
        4,
        "--on",
        "structure_wikidata,organism_wikidata",
        "--stratify",
        "organism_taxonomy_02kingdom",
        "-o",
        tmp / "picks.json",
        "--subcorpus",
        tmp / "sub.tsv",
        "--report",
        tmp / "rep",
        "--selector",
        "sum",
    )
    assert r.exit_code == 0, r.output
    d = json.loads((tmp / "picks.json").read_text())
    picked = [p["item"] for p in d["picks"]]
    assert len(picked) == 4 and d["config"]["selector"] == "sum"
    assert d["quota"] == {"Fungi": 2, "Metazoa": 1, "Plants": 1}
    sub = list(csv.DictReader(open(tmp / "sub.tsv", encoding="utf-8"), delimiter="\t"))
    assert {row["reference_doi"] for row in sub} == set(picked)
    assert len(sub) == sum(1 for row in ROWS if row[3] in picked)
    assert (tmp / "rep" / "report.md").exists() and (tmp / "rep" / "strata.png").exists()


def test_subcorpus_as_documents(lotus, tmp):
    r = invoke(lotus, "-n", 2, "--on", "structure_wikidata,organism_wikidata", "--subcorpus", tmp / "sub.jsonl", "-o", tmp / "p.tsv")
    assert r.exit_code == 0, r.output
    docs = io.load(tmp / "sub.jsonl")
    picked = [ln.split("\t")[1] for ln in (tmp / "p.tsv").read_text().splitlines()[1:]]
    assert sorted(d.id for d in docs) == sorted(picked)


def test_stop_keeps_the_prefix_up_to_the_stopping_step(lotus, tmp):
    r = invoke(lotus, "-n", "stop", "--on", "structure_wikidata,organism_wikidata", "-o", tmp / "p.json", "--subcorpus", tmp / "s.tsv")
    assert r.exit_code == 0, r.output
    d = json.loads((tmp / "p.json").read_text())
    assert len(d["picks"]) == 5  # the full ranking is written
    keep = {p["item"] for p in d["picks"][: d["stop"]["step"]]}
    sub = list(csv.DictReader(open(tmp / "s.tsv", encoding="utf-8"), delimiter="\t"))
    assert {row["reference_doi"] for row in sub} == keep


def test_corpus_input_by_entity_type(tmp):
    docs = []
    for i, (chem, dis) in enumerate([("D1", "C1"), ("D1", "C2"), ("D2", "C1")]):
        docs.append(
            Document(
                id=f"p{i}",
                passages=[Passage(0, "text")],
                entities=[Entity(chem, "Chemical"), Entity(dis, "Disease")],
                relations=[Relation("R1", "CID", chem, dis)],
            )
        )
    io.write(docs, tmp / "c.jsonl")
    r = invoke(tmp / "c.jsonl", "-n", 2, "--on", "Chemical,Disease", "--sampler", "random", "--seed", "4")
    assert r.exit_code == 0, r.output
    assert len([ln for ln in r.stdout.splitlines() if ln.startswith(("1\t", "2\t"))]) == 2


@pytest.mark.parametrize(
    "args,code",
    [
        (["--on", "nope"], "E221"),
        (["-n", "many", "--on", "structure_wikidata"], "E220"),
        (["-n", "99", "--on", "structure_wikidata"], "E225"),
        (["--on", "structure_wikidata", "--selector", "max"], "E220"),
        (["--on", "structure_wikidata", "-o", "x.xlsx"], "E228"),
    ],
)
def test_errors_exit_1_with_the_code(lotus, tmp, args, code, monkeypatch):
    monkeypatch.chdir(tmp)
    r = invoke(lotus, *args)
    assert r.exit_code == 1
    assert f"[{code}]" in r.stderr


@pytest.mark.realdata
def test_reference_example_through_the_cli(mirror, tmp):
    ex = mirror / "abroad_re_lotus" / "gme_sampler_example"
    r = invoke(ex / "test_data.csv", "-n", 10, "--on", "structure_wikidata,organism_wikidata", "-o", tmp / "p.tsv")
    assert r.exit_code == 0, r.output
    got = [ln.split("\t") for ln in (tmp / "p.tsv").read_text().splitlines()[1:]]
    want = [ln.split("\t") for ln in (ex / "expected_top_10.tsv").read_text().splitlines()[1:]]
    assert [g[1] for g in got] == [w[0] for w in want]
    for g, w in zip(got, want):
        assert abs(float(g[2]) - float(w[1])) < 1e-4 and abs(float(g[3]) - float(w[2])) < 1e-4


def test_progress_bar_reports_every_step(lotus):
    from biorel.cli.sample import _progress, run_sample

    bar = _progress(True, 5)
    with bar as update:
        update(2, 5)
        assert bar.bar.tasks[0].completed == 2
        update(5, 5)
    assert bar.bar.tasks[0].completed == 5 and bar.bar.tasks[0].total == 5
    with _progress(None, 5) as update:  # short runs: no bar
        assert update is None
    run = run_sample(lotus, ["structure_wikidata", "organism_wikidata"], 3, progress=True)
    assert len(run.result) == 3 and run.selected == 3
