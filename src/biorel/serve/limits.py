"""ASGI middlewares that refuse a request before any route runs: the API key
(401, E504) and the body size (413, E500). Both answer JSON errors themselves."""

from __future__ import annotations

import hmac
from typing import Any

from ..errors import error
from .errors import error_bytes

#: paths the API key protects; probes, metrics, the page and the API docs stay open
PROTECTED_PREFIX = "/v1/"


async def send_json_error(send: Any, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
    body = error_bytes(status, code, message)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class BodyLimitMiddleware:
    """Refuses bodies over ``limit`` bytes with 413: at once when
    ``Content-Length`` says so, else as soon as the bytes read pass the limit.
    The body (at most ``limit`` bytes) is then handed to the app as read."""

    def __init__(self, app: Any, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.limit:
            err = error("E500", size=int(declared), limit=self.limit)
            await send_json_error(send, 413, err.code, err.message, {"Connection": "close"})
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                err = error("E500", size=f"more than {self.limit}", limit=self.limit)
                await send_json_error(send, 413, err.code, err.message, {"Connection": "close"})
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[dict], receive: Any) -> Any:
    pending = list(messages)

    async def replayed() -> dict:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class ApiKeyMiddleware:
    """With a key set, ``/v1/*`` needs ``Authorization: Bearer <key>`` or
    ``X-API-Key: <key>`` (401, E504, with ``WWW-Authenticate``)."""

    def __init__(self, app: Any, key: str):
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(PROTECTED_PREFIX) and scope.get("method") != "OPTIONS":
            if not self.authorised(scope):
                err = error("E504")
                await send_json_error(send, 401, err.code, err.message, {"WWW-Authenticate": 'Bearer realm="biorel"'})
                return
        await self.app(scope, receive, send)

    def authorised(self, scope: dict) -> bool:
        given: list[str] = []
        auth = header(scope, b"authorization")
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() == "bearer":
                given.append(token.strip())
        api_key = header(scope, b"x-api-key")
        if api_key is not None:
            given.append(api_key.strip())
        return any(hmac.compare_digest(g.encode(), self.key) for g in given)


__all__ = ["BodyLimitMiddleware", "ApiKeyMiddleware", "PROTECTED_PREFIX"]
