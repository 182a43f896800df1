"""The FastAPI application of ``biorel serve`` (:func:`create_app`).

Routes (docs/serve.md has a curl example for each):

* ``POST /v1/extract``: one raw-text document as JSON;
* ``POST /v1/extract/{format}``: a body in ``text``, ``pubtator``,
  ``bioc-xml``, ``bioc-json`` or ``jsonl``, read by biorel's readers; the
  answer as JSON or written by the BioC writers (``output=``);
* ``GET /v1/models``, ``GET /healthz``, ``GET /readyz``, ``GET /metrics``;
* ``GET /`` and ``GET /static/{name}``: the page (``biorel/data/web``);
* ``/docs`` and ``/openapi.json``.
"""

from __future__ import annotations

import io
import mimetypes
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..errors import BiorelError
from ..models.shipped import DEFAULT_MODEL
from ..types import Document, Passage
from .errors import api_error, install_handlers, reader_error
from .limits import PROTECTED_PREFIX, ApiKeyMiddleware, BodyLimitMiddleware
from .metrics import Metrics, MetricsMiddleware
from .schemas import (
    ErrorResponse,
    EvidenceMethod,
    ExtractRequest,
    ExtractResponse,
    InputFormat,
    Mode,
    ModelsResponse,
    OutputFormat,
    Status,
    TextSplit,
)
from .service import ModelRef, ModelService
from .settings import OUTPUT_MEDIA_TYPES, ServeSettings

#: the page's folder inside the package
WEB_PARTS = ("data", "web")
STATIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    what = {
        400: "malformed input (the reader's own code and location) or invalid JSON (E024)",
        401: "missing or wrong API key (E504)",
        404: "no such route or file (E507, E515)",
        413: "request body too large (E500)",
        422: "invalid request (E506), document too long (E501), bad documents (E0xx), larger than the queue (E513)",
        500: "prediction failed (E510) or internal error (E511)",
        501: "evidence not available in this installation (E509)",
        503: "model not ready (E505) or queue full (E503); see Retry-After",
        504: "no answer within --timeout-s (E502)",
    }
    return {s: {"model": ErrorResponse, "description": what[s]} for s in statuses}


EXTRACT_ERRORS = _errors(400, 401, 413, 422, 500, 501, 503, 504)

FORMAT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the documents in the format named by the path (several per request); the Content-Type is not used",
        "content": {
            "text/plain": {"schema": {"type": "string"}, "example": "Famotidine-associated delirium.\n\nLithium and seizures."},
            "application/xml": {"schema": {"type": "string"}},
            "application/json": {"schema": {}},
        },
    }
}


#: output=json: biorel's documents; output=bioc-json: a BioC JSON collection; output=bioc-xml: BioC XML
FORMAT_ANSWER: dict[str, Any] = {
    "description": "the predicted documents in the format named by output=",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"$ref": "#/components/schemas/ExtractResponse"},
                    {"type": "object", "title": "BioC JSON collection (output=bioc-json)", "required": ["documents"]},
                ]
            }
        },
        "application/xml": {"schema": {"type": "string", "title": "BioC XML collection (output=bioc-xml)"}},
    },
}


# ---- reading and writing documents -------------------------------------------------------
def read_documents(fmt: str, body: bytes, split: str | None) -> list[Document]:
    """The documents of a request body, read by biorel's reader for ``fmt``."""
    from .. import io as bio

    if split is not None and fmt != "text":
        raise api_error(422, "E506", reason=f"split applies to format 'text' only, not {fmt!r}")
    options = {"split": split} if split is not None else {}
    try:
        return list(bio.get_format(fmt).api.iterparse(io.BytesIO(body), **options))
    except BiorelError as e:
        raise reader_error(e) from None


def render(docs: list[Document], output: str, summary: dict[str, Any]) -> Response:
    if output == "json":
        return JSONResponse({"model": summary, "documents": [d.to_dict() for d in docs]})
    from .. import io as bio

    try:
        text = bio.get_format(output).api.dumps(docs)
    except BiorelError as e:
        raise api_error(422, "E512", fmt=output, reason=f"[{e.code}] {e.message}") from None
    return Response(text, media_type=OUTPUT_MEDIA_TYPES[output])


def model_summary(info: dict[str, Any]) -> dict[str, Any]:
    return {k: info[k] for k in ("name", "architecture", "version", "fingerprint")}


def web_file(name: str) -> bytes:
    """A file of the page (``biorel/data/web/<name>``); 404 (E515) while it is not there."""
    if not STATIC_NAME.match(name):
        raise api_error(404, "E515", name=name, reason="not a file name of the page")
    path = resources.files("biorel").joinpath(*WEB_PARTS, name)
    if not path.is_file():
        raise api_error(404, "E515", name=name, reason="the page's files (biorel/data/web) are not installed")
    return path.read_bytes()


# ---- routes ----------------------------------------------------------------------------
def api_router(service: ModelService) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/extract", response_model=ExtractResponse, responses=EXTRACT_ERRORS, tags=["extract"])
    async def extract(req: ExtractRequest) -> Response:
        """Mentions, entities and relations in one raw-text document."""
        doc = Document(req.id or "doc", [Passage(0, req.text)])
        preds = await service.predict(
            [doc], mode="extract", threshold=req.threshold, evidence=req.evidence, evidence_method=req.evidence_method, raw_text=True
        )
        return render(preds, "json", model_summary(service.info or {}))

    @router.post(
        "/v1/extract/{format}",
        response_model=None,
        responses={**EXTRACT_ERRORS, 200: FORMAT_ANSWER},
        openapi_extra=FORMAT_BODY,
        tags=["extract"],
    )
    async def extract_format(
        request: Request,
        format: InputFormat = Path(description="input format of the body"),
        output: OutputFormat = Query("json", description="json (biorel's documents), bioc-json or bioc-xml"),
        threshold: float = Query(0.5, ge=0.0, le=1.0, description="minimum relation score"),
        evidence: bool = Query(False, description="add evidence sentences and token attributions"),
        evidence_method: EvidenceMethod = Query(
            "auto", description="with evidence=true: auto, attention, grad-input or occlusion (faithful, slower)"
        ),
        mode: Mode | None = Query(None, description="extract (default) or relate (keep the input's entities)"),
        split: TextSplit | None = Query(None, description="text only: documents are blank-line blocks (default), lines, or the whole body"),
    ) -> Response:
        """Mentions, entities and relations in every document of a body in any of biorel's input formats."""
        service.require_ready()  # before reading: a loading server answers 503 at once
        body = await request.body()
        docs = await run_in_threadpool(read_documents, format, body, split)
        preds = await service.predict(
            docs, mode=mode, threshold=threshold, evidence=evidence, evidence_method=evidence_method, raw_text=format == "text"
        )
        summary = model_summary(service.info or {})
        return await run_in_threadpool(render, preds, output, summary)

    @router.get("/v1/models", response_model=ModelsResponse, responses=_errors(401, 503), tags=["model"])
    async def models() -> dict[str, Any]:
        """The loaded model: name, architecture, entity and relation types, modes, precision."""
        service.require_ready()
        return {"models": [service.info]}

    return router


def probe_router(service: ModelService, metrics: Metrics) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", response_model=Status, response_model_exclude_none=True, tags=["probes"])
    async def healthz() -> dict[str, Any]:
        """The process is up (the model may still be loading)."""
        return {"status": "ok"}

    @router.get("/readyz", response_model=Status, responses=_errors(503), tags=["probes"])
    async def readyz() -> dict[str, Any]:
        """The model is loaded and requests are served (503 before)."""
        service.require_ready()
        return {"status": "ready", "model": (service.info or {}).get("name")}

    @router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}}, tags=["probes"])
    async def prometheus() -> Response:
        """Prometheus metrics (text exposition format)."""
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return router


def page_router() -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, responses=_errors(404), tags=["page"])
    async def index() -> Response:
        """The page (``biorel/data/web/index.html``)."""
        return HTMLResponse(web_file("index.html"))

    @router.get("/static/{name}", response_class=Response, responses=_errors(404), tags=["page"])
    async def static(name: str) -> Response:
        """A file of the page, next to index.html."""
        data = web_file(name)
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(data, media_type=media_type)

    return router


# ---- the app -----------------------------------------------------------------------------
def _with_security(app: FastAPI) -> None:
    """Declare the API key in the OpenAPI document (the middleware enforces it)."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
            for path, ops in schema.get("paths", {}).items():
                if path.startswith(PROTECTED_PREFIX):
                    for op in ops.values():
                        op["security"] = [{"bearer": []}, {"apiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(model: ModelRef = DEFAULT_MODEL, *, settings: ServeSettings | None = None) -> FastAPI:
    """The HTTP service for ``model`` (a model folder, a shipped model's name,
    a loaded model, or a function returning one). The model is loaded in the
    background at startup; ``/readyz`` answers 503 until it is ready."""
    settings = settings or ServeSettings()
    metrics = Metrics()
    service = ModelService(model, settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="biorel",
        version=__version__,
        description="Typed biomedical relations from text: mentions, entities and relations predicted by a biorel model. "
        'Every error is JSON: {"error": {"code", "message", "status"}}.',
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.settings = settings
    app.state.metrics = metrics
    install_handlers(app)
    app.include_router(api_router(service))
    app.include_router(probe_router(service, metrics))
    app.include_router(page_router())
    # the last added is the outermost: metrics see every answer, CORS headers reach refusals too
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    if settings.api_key:
        app.add_middleware(ApiKeyMiddleware, key=settings.api_key)
        _with_security(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
            expose_headers=["Retry-After"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


__all__ = ["create_app", "read_documents", "render", "web_file"]
