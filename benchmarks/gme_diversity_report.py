"""Diversity report of GME against random samples on a real corpus.

Default: BC5CDR (train + dev + test, 1,500 PubMed abstracts), CID relations
by MeSH concept id, variables ``Chemical`` and ``Disease``, 200 documents,
10 random seeds. ``--corpus biored`` uses BioRED (train + dev + test) with
``ChemicalEntity``, ``DiseaseOrPhenotypicFeature`` and ``GeneOrGeneProduct``.
Reads the dataset mirror (``BIOREL_DATA_MIRROR`` or ../shared/datasets)
through the registered biorel readers::

    python benchmarks/gme_diversity_report.py --out /tmp/gme_report --img docs/img

writes the full report (report.md/json + PNGs) to ``--out`` and copies the two
plots to ``--img`` as ``gme_<corpus>_entropy_trajectory.png`` and
``gme_<corpus>_rank_frequency.png``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from itertools import chain
from pathlib import Path

from biorel import io
from biorel.errors import Diagnostics
from biorel.sampling import GMESampler, ItemTable, document_records
from biorel.sampling.report import diversity_report

CORPORA = {
    "bc5cdr": (["CDR_TrainingSet.PubTator.txt", "CDR_DevelopmentSet.PubTator.txt", "CDR_TestSet.PubTator.txt"], ["Chemical", "Disease"]),
    "biored": (["Train.PubTator", "Dev.PubTator", "Test.PubTator"], ["ChemicalEntity", "DiseaseOrPhenotypicFeature", "GeneOrGeneProduct"]),
}


def mirror() -> Path:
    env = os.environ.get("BIOREL_DATA_MIRROR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "datasets"


def load(corpus: str, diags: Diagnostics) -> ItemTable:
    files, on = CORPORA[corpus]
    paths = [mirror() / corpus / f for f in files]
    seen: set[str] = set()

    def unique(docs):
        for d in docs:
            if d.id in seen:
                raise SystemExit(f"document {d.id} occurs in two files of {corpus}: the splits would be merged")
            seen.add(d.id)
            yield d

    docs = unique(chain.from_iterable(io.read(p) for p in paths))
    return ItemTable.from_records(document_records(docs, on, diagnostics=diags), on)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", choices=sorted(CORPORA), default="bc5cdr")
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--img", type=Path, help="folder to copy the two plots to (e.g. docs/img)")
    a = ap.parse_args()
    diags = Diagnostics()
    t0 = time.perf_counter()
    table = load(a.corpus, diags)
    ignored = diags.counts()
    print(
        f"{a.corpus}: {table.n_items} documents, distinct {dict(zip(table.variables, (table.n_entities(v) for v in range(len(table.variables)))))}, "
        f"relations used {int(table.n_relations.sum())}, reported {dict(ignored)} ({time.perf_counter() - t0:.1f} s)"
    )
    ranking = GMESampler("dutopia").sample(table)  # full ranking: the report plots the whole trajectory
    rep = diversity_report(table, ranking, seeds=a.seeds, n=a.n)
    rep.write(a.out)
    print(rep.to_markdown())
    if a.img:
        a.img.mkdir(parents=True, exist_ok=True)
        for name in ("entropy_trajectory.png", "rank_frequency.png"):
            shutil.copyfile(a.out / name, a.img / f"gme_{a.corpus}_{name}")
        print(f"copied plots to {a.img}")


if __name__ == "__main__":
    main()
