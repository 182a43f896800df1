"""Sentence-level relation sets: GAD / EU-ADR TSV and ChemProt SciBERT JSONL."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import Diagnostics, FormatError
from biorel.io import sentence_sets as sentences
from biorel.io.sentence_sets import chemprot, tsv

CHEMPROT_TRAIN_LABELS = {
    "INHIBITOR": 1642,
    "INDIRECT-DOWNREGULATOR": 487,
    "SUBSTRATE": 480,
    "INDIRECT-UPREGULATOR": 387,
    "ACTIVATOR": 323,
    "ANTAGONIST": 235,
    "PRODUCT-OF": 233,
    "AGONIST": 156,
    "DOWNREGULATOR": 131,
    "UPREGULATOR": 67,
    "SUBSTRATE_PRODUCT-OF": 14,
    "AGONIST-ACTIVATOR": 10,
    "AGONIST-INHIBITOR": 4,
}


def labels(docs) -> Counter:
    return Counter(d.relations[0].type for d in docs)


# ---- GAD / EU-ADR ----------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize(
    "path, n, pos, neg",
    [("gad/1/train.tsv", 4796, 2520, 2276), ("gad/1/test.tsv", 534, 281, 253), ("euadr/1/train.tsv", 318, 235, 83), ("euadr/1/test.tsv", 37, 27, 10)],
)
def test_real_tsv_counts_and_exact_round_trip(mirror, path, n, pos, neg):
    p = mirror / path
    docs = tsv.load(p)
    assert len(docs) == n and labels(docs) == {"1": pos, "0": neg}
    assert tsv.dumps(docs) == p.read_text(encoding="utf-8")
    assert io.detect_format(p).name == "sentence-tsv"
    for d in docs:
        assert [m.text for m in d.mentions] == [d.text[m.start : m.end] for m in d.mentions]
        assert sorted(m.text for m in d.mentions) == ["@DISEASE$", "@GENE$"]
        rel = d.relations[0]
        assert rel.infons["negative"] == (rel.type == "0") and d.metadata["negative_label"] == "0"


@pytest.mark.realdata
def test_real_tsv_ids_follow_index_column_or_position(mirror):
    test = tsv.load(mirror / "gad/1/test.tsv", id_prefix="gad1-test-")
    assert [d.id for d in test[:2]] == ["gad1-test-0", "gad1-test-1"]
    assert test[0].metadata["index"] == "0"
    train = tsv.load(mirror / "gad/1/train.tsv")
    assert [d.id for d in train[:3]] == ["0", "1", "2"]
    assert train[0].text.startswith("this study proposes that A/A genotype at position -607 in @GENE$ gene")


def test_tsv_header_and_masks_on_small_file():
    text = "index\tsentence\tlabel\n7\t@DISEASE$ is linked to @GENE$ variants.\t0\n"
    (d,) = tsv.loads(text)
    assert d.id == "7"
    assert [(m.id, m.type, m.spans) for m in d.mentions] == [("M1", "DISEASE", ((0, 9),)), ("M2", "GENE", ((23, 29),))]
    rel = d.relations[0]
    assert (rel.type, rel.head, rel.tail, rel.directed, rel.infons) == ("0", "E1", "E2", False, {"negative": True})
    assert tsv.dumps([d]) == text


def test_tsv_errors_are_located_and_lenient_reports_them(tmp_path):
    lines = [
        "@GENE$ causes @DISEASE$.\t1",  # 1 ok
        "@GENE$ causes @DISEASE$.",  # 2 missing label column
        "@GENE$ causes disease.\t1",  # 3 one mask missing
        "@GENE$ causes @DISAESE$.\t0",  # 4 unknown mask
        "@GENE$ causes @DISEASE$.\t",  # 5 empty label
        "@GENE$ and @GENE$ in @DISEASE$.\t1",  # 6 three masks
        "@GENE$ causes @DISEASE$ too.\t0",  # 7 ok
    ]
    p = tmp_path / "train.tsv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = [("E141", 2), ("E148", 3), ("E149", 4), ("E151", 5), ("E148", 6)]
    for code, line in expected:
        bad = [lines[0], lines[line - 1]]
        with pytest.raises(FormatError) as e:
            tsv.loads("\n".join(bad) + "\n")
        assert (e.value.code, e.value.where.line) == (code, 2)
    with pytest.raises(FormatError) as e:
        tsv.load(p)
    assert (e.value.code, e.value.where.file, e.value.where.line) == ("E141", str(p), 2)
    diags = Diagnostics()
    docs = tsv.load(p, lenient=True, diagnostics=diags)
    assert [d.id for d in docs] == ["0", "6"]  # ids stay positional
    assert [(x.code, x.where.line) for x in diags] == expected
    assert [d.id for d in tsv.loads("@X$ and @Y$ here.\t1\n", masks=None)] == ["0"]


def test_tsv_non_utf8_is_located(tmp_path):
    p = tmp_path / "t.tsv"
    p.write_bytes(b"@GENE$ causes @DISEASE$.\t1\n@GENE$ in caf\xe9 @DISEASE$.\t1\n@GENE$ and @DISEASE$.\t0\n")
    with pytest.raises(FormatError) as e:
        tsv.load(p)
    assert (e.value.code, e.value.where.line) == ("E020", 2)
    diags = Diagnostics()
    assert [d.id for d in tsv.load(p, lenient=True, diagnostics=diags)] == ["0", "2"]  # ids stay positional
    assert [(x.code, x.where.line, x.action) for x in diags] == [("E020", 2, "line skipped")]
    q = tmp_path / "c.jsonl"
    q.write_bytes(b'{"text": "<< A >> [[ B ]]", "label": "X", "metadata": []}\n{"text": "<< \xe9 >> [[ B ]]", "label": "X"}\n')
    with pytest.raises(FormatError) as e:
        chemprot.load(q)
    assert (e.value.code, e.value.where.line) == ("E020", 2)
    diags = Diagnostics()
    assert len(chemprot.load(q, lenient=True, diagnostics=diags)) == 1 and diags.counts() == {"E020": 1}


# ---- ChemProt SciBERT -----------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("split, n", [("train", 4169), ("dev", 2427), ("test", 3469)])
def test_real_chemprot_counts_and_round_trips(mirror, split, n):
    p = mirror / "chemprot_scibert" / f"{split}.jsonl"
    text = p.read_text(encoding="utf-8")
    raw = [json.loads(line) for line in text.splitlines()]
    inline = chemprot.load(p)
    assert len(inline) == n and labels(inline) == Counter(r["label"] for r in raw)
    assert chemprot.dumps(inline) == text
    stripped = io.load(p, "chemprot-scibert", strip_markers=True)
    assert chemprot.dumps(stripped) == text
    for a, b, r in zip(inline, stripped, raw):
        assert a.text == r["text"]
        assert [m.text for m in a.mentions] == [m.text for m in b.mentions]
        assert "<< " not in b.text or b.text.count("<< ") < r["text"].count("<< ")
        # `<<` always marks the entity that comes first in the text
        assert [m.type for m in a.mentions] == ["E1", "E2"]
        assert [a.text[m.start - 3 : m.start] for m in a.mentions] == ["<< ", "[[ "]
    if split == "train":
        assert labels(inline) == CHEMPROT_TRAIN_LABELS
    assert io.detect_format(p).name == "jsonl"  # no extension claim


def test_chemprot_markers_are_found_exactly():
    line = {"text": "The 6[[(3-iodo)]] form of << EGFR >> binds [[ gefitinib ]] with A>>B.", "label": "INHIBITOR", "metadata": []}
    text = json.dumps(line, ensure_ascii=False) + "\n"
    (d,) = chemprot.loads(text)
    assert [(m.text, m.type) for m in d.mentions] == [("EGFR", "E1"), ("gefitinib", "E2")]
    (s,) = chemprot.loads(text, strip_markers=True)
    assert s.text == "The 6[[(3-iodo)]] form of EGFR binds gefitinib with A>>B."
    assert [s.text[m.start : m.end] for m in s.mentions] == ["EGFR", "gefitinib"]
    assert s.metadata["markers"] == "stripped" and s.metadata["negative_label"] is None
    assert chemprot.dumps([s]) == chemprot.dumps([d]) == text


@pytest.mark.parametrize(
    "sentence, marker",
    [
        ("<< EGFR >> binds gefitinib.", "[[ "),  # missing
        ("<< EGFR >> binds [[ gefitinib and [[ erlotinib ]].", "[[ "),  # repeated
        ("<< EGFR binds [[ gefitinib ]].", "<< "),  # not closed
        ("<< EGFR [[ gefitinib ]] >> binds.", "[[ "),  # nested
    ],
)
def test_chemprot_bad_markers_are_located(sentence, marker):
    good = json.dumps({"text": "<< A >> and [[ B ]].", "label": "AGONIST", "metadata": []})
    text = good + "\n" + json.dumps({"text": sentence, "label": "AGONIST", "metadata": []}) + "\n"
    with pytest.raises(FormatError) as e:
        chemprot.loads(text)
    assert (e.value.code, e.value.where.line) == ("E150", 2)
    assert repr(marker) in e.value.message
    diags = Diagnostics()
    assert len(chemprot.loads(text, lenient=True, diagnostics=diags)) == 1 and diags.counts() == {"E150": 1}


def test_chemprot_malformed_lines():
    for bad, code in [("{not json", "E024"), ('["a"]', "E152"), ('{"text": "<< A >> [[ B ]]", "label": ""}', "E151")]:
        with pytest.raises(FormatError) as e:
            chemprot.loads(json.dumps({"text": "<< A >> [[ B ]]", "label": "X"}) + "\n" + bad + "\n")
        assert (e.value.code, e.value.where.line) == (code, 2)


def test_writers_refuse_documents_they_cannot_express():
    (d,) = tsv.loads("@GENE$ causes @DISEASE$.\t1\n")
    d.relations.append(d.relations[0])
    with pytest.raises(Exception) as e:
        tsv.dumps([d])
    assert getattr(e.value, "code", None) == "E153"


# ---- properties -----------------------------------------------------------------------

# (no U+FEFF: a BOM at the start of a file is its encoding, which readers drop, not text)
plain = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="@$<>[]\ufeff"), max_size=20)


@settings(max_examples=60, deadline=None)
@given(plain, plain, plain, st.sampled_from(["GENE", "DISEASE", "DRUG"]), st.sampled_from(["GENE", "DISEASE"]), st.sampled_from(["0", "1"]))
def test_any_masked_sentence_round_trips(a, b, c, m1, m2, label):
    text = f"{a}@{m1}${b}@{m2}${c}\t{label}\n"
    (d,) = tsv.loads(text)
    assert [m.type for m in d.mentions] == [m1, m2]
    assert tsv.dumps([d]) == text


@settings(max_examples=60, deadline=None)
@given(plain, plain.filter(str.strip), plain, plain.filter(str.strip), plain, st.booleans())
def test_any_marked_sentence_round_trips(a, e1, b, e2, c, strip):
    line = json.dumps({"text": f"{a}<< {e1} >>{b}[[ {e2} ]]{c}", "label": "X", "metadata": []}, ensure_ascii=False) + "\n"
    (d,) = chemprot.loads(line, strip_markers=strip)
    assert [m.text for m in d.mentions] == [e1, e2]
    if strip:
        assert d.text == a + e1 + b + e2 + c
    assert chemprot.dumps([d]) == line


def test_registered_names():
    assert io.get_format("biorel.SentenceTSV.v1") is io.get_format("sentence-tsv")
    assert io.get_format("biorel.ChemProtSciBERT.v1").extensions == ()
    assert sentences.DEFAULT_MASKS[:2] == ("GENE", "DISEASE")
