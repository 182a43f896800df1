"""BC5CDR test figures of a trained joint NER+RE model (one script, one figure).

Runs ``biorel.extract`` over the 500 BC5CDR test abstracts twice — end to end
(the model finds the mentions) and with gold entities (relations only) — and
scores the predictions with ``biorel.evaluation``:

* ``ner``: strict span+type NER on the end-to-end predictions;
* ``cid``: concept-level CID on the gold-entity predictions (official protocol);
* ``e2e``: CID end to end, entities matched by mention strings (seq2rel/BioGPT).

Each with its bootstrap 95% interval over documents. Train the model first, e.g.::

    biorel train configs/bc5cdr.toml --training.output_dir runs/bc5cdr
    python benchmarks/joint_bc5cdr.py --model runs/bc5cdr/best --out /tmp/bc5cdr-eval

Needs the dataset mirror (BIOREL_DATA_MIRROR) or network access to the
dataset's pinned URL.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from biorel import io
from biorel.datasets import load_dataset
from biorel.evaluation import evaluate
from biorel.extract import extract
from biorel.types import pair_examples

PROTOCOLS = (("ner", "extract"), ("cid", "relate"), ("e2e", "extract"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="trained model folder")
    ap.add_argument("--out", required=True, help="work folder for predictions and the JSON result")
    ap.add_argument("--limit", type=int, default=None, help="only the first N test documents")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gold = load_dataset("bc5cdr", split="test")[: args.limit]
    gold_path = out / "test.gold.jsonl"
    io.write(gold, gold_path)

    result: dict = {"model": str(args.model), "documents": len(gold), "runs": {}, "scores": {}}
    preds = {}
    for mode in ("extract", "relate"):
        pred_path = out / f"pred.{mode}.jsonl"
        t0 = time.perf_counter()
        stats = extract(gold_path, args.model, pred_path, mode=mode, resume=False, progress=False)
        wall = time.perf_counter() - t0
        result["runs"][mode] = {"seconds": round(wall, 1), "docs_per_s": round(len(gold) / wall, 2), "stats": stats.to_dict()}
        preds[mode] = io.load(pred_path)
    for protocol, mode in PROTOCOLS:
        report = evaluate(pair_examples(preds[mode], gold), protocol)
        d = report.to_dict(documents=False)
        result["scores"][protocol] = {"mode": mode, "micro": d["micro"], "per_type": d["per_type"], "intervals": d["intervals"]}
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    (out / "result.json").write_text(json.dumps(result, indent=1))

    print("| protocol | predictions | P | R | F1 (95% CI) |\n|---|---|---|---|---|")
    for protocol, mode in PROTOCOLS:
        s = result["scores"][protocol]
        m, ci = s["micro"], s["intervals"].get("micro_f1", {})
        lo, hi = ci.get("low"), ci.get("high")
        ci_txt = f" ({lo:.3f}–{hi:.3f})" if lo is not None else ""
        print(f"| {protocol} | {mode} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f}{ci_txt} |")
    for mode, r in result["runs"].items():
        print(f"extract --mode {mode}: {r['seconds']} s, {r['docs_per_s']} docs/s")


if __name__ == "__main__":
    main()
