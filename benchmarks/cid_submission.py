"""Score a BC5CDR CID submission in the official relation-only format.

Builds a prediction file from the BC5CDR test gold: every CID relation, every
third one (global order, 0-based index i with i % 3 == 2) dropped, and 100
false pairs (a chemical and a disease of the same abstract that are not a gold
pair, first in file order) added, all written as relation-only lines
``PMID<TAB>CID<TAB>chemical<TAB>disease`` (no title, no mentions: the
BioCreative V CDR submission format). Then runs ``biorel evaluate -p cid``
with and without ``--lenient`` and prints TP/FP/FN/P/R/F1.

Expected (a scorer that never drops a prediction): TP 711, FP 100, FN 355,
P 0.8767, R 0.6670, F1 0.7576, both ways.

    python benchmarks/cid_submission.py [--data $BIOREL_DATA_MIRROR] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def build_submission(gold_path: Path, out: Path, *, n_false: int = 100) -> dict[str, int]:
    from biorel import io

    docs = io.load(gold_path, "pubtator")
    lines: list[str] = []
    index = dropped = false = 0
    for doc in docs:
        gold = {(r.head, r.tail) for r in doc.relations if r.type == "CID"}
        for r in doc.relations:
            if r.type != "CID":
                continue
            if index % 3 == 2:
                dropped += 1
            else:
                lines.append(f"{doc.id}\tCID\t{r.head}\t{r.tail}")
            index += 1
        if false < n_false:
            chems = [e.id for e in doc.entities if e.type == "Chemical"]
            diseases = [e.id for e in doc.entities if e.type == "Disease"]
            pair = next(((c, d) for c in chems for d in diseases if (c, d) not in gold), None)
            if pair is not None:
                lines.append(f"{doc.id}\tCID\t{pair[0]}\t{pair[1]}")
                false += 1
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"gold": index, "dropped": dropped, "kept": index - dropped, "false": false}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("BIOREL_DATA_MIRROR", str(Path(__file__).resolve().parents[2] / "shared" / "datasets")))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    gold = Path(args.data) / "bc5cdr" / "CDR_TestSet.PubTator.txt"
    out_dir = Path(args.out or tempfile.mkdtemp(prefix="cid-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    pred = out_dir / "submission.pubtator"
    print(build_submission(gold, pred))
    for extra in ([], ["--lenient"]):
        cmd = [sys.executable, "-c", "from biorel.cli import main; main()", "evaluate", str(gold), str(pred), "-p", "cid", "--bootstrap", "0", *extra]
        print("$ biorel evaluate", gold.name, pred.name, "-p cid --bootstrap 0", *extra, flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True)
        print(r.stdout[-1500:], r.stderr[-1500:], sep="\n")
        if r.returncode:
            return r.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
