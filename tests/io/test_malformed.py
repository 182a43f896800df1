"""Malformed PubTator, brat and raw-text inputs: strict reading raises a coded
error naming the file and line; lenient reading reports exactly that problem to
Diagnostics and keeps the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorel.errors import BiorelError, Diagnostics
from biorel.io import brat, pubtator, text

# Document 111: title "Aspirin causes ulcers." (0-22), abstract at 23.
DOC1 = [
    "111|t|Aspirin causes ulcers.",  # line 1
    "111|a|Aspirin is a drug.",  # line 2
    "111\t0\t7\tAspirin\tChemical\tD001241",  # line 3
    "111\t15\t21\tulcers\tDisease\tD014456",  # line 4
    "111\tCID\tD001241\tD014456",  # line 5
]
DOC2 = [
    "222|t|Famotidine-associated delirium.",
    "222\t0\t10\tFamotidine\tChemical\tD015738",
    "222\t22\t30\tdelirium\tDisease\tD003693",
    "222\tCID\tD015738\tD003693",
]


def _file(tmp_path: Path, doc1: list[str], *, name: str = "in.pubtator") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(doc1 + [""] + DOC2) + "\n\n", encoding="utf-8")
    return path


def _replace(line: int, new: str) -> list[str]:
    out = list(DOC1)
    out[line - 1] = new
    return out


def _insert(new: str) -> list[str]:
    """``new`` becomes line 5, after the mentions and before the relation, so
    that skipping it leaves the rest of document 111 intact."""
    return DOC1[:4] + [new] + DOC1[4:]


# (case, lines of the first document, code, line, ids of the documents lenient reading keeps)
CASES = [
    ("offset drift", _replace(4, "111\t16\t22\tulcers\tDisease\tD014456"), "E010", 4, ["111", "222"]),
    ("duplicate document id", DOC1 + [""] + [line.replace("222", "111") for line in DOC2], "E016", 7, ["111", "222"]),
    ("relation to a missing id", _replace(5, "111\tCID\tD001241\tD999999"), "E014", 5, ["111", "222"]),
    ("empty document", ["111|t|", "111|a|  "], "E015", 1, ["222"]),
    ("too few columns", _insert("111\t0\t7"), "E121", 5, ["111", "222"]),
    ("too many columns", _insert("111\t0\t7\tAspirin\tChemical\tD001241\tAspirin\tx"), "E121", 5, ["111", "222"]),
    ("mention without type", _insert("111\t0\t7\tAspirin"), "E121", 5, ["111", "222"]),
    ("non-integer offsets", _insert("111\t0\t7.0\tAspirin\tChemical\tD001241"), "E122", 5, ["111", "222"]),
    ("negative offset", _insert("111\t-1\t7\tAspirin\tChemical\tD001241"), "E122", 5, ["111", "222"]),
    ("non-integer start, 5 columns", _insert("111\t0x\t7\tAspirin\tChemical"), "E122", 5, ["111", "222"]),
    ("mention outside the text", _insert("111\t40\t47\tAspirin\tChemical\tD001241"), "E011", 5, ["111", "222"]),
    ("mention across passages", _insert("111\t15\t25\tulcers. As\tDisease\tD014456"), "E012", 5, ["111", "222"]),
    ("orphan line for an unknown PMID", _insert("999\t0\t7\tAspirin\tChemical\tD001241"), "E123", 5, ["111", "222"]),
    ("annotation before any title", ["111\t0\t7\tAspirin\tChemical\tD001241"] + DOC1, "E123", 1, ["111", "222"]),
    ("not a PubTator line", _insert("111 0 7 Aspirin Chemical D001241"), "E120", 5, ["111", "222"]),
]


@pytest.mark.parametrize("case,lines,code,line,kept", CASES, ids=[c[0] for c in CASES])
def test_pubtator_strict_raises_located_error(tmp_path, case, lines, code, line, kept):
    path = _file(tmp_path, lines)
    with pytest.raises(BiorelError) as e:
        pubtator.load(path)
    err = e.value
    assert err.code == code
    assert (err.where.file, err.where.line) == (str(path), line)
    assert f"{path}:{line}" in str(err) and f"[{code}]" in str(err)


@pytest.mark.parametrize("case,lines,code,line,kept", CASES, ids=[c[0] for c in CASES])
def test_pubtator_lenient_reports_exactly_the_problem(tmp_path, case, lines, code, line, kept):
    path = _file(tmp_path, lines)
    diags = Diagnostics()
    docs = pubtator.load(path, lenient=True, diagnostics=diags)
    assert [(p.code, p.where.file, p.where.line) for p in diags] == [(code, str(path), line)]
    assert [d.id for d in docs] == kept
    assert docs[-1] == pubtator.loads("\n".join(DOC2) + "\n")[0]


def test_pubtator_lenient_keeps_the_rest_of_the_document(tmp_path):
    # the drifting mention goes; its entity stays (ungrounded), and so does the relation
    path = _file(tmp_path, _replace(4, "111\t16\t22\tulcers\tDisease\tD014456"))
    doc = pubtator.load(path, lenient=True)[0]
    assert [m.text for m in doc.mentions] == ["Aspirin"]
    assert doc.entity_index()["D014456"].mention_ids == () and len(doc.relations) == 1
    # a skipped line that was a relation's only grounding makes the relation dangle: reported too
    path = _file(tmp_path, _replace(3, "111\t0\t7.0\tAspirin\tChemical\tD001241"))
    diags = Diagnostics()
    doc = pubtator.load(path, lenient=True, diagnostics=diags)[0]
    assert doc.relations == [] and [(p.code, p.where.line) for p in diags] == [("E122", 3), ("E014", 5)]


def test_pubtator_non_utf8_bytes(tmp_path):
    path = tmp_path / "latin1.pubtator"
    data = "\n".join(DOC1 + [""] + DOC2).encode() + b"\n\n"
    data = data.replace(b"Aspirin is a drug.", b"Aspirin is a dr\xfcg.")  # line 2, byte 21 of the line
    path.write_bytes(data)
    with pytest.raises(BiorelError) as e:
        pubtator.load(path)
    assert (e.value.code, e.value.where.file, e.value.where.line) == ("E020", str(path), 2)
    assert e.value.where.offset == len(DOC1[0]) + 1 + len("111|a|Aspirin is a dr")
    diags = Diagnostics()
    docs = pubtator.load(path, lenient=True, diagnostics=diags)
    assert [d.id for d in docs] == ["222"]
    assert [(p.code, p.where.line, p.action) for p in diags] == [("E020", 2, "document '111' skipped")]


def test_pubtator_crlf_is_accepted_and_equal_to_lf(tmp_path):
    lf = _file(tmp_path, DOC1, name="lf.pubtator")
    crlf = tmp_path / "crlf.pubtator"
    crlf.write_bytes(lf.read_bytes().replace(b"\n", b"\r\n"))
    diags = Diagnostics()
    assert pubtator.load(crlf, lenient=True, diagnostics=diags) == pubtator.load(lf)
    assert len(diags) == 0 and len(pubtator.load(crlf)) == 2


# ---- brat -------------------------------------------------------------------

TXT = "Aspirin reduces pain.\n"
ANN = ["T1\tDrug 0 7\tAspirin", "T2\tSymptom 16 20\tpain", "R1\tTreats Arg1:T1 Arg2:T2"]

BRAT_CASES = [  # each adds line 4 (or 4-5) to a good .ann, so nothing else depends on it
    ("offset drift", ANN + ["T3\tDrug 9 15\treduces"], "E010", 4),
    ("span not integers", ANN + ["T3\tDrug 8 fifteen\treduces"], "E125", 4),
    ("text-bound without text column", ANN + ["T3\tDrug 8 15"], "E125", 4),
    ("relation with one argument", ANN + ["R2\tTreats Arg1:T1"], "E125", 4),
    ("relation to a missing id", ANN + ["R2\tTreats Arg1:T1 Arg2:T9"], "E014", 4),
    ("attribute of a missing id", ANN + ["A1\tNegated T7"], "E014", 4),
    ("unknown annotation kind", ANN + ["X1\tWhat T1"], "E127", 4),
    ("event without arguments", ANN + ["T3\tTreat 8 15\treduces", "E1\tTreat:T3"], "E127", 5),
    ("span outside the text", ANN + ["T3\tDrug 30 37\tAspirin"], "E011", 4),
    ("duplicate annotation id", ANN + ["T2\tDrug 0 7\tAspirin"], "E013", 4),
]


@pytest.mark.parametrize("case,lines,code,line", BRAT_CASES, ids=[c[0] for c in BRAT_CASES])
def test_brat_errors_are_located(tmp_path, case, lines, code, line):
    (tmp_path / "a.txt").write_text(TXT, encoding="utf-8")
    (tmp_path / "a.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(TXT, encoding="utf-8")
    (tmp_path / "b.ann").write_text("\n".join(ANN) + "\n", encoding="utf-8")
    ann = str(tmp_path / "a.ann")
    with pytest.raises(BiorelError) as e:
        brat.load(tmp_path)
    assert (e.value.code, e.value.where.file, e.value.where.line) == (code, ann, line)
    diags = Diagnostics()
    docs = brat.load(tmp_path, lenient=True, diagnostics=diags)
    assert [(p.code, p.where.file, p.where.line) for p in diags] == [(code, ann, line)]
    assert [d.id for d in docs] == ["a", "b"] and len(docs[1].mentions) == 2


def test_brat_ann_without_txt_and_bad_bytes(tmp_path):
    (tmp_path / "lonely.ann").write_text("T1\tDrug 0 7\tAspirin\n", encoding="utf-8")
    (tmp_path / "latin.txt").write_bytes(b"Aspirin r\xe9duit la douleur.")
    (tmp_path / "ok.txt").write_text(TXT, encoding="utf-8")
    with pytest.raises(BiorelError) as e:
        brat.load(tmp_path)
    assert e.value.code == "E020" and e.value.where.file == str(tmp_path / "latin.txt") and e.value.where.line == 1
    diags = Diagnostics()
    docs = brat.load(tmp_path, lenient=True, diagnostics=diags)
    assert [d.id for d in docs] == ["ok"]
    assert sorted((p.code, Path(p.where.file).name) for p in diags) == [("E020", "latin.txt"), ("E126", "lonely.ann")]


def test_brat_empty_text_is_an_empty_document(tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "empty.ann").write_text("", encoding="utf-8")
    with pytest.raises(BiorelError, match="E015"):
        brat.load(tmp_path)
    diags = Diagnostics()
    assert brat.load(tmp_path, lenient=True, diagnostics=diags) == []
    assert diags.counts() == {"E015": 1}


# ---- raw text ---------------------------------------------------------------


def test_text_empty_line_and_missing_tab(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("a\tfirst\n\nb second\nc\tthird\n", encoding="utf-8")
    with pytest.raises(BiorelError) as e:
        text.load(path, id_column=True)
    assert (e.value.code, e.value.where.file, e.value.where.line) == ("E128", str(path), 2)
    diags = Diagnostics()
    docs = text.load(path, id_column=True, lenient=True, diagnostics=diags)
    assert [(d.id, d.text) for d in docs] == [("a", "first"), ("c", "third")]
    assert [(p.code, p.where.line) for p in diags] == [("E128", 2), ("E128", 3)]
    # one document per line: the empty line is an empty document
    with pytest.raises(BiorelError) as e:
        text.load(path, lines=True)
    assert (e.value.code, e.value.where.line) == ("E015", 2)


def test_text_bad_bytes_in_line_mode(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_bytes(b"good\nbad \xff byte\nalso good\n")
    with pytest.raises(BiorelError) as e:
        text.load(path, lines=True)
    assert (e.value.code, e.value.where.line) == ("E020", 2)
    diags = Diagnostics()
    docs = text.load(path, lines=True, lenient=True, diagnostics=diags)
    assert [(d.id, d.text) for d in docs] == [("1", "good"), ("3", "also good")]
    assert [(p.code, p.where.line) for p in diags] == [("E020", 2)]
