"""kill -9 during ``biorel extract`` on 2,000 real abstracts, then rerun (one script,
one figure).

The input is 2,000 PubMed abstracts (BC5CDR train, dev and test, then NCBI-disease
train, dev and test in PubTator), given to ``biorel extract`` as raw text
(``--lines``: one abstract per line, title and abstract joined by a space). The script

1. runs ``biorel extract`` once without interruption (the reference output);
2. starts the same command into another output, sends SIGKILL to it after
   ``--kill-after`` seconds (while it is writing), and checks that it died;
3. reruns the same command, which resumes from the journal;
4. checks that the resumed output has every input document exactly once, in input
   order, and counts how many are identical to the reference output.

    python benchmarks/extract_kill_resume.py --model runs/bc5cdr/best --out /tmp/kill9 --threads 2
"""

from __future__ import annotations

import argparse
import collections
import json
import signal
import subprocess
import sys
import time
from pathlib import Path


def write_input(path: Path, n: int) -> list[str]:
    from biorel.datasets import load_dataset

    lines: list[str] = []
    for name, splits in (("bc5cdr", ("train", "dev", "test")), ("ncbi-disease", ("train", "dev", "test"))):
        for split in splits:
            for doc in load_dataset(name, split=split):
                if len(lines) == n:
                    break
                text = " ".join(p.text.replace("\n", " ").strip() for p in sorted(doc.passages, key=lambda p: p.offset))
                lines.append(text)
    if len(lines) < n:
        raise SystemExit(f"only {len(lines)} abstracts available")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return lines


def command(args, out: Path) -> list[str]:
    exe = Path(sys.executable).with_name("biorel")
    return [
        str(exe),
        "extract",
        str(args.workdir / "input.txt"),
        "--model",
        args.model,
        "-o",
        str(out),
        "--lines",
        "--threads",
        str(args.threads),
        "--no-progress",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True, dest="workdir", type=Path)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kill-after", type=float, default=0.0, help="seconds after start (default: half the reference run)")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for p in args.workdir.glob("*.jsonl*"):
        p.unlink()
    write_input(args.workdir / "input.txt", args.n)
    result: dict = {"documents": args.n, "model": args.model, "threads": args.threads, "date": time.strftime("%Y-%m-%d %H:%M")}

    ref = args.workdir / "reference.jsonl"
    t0 = time.perf_counter()
    subprocess.run(command(args, ref), check=True, capture_output=True)
    result["reference_seconds"] = round(time.perf_counter() - t0, 1)

    out = args.workdir / "killed.jsonl"
    journal = out.with_name(out.name + ".partial.jsonl")
    kill_after = args.kill_after or result["reference_seconds"] / 2
    proc = subprocess.Popen(command(args, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    rc = proc.wait()
    done_before = sum(1 for _ in open(journal, "rb")) if journal.exists() else 0
    result.update(
        kill_after_seconds=round(kill_after, 1), killed_exit_code=rc, journal_lines_at_kill=done_before, output_existed_after_kill=out.exists()
    )

    t0 = time.perf_counter()
    rerun = subprocess.run(command(args, out), check=True, capture_output=True, text=True)
    result["rerun_seconds"] = round(time.perf_counter() - t0, 1)
    result["rerun_message"] = rerun.stdout.strip()

    got = [json.loads(line) for line in open(out, encoding="utf-8")]
    want = [json.loads(line) for line in open(ref, encoding="utf-8")]
    counts = collections.Counter(d["id"] for d in got)
    result["output_documents"] = len(got)
    result["distinct_ids"] = len(counts)
    result["duplicates"] = sum(c - 1 for c in counts.values() if c > 1)
    result["missing"] = len({d["id"] for d in want} - set(counts))
    result["same_order_as_input"] = [d["id"] for d in got] == [d["id"] for d in want]
    result["identical_to_reference"] = sum(a == b for a, b in zip(got, want))
    result["leftover_partial_files"] = sorted(p.name for p in args.workdir.glob("killed.jsonl.partial*"))
    (args.workdir / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    ok = (
        rc == -signal.SIGKILL
        and 0 < done_before < args.n
        and result["output_documents"] == args.n
        and result["distinct_ids"] == args.n
        and not result["missing"]
        and not result["duplicates"]
        and not result["leftover_partial_files"]
    )
    print("every document present exactly once" if ok else "CHECK FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
