"""Generate a LOTUS-scale synthetic table for the sampling benchmarks.

Shape of LOTUS (v10): ~130,000 references, ~750,000 (structure, organism,
reference) rows, a few organisms and chemicals dominating. The generator:

* gives every reference one row, then spreads the remaining rows over
  references with weights ``1 / rank**ref_zipf`` (ranks shuffled), so a few
  references report hundreds of rows;
* gives each reference ``1 + Poisson(0.6)`` organisms drawn from a Zipf law
  (``1 / rank**org_zipf`` over ``organisms``), and each row one of the
  reference's organisms and a chemical drawn from a Zipf law over ``structures``;
* gives each organism a kingdom (``organism_taxonomy_02kingdom``) drawn with
  LOTUS-like skewed frequencies.

Deterministic for a seed. ``generate()`` returns the columns as arrays (and
``to_table()`` an :class:`~biorel.sampling.ItemTable` directly); the command
line writes a TSV with LOTUS column names::

    python benchmarks/gen_lotus_table.py -o /tmp/lotus_synth.tsv
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINGDOMS = ("Archaeplastida", "Fungi", "Metazoa", "Bacteria", "Not Attributed (Bacteria or Algae)", "Chromista")
KINGDOM_P = (0.62, 0.18, 0.09, 0.06, 0.03, 0.02)


@dataclass
class Synthetic:
    ref: np.ndarray  # reference code per row
    organism: np.ndarray  # organism code per row
    structure: np.ndarray  # structure code per row
    kingdom_of_organism: np.ndarray  # kingdom code per organism
    n_refs: int
    n_organisms: int
    n_structures: int

    def ref_id(self, i: int) -> str:
        return f"10.9999/SYNTH.{i:07d}"

    def to_table(self, stratify: bool = False):
        """The sampler input (structure and organism variables) without a file;
        strata (optional) follow the ItemTable rule: each reference's majority
        kingdom, ties to the smallest name."""
        from biorel.sampling import ItemTable

        items = [self.ref_id(i) for i in range(self.n_refs)]
        pairs = [(self.ref, self.structure), (self.ref, self.organism)]
        entities = [[f"Q{2_000_000 + k}" for k in range(self.n_structures)], [f"Q{1_000_000 + k}" for k in range(self.n_organisms)]]
        strata, names = None, ()
        if stratify:
            names = tuple(sorted(KINGDOMS))
            in_name_order = np.array([names.index(k) for k in KINGDOMS])
            k = in_name_order[self.kingdom_of_organism[self.organism]]
            votes = np.bincount(self.ref * len(names) + k, minlength=self.n_refs * len(names)).reshape(self.n_refs, len(names))
            strata = votes.argmax(axis=1)  # first maximum = smallest name
        return ItemTable.from_codes(
            items,
            ("structure_wikidata", "organism_wikidata"),
            pairs,
            entities,
            strata=strata,
            stratum_names=names,
            stratify="organism_taxonomy_02kingdom" if stratify else None,
            n_relations=np.bincount(self.ref, minlength=self.n_refs),
        )


def _zipf_sampler(n: int, s: float, rng: np.random.Generator):
    cdf = np.cumsum(1.0 / np.arange(1, n + 1) ** s)
    cdf /= cdf[-1]
    perm = rng.permutation(n)  # popularity is not tied to the id

    def draw(size: int) -> np.ndarray:
        return perm[np.minimum(np.searchsorted(cdf, rng.random(size)), n - 1)]

    return draw


def generate(
    refs: int = 130_000,
    rows: int = 750_000,
    organisms: int = 40_000,
    structures: int = 220_000,
    ref_zipf: float = 0.7,
    org_zipf: float = 0.95,
    chem_zipf: float = 0.75,
    seed: int = 0,
) -> Synthetic:
    if rows < refs:
        raise ValueError("rows must be >= refs (every reference has a row)")
    rng = np.random.default_rng(seed)
    extra = _zipf_sampler(refs, ref_zipf, rng)(rows - refs)
    ref = np.sort(np.concatenate([np.arange(refs), extra]))
    # organisms of each reference
    n_org = 1 + rng.poisson(0.6, refs)
    org_draw = _zipf_sampler(organisms, org_zipf, rng)
    ref_orgs = org_draw(int(n_org.sum()))
    start = np.concatenate([[0], np.cumsum(n_org)[:-1]])
    organism = ref_orgs[start[ref] + (rng.random(len(ref)) * n_org[ref]).astype(np.int64)]
    structure = _zipf_sampler(structures, chem_zipf, rng)(len(ref))
    kingdom = rng.choice(len(KINGDOMS), size=organisms, p=KINGDOM_P)
    return Synthetic(ref, organism, structure, kingdom, refs, organisms, structures)


def write_tsv(s: Synthetic, path: str | Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(
            ["structure_wikidata", "structure_nameTraditional", "organism_wikidata", "organism_name", "organism_taxonomy_02kingdom", "reference_doi"]
        )
        for r, o, c in zip(s.ref.tolist(), s.organism.tolist(), s.structure.tolist()):
            w.writerow(
                [
                    f"http://www.wikidata.org/entity/Q{2_000_000 + c}",
                    f"chem{c}",
                    f"http://www.wikidata.org/entity/Q{1_000_000 + o}",
                    f"org{o}",
                    KINGDOMS[s.kingdom_of_organism[o]],
                    s.ref_id(r),
                ]
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--refs", type=int, default=130_000)
    ap.add_argument("--rows", type=int, default=750_000)
    ap.add_argument("--organisms", type=int, default=40_000)
    ap.add_argument("--structures", type=int, default=220_000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    s = generate(a.refs, a.rows, a.organisms, a.structures, seed=a.seed)
    write_tsv(s, a.out)
    print(
        f"wrote {a.out}: {len(s.ref)} rows, {s.n_refs} references, {len(np.unique(s.organism))} organisms, {len(np.unique(s.structure))} structures"
    )


if __name__ == "__main__":
    main()
