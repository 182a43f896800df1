"""Property tests of the scorer: invariants any correct TP/FP/FN counting keeps."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st

from biorel.evaluation import evaluate
from biorel.types import Document, Example, Mention, Passage, Relation

span = st.tuples(st.integers(0, 40), st.integers(1, 8)).map(lambda t: (t[0], t[0] + t[1]))
mention = st.tuples(span, st.sampled_from(["Chemical", "Disease", "Gene"]))
mentions = st.lists(mention, max_size=12)


def ner_doc(ms, doc_id="d") -> Document:
    return Document(doc_id, [Passage(0, "x" * 60)], [Mention(f"m{i}", (s,), "", t) for i, (s, t) in enumerate(ms)])


def score(gold, pred, mode):
    r = evaluate([Example(ner_doc(pred), ner_doc(gold))], "ner", match=mode, n_resamples=0)
    return r.micro


@settings(max_examples=60, deadline=None)
@given(mentions, mentions)
def test_counts_partition_gold_and_predictions(gold, pred):
    for mode in ("strict", "overlap"):
        m = score(gold, pred, mode)
        assert m.tp + m.fn == len(set(gold))  # every distinct gold item is TP or FN
        assert m.tp + m.fp == len(set(pred))  # every distinct prediction is TP or FP
    agn = score(gold, pred, "type-agnostic")
    assert agn.tp + agn.fn == len({s for s, _ in gold}) and agn.tp + agn.fp == len({s for s, _ in pred})


@settings(max_examples=60, deadline=None)
@given(mentions, mentions)
def test_exact_modes_are_set_intersections_and_overlap_is_looser(gold, pred):
    strict, overlap, agnostic = (score(gold, pred, m) for m in ("strict", "overlap", "type-agnostic"))
    assert strict.tp == len(set(gold) & set(pred))
    assert agnostic.tp == len({s for s, _ in gold} & {s for s, _ in pred})
    assert overlap.tp >= strict.tp


@settings(max_examples=60, deadline=None)
@given(mentions, mentions)
def test_swapping_gold_and_prediction_swaps_precision_and_recall(gold, pred):
    for mode in ("strict", "overlap", "type-agnostic"):
        a, b = score(gold, pred, mode), score(pred, gold, mode)
        assert (a.tp, a.fp, a.fn) == (b.tp, b.fn, b.fp)
        assert a.precision == b.recall and a.f1 == b.f1


@settings(max_examples=50, deadline=None)
@given(mentions, mentions, st.integers(0, 10_000))
def test_order_and_duplicates_of_predictions_do_not_matter(gold, pred, seed):
    shuffled = pred + pred[: len(pred) // 2]
    random.Random(seed).shuffle(shuffled)
    for mode in ("strict", "overlap"):
        assert score(gold, pred, mode) == score(gold, shuffled, mode)


@settings(max_examples=50, deadline=None)
@given(mentions, mentions)
def test_f1_is_the_harmonic_mean(gold, pred):
    m = score(gold, pred, "overlap")
    if m.precision and m.recall:
        assert m.f1 == pytest.approx(2 * m.precision * m.recall / (m.precision + m.recall))
    else:
        assert m.f1 == 0.0


pairs = st.lists(st.tuples(st.sampled_from("ABCDE"), st.sampled_from("ABCDE"), st.sampled_from(["x", "y"])), max_size=10)


@settings(max_examples=50, deadline=None)
@given(pairs, pairs)
def test_undirected_untyped_relations_are_set_intersections(gold, pred):
    def doc(rels):
        return Document("d", [Passage(0, "t")], relations=[Relation(f"r{i}", t, h, tl) for i, (h, tl, t) in enumerate(rels)])

    r = evaluate([Example(doc(pred), doc(gold))], "concept", typed=False, n_resamples=0)
    g = {frozenset((h, t)) for h, t, _ in gold}
    p = {frozenset((h, t)) for h, t, _ in pred}
    assert (r.micro.tp, r.micro.fp, r.micro.fn) == (len(g & p), len(p - g), len(g - p))
    r = evaluate([Example(doc(pred), doc(gold))], "concept", directed=True, n_resamples=0)
    g, p = set(gold), set(pred)
    assert (r.micro.tp, r.micro.fp, r.micro.fn) == (len(g & p), len(p - g), len(g - p))
