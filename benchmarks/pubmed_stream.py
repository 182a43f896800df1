"""Peak memory of reading a PubMed baseline-sized ``.xml.gz``, streaming versus loading.

It builds ``pubmed_<N>.xml.gz`` files shaped like a PubMed baseline file (one
``<PubmedArticleSet>``; each ``<PubmedArticle>`` with journal, authors, MeSH
headings, article ids and references, ~4 KB of XML) from the titles and
abstracts mirrored under ``$BIOREL_DATA_MIRROR`` (BC5CDR train/dev/test, BioRED
train/dev/test, NCBI-disease train/dev/test), repeated with new PMIDs; every
7th article has inline markup (``<i>``, ``<sup>``, ``<sub>``, MathML), every
5th a structured abstract (labelled sections), every 11th no abstract. Then,
each in a fresh process whose peak RSS is its own ``ru_maxrss``:

* ``import``: the interpreter with ``biorel`` and its formats (the floor);
* ``biorel convert X.xml.gz out.jsonl`` and ``biorel stats X.xml.gz --json``:
  the command line (the figure is the ``biorel`` process's peak, measured by a
  wrapper process that runs only it);
* ``io.load(X.xml.gz)`` (baseline): every document in memory at once.

Streaming is flat when convert's peak stays near the floor for every N while
the baseline grows with N. Timings are indicative (shared machine).

    python benchmarks/pubmed_stream.py --sizes 3000 10000 30000 --workdir /tmp/biorel-pubmed-bench
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from common import cpu_model

SOURCES = [
    "bc5cdr/CDR_TrainingSet.PubTator.txt",
    "bc5cdr/CDR_DevelopmentSet.PubTator.txt",
    "bc5cdr/CDR_TestSet.PubTator.txt",
    "biored/Train.PubTator",
    "biored/Dev.PubTator",
    "biored/Test.PubTator",
    "ncbi_disease/NCBItrainset_corpus.txt",
    "ncbi_disease/NCBIdevelopset_corpus.txt",
    "ncbi_disease/NCBItestset_corpus.txt",
]
LABELS = ["BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"]
MESH = ["Humans", "Male", "Female", "Adult", "Middle Aged", "Aged", "Animals", "Rats", "Mice", "Risk Factors", "Treatment Outcome", "Cohort Studies"]
MML = 'xmlns:mml="http://www.w3.org/1998/Math/MathML"'
HEADER = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
)


# ---- building the input ------------------------------------------------------------------------------


def mirrored_abstracts(mirror: Path) -> list[tuple[str, str]]:
    """``(title, abstract)`` of every document of the mirrored PubTator files."""
    out = []
    for rel in SOURCES:
        title = None
        for line in (mirror / rel).read_text(encoding="utf-8").splitlines():
            parts = line.split("|", 2)
            if len(parts) == 3 and parts[1] == "t":
                title = parts[2]
            elif len(parts) == 3 and parts[1] == "a" and title is not None:
                out.append((title, parts[2]))
                title = None
    return out


def _markup(text: str, rnd: random.Random) -> str:
    """Escaped text with inline tags around a few words."""
    words = escape(text).split(" ")
    for _ in range(3):
        i = rnd.randrange(len(words))
        if not words[i]:
            continue
        kind = rnd.choice(["i", "b", "sup", "sub", "mml"])
        if kind == "mml":
            words[i] = f"<mml:math {MML}><mml:mi>{words[i]}</mml:mi></mml:math>"
        else:
            words[i] = f"<{kind}>{words[i]}</{kind}>"
    return " ".join(words)


def _abstract(text: str, k: int, rnd: random.Random) -> str:
    if k % 11 == 0:
        return ""
    body = (lambda t: _markup(t, rnd)) if k % 7 == 0 else escape
    if k % 5 == 0:
        sentences = re.split(r"(?<=\.) ", text)
        n = min(len(LABELS), len(sentences))
        cuts = [round(i * len(sentences) / n) for i in range(n + 1)]
        secs = [" ".join(sentences[cuts[i] : cuts[i + 1]]) for i in range(n)]
        inner = "".join(f'<AbstractText Label="{lab}" NlmCategory="{lab.rstrip("S")}">{body(s)}</AbstractText>' for lab, s in zip(LABELS, secs) if s)
    else:
        inner = f"<AbstractText>{body(text)}</AbstractText>"
    return f"<Abstract>{inner}<CopyrightInformation>Copyright the authors.</CopyrightInformation></Abstract>"


def article_xml(pmid: int, title: str, abstract: str, k: int, rnd: random.Random) -> str:
    t = _markup(title, rnd) if k % 7 == 0 else escape(title)
    authors = "".join(
        f'<Author ValidYN="Y"><LastName>Author{j}</LastName><ForeName>A</ForeName><Initials>A</Initials>'
        f"<AffiliationInfo><Affiliation>Department {j}, University {pmid % 97}, City, Country.</Affiliation></AffiliationInfo></Author>"
        for j in range(rnd.randint(2, 8))
    )
    mesh = "".join(
        f'<MeshHeading><DescriptorName UI="D{rnd.randrange(10**6):06d}" MajorTopicYN="N">{m}</DescriptorName></MeshHeading>'
        for m in rnd.sample(MESH, rnd.randint(3, 8))
    )
    refs = "".join(
        f'<Reference><Citation>Ref {j}.</Citation><ArticleIdList><ArticleId IdType="pubmed">{rnd.randrange(10**7)}</ArticleId></ArticleIdList></Reference>'
        for j in range(rnd.randint(0, 10))
    )
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
        f'<Article PubModel="Print"><Journal><ISSN IssnType="Print">0000-0000</ISSN><JournalIssue CitedMedium="Print"><Volume>{k % 50}</Volume>'
        f"<PubDate><Year>{1980 + k % 45}</Year><Month>Jan</Month></PubDate></JournalIssue><Title>Journal {k % 300}</Title>"
        f"<ISOAbbreviation>J {k % 300}</ISOAbbreviation></Journal><ArticleTitle>{t}</ArticleTitle>{_abstract(abstract, k, rnd)}"
        f'<AuthorList CompleteYN="Y">{authors}</AuthorList><Language>eng</Language><PublicationTypeList>'
        f'<PublicationType UI="D016428">Journal Article</PublicationType></PublicationTypeList></Article>'
        f"<MeshHeadingList>{mesh}</MeshHeadingList></MedlineCitation><PubmedData><PublicationStatus>ppublish</PublicationStatus>"
        f'<ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId><ArticleId IdType="doi">10.0000/{pmid}</ArticleId></ArticleIdList>'
        f"<ReferenceList>{refs}</ReferenceList></PubmedData></PubmedArticle>\n"
    )


def articles(pool: list[tuple[str, str]], n: int, seed: int = 7) -> Iterator[str]:
    rnd = random.Random(seed)
    for k in range(n):
        title, abstract = pool[k % len(pool)]
        yield article_xml(30_000_000 + k, title, abstract, k, rnd)


def build(pool: list[tuple[str, str]], n: int, path: Path) -> dict:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(HEADER)
        size = len(HEADER)
        for a in articles(pool, n):
            fh.write(a)
            size += len(a.encode("utf-8"))
        fh.write("</PubmedArticleSet>\n")
    return {"articles": n, "xml_mib": round(size / 2**20, 1), "gz_mib": round(path.stat().st_size / 2**20, 1)}


# ---- child processes -----------------------------------------------------------------------------------


def _peak_mib(who: int) -> float:
    import resource

    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def _biorel() -> list[str]:
    exe = Path(sys.executable).with_name("biorel")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from biorel.cli import main; main()"]


def _child(task: str, args: list[str]) -> dict:
    import resource

    t0 = time.perf_counter()
    if task in ("convert", "stats"):  # the biorel command is this process's only child: its peak is the figure
        cmd = [*_biorel(), "convert", args[0], args[1]] if task == "convert" else [*_biorel(), "stats", args[0], "--json"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        n = int(re.search(r"wrote (\d+) documents", out.stdout).group(1)) if task == "convert" else json.loads(out.stdout)["documents"]
        return {
            "task": task,
            "documents": n,
            "peak_mib": round(_peak_mib(resource.RUSAGE_CHILDREN), 1),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    from biorel import io

    if task == "import":
        n = 0
    elif task == "load":
        n = len(io.load(args[0]))
    else:
        raise SystemExit(f"unknown task {task}")
    return {"task": task, "documents": n, "peak_mib": round(_peak_mib(resource.RUSAGE_SELF), 1), "seconds": round(time.perf_counter() - t0, 1)}


def _run(task: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", task, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def benchmark(sizes: list[int], workdir: Path, mirror: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    pool = mirrored_abstracts(mirror)
    rows = []
    floor = _run("import")
    for n in sizes:
        src, out = workdir / f"pubmed_{n}.xml.gz", workdir / f"pubmed_{n}.jsonl"
        info = build(pool, n, src)
        conv = _run("convert", str(src), str(out))
        st = _run("stats", str(src))
        base = _run("load", str(src))
        for r in (conv, st, base):
            assert r["documents"] == conv["documents"], (r, conv)
        rows.append({**info, "documents": conv["documents"], "convert": conv, "stats": st, "load": base})
        out.unlink(missing_ok=True)
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return {
        "date": date.today().isoformat(),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores (shared)",
        "python": platform.python_version(),
        "abstracts": len(pool),
        "import_floor": floor,
        "rows": rows,
    }


def markdown(result: dict) -> str:
    lines = [
        f"Date {result['date']}; machine: {result['machine']}; Python {result['python']}. "
        f"Articles built from {result['abstracts']:,} mirrored abstracts. "
        f"Import floor (interpreter + biorel + formats): {result['import_floor']['peak_mib']} MiB.",
        "",
        "| articles | documents | XML MiB (gz MiB) | peak RSS `biorel convert` → JSONL | peak RSS `biorel stats` | baseline peak RSS `io.load` | seconds (convert / stats / load) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        c, s, b = r["convert"], r["stats"], r["load"]
        lines.append(
            f"| {r['articles']:,} | {r['documents']:,} | {r['xml_mib']} ({r['gz_mib']}) | {c['peak_mib']} MiB | {s['peak_mib']} MiB | "
            f"{b['peak_mib']} MiB | {c['seconds']} / {s['seconds']} / {b['seconds']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        print(json.dumps(_child(argv[1], argv[2:])))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[3_000, 10_000, 30_000])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/biorel-pubmed-bench"))
    ap.add_argument("--mirror", type=Path, default=Path(os.environ.get("BIOREL_DATA_MIRROR", "../shared/datasets")))
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args(argv)
    result = benchmark(args.sizes, args.workdir, args.mirror)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
