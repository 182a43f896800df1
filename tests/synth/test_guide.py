"""Grammar-guided decoding (biorel.synth.guide): the grammar text, how backends
send it, how the job records and fingerprints it. The real sampler is
exercised in test_llm_server.py (marked ``llm``)."""

from __future__ import annotations

import json

import pytest
from scripted_server import ScriptedServer

from biorel.errors import BiorelError
from biorel.synth import SamplingParams, SynthConfig, SynthJob, get_template
from biorel.synth.backends import OpenAIHTTPBackend
from biorel.synth.guide import FindingsGuide, findings_grammar, gbnf_literal, grammar_sha
from biorel.synth.job import ACCEPTED, REJECTED
from biorel.synth.templates import Prompt


def test_grammar_known_answer():
    g = findings_grammar("Agelasine B was isolated from Agelas nakamurai.", intro_sentences=2, rest_sentences=4, max_sentence_chars=100)
    assert g.splitlines() == [
        'root ::= " "? intro findings rest',
        "intro ::= sentence{0,2}",
        'findings ::= [Aa] "gelasine B was isolated from Agelas nakamurai" end',
        'end ::= "." | [ ,;(] schar{0,98} "."',
        'rest ::= (" " schar schar{0,98} "."){0,4}',
        'sentence ::= schar schar{0,98} ". "',
        'schar ::= [^.\\n] | "." [^ .\\n]',
    ]


def test_serial_comma_is_allowed_in_lists_only():
    g = findings_grammar("A1, B2 and C3 were isolated from Xus yus and Zus wus. D4 and E5 were isolated from Vus.")
    line = next(x for x in g.splitlines() if x.startswith("findings ::="))
    # the list "A1, B2 and C3" may take the serial comma; "Xus yus and Zus wus" and "D4 and E5" may not
    assert (
        line == 'findings ::= [Aa] "1, B2" ","? " and " "C3 were isolated from Xus yus" " and " "Zus wus. D4" " and " "E5 were isolated from Vus" end'
    )


def test_findings_without_a_final_period_are_closed_as_written():
    g = findings_grammar("A was isolated from B")
    assert 'findings ::= [Aa] " was isolated from B"' in g and "end ::=" not in g


def test_compound_numbers_are_optional():
    g = findings_grammar("Aconine (4) and Benzaconine (12) were isolated from Aconitum pendulum.")
    assert 'findings ::= [Aa] "conine" " (4)"? " and " "Benzaconine" " (12)"? " were isolated from Aconitum pendulum" end' in g


def test_first_letter_case_only_for_letters():
    assert 'findings ::= "(" "20S)-x was isolated from Y" end' in findings_grammar("(20S)-x was isolated from Y.")
    assert 'findings ::= [sS] "hizukaol F was isolated from Y" end' in findings_grammar("shizukaol F was isolated from Y.")


def test_literal_escaping():
    assert gbnf_literal('a "b" \\ c\nd\te\x01') == '"a \\"b\\" \\\\ c\\nd\\te\\x01"'
    g = findings_grammar('The "A" compound was isolated from B.')
    assert 'findings ::= [Tt] "he \\"A\\" compound was isolated from B" end' in g


@pytest.mark.parametrize("bad", ["", "   ", "A was isolated\nfrom B."])
def test_bad_findings(bad):
    with pytest.raises(ValueError):
        findings_grammar(bad)


def test_sampling_params_record_the_grammar_hash_not_the_text():
    p = SamplingParams(0.8, 64, (), 1.0, 7, 'root ::= "x"')
    d = p.to_dict()
    assert "grammar" not in d and d["grammar_sha"] == grammar_sha('root ::= "x"') and len(d["grammar_sha"]) == 16
    assert "grammar_sha" not in SamplingParams().to_dict()


def test_openai_backend_sends_grammar_and_penalties():
    prompt = Prompt("completion", text="Abstract:")
    with ScriptedServer() as srv:
        b = OpenAIHTTPBackend(srv.base_url, "m", sleep=lambda s: None)
        b.generate(prompt, SamplingParams(0.8, 64, (), 1.0, 7, 'root ::= "x"', 0.3, 0.0))
        b.generate(prompt, SamplingParams(0.8, 64, (), 1.0, 7))
        b.close()
        c = OpenAIHTTPBackend(srv.base_url, "m", grammar_field="guided_grammar", sleep=lambda s: None)
        c.generate(prompt, SamplingParams(0.8, 64, (), 1.0, 7, 'root ::= "x"'))
        c.close()
    first, plain, vllm = srv.requests
    assert first["grammar"] == 'root ::= "x"' and first["frequency_penalty"] == 0.3 and "presence_penalty" not in first
    assert "grammar" not in plain and "frequency_penalty" not in plain
    assert vllm["guided_grammar"] == 'root ::= "x"' and "grammar" not in vllm


def test_backend_without_grammar_is_refused_up_front(tmp_path, seeds):
    b = OpenAIHTTPBackend("http://127.0.0.1:9/v1", "m", grammar_field=None)
    assert b.supports_grammar is False
    with pytest.raises(BiorelError) as e:
        SynthJob(seeds, tmp_path / "o", b, get_template("paper"), SynthConfig(guide="findings"))
    b.close()
    assert e.value.code == "E306" and "llama-cpp" in str(e.value)
    assert not (tmp_path / "o").exists()


def test_bad_guide_lists_the_choices():
    with pytest.raises(BiorelError) as e:
        SynthConfig(guide="names").check()
    assert e.value.code == "E321" and "none, findings" in str(e.value)
    with pytest.raises(BiorelError):
        SynthConfig(guide="findings", guide_options=FindingsGuide(max_sentence_chars=5)).check()
    with pytest.raises(BiorelError):
        SynthConfig(frequency_penalty=3.0).check()


def test_guided_job_sends_each_keys_findings_and_records_it(tmp_path, seeds):
    cfg = SynthConfig(n_per_seed=2, max_tokens=64, guide="findings", presence_penalty=0.2)
    with ScriptedServer() as srv:
        b = OpenAIHTTPBackend(srv.base_url, "m", max_concurrency=1, sleep=lambda s: None)
        job = SynthJob(seeds, tmp_path / "o", b, get_template("chat-verbatim"), cfg)
        s = job.run()
        b.close()
    assert s.processed == 6 and len(srv.requests) == 6
    by_key = {}
    for f in (ACCEPTED, REJECTED):
        for line in (tmp_path / "o" / f).read_text().splitlines():
            m = json.loads(line)["metadata"]["synth"]
            by_key[m["key"]] = m
    for req, task in zip(srv.requests, job.tasks()):
        m = by_key[task.key]
        # the grammar sent is the guide's grammar of exactly this key's findings
        assert req["grammar"] == findings_grammar(m["findings"])
        assert req["presence_penalty"] == 0.2
        assert m["guide"] == "findings" and m["sampling"]["grammar_sha"] == grammar_sha(req["grammar"])
        assert m["sampling"]["presence_penalty"] == 0.2
    # numbered and unnumbered findings alternate, so the two keys of a seed get different grammars
    assert srv.requests[0]["grammar"] != srv.requests[1]["grammar"]


def test_changing_the_guide_is_a_configuration_change(tmp_path, seeds):
    with ScriptedServer() as srv:
        b = OpenAIHTTPBackend(srv.base_url, "m", sleep=lambda s: None)
        SynthJob(seeds, tmp_path / "o", b, get_template("paper"), SynthConfig(n_per_seed=1, max_tokens=64)).run()
        with pytest.raises(BiorelError) as e:
            SynthJob(seeds, tmp_path / "o", b, get_template("paper"), SynthConfig(n_per_seed=1, max_tokens=64, guide="findings")).run()
        b.close()
    assert e.value.code == "E322" and "guide" in str(e.value)


def test_auto_guides_in_process_llama_cpp_only(tmp_path, seeds):
    from biorel.synth.backends import LlamaCppBackend, TransformersBackend
    from biorel.synth.guide import resolve_guide

    assert LlamaCppBackend.supports_grammar and LlamaCppBackend.guide_by_default
    assert not TransformersBackend.supports_grammar
    http = OpenAIHTTPBackend("http://127.0.0.1:9/v1", "m")
    assert resolve_guide("auto", http) == "none" and resolve_guide("findings", http) == "findings"
    assert resolve_guide("auto", LlamaCppBackend.__new__(LlamaCppBackend)) == "findings"
    assert resolve_guide("auto", TransformersBackend.__new__(TransformersBackend)) == "none"
    job = SynthJob(seeds, tmp_path / "o", http, get_template("paper"), SynthConfig())
    http.close()
    assert SynthConfig().guide == "auto" and job.config.guide == "none" and job.fingerprint()["guide"] == "none"
