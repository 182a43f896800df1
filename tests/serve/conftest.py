"""Fixtures of the HTTP service tests: one tiny model per session, wrapped per
test in a :class:`CountingModel`, and app/client factories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from serve_helpers import CountingModel, tiny_model  # noqa: E402


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("serve-tiny"))


@pytest.fixture
def counting(tiny) -> CountingModel:
    model = CountingModel(tiny)
    yield model
    model.gate.set()  # never leave a held model call behind


@pytest.fixture
def make_client(counting):
    """``make_client(**settings)``: a started TestClient over the counting model, ready."""
    from fastapi.testclient import TestClient

    from biorel.serve import ServeSettings, create_app

    clients = []

    def make(model=None, **options):
        app = create_app(model if model is not None else counting, settings=ServeSettings(model_name="tiny", **options))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        assert app.state.service.wait_ready(60)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)
