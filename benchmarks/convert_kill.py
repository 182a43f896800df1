"""kill -9 during ``biorel convert`` of a 100,000-document file: the output is
absent or complete, never a part.

Builds a PubTator input of N documents (default 100,000) from the real BC5CDR
abstracts (train, dev and test, renumbered and repeated), then K times starts
``biorel convert INPUT OUT.bioc.json`` and kills it with SIGKILL at a random
moment (uniform between 0.5 s and 80% of the measured duration of a full run,
so that the kill lands during the run; a run that ended first is reported); after
each kill it checks that ``OUT`` does not exist or reads back with all N
documents. It ends with a full run and checks the output and that no staging
folder or lock file is left.

    python benchmarks/convert_kill.py [--n 100000] [--kills 5] [--seed 0] [--data DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-c", "from biorel.cli import main; main()"]


def build_input(data: Path, target: Path, n: int) -> None:
    blocks = []
    for name in ("CDR_TrainingSet.PubTator.txt", "CDR_DevelopmentSet.PubTator.txt", "CDR_TestSet.PubTator.txt"):
        blocks += [b for b in (data / "bc5cdr" / name).read_text(encoding="utf-8").split("\n\n") if b.strip()]
    with open(target, "w", encoding="utf-8") as fh:
        for i in range(n):
            block = blocks[i % len(blocks)]
            pmid = block.split("|", 1)[0]
            fh.write("\n".join(f"{i}{line[len(pmid) :]}" for line in block.splitlines()) + "\n\n")


def count_docs(path: Path) -> int:
    from biorel import io

    return sum(1 for _ in io.read(path))


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") or p.name == out.name + ".lock")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=os.environ.get("BIOREL_DATA_MIRROR", str(Path(__file__).resolve().parents[2] / "shared" / "datasets")))
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="convert-kill-"))
    work.mkdir(parents=True, exist_ok=True)
    src, out = work / "in.pubtator", work / "out.bioc.json"
    build_input(Path(args.data), src, args.n)
    print(f"input: {args.n} documents, {src.stat().st_size / 1e6:.1f} MB", flush=True)
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run([*CLI, "convert", str(src), str(out)], check=True, capture_output=True)
    full = time.perf_counter() - t0
    print(f"full run: {full:.1f} s; {count_docs(out)} documents read back", flush=True)
    rng = random.Random(args.seed)
    ok = True
    for k in range(args.kills):
        out.unlink(missing_ok=True)
        at = rng.uniform(0.5, 0.8 * full)
        proc = subprocess.Popen([*CLI, "convert", str(src), str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(at)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = "absent" if not out.exists() else f"complete ({count_docs(out)} documents)" if count_docs(out) == args.n else "BROKEN"
        ok &= state != "BROKEN"
        print(f"kill {k + 1}: at {at:.1f} s (exit {proc.returncode}): output {state}; left beside it: {leftovers(out)}", flush=True)
    out.unlink(missing_ok=True)
    subprocess.run([*CLI, "convert", str(src), str(out)], check=True, capture_output=True)
    n = count_docs(out)
    print(f"final run: {n} documents; left beside it: {leftovers(out)}", flush=True)
    ok &= n == args.n and leftovers(out) == []
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
