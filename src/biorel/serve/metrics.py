"""Prometheus metrics of one service (its own registry, so that several apps
in one process, as in the tests, never share counters).

* ``biorel_http_requests_total{endpoint, method, status}``: requests answered,
  ``endpoint`` the route template (``/v1/extract/{format}``), ``unmatched``
  for paths without a route;
* ``biorel_http_request_seconds{endpoint}``: latency;
* ``biorel_batch_documents`` and ``biorel_batch_tokens``: what each model call
  got; ``biorel_predict_seconds``: how long it took;
* ``biorel_queue_documents`` and ``biorel_queue_tokens``: work waiting now;
* ``biorel_documents_total``: documents predicted; ``biorel_model_ready``.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_DOC_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
BATCH_TOKEN_BUCKETS = (128, 256, 512, 1024, 2048, 4096, 8192, 16384)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("biorel_http_requests", "HTTP requests answered", ("endpoint", "method", "status"), registry=r)
        self.latency = Histogram("biorel_http_request_seconds", "HTTP request latency", ("endpoint",), buckets=LATENCY_BUCKETS, registry=r)
        self.batch_docs = Histogram("biorel_batch_documents", "documents per model call", buckets=BATCH_DOC_BUCKETS, registry=r)
        self.batch_tokens = Histogram("biorel_batch_tokens", "encoder tokens per model call", buckets=BATCH_TOKEN_BUCKETS, registry=r)
        self.predict_seconds = Histogram("biorel_predict_seconds", "seconds per model call", buckets=LATENCY_BUCKETS, registry=r)
        self.queue_docs = Gauge("biorel_queue_documents", "documents waiting for the model", registry=r)
        self.queue_tokens = Gauge("biorel_queue_tokens", "encoder tokens waiting for the model", registry=r)
        self.documents = Counter("biorel_documents", "documents predicted", registry=r)
        self.ready = Gauge("biorel_model_ready", "1 once the model is loaded", registry=r)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts every answered request (the ones a middleware refused included)
    by route template, method and status, and times it."""

    def __init__(self, app: Any, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        t0 = time.perf_counter()

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(endpoint, scope.get("method", ""), str(status)).inc()
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - t0)


__all__ = ["Metrics", "MetricsMiddleware"]
