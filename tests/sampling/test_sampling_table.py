"""ItemTable construction rules, with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel.errors import BiorelError
from biorel.sampling import ItemTable, Record, entropy, evenness, richness, simpson
from biorel.sampling.table import NO_STRATUM

RECORDS = [
    Record("b", {"org": "o1", "chem": "c1"}, "Plants"),
    Record("b", {"org": "o1", "chem": "c1"}, "Plants"),  # duplicate row: counts twice
    Record("a", {"org": "o2", "chem": ["c1", "c2"]}, "Fungi"),  # two chemicals in one relation
    Record("a", {"org": "o2", "chem": None}, "Plants"),  # lacks a chemical
    Record("c", {}, None),  # a document without relations
]


def dense(table: ItemTable, v: int) -> dict[str, dict[str, int]]:
    m = table.counts[v].toarray()
    return {it: {e: int(m[i, j]) for j, e in enumerate(table.entities[v]) if m[i, j]} for i, it in enumerate(table.items)}


def test_counts_follow_the_rules():
    t = ItemTable.from_records(RECORDS, ["org", "chem"], stratify="kingdom")
    assert list(t.items) == ["a", "b", "c"]  # sorted ids: the tie-break order
    assert dense(t, 0) == {"a": {"o2": 2}, "b": {"o1": 2}, "c": {}}
    assert dense(t, 1) == {"a": {"c1": 1, "c2": 1}, "b": {"c1": 2}, "c": {}}
    assert [t.n_entities(v) for v in (0, 1)] == [2, 2]
    assert t.n_relations.tolist() == [2, 2, 0]
    # a: Fungi 1 vs Plants 1 -> tie to the smallest name; c: no value
    assert [t.stratum_of(i) for i in range(3)] == ["Fungi", "Plants", NO_STRATUM]


def test_binarised_counts_each_entity_once_per_item():
    t = ItemTable.from_records(RECORDS, ["org", "chem"]).binarised()
    assert dense(t, 0) == {"a": {"o2": 1}, "b": {"o1": 1}, "c": {}}
    assert dense(t, 1) == {"a": {"c1": 1, "c2": 1}, "b": {"c1": 1}, "c": {}}


def test_subset_recomputes_the_entity_universe():
    t = ItemTable.from_records(RECORDS, ["org", "chem"]).subset([1])
    assert list(t.items) == ["b"]
    assert list(t.entities[0]) == ["o1"] and list(t.entities[1]) == ["c1"]


@pytest.mark.parametrize("variables", [[], ["x", "x"]])
def test_bad_variables_are_coded_errors(variables):
    with pytest.raises(BiorelError) as e:
        ItemTable.from_records(RECORDS, variables)
    assert e.value.code == "E220"


def test_measures_known_answers():
    assert entropy([1, 1]) == pytest.approx(math.log(2))
    assert entropy([2, 1, 1]) == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))
    assert entropy([0, 0]) == 0.0 and entropy([5]) == 0.0
    assert richness([0, 3, 1]) == 2
    assert simpson([2, 1, 1]) == pytest.approx(1 - (0.25 + 0.0625 + 0.0625))
    assert evenness([3, 3, 3]) == pytest.approx(1.0)
    assert evenness([4]) == 1.0 and evenness([]) == 0.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=30))
def test_measures_are_bounded(counts):
    r = richness(counts)
    h = entropy(counts)
    assert 0.0 <= h <= (math.log(r) if r else 0.0) + 1e-12
    assert 0.0 <= simpson(counts) <= (1 - 1 / r if r else 0.0) + 1e-12
    assert 0.0 <= evenness(counts) <= 1.0 + 1e-12


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcde"), st.sampled_from("xyz"), st.sampled_from("pq")), min_size=1, max_size=40))
def test_matrix_totals_equal_record_counts(rows):
    t = ItemTable.from_records([Record(i, {"V": x, "W": w}) for i, x, w in rows], ["V", "W"])
    for v, col in ((0, 1), (1, 2)):
        got = dense(t, v)
        for it in t.items:
            for e in set(r[col] for r in rows):
                assert got[it].get(e, 0) == sum(1 for r in rows if r[0] == it and r[col] == e)
    assert np.array_equal(t.totals(0), np.asarray(t.counts[0].sum(axis=0)).ravel())
