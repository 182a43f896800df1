"""Quotas and turns of stratified sampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel.errors import BiorelError
from biorel.sampling import next_stratum, quotas


@pytest.mark.parametrize(
    "available,n,expected",
    [
        ([10, 10, 10], 9, [3, 3, 3]),
        ([10, 10, 10], 10, [4, 3, 3]),  # remainder to the first stratum in name order
        ([1, 10, 10], 9, [1, 4, 4]),  # a small stratum's share goes to the others
        ([1, 2, 10], 13, [1, 2, 10]),
        ([0, 5, 5], 3, [0, 2, 1]),
    ],
)
def test_balanced_quotas(available, n, expected):
    assert quotas(np.array(available), n, "balanced").tolist() == expected


@pytest.mark.parametrize(
    "available,n,expected",
    [
        ([60, 30, 10], 10, [6, 3, 1]),
        ([50, 25, 25], 3, [1, 1, 1]),  # 1.5, .75, .75: floors 1, 0, 0; the two largest remainders get one
        ([50, 25, 25], 2, [1, 1, 0]),  # 1, .5, .5: floors 1, 0, 0; tied remainders -> name order
        ([1, 1, 1], 2, [1, 1, 0]),  # all tied
    ],
)
def test_proportional_quotas(available, n, expected):
    assert quotas(np.array(available), n, "proportional").tolist() == expected


def test_errors():
    with pytest.raises(BiorelError) as e:
        quotas(np.array([1, 2]), 4)
    assert e.value.code == "E225"
    with pytest.raises(BiorelError) as e:
        quotas(np.array([1, 2]), 2, "fair")
    assert e.value.code == "E220"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=1, max_size=6), st.data(), st.sampled_from(["balanced", "proportional"]))
def test_quota_invariants(available, data, rule):
    avail = np.array(available)
    n = data.draw(st.integers(0, int(avail.sum())))
    q = quotas(avail, n, rule)
    assert int(q.sum()) == n
    assert (q >= 0).all() and (q <= avail).all()
    if rule == "balanced":
        # no stratum with spare items holds fewer than another stratum minus one
        spare = q < avail
        if spare.any():
            assert q[spare].min() >= q.max() - 1


def turns(q, rule):
    picked = np.zeros(len(q), dtype=np.int64)
    order = []
    while (s := next_stratum(picked, np.array(q), rule)) >= 0:
        order.append(s)
        picked[s] += 1
    return order


def test_balanced_turns_are_a_round_robin_until_a_stratum_is_exhausted():
    assert turns([2, 2, 1], "balanced") == [0, 1, 2, 0, 1]
    assert turns([1, 3, 2], "balanced") == [0, 1, 2, 1, 2, 1]


def test_proportional_turns_follow_the_quota_shares():
    # 0/4, 0/2 tie -> 0; 1/4 > 0/2 -> 1; 1/4 < 1/2 -> 0; 2/4 = 1/2 -> 0; 3/4 > 1/2 -> 1; then 0
    assert turns([4, 2], "proportional") == [0, 1, 0, 0, 1, 0]
