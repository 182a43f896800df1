"""ARI / NMI against scikit-learn, and k-means clustering quality."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from biorel.errors import BiorelError
from biorel.evaluation import adjusted_rand_index, cluster_quality, kmeans, normalized_mutual_info

labelings = st.integers(1, 60).flatmap(
    lambda n: st.tuples(st.lists(st.integers(0, 5), min_size=n, max_size=n), st.lists(st.integers(0, 7), min_size=n, max_size=n))
)


@settings(max_examples=100, deadline=None)
@given(labelings)
def test_agree_with_sklearn_on_random_labelings(pair):
    a, b = pair
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-9)
    assert normalized_mutual_info(a, b) == pytest.approx(normalized_mutual_info_score(a, b), abs=1e-9)


def test_agree_with_sklearn_on_larger_random_labelings():
    rng = np.random.default_rng(0)
    for n, ka, kb in [(500, 5, 5), (1000, 13, 8), (300, 2, 20)]:
        a, b = rng.integers(0, ka, n), rng.integers(0, kb, n)
        assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
        assert normalized_mutual_info(a, b) == pytest.approx(normalized_mutual_info_score(a, b), abs=1e-12)


def test_perfect_and_degenerate_partitions():
    gold = ["CID", "CID", "Bind", "Bind", "Assoc"]
    renamed = [7, 7, 3, 3, 1]  # the same partition under other names
    assert adjusted_rand_index(gold, renamed) == 1.0 and normalized_mutual_info(gold, renamed) == 1.0
    assert adjusted_rand_index([1, 1, 1], [0, 0, 0]) == 1.0 and normalized_mutual_info([1, 1, 1], [0, 0, 0]) == 1.0
    assert normalized_mutual_info([1, 1, 1, 1], [0, 1, 2, 3]) == 0.0
    assert adjusted_rand_index([], []) == 1.0
    with pytest.raises(BiorelError) as e:
        adjusted_rand_index([1, 2], [1])
    assert e.value.code == "E205"


def test_kmeans_on_separated_blobs_recovers_the_gold_types():
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], dtype=float)
    labels = np.repeat(["CID", "Bind", "Assoc", "Other"], 25)
    x = centres[np.repeat(np.arange(4), 25)] + rng.normal(scale=0.5, size=(100, 3))
    q = cluster_quality(x, list(labels), seed=0)
    assert (q.ari, q.nmi, q.k, q.n) == (1.0, 1.0, 4, 100)
    assert np.array_equal(kmeans(x, 4, seed=1), kmeans(x, 4, seed=1))


def test_random_embeddings_score_near_zero():
    rng = np.random.default_rng(4)
    q = cluster_quality(rng.normal(size=(300, 8)), list(rng.integers(0, 3, 300)), seed=0)
    assert abs(q.ari) < 0.05 and q.nmi < 0.05


def test_clustering_errors():
    with pytest.raises(BiorelError) as e:
        cluster_quality(np.zeros((3, 2)), ["a", "b"])
    assert e.value.code == "E205"
    with pytest.raises(BiorelError) as e:
        kmeans(np.zeros((2, 2)), 3)
    assert e.value.code == "E205"
    with pytest.raises(BiorelError) as e:
        kmeans(np.array([[np.nan, 1.0]]), 1)
    assert e.value.code == "E205"
