"""Every error the service answers is JSON::

    {"error": {"code": "E501", "message": "...", "status": 422, "location": {...}, "details": [...]}}

``location`` (where in the request body a reader found the problem) and
``details`` (pydantic's list of invalid fields) appear only when there is
something to say. :func:`install_handlers` makes FastAPI's own errors (404,
405, request validation, unexpected exceptions) answer in this form too.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BiorelError, FormatError, SourceLocation, ValidationError, error

log = logging.getLogger("biorel.serve")

#: what a request body is called in locations (readers see a stream without a name)
BODY = "request body"


class ApiError(Exception):
    """A coded error with its HTTP status (and extra headers, e.g. ``Retry-After``)."""

    def __init__(
        self,
        status: int,
        err: BiorelError,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ):
        super().__init__(str(err))
        self.status = status
        self.err = err
        self.headers = headers or {}
        self.details = details


def api_error(status: int, code: str, *, headers: dict[str, str] | None = None, **fields: Any) -> ApiError:
    return ApiError(status, error(code, **fields), headers=headers)


def location_dict(where: SourceLocation | None) -> dict[str, Any] | None:
    if where is None:
        return None
    loc: dict[str, Any] = {"source": BODY if where.file in ("<string>", "") or where.file.startswith("<") else where.file}
    for key in ("line", "path", "offset"):
        value = getattr(where, key)
        if value is not None:
            loc[key] = value
    return loc


def error_body(status: int, code: str, message: str, *, where: SourceLocation | None = None, details: list | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "status": status}
    loc = location_dict(where)
    if loc is not None:
        body["location"] = loc
    if details:
        body["details"] = details
    return {"error": body}


def error_bytes(status: int, code: str, message: str) -> bytes:
    """The JSON body of an error answered by a middleware (no FastAPI response there)."""
    return json.dumps(error_body(status, code, message)).encode()


def json_error(exc: ApiError) -> JSONResponse:
    return JSONResponse(error_body(exc.status, exc.err.code, exc.err.message, where=exc.err.where, details=exc.details), exc.status, exc.headers)


def reader_error(err: BiorelError) -> ApiError:
    """A reader's coded error: 422 for documents that parse but break the
    document model (offsets, ids), 400 for everything else (syntax, options)."""
    return ApiError(422 if isinstance(err, ValidationError) else 400, err)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        out.append({"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))})
    return out


def validation_error(exc: RequestValidationError) -> ApiError:
    """Invalid JSON is biorel's E024 (400) with its position; any other invalid
    field is E506 (422) naming the fields."""
    errs = exc.errors()
    for e in errs:
        if e.get("type") == "json_invalid":
            reason = str((e.get("ctx") or {}).get("error", e.get("msg", "")))
            loc = e.get("loc", ())
            offset = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            return ApiError(400, error("E024", where=SourceLocation(BODY, offset=offset), reason=reason, cls=FormatError))
    details = _validation_details(exc)
    what = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details[:5]) or "the request does not match the API"
    return ApiError(422, error("E506", reason=what), details=details)


def http_error(request: Request, exc: StarletteHTTPException) -> ApiError:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return ApiError(404, error("E507", method=request.method, path=request.url.path), headers=headers)
    if exc.status_code == 405:
        return ApiError(405, error("E508", method=request.method, path=request.url.path, allowed=headers.get("Allow", "")), headers=headers)
    return ApiError(exc.status_code, error("E516", status=exc.status_code, reason=exc.detail), headers=headers)


def install_handlers(app: FastAPI) -> None:
    """Answer every error as JSON, FastAPI's own included."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return json_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return json_error(validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return json_error(http_error(request, exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return json_error(ApiError(500, error("E511", reason=f"{type(exc).__name__}: {exc}")))


__all__ = ["ApiError", "api_error", "error_body", "error_bytes", "install_handlers", "reader_error", "BODY"]
