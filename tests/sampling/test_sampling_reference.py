"""GME on the reference implementation's own example (github.com/idiap/gme-sampler):
the first ten picks and their entropies must equal ``expected_top_10.tsv``."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from biorel.errors import Diagnostics
from biorel.sampling import GMESampler, load_table

pytestmark = pytest.mark.realdata

ON = ["structure_wikidata", "organism_wikidata"]


@pytest.fixture(scope="module")
def example(mirror: Path) -> Path:
    return mirror / "abroad_re_lotus" / "gme_sampler_example"


def expected(example: Path) -> tuple[list[str], np.ndarray]:
    with open(example / "expected_top_10.tsv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r["reference_doi"] for r in rows], np.array([[float(r[c]) for c in ON] for r in rows])


def test_first_ten_picks_match_the_reference(example):
    table = load_table(example / "test_data.csv", on=ON, item="reference_doi")
    result = GMESampler("dutopia", binarised=False).sample(table, n=10)
    ids, H = expected(example)
    assert result.items == ids
    np.testing.assert_allclose(result.entropies, H, atol=1e-4)


def test_the_table_has_the_documented_shape(example):
    # README of the mirror: 99 rows; distinct counts computed here independently
    with open(example / "test_data.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert len(rows) == 99
    table = load_table(example / "test_data.csv", on=ON)
    assert table.n_items == len({r["reference_doi"] for r in rows})
    assert [table.n_entities(v) for v in range(2)] == [len({r[c] for r in rows}) for c in ON]
    assert int(table.counts[0].sum()) == int(table.counts[1].sum()) == 99


def test_lotus_documents_give_the_same_ranking_as_the_table(example):
    """The corpus route (LOTUS reader, variables = entity types) agrees with
    the table route (named columns)."""
    pytest.importorskip("biorel.io.lotus")
    diags = Diagnostics()
    docs_table = load_table(example / "test_data.csv", on=["chemical", "organism"], format="lotus", diagnostics=diags)
    table = load_table(example / "test_data.csv", on=ON)
    a, b = GMESampler().sample(table), GMESampler().sample(docs_table)
    assert a.items == b.items
    np.testing.assert_allclose(a.entropies, b.entropies, atol=1e-12)
    assert len(diags) == 0


def test_full_ranking_stops_where_diversity_peaks(example):
    table = load_table(example / "test_data.csv", on=ON)
    result = GMESampler().sample(table)
    assert len(result) == table.n_items == 13
    stop = result.stop()
    # the distance to utopia of the first k picks, recomputed from the entropies
    d = np.sqrt(((result.utopia - result.entropies) ** 2).sum(axis=1))
    assert stop.step == int(np.argmin(d)) + 1
    assert stop.objective == pytest.approx(d.min())
