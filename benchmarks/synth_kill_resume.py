"""kill -9 during ``biorel synth`` on the 16 ABroad seed abstracts with the offline
default model, then rerun (one script, one figure).

1. starts ``biorel synth SEEDS -o OUT --n-per-seed N`` (llama-cpp in process, the
   packaged default model, the default guide), waits until ``--kill-after-records``
   records are on disk, sends SIGKILL and checks that the process died;
2. reruns the same command, which resumes from what is on disk;
3. checks that ``synthetic.jsonl`` + ``rejected.jsonl`` hold every job key exactly
   once: the expected count is computed independently of the job, from the seeds'
   relation groups (a seed with G groups gets max(N, G) keys).

    python benchmarks/synth_kill_resume.py --out /tmp/synth-kill9 [--n-per-seed 1] [--kill-after-records 5]

Writes ``OUT/kill_resume.json``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, UTC
from pathlib import Path

SEEDS = "abroad_re_lotus/examples__example-input.json"


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [x for x in path.read_text(encoding="utf-8").split("\n") if x.strip()]


def _records(job: Path) -> list[dict]:
    out = []
    for name in ("synthetic.jsonl", "rejected.jsonl"):
        for line in _lines(job / name):
            out.append(json.loads(line))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--n-per-seed", type=int, default=1)
    ap.add_argument("--kill-after-records", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=320)
    ap.add_argument("--n-threads", type=int, default=2)
    a = ap.parse_args()
    mirror = Path(os.environ.get("BIOREL_DATA_MIRROR") or Path(__file__).resolve().parents[1].parent / "shared" / "datasets")
    seeds_path = mirror / SEEDS
    if not seeds_path.exists():
        sys.exit(f"seed file not found: {seeds_path}; set BIOREL_DATA_MIRROR")
    out = Path(a.out)
    job = out / "job"
    if job.exists():
        sys.exit(f"{job} exists: use a new --out")
    out.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).with_name("biorel")
    cmd = [
        str(exe),
        "synth",
        str(seeds_path),
        "-o",
        str(job),
        "--n-per-seed",
        str(a.n_per_seed),
        "--max-tokens",
        str(a.max_tokens),
        "--n-threads",
        str(a.n_threads),
        "--no-progress",
    ]

    # the expected keys, independently of the job: max(N, groups) per seed
    from biorel.synth import read_seeds
    from biorel.synth.groups import seed_groups
    from biorel.synth.job import DEFAULT_MAX_ENTITIES

    seeds = read_seeds(seeds_path)
    expected = sum(max(a.n_per_seed, len(seed_groups(d, DEFAULT_MAX_ENTITIES))) for d in seeds)

    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and len(_records(job)) < a.kill_after_records:
        time.sleep(0.5)
    if proc.poll() is not None:
        sys.exit(f"the first run ended (rc {proc.returncode}) before {a.kill_after_records} records: nothing was killed")
    os.kill(proc.pid, signal.SIGKILL)
    rc = proc.wait()
    killed_at = round(time.time() - t0, 1)
    before = _records(job)
    t1 = time.time()
    rerun = subprocess.run(cmd, capture_output=True, text=True)
    if rerun.returncode != 0:
        sys.exit(f"rerun failed ({rerun.returncode}): {rerun.stderr[-2000:]}")
    after = _records(job)
    keys = [r["metadata"]["synth"]["key"] for r in after]
    dup = sorted(k for k, c in collections.Counter(keys).items() if c > 1)
    kept = {r["metadata"]["synth"]["key"]: r for r in after}
    unchanged = sum(kept.get(r["metadata"]["synth"]["key"]) == r for r in before)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(cmd),
        "expected_records": expected,
        "killed_after_seconds": killed_at,
        "kill_returncode": rc,
        "records_before_kill": len(before),
        "records_after_rerun": len(after),
        "distinct_keys": len(set(keys)),
        "duplicate_keys": dup,
        "records_from_before_the_kill_unchanged": unchanged,
        "rerun_seconds": round(time.time() - t1, 1),
        "rerun_stderr_tail": rerun.stderr[-600:],
        "ok": rc == -signal.SIGKILL and len(after) == expected == len(set(keys)) and not dup and unchanged == len(before),
    }
    (out / "kill_resume.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
