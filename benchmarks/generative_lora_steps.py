"""A few LoRA steps of ``biorel.GenerativeRE.v1`` from a config (default
``configs/abroad-smollm2-lora.toml``: SmolLM2-135M, ABroad form) on a small set
(default: the ten synthetic ABroad validation abstracts), one torch thread: the
mean target-token loss on the set before and after, seconds per optimizer step
and tokens (prompt + target) per second of training, then greedy decoding of a
few documents with and without the copy constraint (new tokens per second, and
how many outputs parse). ``--autocast`` trains with bf16 autocast. A sanity check
that training runs and learns, not a learning curve.

    python benchmarks/generative_lora_steps.py --steps 8 --batch 2 --lr 1e-3 --json /tmp/gen_steps.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from common import cpu_model

from biorel.config import load_config
from biorel.models import build_model
from biorel.training.data import load_split

ROOT = Path(__file__).resolve().parents[1]


def mean_loss(model, items) -> float:
    """Target-token loss over ``items``, one document at a time, fp32, no gradients."""
    model.set_train_autocast(False)
    model.net.eval()
    with torch.no_grad():
        losses = [float(model.loss([it])[0]) for it in items]
    return sum(losses) / len(losses)


def train_steps(model, items, steps: int, batch: int, lr: float) -> list[dict]:
    opt = torch.optim.AdamW(model.parameter_groups(lr, lr, 0.0), lr=lr)
    model.net.train()
    out = []
    for step in range(steps):
        group = [items[(step * batch + k) % len(items)] for k in range(batch)]
        tokens = sum(len(p) + len(t) for it in group for p, t in it.sequences)
        t0 = time.perf_counter()
        loss, _ = model.loss(group)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - t0
        out.append({"step": step + 1, "loss": float(loss.detach()), "seconds": round(seconds, 2), "tokens": tokens})
        print(f"step {step + 1}: loss {out[-1]['loss']:.3f}, {seconds:.1f} s, {tokens / seconds:.0f} tokens/s", flush=True)
    return out


def decode(model, docs, constrained: bool) -> dict:
    model.cfg.decoding.constrained = constrained
    model.stats = type(model.stats)()
    t0 = time.perf_counter()
    preds = model.predict(docs)
    seconds = time.perf_counter() - t0
    s = model.stats.to_dict()
    return {
        "constrained": constrained,
        "seconds": round(seconds, 1),
        "new_tokens": s["new_tokens"],
        "new_tokens_per_s": round(s["new_tokens"] / seconds, 2),
        "stats": s,
        "outputs": [p.metadata["output"] for p in preds],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default=str(ROOT / "configs" / "abroad-smollm2-lora.toml"))
    ap.add_argument("--data", default="abroad-example:synthetic-valid")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--decode-docs", type=int, default=2)
    ap.add_argument("--autocast", action="store_true", help="train with bf16 autocast (what training.bf16 = auto picks where it is faster)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(13)
    cfg = load_config(args.config)
    docs, _ = load_split(args.data)
    t0 = time.perf_counter()
    model = build_model(cfg.model, docs)
    build_s = time.perf_counter() - t0
    items = [model.prepare(d) for d in docs]
    before = mean_loss(model, items)
    model.set_train_autocast(args.autocast)
    steps = train_steps(model, items, args.steps, args.batch, args.lr)
    after = mean_loss(model, items)
    timed = steps[1:] or steps  # the first step warms up
    result = {
        "cpu": cpu_model(),
        "threads": torch.get_num_threads(),
        "config": args.config,
        "base": cfg.model.base,
        "documents": len(docs),
        "build_seconds": round(build_s, 1),
        "trainable_parameters": sum(p.numel() for p in model.net.parameters() if p.requires_grad),
        "bf16_autocast": args.autocast,
        "loss_before": round(before, 4),
        "loss_after": round(after, 4),
        "seconds_per_step": round(sum(s["seconds"] for s in timed) / len(timed), 2),
        "tokens_per_second": round(sum(s["tokens"] for s in timed) / sum(s["seconds"] for s in timed), 1),
        "steps": steps,
        "decoding": [decode(model, docs[: args.decode_docs], c) for c in (True, False)],
    }
    print(json.dumps({k: v for k, v in result.items() if k != "steps"}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), "utf-8")


if __name__ == "__main__":
    main()
