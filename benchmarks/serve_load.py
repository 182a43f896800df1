"""Loopback load benchmark of ``biorel serve``: micro-batching vs batch-1 serving vs ``biorel extract``.

On the BC5CDR test abstracts (``$BIOREL_DATA_MIRROR/bc5cdr/CDR_TestSet.PubTator.txt``, title + abstract as raw
text), it

1. runs ``biorel extract`` on the same abstracts (raw text, one block each) as the reference rate;
2. starts ``biorel serve`` twice, with micro-batching (the defaults, or ``--batch-tokens/--batch-wait-ms/
   --max-batch-docs``) and as plain batch-1 serving (``--batch-wait-ms 0 --max-batch-docs 1``), and for each
   drives 1, 8 and 32 concurrent clients (httpx, async) for ``--seconds`` each, every client posting one
   abstract per request to ``POST /v1/extract``;
3. reports requests/s, abstracts/s, p50/p95/p99 latency, errors, the server's peak RSS (psutil) and the mean
   batch size the server saw (from ``/metrics``), as a markdown table and as JSON (``--json``);
4. checks the goals: micro-batching >= 2x batch-1 throughput at 32 clients, >= 80 % of ``biorel extract``'s
   abstracts/s, 0 errors.

Bounded: ``--seconds`` per level (default 60) and ``--max-requests`` per level. The smoke run::

    python benchmarks/serve_load.py --seconds 5 --docs 100

The real run (about 8 minutes, on an otherwise idle machine)::

    python benchmarks/serve_load.py --seconds 60 --json serve_load.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

from common import cpu_model

CLI = [sys.executable, "-c", "from biorel.cli import main; main()"]
BATCH_ONE = ["--batch-wait-ms", "0", "--max-batch-docs", "1"]


@dataclass
class Level:
    config: str
    clients: int
    seconds: float = 0.0
    requests: int = 0
    abstracts: int = 0
    errors: int = 0
    #: errors by HTTP status ("transport" for connection errors)
    error_kinds: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    peak_rss_mb: float = 0.0
    mean_batch: float = 0.0

    def summary(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "latencies_ms"}
        lat = sorted(self.latencies_ms)
        d.update(
            requests_per_s=self.requests / self.seconds if self.seconds else 0.0,
            abstracts_per_s=self.abstracts / self.seconds if self.seconds else 0.0,
            p50_ms=percentile(lat, 50),
            p95_ms=percentile(lat, 95),
            p99_ms=percentile(lat, 99),
        )
        return d


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def abstracts(limit: int) -> list[str]:
    from biorel import io

    mirror = os.environ.get("BIOREL_DATA_MIRROR")
    if not mirror:
        sys.exit("set BIOREL_DATA_MIRROR to the dataset mirror (it holds bc5cdr/CDR_TestSet.PubTator.txt)")
    path = Path(mirror) / "bc5cdr" / "CDR_TestSet.PubTator.txt"
    texts = []
    for doc in io.read(path, "pubtator"):
        texts.append(doc.text)
        if len(texts) >= limit:
            break
    return texts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the reference: biorel extract ------------------------------------------------------------
def run_extract(texts: list[str], model: str, threads: int, work: Path) -> dict:
    src = work / "abstracts.txt"
    src.write_text("\n\n".join(texts) + "\n", "utf-8")
    out = work / "extract.jsonl"
    cmd = [*CLI, "extract", str(src), "--model", model, "-o", str(out), "--no-progress", "--no-resume", "--threads", str(threads)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"biorel extract failed:\n{proc.stderr}")
    m = re.search(r"(\d+) documents written .*?; ([\d.]+) docs/s \((\w+)\)", proc.stdout)
    if not m:
        sys.exit(f"cannot read the rate from biorel extract's output:\n{proc.stdout}")
    return {"documents": int(m.group(1)), "abstracts_per_s": float(m.group(2)), "precision": m.group(3), "wall_s_with_startup": wall}


# ---- one server, several client levels --------------------------------------------------------
class Server:
    def __init__(self, model: str, extra: list[str], threads: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [*CLI, "serve", "--model", model, "--port", str(self.port), "--threads", str(threads), "--log-level", "warning", *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.ps = psutil.Process(self.proc.pid)

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    sys.exit(f"biorel serve exited:\n{self.proc.stderr.read()}")
                try:
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        sys.exit("biorel serve did not become ready")

    def rss_mb(self) -> float:
        try:
            return self.ps.memory_info().rss / 2**20
        except psutil.Error:
            return 0.0

    def batch_counts(self) -> tuple[float, float]:
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        total = count = 0.0
        for line in text.splitlines():
            if line.startswith("biorel_batch_documents_sum "):
                total = float(line.split()[1])
            elif line.startswith("biorel_batch_documents_count "):
                count = float(line.split()[1])
        return total, count

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def drive(url: str, texts: list[str], clients: int, seconds: float, max_requests: int, level: Level, sample_rss) -> None:
    next_doc = 0
    stop_at = time.perf_counter() + seconds
    peak = 0.0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal next_doc
        while time.perf_counter() < stop_at and level.requests + level.errors < max_requests:
            i = next_doc
            next_doc += 1
            t0 = time.perf_counter()
            try:
                r = await client.post(f"{url}/v1/extract", json={"text": texts[i % len(texts)], "id": f"a{i}"})
                ok, kind = r.status_code == 200, str(r.status_code)
            except httpx.HTTPError:
                ok, kind = False, "transport"
            if ok:
                level.requests += 1
                level.abstracts += 1
                level.latencies_ms.append((time.perf_counter() - t0) * 1000)
            else:
                level.errors += 1
                level.error_kinds[kind] = level.error_kinds.get(kind, 0) + 1

    async def watch_rss() -> None:
        nonlocal peak
        while time.perf_counter() < stop_at:
            peak = max(peak, sample_rss())
            await asyncio.sleep(0.2)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        t0 = time.perf_counter()
        watcher = asyncio.create_task(watch_rss())
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        level.seconds = time.perf_counter() - t0
        watcher.cancel()
    level.peak_rss_mb = max(peak, sample_rss())


def run_config(name: str, extra: list[str], args, texts: list[str]) -> list[Level]:
    server = Server(args.model, extra, args.threads)
    levels = []
    try:
        server.wait_ready()
        asyncio.run(drive(server.url, texts, 2, 0, 4, Level(name, 2), server.rss_mb))  # warm-up: 4 requests
        for clients in args.clients:
            before = server.batch_counts()
            level = Level(name, clients)
            asyncio.run(drive(server.url, texts, clients, args.seconds, args.max_requests, level, server.rss_mb))
            after = server.batch_counts()
            level.mean_batch = (after[0] - before[0]) / max(1.0, after[1] - before[1])
            levels.append(level)
            print(f"  {name:>14} {clients:>3} clients: {level.abstracts / level.seconds:6.1f} abstracts/s, {level.errors} errors", flush=True)
    finally:
        server.stop()
    return levels


def table(rows: list[dict], reference: dict) -> str:
    head = "| config | clients | req/s | abstracts/s | p50 ms | p95 ms | p99 ms | errors | mean batch | peak RSS MB |"
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['clients']} | {r['requests_per_s']:.1f} | {r['abstracts_per_s']:.1f} | {r['p50_ms']:.0f} | "
            f"{r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['errors']}{errors_by_kind(r)} | {r['mean_batch']:.1f} | {r['peak_rss_mb']:.0f} |"
        )
    lines.append(f"| biorel extract | - | - | {reference['abstracts_per_s']:.1f} | - | - | - | 0 | - | - |")
    return "\n".join(lines)


def errors_by_kind(row: dict) -> str:
    kinds = row.get("error_kinds") or {}
    return " (" + ", ".join(f"{n}x {k}" for k, n in sorted(kinds.items())) + ")" if kinds else ""


def goals(rows: list[dict], reference: dict, top: int) -> list[tuple[str, bool, str]]:
    def at(config: str) -> dict | None:
        return next((r for r in rows if r["config"] == config and r["clients"] == top), None)

    micro, one = at("micro-batching"), at("batch-1")
    out = []
    if micro and one:
        ratio = micro["abstracts_per_s"] / max(one["abstracts_per_s"], 1e-9)
        out.append((f"micro-batching >= 2x batch-1 at {top} clients", ratio >= 2.0, f"{ratio:.2f}x"))
    if micro:
        share = micro["abstracts_per_s"] / max(reference["abstracts_per_s"], 1e-9)
        out.append((f"micro-batching at {top} clients >= 80% of biorel extract", share >= 0.8, f"{share:.0%}"))
    errors = sum(r["errors"] for r in rows)
    out.append(("0 errors", errors == 0, str(errors)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="bc5cdr-minilm")
    ap.add_argument("--seconds", type=float, default=60.0, help="seconds per client level")
    ap.add_argument("--max-requests", type=int, default=100_000, help="requests per client level at most")
    ap.add_argument("--docs", type=int, default=500, help="first N test abstracts (500: all)")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--threads", type=int, default=0, help="torch threads of the server and of biorel extract (0: default)")
    ap.add_argument("--batch-tokens", type=int, default=None, help="micro-batching: token budget (default: biorel serve's)")
    ap.add_argument("--batch-wait-ms", type=float, default=None)
    ap.add_argument("--max-batch-docs", type=int, default=None)
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()

    cpu = cpu_model()
    print(f"CPU: {cpu} ({psutil.cpu_count()} logical cores)")
    texts = abstracts(args.docs)
    print(f"{len(texts)} BC5CDR test abstracts, {args.seconds:g} s per level, clients {args.clients}")
    micro_extra = []
    for opt, value in (("--batch-tokens", args.batch_tokens), ("--batch-wait-ms", args.batch_wait_ms), ("--max-batch-docs", args.max_batch_docs)):
        if value is not None:
            micro_extra += [opt, str(value)]
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        reference = run_extract(texts, args.model, args.threads, Path(tmp))
    print(f"  biorel extract: {reference['abstracts_per_s']:.1f} abstracts/s ({reference['precision']})", flush=True)
    levels = run_config("micro-batching", micro_extra, args, texts) + run_config("batch-1", BATCH_ONE, args, texts)
    rows = [lv.summary() for lv in levels]
    print()
    print(table(rows, reference))
    print()
    checks = goals(rows, reference, max(args.clients))
    for what, ok, value in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {what}: {value}")
    if args.json:
        result = {
            "cpu": cpu,
            "logical_cores": psutil.cpu_count(),
            "args": vars(args),
            "reference_extract": reference,
            "levels": rows,
            "goals": [{"goal": w, "pass": ok, "value": v} for w, ok, v in checks],
        }
        Path(args.json).write_text(json.dumps(result, indent=1), "utf-8")
        print(f"written {args.json}")


if __name__ == "__main__":
    main()
