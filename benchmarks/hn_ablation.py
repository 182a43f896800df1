"""Hard negatives and the contrastive loss, ablated: cross-entropy baseline /
+ hard negatives / + contrastive / + both, on sentence-level relation corpora.

For every (corpus, encoder, variant, seed) it trains the relation classifier
(``biorel train CONFIG`` in a subprocess, with dotted overrides), predicts the
official test split in ``relate`` mode, scores it with the ``sentence``
protocol (per-type, macro and micro P/R/F1) and measures the clustering
quality of the test pair embeddings (ARI and NMI of k-means against the gold
labels, :func:`biorel.evaluation.cluster_quality`). Each run writes
``OUT/CORPUS/ENCODER/VARIANT-sSEED/result.json`` and ``pred.jsonl``; a run
whose ``result.json`` exists is skipped, so the script resumes where it was
killed. ``--report`` prints the table (mean and spread over seeds) and, per
variant, a paired bootstrap against the baseline of the same seed (p-value of
the macro-F1 difference).

    python benchmarks/hn_ablation.py --corpora gad chemprot --variants ce hn con both --seeds 1 2 3 \\
        --epochs 1 --out runs/ablation [--encoder minilm] [--threads 2]
    python benchmarks/hn_ablation.py --out runs/ablation --report

Variants: ``ce`` (the classification loss alone), ``hn`` (``model.hard_negatives
= K``: per positive item the K closest items of another label set, re-mined each
epoch and put in its batch), ``con`` (``training.loss_weights.contrastive = W``,
supervised contrastive loss on pair embeddings), ``both``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import cpu_model, relation_scores

ROOT = Path(__file__).resolve().parents[1]
#: corpus -> (config, test split, negative label of the test documents' relations)
CORPORA = {
    "gad": ("configs/gad.toml", "gad:test?fold=1"),
    "chemprot": ("configs/chemprot.toml", "chemprot:test"),
}
ENCODERS = {"minilm": "minilm", "mpnet": "mpnet"}


def variant_overrides(variant: str, k: int, weight: float) -> list[str]:
    hn = ["--model.hard_negatives", str(k)] if variant in ("hn", "both") else []
    con = ["--training.loss_weights.contrastive", str(weight)] if variant in ("con", "both") else []
    if variant not in ("ce", "hn", "con", "both"):
        raise SystemExit(f"unknown variant {variant!r}: choose ce, hn, con, both")
    return hn + con


def train(corpus: str, encoder: str, variant: str, seed: int, run: Path, args) -> None:
    config, _ = CORPORA[corpus]
    cmd = [sys.executable, "-c", "from biorel.cli import main; main()", "train", str(ROOT / config)]
    cmd += ["--training.seed", str(seed), "--training.epochs", str(args.epochs), "--training.output_dir", str(run / "model")]
    cmd += ["--training.threads", str(args.threads), "--model.encoder.name", ENCODERS[encoder]]
    cmd += variant_overrides(variant, args.k, args.weight)
    if args.max_steps:
        cmd += ["--training.max_steps", str(args.max_steps)]
    with open(run / "train.log", "w", encoding="utf-8") as log:
        subprocess.run(cmd, check=True, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def score(corpus: str, run: Path) -> dict:
    import torch

    from biorel import io
    from biorel.evaluation import cluster_quality, evaluate
    from biorel.models import load_model
    from biorel.training.data import load_split
    from biorel.types import pair_examples

    _, test_ref = CORPORA[corpus]
    gold, _ = load_split(test_ref)
    model = load_model(run / "model" / "best")
    model.set_precision("auto")
    t0 = time.perf_counter()
    pred = model.predict([d for d in gold], "relate")
    predict_s = time.perf_counter() - t0
    io.write(pred, run / "pred.jsonl")
    report = evaluate(pair_examples(pred, gold), "sentence")
    with torch.inference_mode():
        z, labels = model.embed(gold)
    clusters = cluster_quality(z.numpy(), labels, seed=0)
    history = json.loads((run / "model" / "history.json").read_text("utf-8"))
    return {
        **relation_scores(report, clusters),
        "epoch_seconds": [h["train_seconds"] for h in history],
        "peak_rss_mib": max(h.get("peak_rss_mib", 0.0) for h in history),
        "predict_seconds": predict_s,
    }


def run_all(args) -> None:
    cpu = cpu_model()
    for corpus in args.corpora:
        for encoder in args.encoders:
            for seed in args.seeds:
                for variant in args.variants:
                    run = args.out / corpus / encoder / f"{variant}-s{seed}"
                    if (run / "result.json").exists():
                        print(f"{run}: done before, skipped", flush=True)
                        continue
                    run.mkdir(parents=True, exist_ok=True)
                    t0 = time.perf_counter()
                    train(corpus, encoder, variant, seed, run, args)
                    result = score(corpus, run)
                    result.update(
                        corpus=corpus,
                        encoder=encoder,
                        variant=variant,
                        seed=seed,
                        epochs=args.epochs,
                        k=args.k if variant in ("hn", "both") else 0,
                        contrastive_weight=args.weight if variant in ("con", "both") else 0.0,
                        threads=args.threads,
                        wall_seconds=time.perf_counter() - t0,
                        cpu=cpu,
                        date=time.strftime("%Y-%m-%d %H:%M"),
                    )
                    tmp = run / "result.json.tmp"
                    tmp.write_text(json.dumps(result, indent=1), "utf-8")
                    os.replace(tmp, run / "result.json")
                    print(
                        f"{corpus} {encoder} {variant} seed {seed}: macro-F1 {result['macro']['f1']:.4f} micro-F1 "
                        f"{result['micro']['f1']:.4f} ARI {result['ari']:.3f} ({result['wall_seconds']:.0f} s)",
                        flush=True,
                    )


def _fmt(values: list[float], pct: bool = True) -> str:
    import numpy as np

    scale = 100 if pct else 1
    v = np.array(values) * scale
    digits = 2 if pct else 3
    return f"{v.mean():.{digits}f}" if len(v) == 1 else f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def paired_p(corpus: str, run: Path, base: Path) -> tuple[float, float]:
    """Paired bootstrap of macro-F1, this run against the baseline run of the same seed."""
    from biorel import io
    from biorel.evaluation import evaluate, paired_bootstrap
    from biorel.training.data import load_split
    from biorel.types import pair_examples

    gold, _ = load_split(CORPORA[corpus][1])
    a = evaluate(pair_examples(io.load(run / "pred.jsonl"), gold), "sentence")
    b = evaluate(pair_examples(io.load(base / "pred.jsonl"), gold), "sentence")
    test = paired_bootstrap(a, b, "macro_f1", n_resamples=1000, seed=0)
    return test.delta, test.p_value


def report(args) -> None:
    results = [json.loads(p.read_text("utf-8")) for p in sorted(args.out.glob("*/*/*/result.json"))]
    if not results:
        raise SystemExit(f"no results under {args.out}")
    print(f"CPU: {results[0]['cpu']}; runs: {len(results)}\n")
    print(
        "| corpus | encoder | variant | seeds | macro-F1 | micro-F1 | P (micro) | R (micro) | ARI | NMI | s/epoch | Δ macro-F1 vs ce (p, per seed) |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["corpus"], r["encoder"], r["variant"]), []).append(r)
    order = {"ce": 0, "hn": 1, "con": 2, "both": 3}
    for (corpus, encoder, variant), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], order.get(kv[0][2], 9))):
        tests = []
        for r in rs:
            base = args.out / corpus / encoder / f"ce-s{r['seed']}"
            if variant != "ce" and (base / "pred.jsonl").exists():
                delta, p = paired_p(corpus, args.out / corpus / encoder / f"{variant}-s{r['seed']}", base)
                tests.append(f"{100 * delta:+.2f} (p {p:.3f})")
        epoch_s = [sum(r["epoch_seconds"]) / max(1, len(r["epoch_seconds"])) for r in rs]
        print(
            f"| {corpus} | {encoder} | {variant} | {len(rs)} | {_fmt([r['macro']['f1'] for r in rs])} | {_fmt([r['micro']['f1'] for r in rs])} "
            f"| {_fmt([r['micro']['p'] for r in rs])} | {_fmt([r['micro']['r'] for r in rs])} | {_fmt([r['ari'] for r in rs], False)} "
            f"| {_fmt([r['nmi'] for r in rs], False)} | {sum(epoch_s) / len(epoch_s):.0f} | {'; '.join(tests) or '—'} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", nargs="+", default=["gad", "chemprot"], choices=sorted(CORPORA))
    ap.add_argument("--encoders", nargs="+", default=["minilm"], choices=sorted(ENCODERS))
    ap.add_argument("--variants", nargs="+", default=["ce", "hn", "con", "both"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=0, help="cap on training steps (0 = the full schedule)")
    ap.add_argument("--k", type=int, default=3, help="hard negatives per positive item")
    ap.add_argument("--weight", type=float, default=0.5, help="weight of the contrastive loss")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("runs/ablation"))
    ap.add_argument("--report", action="store_true", help="print the table of finished runs and stop")
    args = ap.parse_args()
    if args.report:
        report(args)
    else:
        run_all(args)


if __name__ == "__main__":
    main()
