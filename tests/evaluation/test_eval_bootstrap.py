"""Bootstrap intervals and the paired bootstrap test."""

from __future__ import annotations

import numpy as np
import pytest

from biorel.errors import BiorelError
from biorel.evaluation import bootstrap_intervals, evaluate, paired_bootstrap
from biorel.evaluation.bootstrap import resample_weights, resampled_totals
from biorel.evaluation.metrics import aggregate
from biorel.types import Document, Example, Passage, Relation


def corpus(hits: list[bool], extra_fp: list[int] | None = None, prefix: str = "") -> list[Example]:
    """One gold relation per document; the prediction finds it when ``hits[i]``
    and adds ``extra_fp[i]`` wrong pairs."""
    out = []
    for i, hit in enumerate(hits):
        gold = Document(f"{prefix}{i}", [Passage(0, "t")], relations=[Relation("g", "CID", "C", "D")])
        rels = [Relation("p", "CID", "C", "D")] if hit else []
        rels += [Relation(f"f{j}", "CID", "C", f"X{j}") for j in range((extra_fp or [0] * len(hits))[i])]
        out.append(Example(Document(gold.id, [Passage(0, "t")], relations=rels), gold))
    return out


def test_vectorised_resamples_equal_explicit_resamples():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 5, size=(30, 3, 3))
    w = next(resample_weights(30, 50, seed=7))
    assert w.shape == (50, 30) and (w.sum(axis=1) == 30).all()
    fast = resampled_totals(counts, w)
    for b in range(50):
        drawn = np.repeat(np.arange(30), w[b])  # the documents of resample b, with repeats
        assert np.array_equal(fast[b], counts[drawn].sum(axis=0))
        assert aggregate(fast[b], "macro_f1") == pytest.approx(float(aggregate(counts[drawn].sum(axis=0), "macro_f1")))


def test_interval_is_seeded_and_sensible():
    rng = np.random.default_rng(0)
    hits = list(rng.random(400) < 0.7)
    r = evaluate(corpus(hits), "concept", n_resamples=1000, seed=5)
    iv = r.intervals["micro_recall"]
    assert iv.estimate == pytest.approx(sum(hits) / 400)
    assert iv.low < iv.estimate < iv.high
    # binomial standard error sqrt(.7*.3/400) = 0.023: a 95% interval is about 0.09 wide
    assert 0.06 < iv.high - iv.low < 0.12
    again = evaluate(corpus(hits), "concept", n_resamples=1000, seed=5).intervals["micro_recall"]
    assert (again.low, again.high) == (iv.low, iv.high)
    # precision is 1 in every resample
    assert (r.intervals["micro_precision"].low, r.intervals["micro_precision"].high) == (1.0, 1.0)
    other = bootstrap_intervals(r, ["micro_recall", "CID:f1"], n_resamples=300, seed=6)
    assert set(other) == {"micro_recall", "CID:f1"} and other["CID:f1"].n_resamples == 300


def test_bootstrap_errors():
    r = evaluate([], "concept")
    assert r.intervals == {} and r.n_documents == 0
    with pytest.raises(BiorelError) as e:
        bootstrap_intervals(r)
    assert e.value.code == "E204"
    with pytest.raises(BiorelError) as e:
        evaluate(corpus([True]), "concept", level=1.5)
    assert e.value.code == "E201"
    with pytest.raises(BiorelError) as e:
        bootstrap_intervals(evaluate(corpus([True]), "concept", n_resamples=0), ["nope"])
    assert e.value.code == "E201"


def test_paired_bootstrap():
    rng = np.random.default_rng(2)
    base = rng.random(300)
    a = evaluate(corpus(list(base < 0.8)), "concept", n_resamples=0)
    b = evaluate(corpus(list(base < 0.5)), "concept", n_resamples=0)
    t = paired_bootstrap(a, b, n_resamples=1000, seed=0)
    assert t.metric == "micro_f1" and t.delta == pytest.approx(a.primary - b.primary)
    assert t.delta > 0 and t.low > 0 and t.p_value < 0.01
    same = paired_bootstrap(a, a, n_resamples=200)
    assert (same.delta, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    # nearly equal systems: one document differs -> no significant difference
    flip = list(base < 0.8)
    flip[0] = not flip[0]
    near = paired_bootstrap(a, evaluate(corpus(flip), "concept", n_resamples=0), n_resamples=500)
    assert near.p_value > 0.3
    assert set(t.to_dict()) >= {"metric", "a", "b", "delta", "low", "high", "p_value"}


def test_paired_bootstrap_needs_the_same_gold():
    a = evaluate(corpus([True, False]), "concept", n_resamples=0)
    with pytest.raises(BiorelError) as e:
        paired_bootstrap(a, evaluate(corpus([True, False], prefix="x"), "concept", n_resamples=0))
    assert e.value.code == "E203" and "different documents" in str(e.value)
    with pytest.raises(BiorelError) as e:
        paired_bootstrap(a, evaluate(corpus([True, False]), "cid", n_resamples=0))
    assert e.value.code == "E203"
    with pytest.raises(BiorelError) as e:  # same evaluator, other settings
        paired_bootstrap(a, evaluate(corpus([True, False]), "concept", typed=False, n_resamples=0))
    assert e.value.code == "E203"
    # same documents, different gold: 2 gold relations in document 0
    other = corpus([True, False])
    other[0].reference.relations.append(Relation("g2", "CID", "C", "Z"))
    with pytest.raises(BiorelError) as e:
        paired_bootstrap(a, evaluate(other, "concept", n_resamples=0))
    assert e.value.code == "E203" and "gold counts" in str(e.value)
    # documents in another order are aligned by id
    rev = evaluate(list(reversed(corpus([True, False]))), "concept", n_resamples=0)
    assert paired_bootstrap(a, rev, n_resamples=100).delta == 0.0


def test_bootstrap_with_nothing_to_count():
    empty = Document("e", [Passage(0, "t")])
    r = evaluate([Example(empty, empty)], "ner", n_resamples=50)
    assert r.types == [] and r.intervals["micro_f1"].low == r.intervals["micro_f1"].high == 0.0
