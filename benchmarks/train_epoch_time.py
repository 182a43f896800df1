"""Training time per epoch and peak RAM of the joint model on BC5CDR train (one
script, one figure), for each encoder and training setting asked for.

Each setting runs ``biorel.training.train`` from ``configs/bc5cdr.toml`` in a fresh
process for ``--steps`` optimizer steps of 4 documents (the config's batch), on the
first documents of a fixed shuffle of BC5CDR train, without a dev pass; the time
per step is the trainer's own ``train_seconds`` (data loading and model building
excluded) and the epoch time is that times the steps of one epoch of BC5CDR train
(500 abstracts = 125 steps). Peak RAM is the process's peak RSS. Settings:

* ``shipped``: the shipped config (bf16 autocast, no attention dropout, frozen
  word-piece embeddings);
* ``fp32``: the same in fp32;
* ``attn-dropout``: the shipped config with the encoder's own attention dropout
  (0.1), which on CPU makes PyTorch leave its fused attention kernel.

    python benchmarks/train_epoch_time.py --encoders minilm mpnet --steps 30 --threads 2 --json /tmp/epoch_time.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from common import child_result, print_result

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {
    "shipped": [],
    "fp32": ["--training.bf16=off"],
    "attn-dropout": ["--model.encoder.attention_dropout=0.1"],
}


def child(encoder: str, setting: str, steps: int, threads: int) -> dict:
    from biorel.config import load_config
    from biorel.training import train

    with tempfile.TemporaryDirectory() as tmp:
        overrides = [
            f"--model.encoder.name={encoder}",
            '--data.dev=""',
            f"--training.max_steps={steps}",
            "--training.epochs=1",
            "--training.grad_accum=1",
            "--training.bf16=on",
            f"--training.threads={threads}",
            "--training.progress=false",
            "--training.log_every=0",
            f"--training.output_dir={tmp}",
        ] + SETTINGS[setting]
        cfg = load_config(ROOT / "configs" / "bc5cdr.toml", overrides)
        res = train(cfg, overrides=overrides)
        rec = res.history[-1]
    return {
        "steps": res.global_step,
        "train_seconds": rec["train_seconds"],
        "peak_rss_mib": rec["peak_rss_mib"],
        "batch_size": cfg.training.batch_size,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoders", nargs="+", default=["minilm", "mpnet"])
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epoch-docs", type=int, default=500, help="documents per epoch to extrapolate to (BC5CDR train)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print_result(child(args.child[0], args.child[1], args.steps, args.threads))
        return

    rows = []
    info = {"date": time.strftime("%Y-%m-%d %H:%M"), "threads": args.threads, "steps": args.steps, "loadavg_before": os.getloadavg()}
    for enc in args.encoders:
        for setting in args.settings:
            r = child_result([sys.executable, __file__, "--child", enc, setting, "--steps", str(args.steps), "--threads", str(args.threads)])
            if "error" in r:
                print(f"{enc} {setting}: failed ({r['error']})", file=sys.stderr)
                continue
            per_step = r["train_seconds"] / r["steps"]
            epoch_steps = math.ceil(args.epoch_docs / r["batch_size"])
            row = {"encoder": enc, "setting": setting, **r, "seconds_per_step": per_step, "epoch_minutes": per_step * epoch_steps / 60}
            rows.append(row)
            print(
                f"{enc:7s} {setting:13s} {per_step:6.2f} s/step  {row['epoch_minutes']:6.1f} min/epoch  peak RSS {r['peak_rss_mib']:.0f} MiB",
                flush=True,
            )
    info["loadavg_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps({**info, "rows": rows}, indent=1))
    print(f"\n| encoder | setting | s/step (4 abstracts) | min/epoch ({args.epoch_docs} abstracts) | peak RSS MiB |\n|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['encoder']} | {r['setting']} | {r['seconds_per_step']:.2f} | {r['epoch_minutes']:.1f} | {r['peak_rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
