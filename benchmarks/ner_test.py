"""Test-set NER figure of a trained model for any config with a ``data.test``
split (one script, one figure): strict span+type micro P/R/F1 with bootstrap 95%
intervals, per type, plus extraction speed.

    python benchmarks/ner_test.py --config configs/ncbi_disease.toml --model runs/ncbi/best --out /tmp/ncbi-test

Needs the dataset mirror (BIOREL_DATA_MIRROR) or network access to the pinned URLs.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from biorel import io
from biorel.config import load_config
from biorel.evaluation import evaluate
from biorel.extract import extract
from biorel.training.data import load_split
from biorel.types import pair_examples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="the training config (its data.test is scored)")
    ap.add_argument("--model", required=True, help="trained model folder")
    ap.add_argument("--out", required=True, help="work folder for predictions and result.json")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    ap.add_argument("--precision", default="auto", help="auto, fp32 or bf16")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_config(args.config)
    if not cfg.data.test:
        raise SystemExit(f"{args.config} has no data.test")
    gold, prov = load_split(cfg.data.test, format=cfg.data.format, lenient=cfg.data.lenient)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gold_path = out / "test.gold.jsonl"
    io.write(gold, gold_path)
    t0 = time.perf_counter()
    stats = extract(gold_path, args.model, out / "pred.jsonl", mode="extract", resume=False, progress=False, precision=args.precision)
    wall = time.perf_counter() - t0
    pred = io.load(out / "pred.jsonl")
    report = evaluate(pair_examples(pred, gold), "ner").to_dict(documents=False)
    m, ci = report["micro"], report["intervals"].get("micro_f1", {})
    result = {
        "config": args.config,
        "model": args.model,
        "test": prov,
        "documents": len(gold),
        "precision": stats.precision,
        "micro": m,
        "interval": ci,
        "per_type": report["per_type"],
        "seconds": round(wall, 1),
        "docs_per_s": round(len(gold) / wall, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    (out / "result.json").write_text(json.dumps(result, indent=1))
    print(
        f"{args.config}: {len(gold)} test documents; strict NER P {m['precision']:.4f} R {m['recall']:.4f} "
        f"F1 {m['f1']:.4f} ({ci.get('low', float('nan')):.4f}-{ci.get('high', float('nan')):.4f}); "
        f"{result['docs_per_s']} docs/s ({stats.precision}), peak RSS {result['peak_rss_mib']} MiB"
    )
    for t, v in sorted(report["per_type"].items()):
        print(f"  {t}: P {v['precision']:.4f} R {v['recall']:.4f} F1 {v['f1']:.4f}")


if __name__ == "__main__":
    main()
