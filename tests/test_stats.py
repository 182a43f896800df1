from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel.stats import corpus_stats, document_concepts, entropy, relation_locality
from biorel.sentences import sentence_spans
from biorel.types import Document, Entity, Mention, Passage, Relation


def _doc(doc_id: str, title: str, abstract: str, marks: list[tuple[str, str, str, tuple[str, ...]]], relations=()) -> Document:
    """Build a document; ``marks`` are (mention id, surface text, type, concept ids),
    located at the first occurrence of the text after the previous mark."""
    text = title + " " + abstract
    d = Document(doc_id, passages=[Passage(0, title, "title"), Passage(len(title) + 1, abstract, "abstract")])
    pos = 0
    for mid, surface, typ, ids in marks:
        s = text.index(surface, pos)
        d.mentions.append(Mention(mid, ((s, s + len(surface)),), surface, typ, ids))
        pos = s + 1
    d.entities = d.entities_from_mentions()
    d.relations = list(relations)
    return d


def hand_corpus() -> list[Document]:
    # Doc A: relation within the title; a composite mention (2 concepts); a -1 mention.
    a = _doc(
        "A",
        "Drug X causes liver and kidney damage.",
        "Patients took drug X daily. Some developed rash. An unknown agent was also used.",
        [
            ("m1", "Drug X", "Chemical", ("C1",)),
            ("m2", "liver and kidney damage", "Disease", ("D1", "D2")),
            ("m3", "drug X", "Chemical", ("C1",)),
            ("m4", "rash", "Disease", ("D3",)),
            ("m5", "unknown agent", "Chemical", ("-1",)),
        ],
        [
            Relation("r1", "CID", "C1", "D1"),  # title holds m1 and m2: within
            Relation("r2", "CID", "C1", "D3"),  # m3 (sentence 2) vs m4 (sentence 3): cross
        ],
    )
    # Doc B: one mention-level relation within a sentence, one entity-level cross-sentence one.
    b = _doc(
        "B",
        "Drug Y study",
        "Drug Y was given. Rash followed in two cases. Drug Z was safe with drug Y.",
        [
            ("n1", "Drug Y", "Chemical", ("C2",)),
            ("n2", "Drug Y", "Chemical", ("C2",)),
            ("n3", "Rash", "Disease", ("D3",)),
            ("n4", "Drug Z", "Chemical", ("C3",)),
            ("n5", "drug Y", "Chemical", ("C2",)),
        ],
        [
            Relation("s1", "CID", "C2", "D3"),  # C2 in title/s1/s3, D3 only in s2: cross
            Relation("s2", "DDI", "n4", "n5", level="mention"),  # same sentence: within
            Relation("s3", "DDI", "C3", "C2"),  # within (sentence 3)
        ],
    )
    # Doc C: text-less (LOTUS-like): entities without mentions; relation ungrounded.
    c = Document(
        "C",
        entities=[Entity("O1", "Organism"), Entity("C1", "Chemical")],
        relations=[Relation("t1", "produces", "O1", "C1")],
    )
    return [a, b, c]


def test_every_stat_on_a_hand_built_corpus():
    st_ = corpus_stats(hand_corpus())
    assert st_.documents == 3
    assert st_.passages == 4
    # A: title 1 + abstract 3; B: title 1 + abstract 3; C has no text
    assert st_.sentences == 8
    # A: Chemical m1 m3 m5, Disease m2 m4; B: Chemical n1 n2 n4 n5, Disease n3
    assert dict(st_.mentions) == {"Chemical": 7, "Disease": 3}
    # Chemical: C1 (A, C), C2, C3; -1 is not a concept. Disease: D1, D2 (composite), D3. Organism: O1.
    assert st_.concepts == {"Chemical": 3, "Disease": 3, "Organism": 1}
    assert dict(st_.relations) == {"CID": 3, "DDI": 2, "produces": 1}
    assert (st_.cross_sentence, st_.within_sentence, st_.ungrounded_relations) == (2, 3, 1)
    assert st_.cross_sentence_share == pytest.approx(2 / 5)
    # document frequencies: Chemical C1:2 (A, C), C2:1, C3:1 -> p = .5, .25, .25
    h_chem = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    # Disease D1:1, D2:1, D3:2 (A, B) -> same shape
    assert st_.entropy["Chemical"] == pytest.approx(h_chem)
    assert st_.entropy["Disease"] == pytest.approx(h_chem)
    assert st_.entropy["Organism"] == 0.0
    d = json.loads(json.dumps(st_.to_dict()))
    assert d["mentions"] == {"total": 10, "by_type": {"Chemical": 7, "Disease": 3}}
    assert d["cross_sentence"] == {"cross": 2, "within": 3, "ungrounded": 1, "share": pytest.approx(0.4)}


def test_relation_locality_per_relation():
    a, b, _ = hand_corpus()
    got = {r.id: relation_locality(d, r, sentence_spans(d)) for d in (a, b) for r in d.relations}
    assert got == {"r1": "within", "r2": "cross", "s1": "cross", "s2": "within", "s3": "within"}


def test_document_concepts_rules():
    a, _, c = hand_corpus()
    assert document_concepts(a) == {("Chemical", "C1"), ("Disease", "D1"), ("Disease", "D2"), ("Disease", "D3")}
    assert document_concepts(c) == {("Organism", "O1"), ("Chemical", "C1")}
    # an entity grounded in mentions that carry no concept id (brat-style) is not a concept
    d = Document(
        "x", passages=[Passage(0, "aspirin")], mentions=[Mention("T1", ((0, 7),), "aspirin", "DRUG")], entities=[Entity("T1", "DRUG", ("T1",))]
    )
    assert document_concepts(d) == set()


def test_textless_corpus_has_no_share_and_no_sentences():
    st_ = corpus_stats([hand_corpus()[2]])
    assert st_.sentences is None
    assert st_.cross_sentence_share is None
    assert st_.to_dict()["cross_sentence"]["share"] is None


def test_empty_corpus():
    st_ = corpus_stats([])
    assert st_.documents == 0 and st_.entropy == {} and st_.cross_sentence_share is None


def test_entropy_known_values():
    assert entropy([]) is None
    assert entropy([5]) == 0.0
    assert entropy([1, 1]) == pytest.approx(math.log(2))
    assert entropy([2, 1, 1]) == pytest.approx(1.5 * math.log(2))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=30), st.randoms())
def test_entropy_bounds_and_symmetry(counts, rnd):
    h = entropy(counts)
    assert -1e-12 <= h <= math.log(len(counts)) + 1e-9
    shuffled = list(counts)
    rnd.shuffle(shuffled)
    assert entropy(shuffled) == pytest.approx(h)
    # scaling all counts leaves the distribution, hence the entropy, unchanged
    assert entropy([3 * c for c in counts]) == pytest.approx(h)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=40))
def test_uniform_entropy_is_log_k(k):
    assert entropy([7] * k) == pytest.approx(math.log(k))
