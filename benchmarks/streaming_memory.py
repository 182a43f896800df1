"""Peak memory of streaming conversion versus corpus size.

For each N it generates N synthetic documents as a stream into JSONL, then runs,
each in a fresh Python process (so every figure is that process's own peak RSS,
``ru_maxrss``):

* ``import``: the interpreter plus ``biorel``, its format modules and the CLI (the floor);
* ``jsonl->bioc-xml`` and ``bioc-xml->pubtator``: :func:`biorel.cli.formats.convert_file`,
  the function behind ``biorel convert``;
* ``load(jsonl)`` (baseline): ``biorel.io.load`` of the same JSONL, which holds
  the whole corpus in memory.

Streaming is flat when the conversion peaks stay near the import floor for every
N while the baseline grows with N. Time is printed too but the machine may be
shared, so peak memory is the figure that matters.

    python benchmarks/streaming_memory.py --sizes 10000 30000 100000 --workdir /tmp/biorel-bench
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import cpu_model

CHEMICALS = [
    ("aspirin", "D001241"),
    ("cisplatin", "D002945"),
    ("haloperidol", "D006220"),
    ("ibuprofen", "D007052"),
    ("lithium", "D008094"),
    ("metformin", "D008687"),
]
DISEASES = [
    ("ulcer", "D014456"),
    ("nephrotoxicity", "D007674"),
    ("dyskinesia", "D004409"),
    ("hypothyroidism", "D007037"),
    ("lactic acidosis", "D000140"),
    ("rash", "D005076"),
]
FILLER = "patients treated for several weeks showed changes that were recorded at each visit by the study team".split()


def synthetic_documents(n: int, seed: int = 13):
    """Yield ``n`` made-up documents (title + abstract, ~1 KB, 6-10 mentions, CID relations)."""
    from biorel.types import Document, Mention, Passage, Relation

    rnd = random.Random(seed)
    for i in range(n):
        chem, cid = rnd.choice(CHEMICALS)
        dis, did = rnd.choice(DISEASES)
        title = f"{chem.capitalize()} and {dis} in a cohort study."
        sentences, mentions = [], []
        offset = len(title) + 1
        pos = offset
        for k in range(rnd.randint(5, 8)):
            c, ci = rnd.choice(CHEMICALS)
            d, di = rnd.choice(DISEASES)
            words = rnd.sample(FILLER, 8)
            sent = f"In group {k}, {c} was given and {' '.join(words)}; {d} was seen."
            cs = pos + sent.index(c)
            ds = pos + sent.rindex(d)
            mentions += [(cs, c, "Chemical", ci), (ds, d, "Disease", di)]
            sentences.append(sent)
            pos += len(sent) + 1
        abstract = " ".join(sentences)
        doc = Document(str(10_000_000 + i), passages=[Passage(0, title, "title"), Passage(offset, abstract, "abstract")])
        doc.mentions = [Mention(f"m{j}", ((s, s + len(t)),), t, typ, (ident,)) for j, (s, t, typ, ident) in enumerate(mentions)]
        doc.entities = doc.entities_from_mentions()
        ids = {e.id for e in doc.entities}
        doc.relations = [Relation(f"r{j}", "CID", c, d) for j, (c, d) in enumerate([(cid, did)]) if c in ids and d in ids]
        yield doc


# ---- child processes -------------------------------------------------------------


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _child(task: str, args: list[str]) -> dict:
    t0 = time.perf_counter()
    from biorel import io  # noqa: F401  (imports every built-in format)
    from biorel.cli.formats import convert_file

    if task == "import":
        n = 0
    elif task == "generate":
        n = io.write(synthetic_documents(int(args[1])), args[0], "jsonl")
    elif task == "convert":
        validate = len(args) < 5 or args[4] != "novalidate"
        n = convert_file(args[0], args[1], from_format=args[2], to_format=args[3], reader_options={"validate": validate}).documents
    elif task == "load":
        n = len(io.load(args[0], args[1]))
    else:
        raise SystemExit(f"unknown task {task}")
    return {"task": task, "documents": n, "peak_mib": round(_peak_mib(), 1), "seconds": round(time.perf_counter() - t0, 1)}


def _run(task: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", task, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def benchmark(sizes: list[int], workdir: Path, keep: bool = False, unvalidated: bool = False) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    import os

    rows = []
    floor = _run("import")
    for n in sizes:
        jsonl, xml, pub = workdir / f"syn{n}.jsonl", workdir / f"syn{n}.bioc.xml", workdir / f"syn{n}.pubtator"
        gen = _run("generate", str(jsonl), str(n))
        a = _run("convert", str(jsonl), str(xml), "jsonl", "bioc-xml")
        b = _run("convert", str(xml), str(pub), "bioc-xml", "pubtator")
        base = _run("load", str(jsonl), "jsonl")
        extra = {}
        if unvalidated:  # the same conversions without validation (and its duplicate-id registry)
            extra["jsonl->bioc-xml unvalidated"] = _run("convert", str(jsonl), str(xml) + ".nv", "jsonl", "bioc-xml", "novalidate")
            extra["bioc-xml->pubtator unvalidated"] = _run("convert", str(xml), str(pub) + ".nv", "bioc-xml", "pubtator", "novalidate")
        rows.append(
            {
                "documents": n,
                "jsonl_mib": round(jsonl.stat().st_size / 2**20, 1),
                "bioc_xml_mib": round(xml.stat().st_size / 2**20, 1),
                "generate": gen,
                "jsonl->bioc-xml": a,
                "bioc-xml->pubtator": b,
                "load(jsonl)": base,
                **extra,
            }
        )
        if not keep:
            for p in (jsonl, xml, pub, Path(str(xml) + ".nv"), Path(str(pub) + ".nv")):
                p.unlink(missing_ok=True)
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {
        "date": date.today().isoformat(),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores (shared)",
        "python": platform.python_version(),
        "import_floor": floor,
        "rows": rows,
    }


def markdown(result: dict) -> str:
    lines = [
        f"Date {result['date']}; machine: {result['machine']}; Python {result['python']}. "
        f"Import floor (interpreter + biorel + formats + CLI): {result['import_floor']['peak_mib']} MiB.",
        "",
        "| documents | JSONL MiB | BioC XML MiB | peak RSS jsonl->bioc-xml | peak RSS bioc-xml->pubtator | baseline peak RSS load(jsonl) | seconds (xml / pubtator / load) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        a, b, base = r["jsonl->bioc-xml"], r["bioc-xml->pubtator"], r["load(jsonl)"]
        lines.append(
            f"| {r['documents']:,} | {r['jsonl_mib']} | {r['bioc_xml_mib']} | {a['peak_mib']} MiB | {b['peak_mib']} MiB | "
            f"{base['peak_mib']} MiB | {a['seconds']} / {b['seconds']} / {base['seconds']} |"
        )
    extra = [r for r in result["rows"] if "jsonl->bioc-xml unvalidated" in r]
    if extra:
        lines += ["", "| documents | unvalidated jsonl->bioc-xml | unvalidated bioc-xml->pubtator |", "|---:|---:|---:|"]
        for r in extra:
            lines.append(
                f"| {r['documents']:,} | {r['jsonl->bioc-xml unvalidated']['peak_mib']} MiB | {r['bioc-xml->pubtator unvalidated']['peak_mib']} MiB |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(_child(argv[1], argv[2:])))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/biorel-bench"))
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    ap.add_argument("--unvalidated", action="store_true", help="also convert with validation off (no duplicate-id registry)")
    args = ap.parse_args(argv)
    result = benchmark(args.sizes, args.workdir, args.keep, args.unvalidated)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
