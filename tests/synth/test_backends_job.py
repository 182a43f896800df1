"""The OpenAI-compatible backend against a scripted loopback server, and the
resumable job (malformed replies, resume, kill -9)."""

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
from scripted_server import ScriptedServer, default_abstract

from biorel import io
from biorel.errors import BiorelError
from biorel.synth import BackendError, SamplingParams, SynthConfig, SynthJob, get_template, make_backend
from biorel.synth.backends import OpenAIHTTPBackend
from biorel.synth.job import ACCEPTED, ERRORS, REJECTED
from biorel.synth.report import diversity, synth_report
from biorel.synth.templates import Prompt

HERE = Path(__file__).parent


def _backend(srv, **kw):
    """An HTTP backend on the scripted server whose backoff sleeps are recorded, not slept."""
    sleeps: list[float] = []
    kw.setdefault("max_retries", 3)
    return OpenAIHTTPBackend(srv.base_url, "m", sleep=sleeps.append, **kw), sleeps


PROMPT = Prompt("completion", text="Instructions: x\nMain findings: A was isolated from B.\nAbstract:")
PARAMS = SamplingParams(0.8, 64, ("\n\n",), 1.0, 7)


def test_retries_then_succeeds_with_exponential_backoff():
    with ScriptedServer([("status", 500), ("status", 503), ("ok", "Fine.", "stop")]) as srv:
        b, sleeps = _backend(srv, backoff=1.0)
        out = b.generate(PROMPT, PARAMS)
        b.close()
    assert out.text == "Fine." and out.attempts == 3 and out.finish_reason == "stop"
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0
    body = srv.requests[0]
    assert (
        body["prompt"] == PROMPT.text and body["temperature"] == 0.8 and body["max_tokens"] == 64 and body["stop"] == ["\n\n"] and body["seed"] == 7
    )


@pytest.mark.parametrize(
    "script,reason,requests",
    [
        ([("status", 500)] * 4, "http_500", 4),
        ([("raw", "{not json")] * 4, "invalid_json", 4),
        ([("raw", '{"choices": []}')] * 4, "bad_schema", 4),
        ([("status", 400)], "http_400", 1),  # a client error is not retried
        ([("close",)] * 4, "connect", 4),
    ],
)
def test_gives_up_with_a_counted_reason(script, reason, requests):
    with ScriptedServer(script) as srv:
        b, _ = _backend(srv)
        with pytest.raises(BackendError) as e:
            b.generate(PROMPT, PARAMS)
        b.close()
    assert e.value.code == "E300" and e.value.reason == reason
    assert len(srv.requests) == requests


def test_timeout_is_retried():
    with ScriptedServer([("sleep", 1.5), ("ok", "In time.", "stop")]) as srv:
        b, _ = _backend(srv, timeout=0.5)
        out = b.generate(PROMPT, PARAMS)
        b.close()
    assert out.text == "In time." and out.attempts == 2


def test_chat_endpoint_and_api_key(monkeypatch):
    monkeypatch.setenv("BIOREL_TEST_KEY", "sekret")
    with ScriptedServer([("ok", "Chat reply.", "stop")]) as srv:
        b, _ = _backend(srv, api_key_env="BIOREL_TEST_KEY")
        out = b.generate(Prompt("chat", messages=(("system", "s"), ("user", "u"))), PARAMS)
        b.close()
    assert out.text == "Chat reply."
    assert srv.requests[0]["messages"] == [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    assert srv.headers[0]["Authorization"] == "Bearer sekret"
    monkeypatch.delenv("BIOREL_TEST_KEY")
    with pytest.raises(BiorelError) as e:
        make_backend("openai", api_key_env="BIOREL_TEST_KEY")
    assert e.value.code == "E304"
    with pytest.raises(BiorelError) as e:
        make_backend("openai", temperature=3)
    assert e.value.code == "E305"


def _records(out: Path) -> list[dict]:
    recs = []
    for name in (ACCEPTED, REJECTED):
        p = out / name
        if p.exists():
            recs += [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    return recs


def test_job_survives_malformed_replies_and_counts_them(tmp_path, seeds):
    """Every kind of bad reply: the job never dies, each outcome is counted, a
    failed key stays pending and a rerun completes it."""
    ok = " Marine organisms were studied. " * 3
    script = [
        ("status", 500),
        ("status", 500),
        ("status", 500),  # key 1: gives up after 3 attempts (max_retries=2)
        ("raw", "{oops"),  # key 2: invalid JSON once, then the default answer
        ("ok", "", "stop"),  # key 3: empty completion
        ("ok", ok + "and then the text was cut", "length"),  # key 4: cut by max tokens
        ("sleep", 1.5),  # key 5: timeout once, then the default answer
    ]
    out = tmp_path / "out"
    with ScriptedServer(script) as srv:
        b, _ = _backend(srv, max_retries=2, timeout=0.5, max_concurrency=1)
        tpl = get_template("paper")
        s = SynthJob(seeds, out, b, tpl, SynthConfig(n_per_seed=3)).run()
        assert s.backend_errors == {"http_500": 1}
        assert s.rejected["empty"] == 1 and s.rejected["truncated"] == 1
        assert s.processed == 8 and s.accepted == 6
        # rerun: only the failed key is generated again
        s2 = SynthJob(seeds, out, b, tpl, SynthConfig(n_per_seed=3)).run()
        b.close()
    assert s2.already_done == 8 and s2.processed == 1 and s2.accepted == 1
    recs = _records(out)
    keys = [r["metadata"]["synth"]["key"] for r in recs]
    assert len(keys) == len(set(keys)) == 9
    errors = [json.loads(x) for x in (out / ERRORS).read_text().splitlines()]
    assert [e["reason"] for e in errors] == ["http_500"]
    acc = list(io.read(out / ACCEPTED))  # a valid biorel corpus
    assert len(acc) == 7
    m = acc[0].metadata["synth"]
    for field in (
        "backend",
        "model",
        "template",
        "template_sha",
        "sampling",
        "seed_id",
        "sample_index",
        "temperature",
        "score",
        "prompt",
        "findings",
    ):
        assert field in m
    assert m["sampling"]["temperature"] == 0.8 and m["sampling"]["max_tokens"] == 512 and m["score"] == 1.0
    rep = synth_report(out, seeds)
    assert rep["records"] == 9 and rep["rejected_by_reason"] == {"empty": 1, "truncated": 1} and rep["pending_keys"] == 0


def test_job_config_change_is_refused_and_partial_line_is_truncated(tmp_path, seeds):
    out = tmp_path / "out"
    with ScriptedServer() as srv:
        b, _ = _backend(srv)
        SynthJob(seeds, out, b, get_template("paper"), SynthConfig(n_per_seed=1)).run()
        with pytest.raises(BiorelError) as e:
            SynthJob(seeds, out, b, get_template("chat"), SynthConfig(n_per_seed=1)).run()
        assert e.value.code == "E322" and "template" in str(e.value)
        # a killed writer leaves half a line: it is cut, reported, and redone
        lines = (out / ACCEPTED).read_text().splitlines(keepends=True)
        (out / ACCEPTED).write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
        job = SynthJob(seeds, out, b, get_template("paper"), SynthConfig(n_per_seed=2))
        s = job.run()
        b.close()
    assert s.truncated_partial_lines == 1 and [p.code for p in job.diagnostics] == ["E052"]
    assert s.already_done == 2 and s.processed == 4
    keys = [r["metadata"]["synth"]["key"] for r in _records(out)]
    assert sorted(keys) == sorted(f"{d.id}|t=0.8|i={i}" for d in seeds for i in range(2))


def test_unusable_seeds_are_skipped_and_reported(tmp_path, seeds):
    from biorel.types import Document

    bad = [seeds[0], seeds[0], Document("norel"), make_seed("notitle", title="", orgs=("Org",), chems=("Chem",))]
    job = SynthJob(bad, tmp_path / "o", None, get_template("paper"))
    assert [d.id for d in job.seeds] == ["S1", "notitle"] and job.summary.seeds_skipped == 2
    assert [p.code for p in job.diagnostics] == ["E320", "E320"]
    # a LOTUS-like seed without a title gets "Chemical constituents of ..."
    assert job.inputs["notitle"].title == "Chemical constituents of Org" and job.inputs["notitle"].title_source == "organisms"


def test_few_shot_uses_other_seeds_only(tmp_path):
    long = " ".join(["word"] * 60) + "."
    seeds = [make_seed(f"S{i}", abstract=f"Abstract {i} " + long) for i in range(4)]
    with ScriptedServer() as srv:
        b, _ = _backend(srv, max_concurrency=1)  # requests in task order
        job = SynthJob(seeds, tmp_path / "o", b, get_template("few-shot"), SynthConfig(n_per_seed=2))
        job.run()
        b.close()
    assert len(srv.requests) == 8
    for req, task in zip(srv.requests, job.tasks()):
        shots = req["prompt"].split("Abstract: ")[1:]
        own = f"Abstract {task.seed_id[1:]} "
        assert len(shots) == 2 and not any(s.startswith(own) for s in shots)


def test_near_duplicates_are_rejected(tmp_path, seeds):
    text = default_abstract("Main findings: Agelasine B and Nakamurol A were isolated from Agelas nakamurai.", 5)
    words = text.split()
    edited = " ".join(words[:-3] + ["changed"] + words[-2:])
    with ScriptedServer([("ok", text, "stop"), ("ok", edited, "stop")]) as srv:
        b, _ = _backend(srv, max_concurrency=1)
        s = SynthJob(seeds[:1], tmp_path / "o", b, get_template("paper"), SynthConfig(n_per_seed=2)).run()
        b.close()
    assert s.accepted == 1 and s.rejected == {"near_duplicate": 1}
    rej = _records(tmp_path / "o")[-1]["metadata"]["synth"]
    assert rej["near_duplicate_of"]["key"] == "S1|t=0.8|i=0"


def test_kill_dash_9_then_rerun_gives_each_record_once(tmp_path, seeds):
    """A subprocess runs ``biorel synth`` against a slow scripted server (another
    subprocess); it is killed with SIGKILL mid-run, then rerun to the end."""
    seed_file = tmp_path / "seeds.jsonl"
    io.write(seeds, seed_file)
    portfile = tmp_path / "port"
    server = subprocess.Popen([sys.executable, str(HERE / "scripted_server.py"), str(portfile), "0.15", "200"])
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
            "4",
            "--temperatures",
            "0.7,1.0",
            "--concurrency",
            "2",
            "--no-progress",
        ]
        job = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            n = sum(len((out / f).read_text().splitlines()) for f in (ACCEPTED, REJECTED) if (out / f).exists())
            if n >= 5:
                break
            time.sleep(0.05)
        os.kill(job.pid, signal.SIGKILL)
        job.wait()
        first = len(_records(out))
        assert 5 <= first < 24, "the kill should land mid-run"
        rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    finally:
        server.kill()
        server.wait()
    keys = [r["metadata"]["synth"]["key"] for r in _records(out)]
    expected = {f"{d.id}|t={t}|i={i}" for d in seeds for t in ("0.7", "1") for i in range(4)}
    assert len(keys) == 24 and set(keys) == expected
    assert f"{24 - first} written" in rerun.stderr


def test_diversity_known_answers():
    # "a b a b" -> unigrams 2 distinct / 4, bigrams {ab, ba} 2/3, trigrams {aba, bab} 2/2
    d = diversity(["a b a b", "c d"], 4, repeats=1, seed=0)
    assert d.tokens == 4
    texts_first = ["a b a b"]
    d1 = diversity(texts_first, 4, repeats=1)
    assert (d1.distinct_1, d1.distinct_2, d1.distinct_3, d1.vocabulary, d1.ttr) == (0.5, round(2 / 3, 4), 1.0, 2.0, 0.5)
    # n-grams do not cross abstract boundaries: "x y" + "z w" cut to 4 tokens has 2 bigrams, not 3
    d2 = diversity(["x y", "z w"], 4, repeats=1)
    assert d2.distinct_2 == 1.0 and d2.vocabulary == 4
    with pytest.raises(ValueError):
        diversity(["a b"], 5)


def test_two_synth_runs_into_one_folder_one_runs_the_other_gets_E050(tmp_path, seeds):
    """Issue 12, class 10: before the lock, two runs into one folder wrote every key twice."""
    from biorel.jobs import lock_path

    seed_file = tmp_path / "seeds.jsonl"
    io.write(seeds, seed_file)
    portfile = tmp_path / "port"
    server = subprocess.Popen([sys.executable, str(HERE / "scripted_server.py"), str(portfile), "0.15", "200"])
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
            "4",
            "--temperatures",
            "0.7,1.0",
            "--concurrency",
            "1",
            "--no-progress",
        ]
        first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline and not lock_path(out).exists():
            time.sleep(0.02)
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and "[E050]" in second.stderr and f"pid {first.pid}" in second.stderr
        assert first.wait(timeout=120) == 0
    finally:
        server.kill()
        server.wait()
    keys = [r["metadata"]["synth"]["key"] for r in _records(out)]
    assert len(keys) == 24 and len(set(keys)) == 24
    assert not lock_path(out).exists()
