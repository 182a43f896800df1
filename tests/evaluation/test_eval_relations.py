"""Relation extraction known answers, computed by hand (arithmetic in the comments)."""

from __future__ import annotations

import pytest

from biorel.errors import BiorelError, Diagnostics
from biorel.evaluation import evaluate
from biorel.types import Document, Entity, Example, Mention, Passage, Relation


def rel_doc(rels, doc_id="d", entities=(), mentions=()) -> Document:
    return Document(
        doc_id,
        [Passage(0, "x" * 80)],
        list(mentions),
        list(entities),
        [Relation(f"r{i}", ty, h, t, **kw) for i, (h, t, ty, *rest) in enumerate(rels) for kw in [rest[0] if rest else {}]],
    )


def per_type(r):
    return {t: (c.tp, c.fp, c.fn) for t, c in r.per_type.items()}


# ---- concept level -----------------------------------------------------------------

GOLD = [("A", "B", "Assoc"), ("C", "D", "Bind"), ("E", "F", "Assoc")]
PRED = [("B", "A", "Assoc"), ("C", "D", "Assoc"), ("G", "H", "Bind"), ("E", "F", "Assoc"), ("E", "F", "Assoc")]


def concept(**kw):
    return evaluate([Example(rel_doc(PRED), rel_doc(GOLD))], "concept", n_resamples=0, **kw)


def test_concept_undirected_typed():
    r = concept()
    # Assoc: AB (reversed) and EF match; CD/Assoc is spurious.  Bind: GH spurious, CD missed.
    assert per_type(r) == {"Assoc": (2, 1, 0), "Bind": (0, 1, 1)}
    assert r.micro.precision == pytest.approx(2 / 4) and r.micro.recall == pytest.approx(2 / 3)
    assert r.micro.f1 == pytest.approx(4 / 7)
    # Assoc P=2/3 R=1 F=0.8; Bind 0 -> macro P=1/3, R=1/2, F=0.4
    assert (r.macro.precision, r.macro.recall, r.macro.f1) == pytest.approx((1 / 3, 1 / 2, 0.4))
    assert "duplicate predictions, counted once: 1" in r.notes
    labels = r.confusion.labels
    cells = {(labels[i], labels[j]): int(v) for (i, j), v in __import__("numpy").ndenumerate(r.confusion.matrix) if v}
    assert cells == {("Assoc", "Assoc"): 2, ("Bind", "Assoc"): 1, ("(none)", "Bind"): 1}


def test_concept_directed():
    r = concept(directed=True)
    # BA no longer matches AB: Assoc TP EF; FP BA, CD; FN AB.  Bind as before.
    assert per_type(r) == {"Assoc": (1, 2, 1), "Bind": (0, 1, 1)}
    assert r.micro.f1 == pytest.approx(2 / (2 + 3 + 2))


def test_concept_untyped():
    r = concept(typed=False)
    # pairs: gold {AB, CD, EF}; pred {AB, CD, GH, EF}
    assert per_type(r) == {"*": (3, 1, 0)}
    assert (r.micro.precision, r.micro.recall, r.micro.f1) == pytest.approx((3 / 4, 1.0, 6 / 7))


def test_concept_empty_sides():
    r = evaluate([Example(rel_doc([]), rel_doc(GOLD))], "concept", n_resamples=0)
    assert (r.micro.tp, r.micro.fp, r.micro.fn, r.micro.f1) == (0, 0, 3, 0.0)
    r = evaluate([Example(rel_doc(PRED), rel_doc([]))], "concept", n_resamples=0)
    assert (r.micro.tp, r.micro.fp, r.micro.fn, r.micro.precision) == (0, 4, 0, 0.0)


# ---- BC5CDR CID ------------------------------------------------------------------------

CID_GOLD = [("C1", "D1", "CID"), ("C2", "D2", "CID")]
CID_PRED = [
    ("MESH:C1", "D1", "CID"),  # TP: the MESH: prefix is not part of the id
    ("-1", "D2", "CID"),  # never in gold
    ("C2|C3", "D2", "CID"),  # composite id
    ("D1", "C1", "CID"),  # wrong argument order
    ("C2", "D2", "Other"),  # not a CID relation: not read
]


def cid(**kw):
    return evaluate([Example(rel_doc(CID_PRED), rel_doc(CID_GOLD))], "cid", n_resamples=0, **kw)


def test_cid_official():
    r = cid()
    # TP C1-D1; FP -1/D2, "C2|C3"/D2 (verbatim), D1/C1; FN C2-D2
    assert per_type(r) == {"CID": (1, 3, 1)}
    assert (r.micro.precision, r.micro.recall, r.micro.f1) == pytest.approx((1 / 4, 1 / 2, 1 / 3))
    assert r.settings["composite"] == "verbatim" and r.settings["null"] == "keep" and r.settings["directed"] is True
    assert "predicted relations of types not scored: 1" in r.notes


def test_cid_split_composite_and_drop_null():
    r = cid(composite="split")
    # C2|C3 -> C2/D2 (TP) + C3/D2 (FP); -1/D2 and D1/C1 stay FP
    assert per_type(r) == {"CID": (2, 3, 0)}
    r = cid(composite="split", null="drop")
    assert per_type(r) == {"CID": (2, 2, 0)}
    assert (r.micro.precision, r.micro.recall, r.micro.f1) == pytest.approx((1 / 2, 1.0, 2 / 3))
    with pytest.raises(BiorelError) as e:
        cid(composite="merge")
    assert e.value.code == "E201"


# ---- mention level ----------------------------------------------------------------------

MENTIONS = [
    Mention("M1", ((0, 7),), "aspirin", "Chemical"),
    Mention("M2", ((28, 41),), "renal failure", "Disease"),
    Mention("M3", ((12, 21),), "ibuprofen", "Chemical"),
]


def test_mention_level():
    ml = {"level": "mention"}
    gold = rel_doc([("M1", "M2", "CID", ml), ("M3", "M2", "CID", ml)], mentions=MENTIONS)
    pm = [
        Mention("x1", ((0, 7),), "aspirin", "Chemical"),
        Mention("x2", ((28, 41),), "renal failure", "Disease"),
        Mention("x3", ((28, 33),), "renal", "Disease"),
    ]
    pred = rel_doc([("x1", "x2", "CID", ml), ("x1", "x3", "CID", ml)], mentions=pm)
    r = evaluate([Example(pred, gold)], "mention", n_resamples=0)
    # x1-x2 has M1-M2's spans: TP; x1-x3 has a different tail span: FP; M3-M2 missed: FN
    assert per_type(r) == {"CID": (1, 1, 1)}


def test_mention_level_errors_are_coded_and_lenient_mode_reports():
    bad = rel_doc([("M1", "nope", "CID", {"level": "mention"})], mentions=MENTIONS)
    with pytest.raises(BiorelError) as e:
        evaluate([Example(bad, bad)], "mention")
    assert e.value.code == "E202" and "nope" in str(e.value)
    diags = Diagnostics()
    r = evaluate([Example(bad, bad)], "mention", diagnostics=diags, n_resamples=0)
    # gold and predicted copies: reported, and counted (never dropped): the gold one missed, the predicted one false
    assert diags.counts() == {"E202": 2} and (r.micro.tp, r.micro.fp, r.micro.fn) == (0, 1, 1)
    assert [p.action for p in diags] == ["counted as a false negative", "counted as a false positive"]
    entity_level = rel_doc([("M1", "M2", "CID")], mentions=MENTIONS)
    with pytest.raises(BiorelError) as e:
        evaluate([Example(entity_level, entity_level)], "mention")
    assert e.value.code == "E210"


# ---- end to end ---------------------------------------------------------------------------


def e2e_gold() -> Document:
    ms = [
        Mention("T0", ((0, 7),), "Aspirin", "Chemical", ("D1",)),
        Mention("T1", ((10, 17),), "aspirin", "Chemical", ("D1",)),
        Mention("T2", ((20, 45),), "renal and hepatic failure", "Disease", ("D2", "D3"), ("renal failure", "hepatic failure")),
        Mention("T3", ((50, 58),), "headache", "Disease", ("D4",)),
    ]
    d = rel_doc([("D1", "D2", "CID"), ("D1", "D3", "CID"), ("D1", "D4", "CID")], mentions=ms)
    d.entities = d.entities_from_mentions()
    return d


def e2e_pred() -> Document:
    ents = [
        Entity("a", "Chemical", name="ASPIRIN"),
        Entity("h", "Disease", name="Hepatic Failure"),
        Entity("c", "Disease", name="renal and hepatic failure "),
        Entity("x", "Disease", name="headache"),
    ]
    return rel_doc([("a", "h", "CID"), ("a", "c", "CID"), ("x", "a", "CID"), ("a", "x", "Other")], entities=ents)


def test_end_to_end_matching():
    r = evaluate([Example(e2e_pred(), e2e_gold())], "e2e", n_resamples=0)
    # a-h matches D1-D3 through the composite's component "hepatic failure" (case-insensitive);
    # a-c (the composite's text) matches D1-D2 or D1-D3: the maximum matching pairs it with D1-D2;
    # x-a matches D1-D4 undirected; a-x is typed "Other": FP.
    assert per_type(r) == {"CID": (3, 0, 0), "Other": (0, 1, 0)}
    assert r.micro.f1 == pytest.approx(6 / 7)


def test_end_to_end_directed_and_untyped():
    r = evaluate([Example(e2e_pred(), e2e_gold())], "e2e", directed=True, n_resamples=0)
    # x-a is reversed: FP, and D1-D4 is missed
    assert per_type(r) == {"CID": (2, 1, 1), "Other": (0, 1, 0)}
    r = evaluate([Example(e2e_pred(), e2e_gold())], "e2e", typed=False, n_resamples=0)
    # untyped undirected: x-a and a-x are the same prediction (counted once)
    assert per_type(r) == {"*": (3, 0, 0)}
    assert "duplicate predictions, counted once: 1" in r.notes


def test_end_to_end_gold_vs_itself_and_missing_entity():
    g = e2e_gold()
    assert evaluate([Example(g, g)], "e2e", n_resamples=0).micro.f1 == 1.0
    bad = e2e_pred()
    bad.relations.append(Relation("rx", "CID", "a", "ghost"))
    with pytest.raises(BiorelError) as e:
        evaluate([Example(bad, e2e_gold())], "e2e")
    assert e.value.code == "E202" and "ghost" in str(e.value)
    # lenient: the unscorable prediction is a false positive, not dropped
    diags = Diagnostics()
    strict_like = evaluate([Example(e2e_pred(), e2e_gold())], "e2e", n_resamples=0)
    r = evaluate([Example(bad, e2e_gold())], "e2e", diagnostics=diags, n_resamples=0)
    assert diags.counts() == {"E202": 1}
    assert (r.micro.tp, r.micro.fp, r.micro.fn) == (strict_like.micro.tp, strict_like.micro.fp + 1, strict_like.micro.fn)


# ---- sentence level -----------------------------------------------------------------------


def sent(doc_id, label, score=None):
    return Document(doc_id, [Passage(0, "s")], relations=[Relation("R1", label, "E1", "E2", score=score)])


def test_sentence_binary_gad_like():
    gold = ["1", "0", "1", "0"]
    pred = ["1", "1", "0", "0"]
    ex = [Example(sent(str(i), p), sent(str(i), g)) for i, (g, p) in enumerate(zip(gold, pred))]
    r = evaluate(ex, "sentence", n_resamples=0)
    # class 1: TP inst 0, FP inst 1, FN inst 2; inst 3 is a true negative (not counted)
    assert per_type(r) == {"1": (1, 1, 1)} and r.micro.f1 == pytest.approx(0.5)


def test_sentence_multiclass_matches_sklearn():
    from sklearn.metrics import precision_recall_fscore_support

    gold = ["INHIBITOR", "AGONIST", "INHIBITOR", "SUBSTRATE"]
    pred = ["INHIBITOR", "INHIBITOR", "INHIBITOR", "SUBSTRATE"]
    ex = [Example(sent(str(i), p), sent(str(i), g)) for i, (g, p) in enumerate(zip(gold, pred))]
    r = evaluate(ex, "sentence", n_resamples=0)
    # micro = accuracy 3/4; INHIBITOR P=2/3 R=1 F=0.8, AGONIST 0, SUBSTRATE 1 -> macro F1 0.6
    assert (r.micro.precision, r.micro.recall, r.micro.f1) == pytest.approx((0.75, 0.75, 0.75))
    assert (r.macro.precision, r.macro.recall, r.macro.f1) == pytest.approx((5 / 9, 2 / 3, 0.6))
    for avg, fig in (("micro", r.micro), ("macro", r.macro)):
        p, rc, f, _ = precision_recall_fscore_support(gold, pred, average=avg, zero_division=0)
        assert (fig.precision, fig.recall, fig.f1) == pytest.approx((p, rc, f))


def test_concept_novelty_setting():
    gold = rel_doc([("A", "B", "Assoc", {"infons": {"novel": "Novel"}}), ("C", "D", "Bind", {"infons": {"novel": "No"}})])
    pred = rel_doc([("A", "B", "Assoc", {"infons": {"novel": "No"}}), ("C", "D", "Bind", {"infons": {"novel": "No"}})])
    assert evaluate([Example(pred, gold)], "concept", n_resamples=0).micro.tp == 2
    r = evaluate([Example(pred, gold)], "concept", novelty=True, n_resamples=0)
    # the novelty label of A-B differs: FP of "Assoc|No", FN of "Assoc|Novel"
    assert per_type(r) == {"Assoc|No": (0, 1, 0), "Assoc|Novel": (0, 0, 1), "Bind|No": (1, 0, 0)}
