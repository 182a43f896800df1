"""Single-node extraction speed on the 500 BC5CDR test abstracts, side by side
(issue "PubMed scale", figure 2).

Variants, each in a fresh process on the same shipped model, the same input and
the same precision (``--precision auto``):

* ``naive``: the per-sentence pipeline a user writes first: the model's encoder
  and tagging head as an HF ``AutoModelForTokenClassification`` called through
  ``transformers.pipeline`` once per sentence (mentions only; see
  ``extract_throughput.py``);
* ``encoder``: the limit: the bare encoder's forward pass over the same
  abstracts' windows (tokenised beforehand, not timed), sorted by length and
  batched ``window_batch`` at a time;
* ``extract-old``: ``biorel.extract.extract`` from an earlier revision
  (``--old-rev``, checked out into a temporary ``git worktree``);
* ``extract``: ``biorel.extract.extract`` as it is now;
* ``extract-int8``: the same with ``precision="int8"`` (the encoder's linear
  layers quantised; where bf16 is not native, the CPU's fastest path);
* ``extract-1t``: ``extract`` with one torch thread (what one Ray worker runs);
* ``procs-2``: two independent ``extract`` processes of one thread each, on
  alternate halves of the input at the same time: what two workers can reach
  on this machine without Ray (the ceiling of ``ray-2`` / ``ray-1``; its rate
  runs from the first process's model being loaded to the last one's end);
* ``ray-1`` / ``ray-2``: ``biorel extract --engine ray`` with 1 and 2 workers
  of one thread each on a local Ray, the input cut into shards of
  ``--shard-docs`` documents.

The single-process variants use ``--threads`` torch threads. Time runs from
before the model is loaded to the last document written; the rate after
start-up leaves out loading the model (for Ray: everything before the first
shard began, i.e. the driver's option check, starting Ray and its actors and
loading their models). ``--repeats`` runs the whole series that many times, interleaved, and
reports each variant's median. The predictions of every ``extract`` variant are
scored against the gold (NER strict and end-to-end relations), so that speed
and accuracy are read together.

    python benchmarks/single_node_speed.py --out /tmp/speed --threads 2 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import child_result, cpu_model, parse_result, print_result

VARIANTS = ("naive", "encoder", "extract-old", "extract", "extract-int8", "extract-1t", "procs-2", "ray-1", "ray-2")
MODEL = "bc5cdr-minilm"


def _gold(out: Path, limit: int | None) -> Path:
    from biorel import io
    from biorel.datasets import load_dataset

    path = out / "test.gold.jsonl"
    if not path.exists():
        io.write(load_dataset("bc5cdr", split="test")[:limit], path)
    return path


def _model_dir() -> str:
    from biorel.models.shipped import resolve_model

    return str(resolve_model(MODEL))


def run_encoder(gold: Path, work: Path, threads: int) -> dict:
    import torch

    from biorel import io
    from biorel.models import load_model

    t0 = time.perf_counter()
    model = load_model(_model_dir())
    precision = model.set_precision("auto")
    enc = model.encoder
    windows = [enc.featurizer.wrap(f.input_ids[s:e]) for f in map(enc.featurizer, io.read(gold)) for s, e in f.windows]
    ready = time.perf_counter()
    with torch.inference_mode():
        enc.encode_windows(windows)
    end = time.perf_counter()
    n = sum(1 for _ in io.read(gold))
    return {"seconds": end - t0, "startup_seconds": ready - t0, "documents": n, "windows": len(windows), "precision": precision}


def run_extract(gold: Path, work: Path, threads: int, tag: str) -> dict:
    import biorel
    from biorel.extract import extract

    t0, wall_start = time.perf_counter(), time.time()
    from biorel.models import load_model

    model = load_model(_model_dir())
    ready, wall_ready = time.perf_counter(), time.time()
    pred = work / f"pred.{tag}.jsonl"
    precision = "int8" if tag.endswith("-int8") else "auto"
    stats = extract(gold, model, pred, mode="extract", resume=False, progress=False, precision=precision)
    end = time.perf_counter()
    res = {
        "pred": str(pred),
        "seconds": end - t0,
        "startup_seconds": ready - t0,
        "documents": stats.written,
        "code": biorel.__file__,
        "precision": stats.precision,
    }
    return res | {"wall_start": wall_start, "wall_ready": wall_ready, "wall_end": time.time()}


def run_procs(gold: Path, work: Path, n: int, shard_docs: int) -> dict:
    """``n`` single-thread ``extract`` processes at once, each on every n-th document."""
    from biorel import io

    docs = list(io.read(gold))
    parts = []
    for k in range(n):
        part = work / f"part-{k}-of-{n}.jsonl"
        io.write(docs[k::n], part)
        parts.append(part)
    cmd = [sys.executable, __file__, "--out", str(work), "--threads", "1", "--shard-docs", str(shard_docs), "--variant", "extract-part"]
    procs = [subprocess.Popen([*cmd, "--part", str(p)], stdout=subprocess.PIPE, text=True) for p in parts]
    results = [parse_result(pr.communicate()[0], pr.returncode) for pr in procs]
    if failed := [r["error"] for r in results if "error" in r]:
        raise RuntimeError(f"a part failed: {failed[0]}")
    start = min(r["wall_ready"] for r in results)
    end = max(r["wall_end"] for r in results)
    first = min(r["wall_start"] for r in results)
    pred = work / f"pred.procs-{n}.jsonl"
    io.write((d for r in results for d in io.read(r["pred"])), pred)
    return {"pred": str(pred), "seconds": end - first, "startup_seconds": start - first, "documents": sum(r["documents"] for r in results)}


def run_ray(gold: Path, work: Path, workers: int, shard_docs: int) -> dict:
    import shutil

    from biorel.extract.ray_engine import extract_ray

    out = work / f"ray-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    stats = extract_ray(
        gold, MODEL, out, workers=workers, threads_per_worker=1, shard_docs=shard_docs, mode="extract", output_format="jsonl", progress=False
    )
    seconds = time.perf_counter() - t0
    pred = work / f"pred.ray-{workers}.jsonl"
    _concat_shards(out, pred)
    working = stats.seconds - stats.startup_seconds  # from the first shard's start to the last result
    res = {"pred": str(pred), "seconds": seconds, "startup_seconds": seconds - working, "documents": stats.written, "shards": stats.shards}
    return res | {"workers": worker_timeline(out / "_manifest.jsonl")}


def worker_timeline(manifest: Path) -> dict:
    """Where each Ray worker's time went, from the shard records of the
    manifest: its first shard's start and last shard's end (seconds after the
    first start of any worker), its time inside shards (busy), the gaps
    between its shards (waiting for the next one) and its idle tail (done
    while another worker still ran)."""
    recs = [json.loads(x) for x in manifest.read_text().splitlines()[1:]]
    t0 = min(r["started_at"] for r in recs)
    end = max(r["started_at"] + r["seconds"] for r in recs)
    by_worker: dict[str, list[dict]] = {}
    for r in sorted(recs, key=lambda r: r["started_at"]):
        by_worker.setdefault(r.get("worker", "?"), []).append(r)
    out = {}
    for w, rs in by_worker.items():
        first, last = rs[0]["started_at"] - t0, rs[-1]["started_at"] + rs[-1]["seconds"] - t0
        busy = sum(r["seconds"] for r in rs)
        out[w] = {
            "shards": len(rs),
            "docs": sum(r["docs"] for r in rs),
            "first_start": round(first, 2),
            "last_end": round(last, 2),
            "busy": round(busy, 2),
            "gaps": round(last - first - busy, 2),
            "idle_tail": round(end - t0 - last, 2),
            "docs_per_busy_s": round(sum(r["docs"] for r in rs) / busy, 2),
        }
    return out


def _concat_shards(folder: Path, pred: Path) -> None:
    from biorel import io

    shards = sorted(folder.glob("shard-*.jsonl"))
    io.write((d for s in shards for d in io.read(s, "jsonl")), pred)


def child(args) -> None:
    import torch

    work, gold = Path(args.out), Path(args.out) / "test.gold.jsonl"
    if args.variant.startswith("ray-"):
        res = run_ray(gold, work, int(args.variant.split("-")[1]), args.shard_docs)
    elif args.variant.startswith("procs-"):
        res = run_procs(gold, work, int(args.variant.split("-")[1]), args.shard_docs)
    elif args.variant == "extract-part":
        torch.set_num_threads(1)
        res = run_extract(Path(args.part), work, 1, Path(args.part).stem)
    else:
        torch.set_num_threads(args.threads)
        if args.variant == "naive":
            from extract_throughput import run_baseline

            res = run_baseline(_model_dir(), gold, work, args.threads)
        elif args.variant == "encoder":
            res = run_encoder(gold, work, args.threads)
        else:
            res = run_extract(gold, work, args.threads, args.variant)
    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print_result(res)


def _old_tree(rev: str) -> Path:
    """A temporary worktree of ``rev`` (its ``src`` goes first on PYTHONPATH)."""
    repo = Path(__file__).resolve().parent.parent
    path = Path(tempfile.mkdtemp(prefix="biorel-old-")) / "tree"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(path), rev], check=True, capture_output=True)
    return path


def _run_variant(variant: str, args, old_tree: Path | None) -> dict:
    env = dict(os.environ)
    if variant == "extract-old":
        env["PYTHONPATH"] = f"{old_tree / 'src'}{os.pathsep}{env.get('PYTHONPATH', '')}"
    threads = 1 if variant == "extract-1t" else args.threads
    cmd = [sys.executable, __file__, "--out", args.out, "--threads", str(threads), "--shard-docs", str(args.shard_docs), "--variant", variant]
    res = child_result(cmd, env=env, cwd=Path(__file__).parent)
    if "error" in res:
        return res
    if variant == "extract-old" and not res["code"].startswith(str(old_tree)):
        return {"error": f"the old revision was not the code that ran ({res['code']})"}
    res["docs_per_s"] = res["documents"] / res["seconds"]
    res["docs_per_s_after_startup"] = res["documents"] / (res["seconds"] - res["startup_seconds"])
    return res


def _accuracy(pred_path: str, gold) -> dict:
    from biorel import io
    from biorel.evaluation import evaluate
    from biorel.types import pair_examples

    pred = io.load(pred_path)
    examples = pair_examples(pred, gold)
    ner = evaluate(examples, "ner").to_dict(documents=False)["micro"]["f1"]
    rel = evaluate(examples, "e2e").to_dict(documents=False)["micro"]["f1"]
    return {"ner_f1": ner, "e2e_f1": rel}


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _table(results: dict) -> list[str]:
    v = results["variants"]
    rate = {k: _median(r, "docs_per_s_after_startup") for k, r in v.items() if r}
    lines = [
        "| variant | abstracts/s (incl. start-up) | abstracts/s after start-up | x naive | % of encoder-only | peak RSS MiB | NER F1 | e2e F1 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k, runs in v.items():
        if not runs:
            lines.append(f"| {k} | failed | | | | | | |")
            continue
        acc = runs[0].get("accuracy", {})
        naive = f"{rate[k] / rate['naive']:.2f}" if rate.get("naive") else "-"
        limit = f"{100 * rate[k] / rate['encoder']:.0f} %" if rate.get("encoder") else "-"
        lines.append(
            f"| {k} | {_median(runs, 'docs_per_s'):.2f} | {rate[k]:.2f} | {naive} | {limit} | {max(r['peak_rss_mib'] for r in runs):.0f} | "
            f"{acc.get('ner_f1', float('nan')):.4f} | {acc.get('e2e_f1', float('nan')):.4f} |"
        )
    if rate.get("ray-1") and rate.get("ray-2"):
        lines.append(f"\nRay: 2 workers / 1 worker = {rate['ray-2'] / rate['ray-1']:.2f}x (after start-up)")
    if rate.get("extract-1t") and rate.get("procs-2"):
        lines.append(
            f"Without Ray: 2 processes / 1 process of one thread = {rate['procs-2'] / rate['extract-1t']:.2f}x (the ceiling on this machine)"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="work folder")
    ap.add_argument("--threads", type=int, default=2, help="torch threads of the single-process variants")
    ap.add_argument("--limit", type=int, default=None, help="only the first N test documents")
    ap.add_argument("--repeats", type=int, default=1, help="run the series this many times (interleaved); medians are reported")
    ap.add_argument("--shard-docs", type=int, default=50, help="documents per Ray shard")
    ap.add_argument("--old-rev", default="923f447", help="the revision of 'extract-old'")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--part", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        return child(args)

    from biorel import io

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gold = io.load(_gold(out, args.limit))
    old_tree = _old_tree(args.old_rev) if "extract-old" in args.variants else None
    results = {"cpu": cpu_model(), "threads": args.threads, "documents": len(gold), "old_rev": args.old_rev, "date": time.strftime("%Y-%m-%d %H:%M")}
    results["loadavg_before"] = os.getloadavg()
    results["variants"] = {v: [] for v in args.variants}
    try:
        for rep in range(args.repeats):
            for v in args.variants:
                res = _run_variant(v, args, old_tree)
                if "error" in res:
                    print(f"{v}: failed: {res['error']}", file=sys.stderr)
                    continue
                if "pred" in res and not results["variants"][v]:
                    res["accuracy"] = _accuracy(res["pred"], gold)
                results["variants"][v].append(res)
                print(f"[{rep + 1}/{args.repeats}] {v}: {res['docs_per_s_after_startup']:.2f} abstracts/s after start-up", flush=True)
                for w, t in res.get("workers", {}).items():
                    print(f"    worker {w}: {json.dumps(t)}", flush=True)
    finally:
        if old_tree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], capture_output=True)
    results["loadavg_after"] = os.getloadavg()
    (out / "single_node_speed.json").write_text(json.dumps(results, indent=1))
    print(f"\n{results['cpu']}, {args.threads} threads, {len(gold)} abstracts, {args.repeats} repeat(s), {results['date']}")
    print("\n".join(_table(results)))


if __name__ == "__main__":
    main()
