"""Every endpoint of ``biorel serve`` answers what docs/serve.md says."""

from __future__ import annotations

import json

import pytest

from biorel import io
from biorel.models.testing import toy_corpus

TEXT = "Famotidine-associated delirium. Lithium induced seizures in the elderly rats."


def check_document(d: dict, text: str | None = None) -> None:
    assert set(d) >= {"id", "passages", "mentions", "entities", "relations"}
    full = "".join(p["text"] for p in d["passages"]) if len(d["passages"]) == 1 else None
    for m in d["mentions"]:
        for s, e in m["spans"]:
            assert 0 <= s < e
            if full is not None and d["passages"][0]["offset"] == 0:
                assert full[s:e] == m["text"]
    entity_ids = {e["id"] for e in d["entities"]}
    for r in d["relations"]:
        assert r["head"] in entity_ids and r["tail"] in entity_ids
        assert 0.0 <= r["score"] <= 1.0
    if text is not None:
        assert d["passages"][0]["text"] == text


def test_extract_json(make_client, counting):
    client = make_client()
    r = client.post("/v1/extract", json={"text": TEXT, "id": "abc", "threshold": 0.0})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == {"name": "tiny", "architecture": "biorel.JointNERRE.v1", "version": None, "fingerprint": "(in memory)"}
    (doc,) = body["documents"]
    assert doc["id"] == "abc"
    check_document(doc, TEXT)
    assert counting.calls == [1]


def test_extract_json_defaults_and_threshold(make_client):
    client = make_client()
    low = client.post("/v1/extract", json={"text": TEXT, "threshold": 0.0}).json()["documents"][0]
    high = client.post("/v1/extract", json={"text": TEXT, "threshold": 1.0}).json()["documents"][0]
    default = client.post("/v1/extract", json={"text": TEXT}).json()["documents"][0]
    assert default["id"] == "doc"
    assert high["relations"] == []  # no score exceeds 1
    assert all(r["score"] > 0.5 for r in default["relations"])
    assert len(low["relations"]) >= len(default["relations"])


@pytest.mark.parametrize("fmt", ["pubtator", "bioc-xml", "bioc-json", "jsonl"])
def test_extract_each_format(make_client, fmt):
    client = make_client()
    docs = toy_corpus(3, seed=5)
    body = io.dumps(docs, fmt)
    r = client.post(f"/v1/extract/{fmt}", content=body.encode())
    assert r.status_code == 200, r.text
    out = r.json()["documents"]
    assert [d["id"] for d in out] == [d.id for d in docs]
    for d, gold in zip(out, docs):
        check_document(d)
        assert "".join(p["text"] for p in d["passages"]) == "".join(p.text for p in gold.passages)


def test_extract_raw_text_blocks_and_split(make_client):
    client = make_client()
    body = "First abstract about lithium.\n\nSecond one, about seizures.\n"
    r = client.post("/v1/extract/text", content=body.encode())
    assert r.status_code == 200
    assert [d["id"] for d in r.json()["documents"]] == ["1", "2"]
    r = client.post("/v1/extract/text?split=file", content=body.encode())
    (whole,) = r.json()["documents"]
    assert whole["passages"][0]["text"] == body
    r = client.post("/v1/extract/text?split=lines", content=b"a line\nanother line\n")
    assert [d["id"] for d in r.json()["documents"]] == ["1", "2"]
    r = client.post("/v1/extract/text", content=b"")
    assert r.status_code == 200 and r.json()["documents"] == []


@pytest.mark.parametrize("output,media", [("bioc-json", "application/json"), ("bioc-xml", "application/xml")])
def test_bioc_output_reads_back(make_client, output, media):
    client = make_client()
    docs = toy_corpus(2, seed=7)
    r = client.post(f"/v1/extract/pubtator?output={output}&threshold=0", content=io.dumps(docs, "pubtator").encode())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    back = io.get_format(output).api.loads(r.text)
    as_json = client.post("/v1/extract/pubtator?threshold=0", content=io.dumps(docs, "pubtator").encode()).json()["documents"]
    assert [d.id for d in back] == [d["id"] for d in as_json]
    assert [len(d.mentions) for d in back] == [len(d["mentions"]) for d in as_json]
    assert [len(d.relations) for d in back] == [len(d["relations"]) for d in as_json]


def test_relate_mode_keeps_input_entities(make_client):
    client = make_client()
    docs = toy_corpus(2, seed=9)
    r = client.post("/v1/extract/pubtator?mode=relate&threshold=0", content=io.dumps(docs, "pubtator").encode())
    assert r.status_code == 200
    for d, gold in zip(r.json()["documents"], docs):
        assert [m["spans"] for m in d["mentions"]] == [[list(s) for s in m.spans] for m in gold.mentions]
    r = client.post("/v1/extract/text?mode=relate", content=b"Lithium and seizures.")
    assert r.status_code == 422 and r.json()["error"]["code"] == "E412"


def test_models(make_client):
    r = make_client().get("/v1/models")
    assert r.status_code == 200
    (m,) = r.json()["models"]
    assert m["name"] == "tiny" and m["architecture"] == "biorel.JointNERRE.v1"
    assert m["entity_types"] == ["Chemical", "Disease"] and m["relation_types"] == ["CID"]
    assert m["modes"] == ["extract", "relate"] and m["precision"] in ("fp32", "bf16")


def test_probes_and_metrics(make_client):
    client = make_client()
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "model": "tiny"}
    client.post("/v1/extract", json={"text": TEXT})
    client.post("/v1/extract", json={"text": ""})
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert 'biorel_http_requests_total{endpoint="/v1/extract",method="POST",status="200"} 1.0' in lines
    assert 'biorel_http_requests_total{endpoint="/v1/extract",method="POST",status="422"} 1.0' in lines
    assert "biorel_documents_total 1.0" in lines
    assert "biorel_batch_documents_count 1.0" in lines
    assert "biorel_queue_documents 0.0" in lines and "biorel_model_ready 1.0" in lines
    assert any(line.startswith('biorel_http_request_seconds_bucket{endpoint="/v1/extract"') for line in lines)


def test_openapi_and_docs(make_client):
    client = make_client()
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/v1/extract", "/v1/extract/{format}", "/v1/models", "/healthz", "/readyz", "/metrics", "/", "/static/{name}"} <= set(paths)
    req = schema["components"]["schemas"]["ExtractRequest"]
    assert set(req["properties"]) == {"text", "id", "threshold", "evidence", "evidence_method"} and req["required"] == ["text"]
    assert req["properties"]["threshold"]["maximum"] == 1.0
    op = paths["/v1/extract/{format}"]["post"]
    fmt = next(p for p in op["parameters"] if p["name"] == "format")
    assert fmt["schema"]["enum"] == ["text", "pubtator", "bioc-xml", "bioc-json", "jsonl"]
    assert {"400", "413", "422", "503", "504"} <= set(op["responses"])
    assert "securitySchemes" not in schema.get("components", {})
    assert client.get("/docs").status_code == 200


def test_page_and_static(make_client):
    from importlib import resources

    client = make_client()
    web = resources.files("biorel").joinpath("data", "web")
    r = client.get("/")
    if web.joinpath("index.html").is_file():
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert r.content == web.joinpath("index.html").read_bytes()
        for f in web.iterdir():
            if f.is_file() and f.name != "index.html":
                s = client.get(f"/static/{f.name}")
                assert s.status_code == 200 and s.content == f.read_bytes()
    else:
        assert r.status_code == 404 and r.json()["error"]["code"] == "E515"
    for bad in ("no-such-file.js", "..%2Fapp.py", ".hidden"):
        r = client.get(f"/static/{bad}")
        assert r.status_code == 404 and r.json()["error"]["code"] in ("E515", "E507")


def test_page_files_missing_is_json_404(make_client, monkeypatch):
    from biorel.serve import app as app_module

    monkeypatch.setattr(app_module, "WEB_PARTS", ("data", "no-such-web-folder"))
    client = make_client()
    for path in ("/", "/static/biorel-view.js"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "E515" and "not installed" in r.json()["error"]["message"]


def test_evidence_is_added_only_for_requests_that_ask(make_client, monkeypatch):
    from biorel.models.evidence import resolve_method
    from biorel.serve import service as service_module

    seen: list[tuple[list[str], str]] = []

    def fake_add_evidence(model, docs, top_k=8, method="auto"):
        seen.append(([d.id for d in docs], method))
        for d in docs:
            d.metadata["evidence_added"] = top_k

    monkeypatch.setattr(service_module, "load_evidence", lambda: fake_add_evidence)
    client = make_client(evidence_top_k=3)
    r = client.post("/v1/extract", json={"text": TEXT, "id": "with", "evidence": True})
    assert r.status_code == 200 and r.json()["documents"][0]["metadata"] == {"evidence_added": 3}
    r = client.post("/v1/extract", json={"text": TEXT, "id": "without"})
    assert r.status_code == 200 and "metadata" not in r.json()["documents"][0]
    r = client.post("/v1/extract/text?evidence=true", content=b"one\n\ntwo")
    assert r.status_code == 200
    r = client.post("/v1/extract", json={"text": TEXT, "id": "occ", "evidence": True, "evidence_method": "occlusion"})
    assert r.status_code == 200
    r = client.post("/v1/extract/text?evidence=true&evidence_method=grad-input", content=b"three")
    assert r.status_code == 200
    auto = resolve_method(client.app.state.service.model, "auto")  # what "auto" means for this model
    assert seen == [(["with"], auto), (["1", "2"], auto), (["occ"], "occlusion"), (["1"], "grad-input")]
    r = client.post("/v1/extract", json={"text": TEXT, "evidence": True, "evidence_method": "shap"})
    assert r.status_code == 422 and r.json()["error"]["status"] == 422
    assert client.post("/v1/extract", json={"text": TEXT}).status_code == 200


def test_evidence_method_the_model_lacks_is_422(make_client, monkeypatch):
    from biorel.serve import service as service_module

    monkeypatch.setattr(service_module, "load_evidence", lambda: lambda model, docs, top_k=8, method="auto": None)
    client = make_client()
    monkeypatch.setattr(type(client.app.state.service.model), "attribution_methods", lambda self: ("grad-input",), raising=False)
    r = client.post("/v1/extract", json={"text": TEXT, "evidence": True, "evidence_method": "attention"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "E531" and "grad-input" in r.json()["error"]["message"]
    assert client.post("/v1/extract", json={"text": TEXT, "evidence": True}).status_code == 200  # auto -> grad-input


def test_evidence_unavailable_is_501_then_serving_goes_on(make_client, monkeypatch):
    from biorel.serve import service as service_module

    monkeypatch.setattr(service_module, "load_evidence", lambda: None)
    client = make_client()
    r = client.post("/v1/extract", json={"text": TEXT, "evidence": True})
    assert r.status_code == 501
    err = r.json()["error"]
    assert err["code"] == "E509" and err["status"] == 501 and "evidence" in err["message"]
    assert client.post("/v1/extract", json={"text": TEXT}).status_code == 200


def test_json_body_is_biorel_json(make_client):
    """The answer is exactly Document.to_dict() of the prediction (round-trips through Document.from_dict)."""
    from biorel.types import Document

    client = make_client()
    r = client.post("/v1/extract", json={"text": TEXT, "threshold": 0.0})
    d = r.json()["documents"][0]
    assert Document.from_dict(d).to_dict() == d
    assert json.loads(r.text) == r.json()
