"""NER known answers, computed by hand (the arithmetic is in the comments).

Text:  "aspirin and ibuprofen cause renal failure and liver damage"
        0      7    12       21 22  27 28         41  45 46       58
"""

from __future__ import annotations

import pytest

from biorel.errors import BiorelError
from biorel.evaluation import evaluate, make_evaluator
from biorel.types import Document, Example, Mention, Passage

TEXT = "aspirin and ibuprofen cause renal failure and liver damage"


def doc(mentions, doc_id="d1", text=TEXT) -> Document:
    return Document(
        doc_id,
        [Passage(0, text)],
        [Mention(f"m{i}", spans if isinstance(spans[0], tuple) else (spans,), "", ty) for i, (spans, ty) in enumerate(mentions)],
    )


GOLD = [((0, 7), "Chemical"), ((12, 21), "Chemical"), ((28, 41), "Disease"), ((46, 58), "Disease")]
PRED = [
    ((0, 7), "Chemical"),  # exact
    ((12, 21), "Disease"),  # right span, wrong type
    ((28, 33), "Disease"),  # "renal": overlaps "renal failure"
    ((46, 58), "Disease"),  # exact ...
    ((46, 58), "Disease"),  # ... predicted twice: counts once
    ((22, 27), "Chemical"),  # "cause": spurious
]


def run(mode, gold=GOLD, pred=PRED, **kw):
    return evaluate([Example(doc(pred), doc(gold))], "ner", match=mode, n_resamples=0, **kw)


def counts(report):
    return {t: (c.tp, c.fp, c.fn) for t, c in report.per_type.items()}


def test_strict():
    r = run("strict")
    # Chemical: TP aspirin; FP "cause"; FN ibuprofen.  Disease: TP liver damage;
    # FP ibuprofen/Disease and "renal"; FN renal failure.
    assert counts(r) == {"Chemical": (1, 1, 1), "Disease": (1, 2, 1)}
    assert (r.micro.tp, r.micro.fp, r.micro.fn) == (2, 3, 2)
    assert r.micro.precision == pytest.approx(2 / 5)
    assert r.micro.recall == pytest.approx(2 / 4)
    assert r.micro.f1 == pytest.approx(4 / 9)
    # macro: Chemical P=R=F=1/2; Disease P=1/3, R=1/2, F=2/(2+3)=0.4
    assert r.macro.precision == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert r.macro.recall == pytest.approx(1 / 2)
    assert r.macro.f1 == pytest.approx((0.5 + 0.4) / 2)
    assert r.primary == r.micro.f1 and r.primary_metric == "micro_f1"
    assert "duplicate predictions, counted once: 1" in r.notes


def test_overlap():
    r = run("overlap")
    # Chemical: aspirin TP, ibuprofen FN (its prediction is typed Disease), "cause" FP.
    # Disease: renal~renal failure TP, liver damage TP, ibuprofen/Disease FP.
    assert counts(r) == {"Chemical": (1, 1, 1), "Disease": (2, 1, 0)}
    assert r.micro.precision == pytest.approx(3 / 5)
    assert r.micro.recall == pytest.approx(3 / 4)
    assert r.micro.f1 == pytest.approx(6 / 9)
    assert r.macro.precision == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert r.macro.recall == pytest.approx((1 / 2 + 1) / 2)
    assert r.macro.f1 == pytest.approx((1 / 2 + 4 / 5) / 2)


def test_type_agnostic():
    r = run("type-agnostic")
    # spans: gold {0-7, 12-21, 28-41, 46-58}; pred {0-7, 12-21, 28-33, 46-58, 22-27}
    assert counts(r) == {"*": (3, 2, 1)}
    assert r.micro.f1 == pytest.approx(6 / 9)
    assert r.macro.f1 == pytest.approx(r.micro.f1)
    assert r.confusion is None


def test_confusion_of_types_strict():
    r = run("strict")
    c = r.confusion
    assert c.labels == ("Chemical", "Disease", "(none)")
    m = {(c.labels[i], c.labels[j]): int(c.matrix[i, j]) for i in range(3) for j in range(3) if c.matrix[i, j]}
    # diagonal: aspirin, liver damage; ibuprofen Chemical->Disease; renal failure missed;
    # "renal" and "cause" spurious
    assert m == {
        ("Chemical", "Chemical"): 1,
        ("Disease", "Disease"): 1,
        ("Chemical", "Disease"): 1,
        ("Disease", "(none)"): 1,
        ("(none)", "Disease"): 1,
        ("(none)", "Chemical"): 1,
    }


def test_overlap_is_one_to_one_and_maximum():
    # one long prediction over two gold mentions: one TP, one FN
    r = run("overlap", gold=[((0, 7), "Chemical"), ((12, 21), "Chemical")], pred=[((0, 21), "Chemical")])
    assert counts(r) == {"Chemical": (1, 0, 1)}
    # gold A=0-5, B=4-10; X=3-6 overlaps both, Y=0-2 only A. Greedy X->A would leave Y
    # unmatched; the maximum matching X->B, Y->A gives 2 TP.
    r = run("overlap", gold=[((0, 5), "Chemical"), ((4, 10), "Chemical")], pred=[((3, 6), "Chemical"), ((0, 2), "Chemical")])
    assert counts(r) == {"Chemical": (2, 0, 0)}


def test_discontinuous_mentions():
    gold = [(((0, 5), (28, 41)), "Disease")]
    assert counts(run("strict", gold=gold, pred=[((0, 5), "Disease")])) == {"Disease": (0, 1, 1)}
    assert counts(run("overlap", gold=gold, pred=[((30, 35), "Disease")])) == {"Disease": (1, 0, 0)}
    # the order in which spans are listed does not matter
    assert counts(run("strict", gold=gold, pred=[(((28, 41), (0, 5)), "Disease")])) == {"Disease": (1, 0, 0)}


@pytest.mark.parametrize("mode", ["strict", "overlap", "type-agnostic"])
def test_empty_gold_empty_prediction(mode):
    r = run(mode, gold=[], pred=PRED)
    assert (r.micro.tp, r.micro.fp, r.micro.fn) == (0, 5, 0)  # 5 distinct predictions
    assert (r.micro.precision, r.micro.recall, r.micro.f1) == (0.0, 0.0, 0.0)
    r = run(mode, gold=GOLD, pred=[])
    assert (r.micro.tp, r.micro.fp, r.micro.fn) == (0, 0, 4)
    assert (r.micro.precision, r.micro.recall, r.micro.f1) == (0.0, 0.0, 0.0)
    r = run(mode, gold=[], pred=[])
    assert r.types == [] and (r.micro.f1, r.macro.f1, r.macro.n_types) == (0.0, 0.0, 0)


def test_micro_vs_macro_over_documents():
    # doc 1: 9 Chemical golds, all found.  doc 2: 1 Disease gold, missed, 1 FP Disease.
    chem = [((i * 3, i * 3 + 2), "Chemical") for i in range(9)]
    text = "x" * 40
    ex = [
        Example(doc(chem, "1", text), doc(chem, "1", text)),
        Example(doc([((30, 33), "Disease")], "2", text), doc([((35, 38), "Disease")], "2", text)),
    ]
    r = evaluate(ex, "ner", n_resamples=0)
    # micro: TP 9, FP 1, FN 1 -> P = R = F = 0.9;  macro: (1 + 0) / 2 = 0.5
    assert r.micro.f1 == pytest.approx(0.9) and r.macro.f1 == pytest.approx(0.5)
    assert r.document_counts()["2"].fp == 1 and r.n_documents == 2
    assert r.metric("Chemical:f1") == 1.0 and r.metric("Disease:recall") == 0.0


def test_types_filter_and_bad_options():
    r = run("strict", types=["Disease"])
    assert counts(r) == {"Disease": (1, 2, 1)}
    assert any("types not scored" in n for n in r.notes)
    with pytest.raises(BiorelError) as e:
        make_evaluator("ner", match="fuzzy")
    assert e.value.code == "E201"
    with pytest.raises(BiorelError) as e:
        make_evaluator("ner", directed=True)
    assert e.value.code == "E201" and "valid options" in str(e.value)
    with pytest.raises(KeyError) as e:
        make_evaluator("nope")
    assert "E001" in str(e.value)


def test_report_to_dict_is_complete():
    r = evaluate([Example(doc(PRED), doc(GOLD))], "ner", n_resamples=200, seed=3)
    d = r.to_dict()
    assert d["evaluator"] == "biorel.NER.v1" and d["settings"]["match"] == "strict"
    assert d["micro"] == {"tp": 2, "fp": 3, "fn": 2, "precision": 0.4, "recall": 0.5, "f1": pytest.approx(4 / 9)}
    assert d["per_type"]["Disease"]["fp"] == 2
    assert set(d["intervals"]) == {"micro_precision", "micro_recall", "micro_f1", "macro_precision", "macro_recall", "macro_f1"}
    assert d["intervals"]["micro_f1"]["n_resamples"] == 200 and d["intervals"]["micro_f1"]["seed"] == 3
    assert d["documents"] == {"d1": {"tp": 2, "fp": 3, "fn": 2}}
