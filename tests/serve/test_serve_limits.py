"""Limits and errors: each refusal has its status and coded JSON body, and the
server answers a normal request right after it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from serve_helpers import BOOM, running, wait_until

from biorel.serve import ServeSettings, create_app

TEXT = "Famotidine-associated delirium."


def error_of(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert err["code"] == code and err["status"] == status and err["message"]
    return err


def still_serving(client) -> None:
    r = client.post("/v1/extract", json={"text": TEXT})
    assert r.status_code == 200 and r.json()["documents"][0]["passages"][0]["text"] == TEXT


def test_body_too_large_by_content_length(make_client):
    client = make_client(max_body_bytes=1000)
    r = client.post("/v1/extract/text", content=b"x" * 1001)
    err = error_of(r, 413, "E500")
    assert "1001 bytes" in err["message"] and "1000" in err["message"]
    assert client.post("/v1/extract/text", content=b"y" * 1000).status_code == 200
    still_serving(client)


def test_body_too_large_while_reading(counting):
    """A chunked body (no Content-Length) is refused once the bytes read pass the limit."""
    app = create_app(counting, settings=ServeSettings(max_body_bytes=1000))
    with running(app) as url:

        def chunks():
            for _ in range(10):
                yield b"z" * 300

        r = httpx.post(f"{url}/v1/extract/text", content=chunks(), timeout=30)
        err = error_of(r, 413, "E500")
        assert "more than 1000" in err["message"]
        assert counting.calls == []
        r = httpx.post(f"{url}/v1/extract", json={"text": TEXT}, timeout=30)
        assert r.status_code == 200


def test_document_too_long(make_client, counting):
    client = make_client(max_doc_chars=50)
    err = error_of(client.post("/v1/extract", json={"text": "a" * 51, "id": "long-one"}), 422, "E501")
    assert "'long-one'" in err["message"] and "51 characters" in err["message"] and "50" in err["message"]
    err = error_of(client.post("/v1/extract/text", content=b"short\n\n" + b"b" * 60), 422, "E501")
    assert "'2'" in err["message"] and "60 characters" in err["message"]
    assert counting.calls == []  # refused before the model
    still_serving(client)


@pytest.mark.parametrize(
    "fmt,body,code,status",
    [
        ("pubtator", b"this is not pubtator\n", "E120", 400),
        ("pubtator", b"1|t|Title\n1\tx\t5\tTitle\tChemical\tD1\n", "E122", 400),
        ("bioc-xml", b"<collection><document><id>1</id>", "E023", 400),
        ("bioc-json", b'{"documents": [1]}', "E101", 400),
        ("bioc-json", b"{not json", "E024", 400),
        ("jsonl", b"not json\n", "E024", 400),
        ("text", b"\xff\xfe broken utf-8", "E020", 400),
        ("pubtator", b"1|t|Title\n1\t0\t5\tTitel\tChemical\tD1\n", "E010", 422),
    ],
)
def test_malformed_input_gives_the_readers_code_and_location(make_client, fmt, body, code, status):
    client = make_client()
    err = error_of(client.post(f"/v1/extract/{fmt}", content=body), status, code)
    assert err["location"]["source"] == "request body"
    assert set(err["location"]) & {"line", "path", "offset"}
    still_serving(client)


def test_invalid_json_and_invalid_fields(make_client):
    client = make_client()
    err = error_of(client.post("/v1/extract", content=b'{"text": ', headers={"content-type": "application/json"}), 400, "E024")
    assert err["location"]["source"] == "request body"
    err = error_of(client.post("/v1/extract", json={"text": TEXT, "threshold": 1.5}), 422, "E506")
    assert err["details"][0]["loc"] == ["body", "threshold"]
    err = error_of(client.post("/v1/extract", json={"txt": TEXT}), 422, "E506")
    assert {tuple(d["loc"]) for d in err["details"]} >= {("body", "text"), ("body", "txt")}
    error_of(client.post("/v1/extract/pubtator?threshold=-1", content=b""), 422, "E506")
    error_of(client.post("/v1/extract/pubtator?output=xml", content=b""), 422, "E506")
    error_of(client.post("/v1/extract/pubtator?split=lines", content=b""), 422, "E506")
    error_of(client.post("/v1/extract/docx", content=b"x"), 422, "E506")
    still_serving(client)


def test_fastapi_errors_are_json(make_client):
    client = make_client()
    error_of(client.get("/no/such/path"), 404, "E507")
    r = client.get("/v1/extract")
    err = error_of(r, 405, "E508")
    assert r.headers["allow"] == "POST" and "POST" in err["message"]
    still_serving(client)


def test_prediction_failure_is_500_json_and_the_worker_goes_on(make_client):
    client = make_client()
    err = error_of(client.post("/v1/extract", json={"text": f"a {BOOM} b"}), 500, "E510")
    assert "injected failure" in err["message"]
    still_serving(client)


def test_unexpected_exception_is_500_json(make_client, monkeypatch):
    from biorel.serve import app as app_module

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(app_module, "read_documents", broken)
    client = make_client()
    err = error_of(client.post("/v1/extract/text", content=b"x"), 500, "E511")
    assert "ZeroDivisionError" in err["message"]
    still_serving(client)


def test_timeout_is_504_and_the_documents_leave_the_queue(make_client, counting):
    client = make_client(timeout_s=0.5, max_batch_docs=1, batch_wait_ms=0)
    batcher = client.app.state.service.batcher
    counting.gate.clear()  # the model holds every call until the gate opens
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.post, "/v1/extract", json={"text": TEXT, "id": "held"})
        assert counting.entered.wait(30)
        err = error_of(client.post("/v1/extract", json={"text": TEXT, "id": "queued"}), 504, "E502")
        assert "0.5 s" in err["message"]
        assert batcher.queued_docs == 0  # the timed-out request's document left the queue
        error_of(first.result(60), 504, "E502")
        counting.gate.set()
    assert wait_until(lambda: len(counting.calls) == 1 and batcher.stats.batches == 1)
    still_serving(client)
    assert counting.calls == [1, 1]  # the queued document never reached the model


def test_full_queue_is_503_with_retry_after(make_client, counting):
    client = make_client(max_queue=2, max_batch_docs=1, batch_wait_ms=0)
    batcher = client.app.state.service.batcher
    counting.gate.clear()
    with ThreadPoolExecutor(3) as pool:
        held = pool.submit(client.post, "/v1/extract", json={"text": TEXT, "id": "held"})
        assert counting.entered.wait(30)
        waiting = [pool.submit(client.post, "/v1/extract", json={"text": TEXT, "id": f"w{i}"}) for i in range(2)]
        assert wait_until(lambda: batcher.queued_docs == 2)
        r = client.post("/v1/extract", json={"text": TEXT, "id": "refused"})
        err = error_of(r, 503, "E503")
        assert int(r.headers["retry-after"]) >= 1 and "2 documents are waiting" in err["message"]
        r = client.post("/v1/extract/text", content=b"\n\n".join([b"doc"] * 3))
        error_of(r, 422, "E513")  # larger than the whole queue: retrying cannot help
        counting.gate.set()
        assert held.result(60).status_code == 200
        assert all(w.result(60).status_code == 200 for w in waiting)
    still_serving(client)


def test_queue_bound_in_tokens(make_client, counting):
    client = make_client(max_queue_tokens=20)
    r = client.post("/v1/extract", json={"text": "lithium " * 100})
    error_of(r, 422, "E513")
    assert counting.calls == []
    still_serving(client)


def test_api_key(make_client):
    client = make_client(api_key="s3cret")
    for headers in ({}, {"Authorization": "Bearer nope"}, {"X-API-Key": "nope"}, {"Authorization": "Basic s3cret"}):
        r = client.post("/v1/extract", json={"text": TEXT}, headers=headers)
        error_of(r, 401, "E504")
        assert r.headers["www-authenticate"].startswith("Bearer")
    error_of(client.get("/v1/models"), 401, "E504")
    assert client.post("/v1/extract", json={"text": TEXT}, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.post("/v1/extract", json={"text": TEXT}, headers={"X-API-Key": "s3cret"}).status_code == 200
    assert client.get("/v1/models", headers={"X-API-Key": "s3cret"}).status_code == 200
    for open_path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert client.get(open_path).status_code == 200
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert set(schemes) == {"bearer", "apiKey"}


def test_api_key_from_environment(monkeypatch):
    from typer.testing import CliRunner

    import biorel.cli.serve as cli_serve
    from biorel.cli import app

    seen = {}
    monkeypatch.setattr(cli_serve, "run_server", lambda model, settings, **kw: seen.update(settings=settings, **kw))
    monkeypatch.setenv("BIOREL_API_KEY", "from-env")
    r = CliRunner().invoke(app, ["serve", "--port", "8123", "--max-batch-docs", "1", "--batch-wait-ms", "0", "--cors-origin", "http://a.org"])
    assert r.exit_code == 0, r.output
    s = seen["settings"]
    assert s.api_key == "from-env" and s.max_batch_docs == 1 and s.batch_wait_ms == 0 and s.cors_origins == ("http://a.org",)
    assert seen["port"] == 8123 and seen["host"] == "127.0.0.1"
    r = CliRunner().invoke(app, ["serve", "--timeout-s", "0"])
    assert r.exit_code == 1 and "E514" in r.output


def test_cors_off_by_default(make_client):
    client = make_client()
    r = client.post("/v1/extract", json={"text": TEXT}, headers={"Origin": "http://page.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = client.options("/v1/extract", headers={"Origin": "http://page.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_on_with_an_origin(make_client):
    client = make_client(cors_origins=("http://page.example",), api_key="k")
    pre = client.options(
        "/v1/extract",
        headers={"Origin": "http://page.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"},
    )
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "http://page.example"
    r = client.post("/v1/extract", json={"text": TEXT}, headers={"Origin": "http://page.example", "X-API-Key": "k"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://page.example"
    r = client.post("/v1/extract", json={"text": TEXT}, headers={"Origin": "http://page.example"})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == "http://page.example"  # the page can read the error
    r = client.post("/v1/extract", json={"text": TEXT}, headers={"Origin": "http://other.example", "X-API-Key": "k"})
    assert "access-control-allow-origin" not in r.headers


def test_readiness_before_and_after_loading(tiny):
    from fastapi.testclient import TestClient

    release = threading.Event()

    def slow_loader():
        release.wait(60)
        return tiny

    app = create_app(slow_loader, settings=ServeSettings(model_name="tiny"))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        r = client.get("/readyz")
        err = error_of(r, 503, "E505")
        assert "loading" in err["message"] and r.headers["retry-after"] == "5"
        error_of(client.post("/v1/extract", json={"text": TEXT}), 503, "E505")
        error_of(client.post("/v1/extract/text", content=b"x"), 503, "E505")
        error_of(client.get("/v1/models"), 503, "E505")
        assert "biorel_model_ready 0.0" in client.get("/metrics").text
        release.set()
        assert app.state.service.wait_ready(60)
        assert client.get("/readyz").status_code == 200
        still_serving(client)
        assert "biorel_model_ready 1.0" in client.get("/metrics").text


def test_model_that_fails_to_load_keeps_the_process_up(tmp_path):
    from fastapi.testclient import TestClient

    app = create_app(tmp_path / "no-model-here")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert wait_until(lambda: app.state.service.load_error is not None)
        err = error_of(client.get("/readyz"), 503, "E505")
        assert "E404" in err["message"]
        assert client.get("/healthz").status_code == 200
