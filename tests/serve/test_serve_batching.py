"""Micro-batching: concurrent requests share model calls; batch-1 mode never
does; the token budget and document cap cut batches. Counted, never timed."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from serve_helpers import running, wait_until

from biorel.serve import ServeSettings, create_app
from biorel.serve.batching import MicroBatcher
from biorel.types import Document, Passage

N = 12


def post_all(url: str, n: int, pool: ThreadPoolExecutor) -> list:
    return [
        pool.submit(httpx.post, f"{url}/v1/extract", json={"text": f"Lithium induced seizures {i}.", "id": f"d{i}"}, timeout=60) for i in range(n)
    ]


def test_concurrent_requests_are_batched(counting):
    app = create_app(counting, settings=ServeSettings(batch_wait_ms=5, max_batch_docs=32, batch_tokens=100_000))
    with running(app) as url, ThreadPoolExecutor(N) as pool:
        batcher = app.state.service.batcher
        counting.gate.clear()  # the first model call holds; the others' documents wait in the queue
        first = pool.submit(httpx.post, f"{url}/v1/extract", json={"text": "Lithium induced seizures first."}, timeout=60)
        assert counting.entered.wait(30)
        futures = post_all(url, N - 1, pool)
        assert wait_until(lambda: batcher.queued_docs == N - 1)
        counting.gate.set()
        answers = [f.result(60) for f in futures]
        assert first.result(60).status_code == 200
    assert all(a.status_code == 200 for a in answers)
    assert sorted(a.json()["documents"][0]["id"] for a in answers) == sorted(f"d{i}" for i in range(N - 1))
    for i, a in enumerate(answers):  # each request got its own document back
        assert a.json()["documents"][0]["passages"][0]["text"] == f"Lithium induced seizures {i}."
    assert sum(counting.calls) == N
    assert counting.calls == [1, N - 1]  # the held call, then every waiting document in one call
    assert list(batcher.stats.sizes) == counting.calls


def test_batch_one_mode_never_batches(counting):
    app = create_app(counting, settings=ServeSettings(batch_wait_ms=0, max_batch_docs=1))
    with running(app) as url, ThreadPoolExecutor(N) as pool:
        batcher = app.state.service.batcher
        counting.gate.clear()
        first = pool.submit(httpx.post, f"{url}/v1/extract", json={"text": "Lithium induced seizures first."}, timeout=60)
        assert counting.entered.wait(30)
        futures = post_all(url, N - 1, pool)
        assert wait_until(lambda: batcher.queued_docs == N - 1)
        counting.gate.set()
        assert all(f.result(60).status_code == 200 for f in [first, *futures])
    assert counting.calls == [1] * N


def test_one_multi_document_request_is_one_batch(make_client, counting):
    client = make_client(max_batch_docs=32, batch_tokens=100_000)
    r = client.post("/v1/extract/text", content=b"\n\n".join(b"abstract %d about lithium" % i for i in range(7)))
    assert r.status_code == 200 and len(r.json()["documents"]) == 7
    assert counting.calls == [7]
    client = make_client(max_batch_docs=3, batch_tokens=100_000)
    counting.calls.clear()
    client.post("/v1/extract/text", content=b"\n\n".join(b"abstract %d" % i for i in range(7)))
    assert counting.calls == [3, 3, 1]


def test_different_thresholds_share_a_batch_but_not_a_call(counting):
    """Documents with other thresholds are predicted in their own call within the batch, with their own threshold."""
    app = create_app(counting, settings=ServeSettings(batch_wait_ms=5, max_batch_docs=32, batch_tokens=100_000))
    text = "Famotidine-associated delirium. Lithium induced seizures."
    with running(app) as url, ThreadPoolExecutor(4) as pool:
        batcher = app.state.service.batcher
        counting.gate.clear()
        held = pool.submit(httpx.post, f"{url}/v1/extract", json={"text": "held"}, timeout=60)
        assert counting.entered.wait(30)
        futures = [pool.submit(httpx.post, f"{url}/v1/extract", json={"text": text, "threshold": t}, timeout=60) for t in (0.0, 1.0, 0.0)]
        assert wait_until(lambda: batcher.queued_docs == 3)
        counting.gate.set()
        low1, high, low2 = (f.result(60).json()["documents"][0] for f in futures)
        held.result(60)
    assert list(batcher.stats.sizes) == [1, 3]  # one batch of three ...
    assert sorted(counting.calls) == [1, 1, 2]  # ... predicted as two calls (threshold 0 and threshold 1)
    assert high["relations"] == [] and low1 == low2


# ---- the batcher alone, with a fake runner ---------------------------------------------------
class FakeRunner:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def cost(self, docs):
        return [len(d.text) for d in docs]

    def run(self, items):
        self.batches.append([i.doc.id for i in items])
        return [i.doc for i in items]


def doc(i: int, n: int) -> Document:
    return Document(f"d{i}", [Passage(0, "x" * n)])


def test_token_budget_cuts_batches():
    async def main() -> list[list[str]]:
        runner = FakeRunner()
        with ThreadPoolExecutor(1) as pool:
            b = MicroBatcher(runner, pool, batch_tokens=10, batch_wait_s=0, max_batch_docs=100, max_queue_docs=100, max_queue_tokens=1000)
            items = await b.submit([doc(i, n) for i, n in enumerate([4, 4, 4, 20, 1, 9])], mode="extract", threshold=0.5)
            b.start()
            await asyncio.gather(*(i.future for i in items))
            await b.stop()
        return runner.batches

    # 4+4 fit, +4 would pass 10; 20 alone exceeds the budget but a batch always takes its first document
    assert asyncio.run(main()) == [["d0", "d1"], ["d2"], ["d3"], ["d4", "d5"]]


def test_cancelled_documents_are_skipped():
    async def main() -> tuple[list[list[str]], int]:
        runner = FakeRunner()
        with ThreadPoolExecutor(1) as pool:
            b = MicroBatcher(runner, pool, batch_tokens=100, batch_wait_s=0, max_batch_docs=100, max_queue_docs=100, max_queue_tokens=1000)
            keep = await b.submit([doc(0, 1), doc(1, 1)], mode="extract", threshold=0.5)
            drop = await b.submit([doc(2, 1), doc(3, 1)], mode="extract", threshold=0.5)
            b.cancel(drop)
            queued = b.queued_docs
            b.start()
            await asyncio.gather(*(i.future for i in keep))
            await b.stop()
        return runner.batches, queued

    batches, queued = asyncio.run(main())
    assert queued == 2 and batches == [["d0", "d1"]]


def test_stop_fails_waiting_documents_with_503():
    async def main():
        with ThreadPoolExecutor(1) as pool:
            b = MicroBatcher(FakeRunner(), pool, batch_tokens=100, batch_wait_s=0, max_batch_docs=100, max_queue_docs=100, max_queue_tokens=1000)
            items = await b.submit([doc(0, 1)], mode="extract", threshold=0.5)
            await b.stop()
            return items[0].future.exception()

    exc = asyncio.run(main())
    assert exc.status == 503 and exc.err.code == "E505"
