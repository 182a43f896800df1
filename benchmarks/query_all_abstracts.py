"""Extract every mirrored abstract with the Ray engine into Parquet, then ask
``biorel query`` (issue "PubMed scale", figure 4).

1. The abstracts: every document-level corpus under ``$BIOREL_DATA_MIRROR``
   (BC5CDR, BioRED, NCBI-disease, ChemProt (PURE), DDI-2013, the ABroad
   examples) plus the mirror's PubMed XML and MEDLINE samples, all splits, as
   title + abstract text without their annotations; de-duplicated by PMID, then
   by text. Written as a folder of JSONL files (one Ray shard each).
2. ``biorel extract INPUT -o OUT -t parquet --engine ray --workers 2 --evidence``
   with the shipped ``bc5cdr-minilm`` (run as a command, as a user would).
3. The ``biorel query`` commands of the README, run as commands; their output
   is printed and saved.

    python benchmarks/query_all_abstracts.py --out /tmp/allabs
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from common import cpu_model

#: (dataset, variant) of every document-level corpus: abstracts, not sentences
CORPORA = (
    ("bc5cdr", "pubtator"),
    ("biored", "pubtator"),
    ("ncbi-disease", "pubtator"),
    ("chemprot-pure", "pure"),
    ("ddi", "brat"),
    ("abroad-example", "abroad"),
)
SHARD = 250


def _abstracts(log) -> list:
    """Every mirrored abstract once, text only (see the module docstring)."""
    from biorel import io
    from biorel.datasets import load_dataset, mirror_dir
    from biorel.registry import registry
    from biorel.types import Document

    seen_ids: set[str] = set()
    seen_text: set[str] = set()
    out: list[Document] = []

    def add(docs, source: str) -> None:
        kept = 0
        for d in docs:
            key = hashlib.sha256(" ".join(d.text.split()).lower().encode()).hexdigest()
            if d.id in seen_ids or key in seen_text or not d.text.strip():
                continue
            seen_ids.add(d.id)
            seen_text.add(key)
            out.append(Document(d.id, list(d.passages), metadata={"source": source}))
            kept += 1
        log(f"{source}: {kept} new abstracts")

    for name, variant in CORPORA:
        for split in registry.datasets.get(name).variants[variant]:
            add(load_dataset(name, split=split, variant=variant), f"{name}/{split}")
    pubmed = mirror_dir() / "pubmed_xml"
    for path in sorted(pubmed.glob("*.xml")) + sorted(pubmed.glob("medline_*.txt")):
        add(io.read(path, "pubmed-xml" if path.suffix == ".xml" else "medline"), f"pubmed_xml/{path.name}")
    return out


def _write_input(docs, folder: Path) -> None:
    from biorel import io

    folder.mkdir(parents=True, exist_ok=True)
    for k in range(0, len(docs), SHARD):
        io.write(docs[k : k + SHARD], folder / f"abstracts-{k // SHARD:04d}.jsonl")


def _run(cmd: list[str], log) -> str:
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="work folder")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []

    def log(msg: str) -> None:
        print(msg, flush=True)
        lines.append(msg)

    log(f"{cpu_model()}, {time.strftime('%Y-%m-%d %H:%M')}")
    inp, out = work / "abstracts", work / "extraction"
    if not inp.exists():
        docs = _abstracts(log)
        _write_input(docs, inp)
        log(f"{len(docs)} abstracts in {len(list(inp.glob('*.jsonl')))} files")
    biorel = [str(Path(sys.executable).parent / "biorel")]
    t0 = time.perf_counter()
    extract = [*biorel, "extract", str(inp), "-m", "bc5cdr-minilm", "-f", "jsonl", "-o", str(out), "-t", "parquet"]
    extract += ["--engine", "ray", "--workers", str(args.workers), "--evidence", "--evidence-method", "attention", "--no-progress"]
    log(_run(extract, log))
    log(f"extraction: {time.perf_counter() - t0:.0f} s wall")
    top = _run([*biorel, "query", "top-relations", str(out), "--limit", "10", "--format", "json"], log)
    queries = [
        [*biorel, "query", "counts", str(out), "--format", "csv"],
        [*biorel, "query", "top-relations", str(out), "--limit", "10", "--format", "csv"],
        [
            *biorel,
            "query",
            "sql",
            str(out),
            "SELECT type, count(*) AS relations, count(DISTINCT document_id) AS documents FROM relations GROUP BY type",
            "--format",
            "csv",
        ],
    ]
    best = json.loads(top)[0] if json.loads(top) else None
    if best:
        queries.append(
            [*biorel, "query", "evidence", str(out), "--head", best["head_name"], "--tail", best["tail_name"], "--limit", "5", "--format", "csv"]
        )
    for cmd in queries:
        log(_run(cmd, log))
    (work / "query_all_abstracts.log").write_text("\n".join(lines) + "\n", "utf-8")


if __name__ == "__main__":
    main()
