"""The model behind the HTTP API: loaded once at startup in the torch thread,
described for ``/v1/models``, and asked through the micro-batcher with the
per-request limits (document length, timeout, evidence availability)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import BiorelError, error
from ..types import Document
from .batching import MicroBatcher, ModelRunner
from .errors import ApiError, api_error
from .metrics import Metrics
from .settings import ServeSettings

log = logging.getLogger("biorel.serve")

#: a model folder, a shipped model's name, a loaded model, or a function that loads one
ModelRef = str | os.PathLike | Any | Callable[[], Any]
EVIDENCE_MODULE = "biorel.models.evidence"


def load_evidence() -> Callable[..., Any] | None:
    """``biorel.models.evidence.add_evidence``, or ``None`` while that module is
    not part of this installation."""
    try:
        module = importlib.import_module(EVIDENCE_MODULE)
    except ModuleNotFoundError as e:
        if e.name == EVIDENCE_MODULE:
            return None
        raise
    return getattr(module, "add_evidence", None)


def describe_model(model: Any, name: str, folder: Path | None) -> dict[str, Any]:
    """What ``/v1/models`` says about a loaded model."""
    from ..extract import _model_fingerprint

    version = None
    if folder is not None:
        from ..models import read_model_meta

        version = read_model_meta(folder).get("biorel_version")
    labels = model.labels
    return {
        "name": name,
        "architecture": model.architecture,
        "version": version,
        "fingerprint": _model_fingerprint(folder) if folder is not None else "(in memory)",
        "entity_types": list(getattr(labels, "entity_types", [])),
        "relation_types": list(getattr(labels, "relation_types", [])),
        "modes": list(model.capabilities.modes),
        "precision": model.precision,
        "server_version": __version__,
    }


class ModelService:
    """Owns the torch thread (loading, predicting), the cost thread (tokenising
    arriving documents), the loaded model and the batcher of one app."""

    def __init__(self, model: ModelRef, settings: ServeSettings, metrics: Metrics):
        self.ref = model
        self.settings = settings
        self.metrics = metrics
        self.model: Any = None
        self.info: dict[str, Any] | None = None
        self.load_error: BiorelError | None = None
        self.batcher: MicroBatcher | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.cost_executor: ThreadPoolExecutor | None = None
        #: set once the model is loaded (tests wait on it)
        self.ready = threading.Event()
        self._runner: ModelRunner | None = None
        self._load_task: asyncio.Task | None = None

    # ---- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        """Start loading the model in the background; ``/readyz`` says when it is done."""
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="biorel-torch")
        self.cost_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="biorel-cost")
        self._load_task = asyncio.get_running_loop().create_task(self._load(), name="biorel-load-model")

    async def stop(self) -> None:
        if self._load_task is not None and not self._load_task.done():
            self._load_task.cancel()
        if self.batcher is not None:
            await self.batcher.stop()
            self.batcher = None
        self.ready.clear()
        self.metrics.ready.set(0)
        for pool in (self.executor, self.cost_executor):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self.executor = self.cost_executor = None

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self.ready.wait(timeout)

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.executor, self._load_sync)
        except BiorelError as e:
            self.load_error = e
            log.error("the model could not be loaded: %s", e)
            return
        except Exception as e:  # noqa: BLE001 - reported by /readyz, the process stays up
            self.load_error = error("E505", reason=f"loading failed: {type(e).__name__}: {e}")
            log.exception("the model could not be loaded")
            return
        s = self.settings
        self._runner = ModelRunner(self.model, None, s.evidence_top_k)
        self.batcher = MicroBatcher(
            self._runner,
            self.executor,
            self.cost_executor,
            batch_tokens=s.batch_tokens,
            batch_wait_s=s.batch_wait_ms / 1000.0,
            max_batch_docs=s.max_batch_docs,
            max_queue_docs=s.max_queue,
            max_queue_tokens=s.max_queue_tokens,
            metrics=self.metrics,
        )
        self.batcher.start()
        self.ready.set()
        self.metrics.ready.set(1)
        log.info("model %s ready (%s)", self.info["name"], self.info["precision"])

    def _load_sync(self) -> None:
        """In the torch thread: load (once per service) and set the precision."""
        if self.settings.threads > 0:
            import torch

            torch.set_num_threads(self.settings.threads)
        if self.model is None:
            self.model, name, folder = self._resolve()
            self.model.set_precision(self.settings.precision)
            self.info = describe_model(self.model, name, folder)

    def _resolve(self) -> tuple[Any, str, Path | None]:
        ref = self.ref
        if isinstance(ref, (str, os.PathLike)):
            from ..models import load_model
            from ..models.shipped import resolve_model

            folder = resolve_model(ref)
            name = str(ref) if not Path(ref).exists() else Path(ref).resolve().name
            return load_model(folder), name, folder
        model = ref() if callable(ref) and not hasattr(ref, "predict") else ref
        return model, self.settings.model_name or model.architecture, None

    # ---- asking the model ----------------------------------------------------------
    def require_ready(self) -> MicroBatcher:
        if self.batcher is None:
            if self.load_error is not None:
                raise ApiError(503, error("E505", reason=f"loading failed: [{self.load_error.code}] {self.load_error.message}"))
            raise api_error(503, "E505", reason="the model is still loading", headers={"Retry-After": "5"})
        return self.batcher

    def check_mode(self, mode: str | None, raw_text: bool) -> str:
        from ..models import resolve_mode

        try:
            mode = resolve_mode(mode or self.model.default_mode, self.model.capabilities.modes)
        except BiorelError as e:
            raise ApiError(422, e) from None
        if mode == "relate" and raw_text:
            raise ApiError(422, error("E412", option="mode=relate", reason="raw text has no entities; use mode=extract"))
        return mode

    def check_evidence(self, method: str = "auto") -> str:
        """The attribution method to run for this model (422 with E530/E531
        when it cannot be; 501 when evidence is not installed)."""
        assert self._runner is not None
        if self._runner.evidence is None:
            self._runner.evidence = load_evidence()
        if self._runner.evidence is None:
            raise api_error(501, "E509", reason=f"{EVIDENCE_MODULE}.add_evidence is not part of this installation yet; ask without evidence")
        from ..models.evidence import resolve_method

        try:
            return resolve_method(self.model, method)
        except BiorelError as e:
            raise ApiError(422, e) from None

    def check_lengths(self, docs: Sequence[Document]) -> None:
        limit = self.settings.max_doc_chars
        for doc in docs:
            n = len(doc.text)
            if n > limit:
                raise api_error(422, "E501", doc=doc.id, n=n, limit=limit)

    async def predict(
        self, docs: Sequence[Document], *, mode: str | None, threshold: float, evidence: bool, raw_text: bool, evidence_method: str = "auto"
    ) -> list[Document]:
        """Predictions for ``docs`` through the batcher, within the request's
        time limit. Raises :class:`ApiError` for every refusal and failure."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.timeout_s
        batcher = self.require_ready()
        mode = self.check_mode(mode, raw_text)
        if evidence:
            evidence_method = self.check_evidence(evidence_method)
        self.check_lengths(docs)
        items: list = []
        done = False
        try:
            async with asyncio.timeout_at(deadline):
                items = await batcher.submit(docs, mode=mode, threshold=threshold, evidence=evidence_method if evidence else None)
                preds = await asyncio.gather(*(i.future for i in items))
            done = True
            return list(preds)
        except TimeoutError:
            raise api_error(504, "E502", limit=self.settings.timeout_s) from None
        except ApiError:
            raise
        except BiorelError as e:
            if e.code == "E509":
                raise ApiError(501, e) from None
            raise api_error(500, "E510", reason=f"[{e.code}] {e.message}") from None
        except Exception as e:  # noqa: BLE001 - answered as a coded 500, the server goes on
            raise api_error(500, "E510", reason=f"{type(e).__name__}: {e}") from None
        finally:
            if not done and items:
                batcher.cancel(items)


__all__ = ["ModelService", "ModelRef", "describe_model", "load_evidence"]
