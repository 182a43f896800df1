"""BioRED BioC JSON -> ``biorel pairs`` -> train -> extract -> score, end to end
(docs/pairs.md, "Training on a pairs table").

The command-line steps run as subprocesses, exactly as documented::

    biorel pairs biored:train?variant=bioc-json -o OUT/biored-train.csv --scope sentence
    biorel pairs biored:test?variant=bioc-json -o OUT/biored-test.csv --scope sentence
    biorel train configs/biored-pairs.toml --data.train OUT/biored-train.csv --training.output_dir OUT/model
    biorel extract OUT/biored-test.csv --model OUT/model/best --mode relate -o OUT/biored-pred.jsonl
    biorel evaluate OUT/biored-test.csv OUT/biored-pred.jsonl -p sentence --json OUT/report.json

then, in Python, the pair embeddings of the test table's documents
(``RelationClassifier.embed``) are clustered (k-means, k = number of gold
labels, ``none`` included) and scored with
:func:`biorel.evaluation.cluster_quality` (ARI, NMI). It prints the table sizes,
macro/micro P/R/F1 and per type (``sentence`` protocol: ``none`` rows are true
negatives, not a type), ARI/NMI, the measured seconds per training step and the
cost of a full epoch estimated from it, and writes ``OUT/result.json``.

    python benchmarks/biored_pairs_chain.py --out runs/biored-pairs-chain --max-steps 30 --threads 1

``--max-steps`` caps training (0 = the config's full schedule); tables that
exist are reused (``--fresh-tables`` writes them again).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

from common import relation_scores

ROOT = Path(__file__).resolve().parents[1]
BIOREL = [sys.executable, "-c", "from biorel.cli import main; main()"]


def run(args: list[str], log: Path) -> tuple[str, float]:
    """Run a biorel command; its output goes to ``log`` and is returned with the seconds it took."""
    t0 = time.perf_counter()
    proc = subprocess.run(BIOREL + args, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    log.write_text(f"$ biorel {' '.join(args)}\n{proc.stdout}{proc.stderr}", encoding="utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"biorel {' '.join(args)} failed ({proc.returncode}); see {log}\n{proc.stderr[-2000:]}")
    return proc.stdout, seconds


def table(ref: str, out: Path, scope: str, fresh: bool) -> dict[str, int]:
    """Write (or reuse) the pairs table of ``ref``; its row counts."""
    if fresh or not out.exists():
        stdout, _ = run(["pairs", ref, "-o", str(out), "--scope", scope], out.with_suffix(".log"))
        print(stdout.strip(), flush=True)
    from biorel.pairs_table import read_pairs

    rows = list(read_pairs(out))
    return {"rows": len(rows), "positive_rows": sum(r["label"] != "none" for r in rows), "documents": len({r["doc_id"] for r in rows})}


def train(args, train_csv: Path, model_dir: Path) -> dict[str, float]:
    cmd = ["train", str(ROOT / args.config), "--data.train", str(train_csv), "--training.output_dir", str(model_dir)]
    cmd += ["--training.threads", str(args.threads), "--training.log_every", "10"]
    if args.max_steps:
        cmd += ["--training.max_steps", str(args.max_steps)]
    stdout, wall = run(cmd, model_dir.parent / "train.log")
    print(stdout.strip(), flush=True)
    history = json.loads((model_dir / "history.json").read_text("utf-8"))
    steps = history[-1]["global_step"] if history else 0
    seconds = sum(h["train_seconds"] for h in history)
    return {"steps": steps, "train_seconds": seconds, "seconds_per_step": seconds / max(1, steps), "train_wall_seconds": wall}


def scores(test_csv: Path, pred: Path, model_dir: Path, threads: int) -> dict:
    import torch

    from biorel import io
    from biorel.evaluation import cluster_quality, evaluate
    from biorel.models import load_model
    from biorel.types import pair_examples

    torch.set_num_threads(max(1, threads))
    gold = io.load(test_csv)
    report = evaluate(pair_examples(io.load(pred), gold), "sentence")
    model = load_model(model_dir / "best")
    with torch.inference_mode():
        z, labels = model.embed(gold)
    clusters = cluster_quality(z.numpy(), labels, seed=0)
    return {
        **relation_scores(report, clusters),
        "model_relation_types": list(model.labels.relation_types),
    }


def batch_size(config: Path) -> int:
    m = re.search(r"^batch_size\s*=\s*(\d+)", config.read_text("utf-8"), re.M)
    return int(m.group(1)) if m else 16


def show(result: dict) -> None:
    s = result["scores"]
    print(f"\ntrain table: {result['train_table']}\ntest table: {result['test_table']}")
    print("\n| type | P | R | F1 | support |\n|---|---:|---:|---:|---:|")
    for t, c in sorted(s["per_type"].items()):
        print(f"| {t} | {c['p']:.4f} | {c['r']:.4f} | {c['f1']:.4f} | {c['support']} |")
    print(f"| **macro** | {s['macro']['p']:.4f} | {s['macro']['r']:.4f} | {s['macro']['f1']:.4f} | |")
    m = s["micro"]
    print(f"| **micro** | {m['p']:.4f} | {m['r']:.4f} | {m['f1']:.4f} | tp {m['tp']} fp {m['fp']} fn {m['fn']} |")
    print(f"\nARI {s['ari']:.4f}  NMI {s['nmi']:.4f}  (k-means, k = {s['k']}, {s['n_pairs']} candidate pairs embedded)")
    t = result["training"]
    print(
        f"training: {t['steps']} steps in {t['train_seconds']:.1f} s ({t['seconds_per_step']:.2f} s/step, {result['threads']} thread(s)); "
        f"a full epoch is {t['steps_per_epoch']} steps: about {t['epoch_estimate_seconds'] / 3600:.2f} h at this rate"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/biored-pairs-chain"))
    ap.add_argument("--config", default="configs/biored-pairs.toml")
    ap.add_argument("--train-ref", default="biored:train?variant=bioc-json")
    ap.add_argument("--test-ref", default="biored:test?variant=bioc-json")
    ap.add_argument("--scope", default="sentence", choices=["sentence", "document"])
    ap.add_argument("--max-steps", type=int, default=0, help="cap on training steps (0 = the config's full schedule)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--fresh-tables", action="store_true", help="write the pairs tables again even if they exist")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    train_csv, test_csv, pred, model_dir = out / "biored-train.csv", out / "biored-test.csv", out / "biored-pred.jsonl", out / "model"
    result: dict = {"threads": args.threads, "max_steps": args.max_steps, "scope": args.scope}
    result["train_table"] = table(args.train_ref, train_csv, args.scope, args.fresh_tables)
    result["test_table"] = table(args.test_ref, test_csv, args.scope, args.fresh_tables)
    result["training"] = train(args, train_csv, model_dir)
    steps_per_epoch = math.ceil(result["train_table"]["rows"] / batch_size(ROOT / args.config))
    result["training"].update(steps_per_epoch=steps_per_epoch, epoch_estimate_seconds=steps_per_epoch * result["training"]["seconds_per_step"])
    pred.unlink(missing_ok=True)
    extract = ["extract", str(test_csv), "--model", str(model_dir / "best"), "--mode", "relate", "-o", str(pred)]
    _, result["extract_seconds"] = run(extract + ["--no-progress", "--threads", str(args.threads)], out / "extract.log")
    score = ["evaluate", str(test_csv), str(pred), "-p", "sentence", "--bootstrap", "0", "--json", str(out / "report.json")]
    stdout, _ = run(score, out / "evaluate.log")
    print(stdout.strip(), flush=True)
    result["scores"] = scores(test_csv, pred, model_dir, args.threads)
    (out / "result.json").write_text(json.dumps(result, indent=1), "utf-8")
    show(result)


if __name__ == "__main__":
    main()
