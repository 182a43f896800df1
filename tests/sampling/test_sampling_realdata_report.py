"""The diversity report on a real corpus: BC5CDR CID relations by MeSH id."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorel.errors import Diagnostics
from biorel.sampling import GMESampler, load_table
from biorel.sampling.report import diversity_report

pytestmark = pytest.mark.realdata


def test_gme_is_more_diverse_than_random_on_bc5cdr(mirror: Path, tmp: Path):
    pytest.importorskip("biorel.io.pubtator")
    diags = Diagnostics()
    table = load_table(mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt", on=["Chemical", "Disease"], diagnostics=diags)
    # README of the mirror: 500 documents, 1066 CID relations in the test set
    assert table.n_items == 500 and int(table.n_relations.sum()) == 1066
    assert len(diags) == 0
    sample = GMESampler().sample(table, 100)
    rep = diversity_report(table, sample, seeds=10)
    for var in ("Chemical", "Disease"):
        for m in ("entropy", "richness", "simpson"):
            assert rep.sample[var][m] > rep.random_mean[var][m] + 3 * rep.random_sd[var][m], (var, m)
    out = rep.write(tmp / "rep")
    assert (out / "entropy_trajectory.png").read_bytes()[:4] == b"\x89PNG"
    assert "| Chemical | entropy |" in (out / "report.md").read_text()
