"""The shared raise-or-report rule (io.base.report_or_raise / Reporter): a
lenient read without a Diagnostics object still reports every problem, as a
BiorelWarning, for every reader."""

from __future__ import annotations

import warnings

import pytest

from biorel import io
from biorel.errors import Diagnostics, FormatError
from biorel.io.base import BiorelWarning, Reporter, WarningDiagnostics, report_or_raise

GOOD_JSONL = '{"id":"a","passages":[{"offset":0,"text":"Aspirin helps."}]}\n'

BAD_INPUTS = {
    "x.jsonl": GOOD_JSONL + "{not json\n",
    "x.conll": "Aspirin\tB-Chemical\nhelps\tQ-Bad\n\nno tab here\n",
    "x.pure.json": '{"doc_key": "d", "sentences": [["Aspirin", "helps"]], "ner": [[[0, 9, "Chemical"]]], "relations": [[]]}\n{oops\n',
    "x.pubtator": "1|t|Aspirin helps.\n1\t0\t7\tAspirin\tChemical\tD1\n1\t0\t99\tAspirin\tChemical\tD1\n",
    "x.bioc.json": '{"source":"","documents":[{"id":"1","passages":[{"offset":0,"text":"Aspirin.","annotations":[{"id":"A","locations":[{"offset":"x","length":3}]}]}]}]}',
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_lenient_without_diagnostics_warns(tmp_path, name):
    path = tmp_path / name
    path.write_text(BAD_INPUTS[name], encoding="utf-8")
    with pytest.warns(BiorelWarning) as rec:
        docs = io.load(path, lenient=True)
    assert docs, "the good part is kept"
    codes = {str(w.message)[1:5] for w in rec}
    assert all(c.startswith("E") for c in codes)
    # the same read with a collector: the same problems, no warning
    diags = Diagnostics()
    with warnings.catch_warnings():
        warnings.simplefilter("error", BiorelWarning)
        assert len(io.load(path, lenient=True, diagnostics=diags)) == len(docs)
    assert sorted(p.code for p in diags) == sorted(str(w.message)[1:5] for w in rec)


def test_report_or_raise_and_reporter():
    err = FormatError("E021", "bad")
    with pytest.raises(FormatError):
        report_or_raise(err, "line skipped", lenient=False, diagnostics=None)
    diags = Diagnostics()
    report_or_raise(err, "line skipped", lenient=True, diagnostics=diags)
    assert [(p.code, p.action) for p in diags] == [("E021", "line skipped")]
    rep = Reporter(lenient=True)
    assert isinstance(rep.diagnostics, WarningDiagnostics)
    with pytest.warns(BiorelWarning, match=r"\[E021\].*\(row skipped\)"):
        rep(err, "row skipped")
    assert len(rep.diagnostics) == 1
    with pytest.raises(FormatError):
        Reporter()(err)
