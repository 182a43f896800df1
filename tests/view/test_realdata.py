"""On real BC5CDR documents with perturbed predictions, the view's counts equal the scorer's for every protocol."""

from __future__ import annotations

import copy
import random

import pytest

from biorel import io
from biorel.evaluation import evaluate
from biorel.types import Mention, Relation, pair_examples
from biorel.view import build_view

pytestmark = pytest.mark.realdata


def perturb(docs, seed=0):
    rng = random.Random(seed)
    out = []
    for doc in docs:
        d = copy.deepcopy(doc)
        kept = []
        for m in d.mentions:
            r = rng.random()
            if r < 0.15:
                continue  # missed
            if r < 0.3:  # boundary error
                (s, e), *rest = m.spans
                m = Mention(m.id, ((s, max(s + 1, e - 2)), *rest), m.text, m.type, m.concept_ids, m.components)
            elif r < 0.35:
                m = Mention(m.id, m.spans, m.text, "Chemical" if m.type == "Disease" else "Disease", m.concept_ids)
            kept.append(m)
        d.mentions = kept
        ids = {m.id for m in kept}
        for e in d.entities:
            e.mention_ids = tuple(i for i in e.mention_ids if i in ids)
        d.relations = [r for r in d.relations if rng.random() > 0.3]
        ents = [e.id for e in d.entities]
        if len(ents) >= 2:
            d.relations.append(Relation("extra", "CID", ents[0], ents[-1], directed=True, score=0.3))
            d.relations.append(Relation("dup", "CID", ents[0], ents[-1], directed=True, score=0.6))
        out.append(d)
    return out


@pytest.fixture(scope="module")
def pair(mirror):
    gold = io.load(mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt", unmentioned="entity")[:60]
    return perturb(gold), gold


@pytest.mark.parametrize("protocol", ["e2e", "concept", "cid"])
@pytest.mark.parametrize("match", ["strict", "overlap"])
def test_counts_equal_scorer(pair, protocol, match):
    pred, gold = pair
    data = build_view(pred, gold, protocol, ner_match=match).to_dict()
    ner = evaluate(pair_examples(pred, gold), "ner", match=match, n_resamples=0)
    rel = evaluate(pair_examples(pred, gold), protocol, n_resamples=0)
    assert data["scoring"]["mentions"]["total"] == [ner.micro.tp, ner.micro.fp, ner.micro.fn]
    assert data["scoring"]["relations"]["total"] == [rel.micro.tp, rel.micro.fp, rel.micro.fn]
    for t, c in ner.per_type.items():
        assert data["scoring"]["mentions"]["per_type"][t] == [c.tp, c.fp, c.fn]
    # per document as well, and the statuses add up to them (duplicates share a status)
    for n, doc in enumerate(data["documents"]):
        mine = doc["counts"]["relations"]
        assert mine == [int(x) for x in rel.counts[n].sum(axis=0)]
        st = [r.get("status") for r in doc["relations"]]
        assert st.count("fn") == mine[2]
