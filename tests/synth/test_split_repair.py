"""Splitting long seeds into relation groups, and feedback repairs, against the
scripted backend (tests/synth/scripted_server.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_seed
from hypothesis import given, settings
from hypothesis import strategies as st
from scripted_server import ScriptedServer, default_abstract
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.errors import BiorelError
from biorel.synth import SynthConfig, SynthJob, get_template, verbalise
from biorel.synth.backends import OpenAIHTTPBackend
from biorel.synth.groups import partition_relations, seed_groups
from biorel.synth.job import ACCEPTED, ERRORS, MANIFEST, REJECTED
from biorel.synth.report import format_report, synth_report
from biorel.synth.templates import COMPLETION_REPAIR, parse_template
from biorel.types import Document, Entity, Passage, Relation

HERE = Path(__file__).parent
MARKER = COMPLETION_REPAIR.split("{")[0].strip()  # what the scripted server looks for in a repair prompt


def _backend(srv, **kw):
    kw.setdefault("max_retries", 1)
    kw.setdefault("max_concurrency", 1)
    return OpenAIHTTPBackend(srv.base_url, "m", sleep=lambda s: None, **kw)


def _records(out: Path) -> list[dict]:
    return [json.loads(x) for f in (ACCEPTED, REJECTED) if (out / f).exists() for x in (out / f).read_text().splitlines() if x.strip()]


def _genista() -> Document:
    """The shape of seed 18167044: 12 entities, three organisms (6, 2 and 1 chemicals)."""
    orgs = ["Genista morisii", "Bituminaria bituminosa", "Genista ephedroides"]
    chems = [
        "Luteolin 7-glucuronide",
        "Genistein",
        "Daidzein",
        "Luteolin",
        "5-O-Methylgenistein",
        "Genistin",
        "Pterocarpan X",
        "Bitucarpin A",
        "Licoflavone C",
    ]
    pairs = [("O0", f"C{i}") for i in range(6)] + [("O1", "C6"), ("O1", "C7"), ("O2", "C8")]
    return make_seed("G", "Phenolics of leguminous plants.", chems=chems, orgs=orgs, rels=pairs)


def _series_seed(n: int = 10) -> Document:
    chems = [f"Oxytropiol {chr(ord('A') + i)}" for i in range(n)]
    order = [4, 0, 1, 8, 7, 6, 2, 9, 5, 3][:n] if n == 10 else list(range(n))  # relation order as in seed 31151062
    return make_seed("X", "Oxytropiols from a fungus.", chems=chems, orgs=("Alternaria oxytropis",), rels=[("O0", f"C{i}") for i in order])


def _entities(rels) -> set[str]:
    return {x for r in rels for x in (r.head, r.tail)}


# ---------------------------------------------------------------- partition
def test_partition_keeps_organisms_together_and_drops_nothing():
    doc = _genista()
    assert partition_relations(doc, 0) == [doc.relations]
    assert partition_relations(doc, 12) == [doc.relations]
    groups = partition_relations(doc, 6)
    # Genista morisii (7 entities) is cut in two chunks of three chemicals; Genista
    # ephedroides joins the first chunk (6 entities); Bituminaria has its own group
    assert [[r.id for r in g] for g in groups] == [["R0", "R1", "R2", "R8"], ["R3", "R4", "R5"], ["R6", "R7"]]
    assert sorted(r.id for g in groups for r in g) == sorted(r.id for r in doc.relations)
    assert all(len(_entities(g)) <= 6 for g in groups)
    assert partition_relations(doc, 6) == groups  # deterministic
    # every organism whose relations fit stays whole
    assert [[r.id for r in g] for g in partition_relations(doc, 8)] == [["R0", "R1", "R2", "R3", "R4", "R5"], ["R6", "R7", "R8"]]


def test_a_cut_series_stays_a_series():
    doc = _series_seed()
    groups = seed_groups(doc, 6)
    assert [g.of for g in groups] == [2, 2] and [len(g.targets) for g in groups] == [6, 6]
    assert [verbalise(g.doc) for g in groups] == [
        "Oxytropiols A-E were isolated from Alternaria oxytropis.",
        "Oxytropiols F-J were isolated from Alternaria oxytropis.",
    ]
    assert groups[0].provenance() == {
        "index": 0,
        "of": 2,
        "relations": [r.id for r in groups[0].doc.relations],
        "n_entities": 6,
        "seed_relations": 10,
    }


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 11)), min_size=1, max_size=25),
    st.integers(2, 8),
)
def test_partition_properties(pairs, k):
    """Every relation in exactly one group; a group within the limit; a head whose
    relations fit the limit is never cut; the same input gives the same groups."""
    ents = [Entity(f"O{i}", "organism", name=f"Org {i}") for i in range(4)] + [Entity(f"C{i}", "chemical", name=f"Chem{i}x") for i in range(12)]
    rels = [Relation(f"R{i}", "produces", f"O{h}", f"C{t}") for i, (h, t) in enumerate(pairs)]
    doc = Document("P", passages=[Passage(0, "T", "title")], entities=ents, relations=rels)
    groups = partition_relations(doc, k)
    ids = [r.id for g in groups for r in g]
    assert sorted(ids) == sorted(r.id for r in rels) and len(ids) == len(set(ids))
    if len(_entities(rels)) > k:
        assert all(len(_entities(g)) <= k for g in groups)
        for head in {r.head for r in rels}:
            mine = [r for r in rels if r.head == head]
            if len(_entities(mine)) <= k:
                assert sum(any(r.head == head for r in g) for g in groups) == 1
    else:
        assert len(groups) == 1
    for g in groups:  # seed order inside a group
        assert [r.id for r in g] == [r.id for r in rels if r in g]
    assert partition_relations(doc, k) == groups


# ---------------------------------------------------------------- job, split mode
def test_split_job_targets_one_group_per_record(tmp_path):
    seeds = [_genista(), make_seed("S")]
    out = tmp_path / "o"
    with ScriptedServer() as srv:
        b = _backend(srv)
        s = SynthJob(seeds, out, b, get_template("paper"), SynthConfig(n_per_seed=4, max_entities=6)).run()
        b.close()
    assert s.seeds_split == 1 and s.processed == 8 and s.accepted == 8
    recs = {r["metadata"]["synth"]["key"]: r for r in _records(out)}
    assert sorted(recs) == sorted([f"G|t=0.8|i={i}" for i in range(4)] + [f"S|t=0.8|i={i}" for i in range(4)])
    group_rels = [["R0", "R1", "R2", "R8"], ["R3", "R4", "R5"], ["R6", "R7"]]
    for i in range(4):
        r = recs[f"G|t=0.8|i={i}"]
        m = r["metadata"]["synth"]
        g = i % 3  # sample i targets group i mod 3
        assert m["group"] == {
            "index": g,
            "of": 3,
            "relations": group_rels[g],
            "n_entities": len(_entities([x for x in seeds[0].relations if x.id in group_rels[g]])),
            "seed_relations": 9,
        }
        # findings, labels and score cover the group only
        assert [x["id"] for x in r["relations"]] == group_rels[g]
        assert {e["id"] for e in r["entities"]} == _entities([x for x in seeds[0].relations if x.id in group_rels[g]])
        assert m["n_targets"] == m["group"]["n_entities"] and m["score"] == 1.0
        assert ("Bitucarpin A" in m["findings"]) == (g == 2) and ("Genistin" in m["findings"]) == (g == 1)
    assert recs["S|t=0.8|i=0"]["metadata"]["synth"]["group"]["of"] == 1
    rep = synth_report(out, seeds)
    assert rep["split_records"] == 4 and rep["seeds_split"] == 1
    assert rep["relation_coverage"] == {"covered": 11, "relations": 11, "rate": 1.0}


def test_a_seed_with_more_groups_than_n_per_seed_gets_one_abstract_per_group(tmp_path):
    with ScriptedServer() as srv:
        b = _backend(srv)
        job = SynthJob([_genista()], tmp_path / "o", b, get_template("paper"), SynthConfig(n_per_seed=1, max_entities=6, temperatures=(0.7, 1.0)))
        s = job.run()
        b.close()
    assert [(t.key, t.group) for t in job.tasks()] == [(f"G|t={t}|i={i}", i) for t in ("0.7", "1") for i in range(3)]
    assert s.processed == 6


# ---------------------------------------------------------------- repairs
AGELAS = "Agelasine B and Nakamurol A were isolated from Agelas nakamurai."


def _text(seed: int, findings: str) -> str:
    return default_abstract(f"Main findings: {findings}", seed).strip()


def test_chat_repair_is_a_further_turn_and_keeps_the_models_text(tmp_path):
    first = _text(1, "Agelasine B was isolated from Agelas nakamurai.")  # misses Nakamurol A
    second = _text(2, AGELAS)
    out = tmp_path / "o"
    with ScriptedServer([("ok", first, "stop"), ("ok", second, "stop")]) as srv:
        b = _backend(srv)
        s = SynthJob([make_seed("S1")], out, b, get_template("chat-verbatim"), SynthConfig(n_per_seed=1, repairs=1)).run()
        b.close()
    assert len(srv.requests) == 2
    msgs = srv.requests[1]["messages"]
    assert msgs[:2] == srv.requests[0]["messages"] and [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[2]["content"] == first and msgs[3]["content"].startswith('Your abstract does not name "Nakamurol A".')
    assert srv.requests[1]["seed"] == srv.requests[0]["seed"] + 1
    assert s.accepted == 1 and s.accepted_after_repair == 1 and s.accepted_first_time == 0 and s.generations == 2
    assert s.rejected == {} and s.failed_attempts == {"low_score": 1}
    rec = _records(out)[0]
    m = rec["metadata"]["synth"]
    assert rec["passages"][1]["text"] == second  # the model's text, untouched
    assert m["generations"] == 2 and m["first_score"] == round(2 / 3, 6) and m["first_reason"] == "low_score" and m["score"] == 1.0
    assert m["repairs"][0]["text"] == first and m["repairs"][0]["missing"] == ["C1"] and m["repairs"][0]["feedback"] == msgs[3]["content"]
    assert m["prompt"] == srv.requests[0]["messages"] and m["sampling"]["seed"] == srv.requests[1]["seed"]
    rep = synth_report(out)
    assert rep["accepted_first_time"] == 0 and rep["accepted_after_repair"] == 1 and rep["repaired_records"] == 1
    assert rep["failed_replies_by_reason"] == {"low_score": 1} and rep["rejected_by_reason"] == {}
    assert rep["aligned_rate"] == 1.0 and rep["first_reply_aligned_rate"] == 0.0 and rep["generations"] == 2
    assert "accepted first time 0, after repair 1" in format_report(rep)


def test_chat_reprompt_style_sends_a_fresh_prompt(tmp_path):
    first = _text(1, "Agelasine B was isolated from Agelas nakamurai.")
    out = tmp_path / "o"
    with ScriptedServer([("ok", first, "stop"), ("ok", _text(2, AGELAS), "stop")]) as srv:
        b = _backend(srv)
        s = SynthJob([make_seed("S1")], out, b, get_template("chat-verbatim"), SynthConfig(n_per_seed=1, repairs=1, repair_style="reprompt")).run()
        b.close()
    one, two = srv.requests[0]["messages"], srv.requests[1]["messages"]
    assert [m["role"] for m in two] == ["system", "user"] and two[0] == one[0]
    assert two[1]["content"] == one[1]["content"] + '\n\nThe abstract must name "Nakamurol A" exactly as written.'
    assert s.accepted_after_repair == 1
    m = _records(out)[0]["metadata"]["synth"]
    assert m["repair_style"] == "reprompt" and json.loads((out / MANIFEST).read_text())["fingerprint"]["repair"].startswith("reprompt:")
    with pytest.raises(BiorelError) as e:
        SynthConfig(repair_style="again").check()
    assert e.value.code == "E321"


def test_completion_repair_reprompts_with_the_missing_names(tmp_path):
    with ScriptedServer(forget_unless=MARKER) as srv:
        b = _backend(srv)
        s = SynthJob([make_seed("S1")], tmp_path / "o", b, get_template("paper"), SynthConfig(n_per_seed=1, repairs=1)).run()
        b.close()
    assert len(srv.requests) == 2
    assert srv.requests[1]["prompt"] == srv.requests[0]["prompt"].replace(
        f"Main findings: {AGELAS}\n",
        f'Main findings: {AGELAS} The abstract names each of these exactly as written: "Agelas nakamurai", "Agelasine B" and "Nakamurol A".\n',
    )
    assert s.accepted_after_repair == 1 and s.failed_attempts == {"low_score": 1}


def test_repairs_are_bounded_and_every_failed_reply_is_counted(tmp_path):
    low = [("ok", _text(i, "Agelasine B was isolated from Agelas nakamurai."), "stop") for i in range(3)]
    out = tmp_path / "o"
    with ScriptedServer(low) as srv:
        b = _backend(srv)
        s = SynthJob([make_seed("S1")], out, b, get_template("chat-verbatim"), SynthConfig(n_per_seed=1, repairs=2)).run()
        b.close()
    assert len(srv.requests) == 3 and len(srv.requests[2]["messages"]) == 6
    assert s.accepted == 0 and s.rejected == {"low_score": 1} and s.failed_attempts == {"low_score": 3} and s.generations == 3
    m = _records(out)[0]["metadata"]["synth"]
    assert m["generations"] == 3 and len(m["repairs"]) == 2 and m["status"] == "rejected"
    assert synth_report(out)["failed_replies_by_reason"] == {"low_score": 3}


def test_no_repair_for_other_failures_or_when_off(tmp_path):
    short = "Agelasine B was isolated from Agelas nakamurai."  # too short and misses a name: not repaired
    with ScriptedServer([("ok", short, "stop"), ("ok", _text(3, "Agelasine B was isolated from Agelas nakamurai."), "stop")]) as srv:
        b = _backend(srv)
        s1 = SynthJob([make_seed("S1")], tmp_path / "a", b, get_template("chat-verbatim"), SynthConfig(n_per_seed=1, repairs=1)).run()
        s2 = SynthJob([make_seed("S1")], tmp_path / "b", b, get_template("chat-verbatim"), SynthConfig(n_per_seed=1, repairs=0)).run()
        b.close()
    assert len(srv.requests) == 2
    assert s1.rejected == {"too_short": 1} and s2.rejected == {"low_score": 1} and s2.generations == 1


def test_backend_failure_during_a_repair_leaves_the_key_pending(tmp_path):
    out = tmp_path / "o"
    with ScriptedServer([("ok", _text(1, "Agelasine B was isolated from Agelas nakamurai."), "stop"), ("status", 500), ("status", 500)]) as srv:
        b = _backend(srv)
        tpl = get_template("chat-verbatim")
        s = SynthJob([make_seed("S1")], out, b, tpl, SynthConfig(n_per_seed=1, repairs=1)).run()
        assert s.processed == 0 and s.backend_errors == {"http_500": 1}
        err = json.loads((out / ERRORS).read_text())
        assert err["generation"] == 1  # it failed after one finished generation
        srv.script = [("ok", _text(4, AGELAS), "stop")]
        s2 = SynthJob([make_seed("S1")], out, b, tpl, SynthConfig(n_per_seed=1, repairs=1)).run()
        b.close()
    assert s2.processed == 1 and s2.accepted_first_time == 1


# ---------------------------------------------------------------- options and manifest
def test_options_are_checked_and_part_of_the_fingerprint(tmp_path, seeds):
    for kw in ({"max_entities": 1}, {"max_entities": -1}, {"repairs": -1}, {"repairs": 6}):
        with pytest.raises(BiorelError) as e:
            SynthConfig(**kw).check()
        assert e.value.code == "E321"
    out = tmp_path / "o"
    with ScriptedServer() as srv:
        b = _backend(srv)
        SynthJob(seeds[:1], out, b, get_template("paper"), SynthConfig(n_per_seed=1)).run()
        for kw in ({"max_entities": 4}, {"repairs": 1}):
            with pytest.raises(BiorelError) as e:
                SynthJob(seeds[:1], out, b, get_template("paper"), SynthConfig(n_per_seed=1, **kw)).run()
            assert e.value.code == "E322"
        # a folder written before the two options existed resumes with both off
        legacy = tmp_path / "legacy"
        SynthJob(seeds[:1], legacy, b, get_template("paper"), SynthConfig(n_per_seed=1, max_entities=0, repairs=0)).run()
        manifest = json.loads((legacy / MANIFEST).read_text())
        for k in ("max_entities", "repairs", "repair"):
            del manifest["fingerprint"][k]
        (legacy / MANIFEST).write_text(json.dumps(manifest))
        s = SynthJob(seeds[:1], legacy, b, get_template("paper"), SynthConfig(n_per_seed=2, max_entities=0, repairs=0)).run()
        with pytest.raises(BiorelError):
            SynthJob(seeds[:1], legacy, b, get_template("paper"), SynthConfig(n_per_seed=2)).run()
        b.close()
    assert s.already_done == 1 and s.processed == 1


def test_template_repair_text():
    base = {"name": "t.Chat.v1", "kind": "chat", "user": "Write about {title}."}
    assert parse_template(base, "x").sha256 == parse_template({**base, "repair": ""}, "x").sha256
    tpl = parse_template({**base, "repair": "Add {missing} to your abstract on {title}."}, "x")
    assert tpl.sha256 != parse_template(base, "x").sha256 and tpl.repair_text("turn").startswith("Add")
    with pytest.raises(BiorelError) as e:
        parse_template({**base, "repair": "Add {names}."}, "x")
    assert e.value.code == "E310"
    # built-in templates keep the hashes recorded by earlier jobs
    assert get_template("chat-verbatim").sha256 == "2bde197ac07238e5" and get_template("paper").sha256 == "0bd487322f319c8b"


def test_cli_options(tmp_path):
    from biorel.cli import synth as cli_synth

    assert (cli_synth.DEFAULT_MAX_ENTITIES, cli_synth.DEFAULT_REPAIRS) == (SynthConfig().max_entities, SynthConfig().repairs)
    seed_file = tmp_path / "seeds.jsonl"
    io.write([_genista()], seed_file)
    runner = CliRunner()
    r = runner.invoke(app, ["synth", str(seed_file), "-o", str(tmp_path / "o"), "--max-entities", "1"])
    assert r.exit_code == 1 and "E321" in r.output
    with ScriptedServer(forget_unless=MARKER) as srv:
        r = runner.invoke(
            app,
            [
                "synth",
                str(seed_file),
                "-o",
                str(tmp_path / "o"),
                "--backend",
                "openai",
                "--base-url",
                srv.base_url,
                "--template",
                "paper",
                "--n-per-seed",
                "3",
                "--max-entities",
                "8",
                "--repairs",
                "1",
                "--no-progress",
            ],
        )
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())  # the console wraps long lines
    assert "3 written (3 accepted, 100.0%: 0 first time, 3 after repair)" in text and "1 seeds split; 6 generations" in text
    assert "Failed replies (repaired ones included): low_score 3" in text
    assert len(srv.requests) == 6
    groups = [m["metadata"]["synth"]["group"]["index"] for m in _records(tmp_path / "o")]
    assert sorted(groups) == [0, 0, 1]


def test_kill_dash_9_in_split_and_repair_mode_gives_each_record_once(tmp_path, seeds):
    """Like the plain kill -9 test, with seeds split into groups and a server
    that forgets the findings in every first reply, so each key needs a repair
    (the kill can land between a key's two requests)."""
    seed_file = tmp_path / "seeds.jsonl"
    io.write(seeds, seed_file)
    portfile = tmp_path / "port"
    server = subprocess.Popen([sys.executable, str(HERE / "scripted_server.py"), str(portfile), "0.1", "400", MARKER])
    try:
        for _ in range(100):
            if portfile.exists():
                break
            time.sleep(0.05)
        url = f"http://127.0.0.1:{portfile.read_text()}/v1"
        out = tmp_path / "out"
        cmd = [
            sys.executable,
            "-c",
            "from biorel.cli import main; main()",
            "synth",
            str(seed_file),
            "-o",
            str(out),
            "--backend",
            "openai",
            "--base-url",
            url,
            "--template",
            "paper",
            "--n-per-seed",
            "3",
            "--temperatures",
            "0.7,1.0",
            "--concurrency",
            "2",
            "--max-entities",
            "3",
            "--repairs",
            "1",
            "--no-progress",
        ]
        job = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            n = sum(len((out / f).read_text().splitlines()) for f in (ACCEPTED, REJECTED) if (out / f).exists())
            if n >= 4:
                break
            time.sleep(0.02)
        os.kill(job.pid, signal.SIGKILL)
        job.wait()
        first = len(_records(out))
        assert 4 <= first < 18, "the kill should land mid-run"
        rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    finally:
        server.kill()
        server.wait()
    recs = _records(out)
    keys = [r["metadata"]["synth"]["key"] for r in recs]
    # S2 (Dendronephthya gigantea and three sterols: 4 entities) is split in two groups
    expected = {f"{d.id}|t={t}|i={i}" for d in seeds for t in ("0.7", "1") for i in range(3)}
    assert len(keys) == 18 and set(keys) == expected
    n_groups = {"S1": 1, "S2": 2, "S3": 1}
    for r in recs:
        m = r["metadata"]["synth"]
        assert m["group"]["of"] == n_groups[m["seed_id"]] and m["group"]["index"] == m["sample_index"] % n_groups[m["seed_id"]]
        assert m["status"] == "accepted" and m["generations"] == 2 and m["first_score"] == 0.0
    assert f"{18 - first} written" in rerun.stderr
