"""Dynamic micro-batching: documents of concurrent requests share model calls.

Requests put their documents (one :class:`WorkItem` each) into one queue that
lives on the event loop. One worker coroutine takes the first waiting document,
then keeps taking documents while

* the batch's token cost (``model.cost(doc)``, encoder tokens) stays within
  ``batch_tokens``,
* it holds fewer than ``max_batch_docs`` documents, and
* more documents arrive within ``batch_wait`` of the first one (documents
  already waiting are taken at once, without waiting),

and hands the batch to the **torch thread**, the one thread that runs the
model (predicting, adding evidence), through ``run_in_executor`` so the event
loop stays free. A document's cost is computed when its request arrives, in a
second thread (tokenising only; the features are kept for the prediction), so
documents join the queue while the model is busy and the next batch can take
them all at once. Each document's future is
resolved with its prediction. Documents with a different mode or threshold
may share a batch: the thread predicts each (mode, threshold) group with one
call. ``batch_wait=0, max_batch_docs=1`` is plain batch-1 serving.

The queue is bounded (documents and tokens waiting): :meth:`MicroBatcher.submit`
refuses work that would overflow it (503 with ``Retry-After``, E503) and a
request larger than the whole queue (422, E513). A request that gives up
(timeout, client gone) :meth:`~MicroBatcher.cancel`s its documents still
waiting, so no model time is spent on them.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import error
from ..types import Document
from .errors import ApiError
from .metrics import Metrics

log = logging.getLogger("biorel.serve")


@dataclass(eq=False)
class WorkItem:
    """One document waiting for the model, and the future its request awaits."""

    doc: Document
    tokens: int
    mode: str
    threshold: float
    #: the attribution method to explain this document's relations with (``None``: no evidence)
    evidence: str | None
    future: asyncio.Future


class Runner(Protocol):
    """The model side of the batcher: ``cost`` runs in the cost thread, ``run``
    in the torch thread."""

    def cost(self, docs: Sequence[Document]) -> list[int]: ...

    def run(self, items: Sequence[WorkItem]) -> list[Document | Exception]: ...


class ModelRunner:
    """Runs a loaded :class:`~biorel.models.BiorelModel`: one ``predict`` per
    (mode, threshold) group of a batch, then ``add_evidence`` on the
    predictions whose request asked for evidence."""

    def __init__(self, model: Any, evidence: Callable[..., Any] | None = None, evidence_top_k: int = 8):
        self.model = model
        self.evidence = evidence
        self.evidence_top_k = evidence_top_k

    def cost(self, docs: Sequence[Document]) -> list[int]:
        return [max(1, int(self.model.cost(d))) for d in docs]

    def run(self, items: Sequence[WorkItem]) -> list[Document | Exception]:
        """Predictions in the order of ``items``; an item whose evidence could
        not be added gets the exception instead (the others are unaffected)."""
        out: list[Document | Exception] = [None] * len(items)  # type: ignore[list-item]
        groups: dict[tuple[str, float], list[int]] = {}
        for i, item in enumerate(items):
            groups.setdefault((item.mode, item.threshold), []).append(i)
        for (mode, threshold), idx in groups.items():
            preds = self.model.predict([items[i].doc for i in idx], mode, threshold=threshold)
            for i, pred in zip(idx, preds, strict=True):
                out[i] = pred
        by_method: dict[str, list[int]] = {}
        for i, item in enumerate(items):
            if item.evidence:
                by_method.setdefault(item.evidence, []).append(i)
        for method, wanted in by_method.items():
            try:
                self._add_evidence(out, wanted, method)
            except Exception as exc:  # noqa: BLE001 - only the requests that asked for evidence fail
                for i in wanted:
                    out[i] = exc
        return out

    def _add_evidence(self, out: list, wanted: list[int], method: str) -> None:
        if self.evidence is None:
            raise error("E509", reason="biorel.models.evidence is not installed")
        docs = [out[i] for i in wanted]
        filled = self.evidence(self.model, docs, top_k=self.evidence_top_k, method=method)
        if isinstance(filled, list) and len(filled) == len(docs):  # returned new documents rather than filling in place
            for i, doc in zip(wanted, filled):
                out[i] = doc


@dataclass
class BatchStats:
    """What the worker did (read by tests and the benchmark)."""

    batches: int = 0
    documents: int = 0
    sizes: deque = field(default_factory=lambda: deque(maxlen=10_000))
    #: smoothed seconds of model time per document (for ``Retry-After``)
    seconds_per_doc: float = 0.1


class MicroBatcher:
    def __init__(
        self,
        runner: Runner,
        executor: Executor,
        cost_executor: Executor | None = None,
        *,
        batch_tokens: int,
        batch_wait_s: float,
        max_batch_docs: int,
        max_queue_docs: int,
        max_queue_tokens: int,
        metrics: Metrics | None = None,
    ):
        self.runner = runner
        self.executor = executor
        self.cost_executor = cost_executor or executor
        self.batch_tokens = batch_tokens
        self.batch_wait_s = batch_wait_s
        self.max_batch_docs = max_batch_docs
        self.max_queue_docs = max_queue_docs
        self.max_queue_tokens = max_queue_tokens
        self.metrics = metrics
        self.stats = BatchStats()
        self._items: deque[WorkItem] = deque()
        self._queued_docs = 0
        self._queued_tokens = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None

    # ---- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._worker(), name="biorel-batcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        while self._items:
            item = self._pop_any()
            if not item.future.done():
                item.future.set_exception(ApiError(503, error("E505", reason="the server is shutting down")))

    # ---- the queue ---------------------------------------------------------------
    @property
    def queued_docs(self) -> int:
        return self._queued_docs

    @property
    def queued_tokens(self) -> int:
        return self._queued_tokens

    def _push(self, item: WorkItem, *, front: bool = False) -> None:
        (self._items.appendleft if front else self._items.append)(item)
        self._queued_docs += 1
        self._queued_tokens += item.tokens
        self._gauges()
        self._wakeup.set()

    def _pop_any(self) -> WorkItem:
        item = self._items.popleft()
        self._queued_docs -= 1
        self._queued_tokens -= item.tokens
        self._gauges()
        return item

    def _pop(self) -> WorkItem | None:
        """The next document whose request still waits for it."""
        while self._items:
            item = self._pop_any()
            if not item.future.done():
                return item
        return None

    def _gauges(self) -> None:
        if self.metrics is not None:
            self.metrics.queue_docs.set(self._queued_docs)
            self.metrics.queue_tokens.set(self._queued_tokens)

    def retry_after(self) -> int:
        """Seconds until the work waiting now is probably done."""
        return max(1, math.ceil(self._queued_docs * self.stats.seconds_per_doc))

    def _busy(self, what: str) -> ApiError:
        retry = self.retry_after()
        return ApiError(503, error("E503", what=what, retry=retry), headers={"Retry-After": str(retry)})

    def _check_room(self, n: int, tokens: int | None) -> None:
        if n > self.max_queue_docs or (tokens is not None and tokens > self.max_queue_tokens):
            raise ApiError(
                422,
                error(
                    "E513",
                    n=n,
                    tokens=tokens if tokens is not None else "?",
                    limit=f"{self.max_queue_docs} documents or {self.max_queue_tokens} tokens",
                ),
            )
        if self._queued_docs + n > self.max_queue_docs:
            raise self._busy(f"{self._queued_docs} documents are waiting, at most {self.max_queue_docs} may")
        if tokens is not None and self._queued_tokens + tokens > self.max_queue_tokens:
            raise self._busy(f"{self._queued_tokens} tokens are waiting, at most {self.max_queue_tokens} may")

    async def submit(self, docs: Sequence[Document], *, mode: str, threshold: float, evidence: str | None = None) -> list[WorkItem]:
        """Queue ``docs``; await ``item.future`` for each prediction. Raises
        :class:`ApiError` (503 busy, 422 larger than the queue)."""
        if not docs:
            return []
        self._check_room(len(docs), None)  # refuse at once when full, before spending time on tokens
        loop = asyncio.get_running_loop()
        costs = await loop.run_in_executor(self.cost_executor, self.runner.cost, list(docs))
        self._check_room(len(docs), sum(costs))  # no await from here on: the check and the push are atomic
        items = [WorkItem(d, c, mode, threshold, evidence, loop.create_future()) for d, c in zip(docs, costs, strict=True)]
        for item in items:
            self._push(item)
        return items

    def cancel(self, items: Sequence[WorkItem]) -> None:
        """Give up ``items``: those still waiting leave the queue."""
        gone = {id(i) for i in items}
        kept = [i for i in self._items if id(i) not in gone]
        if len(kept) != len(self._items):
            self._items = deque(kept)
            self._queued_docs = len(kept)
            self._queued_tokens = sum(i.tokens for i in kept)
            self._gauges()
        for item in items:
            if not item.future.done():
                item.future.cancel()

    # ---- the worker ---------------------------------------------------------------
    async def _next(self, deadline: float | None) -> WorkItem | None:
        """The next waiting document; ``None`` once ``deadline`` (loop time) passes."""
        loop = asyncio.get_running_loop()
        while True:
            item = self._pop()
            if item is not None:
                return item
            timeout = None if deadline is None else deadline - loop.time()
            if timeout is not None and timeout <= 0:
                return None
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                return None

    async def gather(self) -> list[WorkItem]:
        """One batch: the first waiting document, then more within the limits."""
        first = await self._next(None)
        assert first is not None
        batch, tokens = [first], first.tokens
        deadline = asyncio.get_running_loop().time() + self.batch_wait_s
        while len(batch) < self.max_batch_docs:
            item = self._pop() or await self._next(deadline)
            if item is None:
                break
            if tokens + item.tokens > self.batch_tokens:
                self._push(item, front=True)  # first in the next batch
                break
            batch.append(item)
            tokens += item.tokens
        return batch

    async def _worker(self) -> None:
        while True:
            try:
                await self._one_batch()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - never let the worker die: every later request would hang
                log.exception("the batcher failed; it goes on")

    async def _one_batch(self) -> None:
        batch = await self.gather()
        t0 = time.perf_counter()
        try:
            results = await asyncio.get_running_loop().run_in_executor(self.executor, self.runner.run, batch)
        except Exception as exc:  # noqa: BLE001 - the batch's requests get the error
            log.exception("prediction of a batch of %d documents failed", len(batch))
            results = [exc] * len(batch)
        else:
            self._record(batch, time.perf_counter() - t0)
        for item, result in zip(batch, results, strict=True):
            if item.future.done():  # its request gave up
                continue
            if isinstance(result, BaseException):
                item.future.set_exception(result)
            else:
                item.future.set_result(result)

    def _record(self, batch: list[WorkItem], seconds: float) -> None:
        n = len(batch)
        self.stats.batches += 1
        self.stats.documents += n
        self.stats.sizes.append(n)
        self.stats.seconds_per_doc = 0.8 * self.stats.seconds_per_doc + 0.2 * (seconds / n)
        if self.metrics is not None:
            self.metrics.batch_docs.observe(n)
            self.metrics.batch_tokens.observe(sum(i.tokens for i in batch))
            self.metrics.predict_seconds.observe(seconds)
            self.metrics.documents.inc(n)


__all__ = ["MicroBatcher", "ModelRunner", "WorkItem", "BatchStats", "Runner"]
