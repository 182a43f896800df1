"""Offline synthetic-abstract benchmark: the 16 seed abstracts of the ABroad-RE
release, K abstracts per seed with a packaged GGUF model in process.

    python benchmarks/synth_offline.py --out /tmp/synth-bench [--model qwen2.5-coder-0.5b]
        [--template chat-verbatim] [--n-per-seed 3] [--max-tokens 320] [--n-threads 2] [--limit N]
        [--max-entities 6] [--repairs 1] [--repair-style turn|reprompt] [--guide auto|none|findings]
        [--frequency-penalty F] [--presence-penalty P]

Prints (and writes to OUT/benchmark.json) the acceptance rate, rejections by
reason, the share of records whose final text states every target entity
(``aligned_rate``), records accepted first time vs after a repair, mean score,
abstracts/hour (records written per wall-clock hour of this run, repairs
included, model load excluded), the diversity report against the real seed
abstracts, the CPU
(lscpu model name) and the load average before and after, because the machine
is shared and the rate depends on it. Resumable like any synth job: rerunning
continues, and the rate is then that of the new keys only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, UTC
from pathlib import Path

from biorel.synth import SynthConfig, SynthJob, format_report, get_template, make_backend, read_seeds, synth_report
from biorel.synth.job import DEFAULT_MAX_ENTITIES, DEFAULT_REPAIRS

SEEDS = "abroad_re_lotus/examples__example-input.json"


def _mirror() -> Path:
    env = os.environ.get("BIOREL_DATA_MIRROR")
    root = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
    if not (root / SEEDS).exists():
        sys.exit(f"seed file not found under {root}; set BIOREL_DATA_MIRROR")
    return root


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPU(s)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--template", default="chat-verbatim")
    ap.add_argument("--n-per-seed", type=int, default=3)
    ap.add_argument("--temperatures", default="0.8")
    ap.add_argument("--max-tokens", type=int, default=320)
    ap.add_argument("--n-threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--max-entities", type=int, default=DEFAULT_MAX_ENTITIES, help="split seeds with more target entities (0: off)")
    ap.add_argument("--repairs", type=int, default=DEFAULT_REPAIRS, help="follow-ups for replies that miss target entities (0: off)")
    ap.add_argument("--repair-style", default="turn", choices=("turn", "reprompt"), help="chat templates: a further user turn, or a fresh prompt")
    ap.add_argument("--guide", default="auto", choices=("auto", "none", "findings"), help="grammar-guided decoding (biorel.synth.guide)")
    ap.add_argument("--frequency-penalty", type=float, default=0.0)
    ap.add_argument("--presence-penalty", type=float, default=0.0)
    a = ap.parse_args()
    seeds_path = _mirror() / SEEDS
    seeds = read_seeds(seeds_path)
    load_before = os.getloadavg()
    backend = make_backend("llama-cpp", model=a.model, n_threads=a.n_threads)
    cfg = SynthConfig(
        n_per_seed=a.n_per_seed,
        temperatures=tuple(float(t) for t in a.temperatures.split(",")),
        max_tokens=a.max_tokens,
        max_entities=a.max_entities,
        repairs=a.repairs,
        repair_style=a.repair_style,
        guide=a.guide,
        frequency_penalty=a.frequency_penalty,
        presence_penalty=a.presence_penalty,
    )
    cfg.check()

    def progress(s) -> None:
        print(
            f"  {s.processed} written, {s.accepted} accepted ({s.accepted_after_repair} after repair), {s.generations} generations, "
            f"{s.per_hour:.0f} written/wall hour, {sum(s.backend_errors.values())} errors",
            file=sys.stderr,
            flush=True,
        )

    t0 = time.time()
    job = SynthJob(seeds, a.out, backend, get_template(a.template), cfg, seeds_source=str(seeds_path), progress=progress, limit=a.limit)
    summary = job.run()
    backend.close()
    rep = synth_report(a.out, seeds)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "cpu": _cpu(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "model": a.model,
        "template": a.template,
        "n_threads": a.n_threads,
        "max_tokens": a.max_tokens,
        "n_per_seed": a.n_per_seed,
        "max_entities": a.max_entities,
        "repairs": a.repairs,
        "repair_style": a.repair_style,
        "guide": job.config.guide,  # in effect ("auto" resolved)
        "frequency_penalty": a.frequency_penalty,
        "presence_penalty": a.presence_penalty,
        "wall_seconds": round(time.time() - t0, 1),
        "run": summary.to_dict(),
        "report": rep,
    }
    Path(a.out, "benchmark.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    keys = (
        "date",
        "cpu",
        "load_average_before",
        "load_average_after",
        "model",
        "template",
        "max_entities",
        "repairs",
        "repair_style",
        "guide",
        "frequency_penalty",
        "presence_penalty",
        "wall_seconds",
        "run",
    )
    print(json.dumps({k: result[k] for k in keys}, indent=2))
    print(format_report(rep))


if __name__ == "__main__":
    main()
