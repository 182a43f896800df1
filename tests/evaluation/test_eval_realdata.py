"""Real corpora: gold against itself is exactly 1.0, and documented perturbations
of the BC5CDR test set give the P/R/F1 their bookkeeping predicts.

Perturbation of the CID relations (``cid_perturbation``): number the test set's
1066 CID relations in file order (documents, then relation lines) from 0; drop
those whose number is 2 mod 3 (every third: 355 relations); then add 100 false
pairs: walking the documents in order, the first (chemical, disease) entity pair
of each document that is not a gold CID relation, until there are 100. Expected:
TP = 711, FP = 100, FN = 355.

Perturbation of the mentions (``ner_perturbation``): number the 9809 mentions in
file order from 0; i mod 4 == 3 -> dropped; else i mod 10 == 0 -> end shortened
by one character (mentions of length 1 are kept as they are); else i mod 10 == 5
-> type swapped (Chemical <-> Disease); the rest kept exactly; plus 50 false
Chemical mentions, one per document in file order, on the first word of the
abstract that overlaps no gold mention. Expected counts per mode follow from
these tallies (see the test).
"""

from __future__ import annotations

import copy
import itertools

import pytest

from biorel import io
from biorel.evaluation import evaluate
from biorel.types import Document, Mention, Relation, pair_examples

pytestmark = pytest.mark.realdata

BC5CDR_TEST = "bc5cdr/CDR_TestSet.PubTator.txt"
BIORED_TEST = "biored/Test.PubTator"
NCBI_TEST = "ncbi_disease/NCBItestset_corpus.txt"


def _need_pubtator():
    if "pubtator" not in io.format_names():
        pytest.skip("biorel.io.pubtator not available")


@pytest.fixture(scope="module")
def bc5cdr(mirror) -> list[Document]:
    _need_pubtator()
    return io.load(mirror / BC5CDR_TEST, "pubtator")


@pytest.mark.parametrize(
    "path,protocols",
    [
        (BC5CDR_TEST, [("ner", {}), ("ner", {"match": "overlap"}), ("ner", {"match": "type-agnostic"}), ("cid", {}), ("concept", {}), ("e2e", {})]),
        (
            BIORED_TEST,
            [
                ("ner", {}),
                ("ner", {"match": "overlap"}),
                ("ner", {"match": "type-agnostic"}),
                ("concept", {}),
                ("concept", {"typed": False}),
                ("concept", {"novelty": True}),
                ("e2e", {}),
            ],
        ),
        (NCBI_TEST, [("ner", {}), ("ner", {"match": "overlap"}), ("ner", {"match": "type-agnostic"})]),
    ],
)
def test_gold_against_itself_is_exactly_one(mirror, path, protocols):
    _need_pubtator()
    docs = io.load(mirror / path, "pubtator")
    examples = pair_examples(docs, docs)
    for proto, opts in protocols:
        r = evaluate(examples, proto, n_resamples=100, **opts)
        assert r.micro.fp == 0 and r.micro.fn == 0 and r.micro.tp > 0, (path, proto, opts)
        assert r.micro.f1 == 1.0 and r.macro.f1 == 1.0 and r.primary == 1.0
        assert all(c.f1 == 1.0 for c in r.per_type.values())
        assert (r.intervals["micro_f1"].low, r.intervals["micro_f1"].high) == (1.0, 1.0)


def test_known_gold_sizes(mirror, bc5cdr):
    examples = pair_examples(bc5cdr, bc5cdr)
    cid = evaluate(examples, "cid", n_resamples=0)
    assert cid.micro.tp == 1066 and cid.n_documents == 500
    ner = evaluate(examples, "ner", n_resamples=0)
    assert {t: c.tp for t, c in ner.per_type.items()} == {"Chemical": 5385, "Disease": 4424}
    ncbi = io.load(mirror / NCBI_TEST, "pubtator")
    assert evaluate(pair_examples(ncbi, ncbi), "ner", n_resamples=0).micro.tp == 960


def cid_perturbation(gold: list[Document]) -> tuple[list[Document], int, int]:
    pred = copy.deepcopy(gold)
    numbers = itertools.count()
    dropped = 0
    for d in pred:
        kept = []
        for r in d.relations:
            if next(numbers) % 3 == 2:
                dropped += 1
            else:
                kept.append(r)
        d.relations = kept
    added = 0
    for d, g in zip(pred, gold):
        if added == 100:
            break
        truth = {(r.head, r.tail) for r in g.relations}
        chems = [e.id for e in g.entities if e.type == "Chemical"]
        dis = [e.id for e in g.entities if e.type == "Disease"]
        pair = next(((c, x) for c in chems for x in dis if (c, x) not in truth), None)
        if pair is not None:
            d.relations.append(Relation("FALSE", "CID", pair[0], pair[1], directed=True))
            added += 1
    return pred, dropped, added


def test_cid_perturbation(bc5cdr):
    pred, dropped, added = cid_perturbation(bc5cdr)
    assert (dropped, added) == (355, 100)
    r = evaluate(pair_examples(pred, bc5cdr), "cid", n_resamples=1000, seed=0)
    assert (r.micro.tp, r.micro.fp, r.micro.fn) == (711, 100, 355)
    assert r.micro.precision == pytest.approx(711 / 811, abs=1e-12)
    assert r.micro.recall == pytest.approx(711 / 1066, abs=1e-12)
    assert r.micro.f1 == pytest.approx(2 * 711 / (2 * 711 + 100 + 355), abs=1e-12)
    iv = r.intervals["micro_f1"]
    assert iv.low < r.micro.f1 < iv.high
    # the same pairs scored by the generic concept-level evaluator, directed
    c = evaluate(pair_examples(pred, bc5cdr), "concept", directed=True, n_resamples=0)
    assert (c.micro.tp, c.micro.fp, c.micro.fn) == (711, 100, 355)


def ner_perturbation(gold: list[Document]) -> tuple[list[Document], dict[str, int]]:
    tally = dict(dropped=0, shortened=0, retyped=0, exact=0, false=0)
    numbers = itertools.count()
    pred = copy.deepcopy(gold)
    swap = {"Chemical": "Disease", "Disease": "Chemical"}
    for d, g in zip(pred, gold):
        out = []
        for m in d.mentions:
            i = next(numbers)
            ((s, e),) = m.spans
            if i % 4 == 3:
                tally["dropped"] += 1
                continue
            if i % 10 == 0 and e - s > 1:
                m.spans, m.text = ((s, e - 1),), m.text[:-1]
                tally["shortened"] += 1
            elif i % 10 == 5:
                m.type = swap[m.type]
                tally["retyped"] += 1
            else:
                tally["exact"] += 1
            out.append(m)
        if tally["false"] < 50:
            spot = _free_word(g)
            if spot is not None:
                out.append(Mention("FALSE", (spot,), g.text[spot[0] : spot[1]], "Chemical"))
                tally["false"] += 1
        d.mentions = out
    return pred, tally


def _free_word(doc: Document) -> tuple[int, int] | None:
    abstract = next(p for p in doc.passages if p.type == "abstract")
    pos = abstract.offset
    for word in abstract.text.split(" "):
        s, e = pos, pos + len(word)
        pos = e + 1
        if word and not any(m.start < e and s < m.end for m in doc.mentions):
            return (s, e)
    return None


def test_ner_perturbation(bc5cdr):
    # assumptions the expected counts rest on, checked rather than hoped for
    for d in bc5cdr:
        spans = [m.spans for m in d.mentions]
        assert len(spans) == len(set(spans))  # no two gold mentions share spans
        for a, b in itertools.combinations(d.mentions, 2):
            assert a.type == b.type or not (a.start < b.end and b.start < a.end)  # no cross-type overlap
    pred, t = ner_perturbation(bc5cdr)
    assert t["dropped"] + t["shortened"] + t["retyped"] + t["exact"] == 9809 and t["false"] == 50
    gold_spans = {(d.id, m.spans) for d in bc5cdr for m in d.mentions}
    short = [(d.id, m.spans) for d in pred for m in d.mentions if m.id != "FALSE" and (d.id, m.spans) not in gold_spans]
    assert len(short) == t["shortened"]  # a shortened span never lands on another gold mention
    ex = pair_examples(pred, bc5cdr)
    expected = {  # from the tallies
        "strict": (t["exact"], t["shortened"] + t["retyped"] + 50, t["dropped"] + t["shortened"] + t["retyped"]),
        "overlap": (t["exact"] + t["shortened"], t["retyped"] + 50, t["dropped"] + t["retyped"]),
        "type-agnostic": (t["exact"] + t["retyped"], t["shortened"] + 50, t["dropped"] + t["shortened"]),
    }
    assert expected == {"strict": (5888, 1519, 3921), "overlap": (6866, 541, 2943), "type-agnostic": (6379, 1028, 3430)}
    for mode, (tp, fp, fn) in expected.items():
        r = evaluate(ex, "ner", match=mode, n_resamples=0)
        assert (r.micro.tp, r.micro.fp, r.micro.fn) == (tp, fp, fn), mode
        assert r.micro.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-12)
    # the tallies (i runs over 0..9808): i%4==3 -> 2452; i%10==0 -> 981, 3 of length 1;
    # i%10==5 and i%4!=3 -> 491 (every other one); exact = 9809 - 2452 - 978 - 491
    assert t == {"dropped": 2452, "shortened": 978, "retyped": 491, "exact": 5888, "false": 50}


def test_facts_the_documented_rules_rest_on(mirror):
    _need_pubtator()
    # CID: no gold relation argument is -1 or a composite id (docs/evaluation.md)
    n = 0
    for split in ("Training", "Development", "Test"):
        for d in io.read(mirror / f"bc5cdr/CDR_{split}Set.PubTator.txt", "pubtator"):
            for r in d.relations:
                n += 1
                assert "|" not in r.head + r.tail and "-1" not in (r.head, r.tail)
    assert n == 1038 + 1012 + 1066
    # end to end: gold relations whose arguments have the same strings count once
    for path, collapsed in ((BC5CDR_TEST, 1), (BIORED_TEST, 97)):
        docs = io.load(mirror / path, "pubtator")
        r = evaluate(pair_examples(docs, docs), "e2e", n_resamples=0)
        assert f"gold items the protocol cannot tell apart, counted once: {collapsed}" in r.notes
