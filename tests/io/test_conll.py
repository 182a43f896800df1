from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import Diagnostics, FormatError, BiorelError
from biorel.io import conll
from biorel.types import Document, Mention, Passage

SAMPLE = (
    "Ataxia\tB-Disease\n"
    "-\tI-Disease\n"
    "telangiectasia\tI-Disease\n"
    "is\tO\n"
    "rare\tO\n"
    ".\tO\n"
    "\n"
    "BRCA1\tB-Gene\n"
    "mutations\tO\n"
    "cause\tO\n"
    "breast\tB-Disease\n"
    "cancer\tI-Disease\n"
    "\n"
)


def test_read_sentences_as_documents_with_offsets():
    docs = conll.loads(SAMPLE)
    assert [d.id for d in docs] == ["s1", "s2"]
    a, b = docs
    assert a.text == "Ataxia - telangiectasia is rare ."
    assert [(m.spans, m.text, m.type) for m in a.mentions] == [(((0, 23),), "Ataxia - telangiectasia", "Disease")]
    assert [(m.id, m.spans, m.text, m.type) for m in b.mentions] == [
        ("T1", ((0, 5),), "BRCA1", "Gene"),
        ("T2", ((22, 35),), "breast cancer", "Disease"),
    ]
    assert b.passages == [Passage(0, "BRCA1 mutations cause breast cancer", "sentence")]


def test_docstart_groups_sentences_one_space_apart():
    text = "-DOCSTART-\tO\n\n" + SAMPLE + "-DOCSTART-\tO\n\nAspirin\tB-Chemical\n"
    docs = conll.loads(text, group="docstart", id_prefix="doc")
    assert [d.id for d in docs] == ["doc1", "doc2"]
    first = docs[0]
    assert [(p.offset, p.text) for p in first.passages] == [(0, "Ataxia - telangiectasia is rare ."), (34, "BRCA1 mutations cause breast cancer")]
    assert [first.text[m.start : m.end] for m in first.mentions] == ["Ataxia - telangiectasia", "BRCA1", "breast cancer"]
    assert [m.id for m in first.mentions] == ["T1", "T2", "T3"]
    assert docs[1].mentions[0].text == "Aspirin"


def test_extra_columns_take_last_as_tag():
    docs = conll.loads("BRCA1\tNN\tB-Gene\nis\tVB\tO\n")
    assert docs[0].text == "BRCA1 is" and docs[0].mentions[0].type == "Gene"


def test_iob2_violation_is_located_error_and_lenient_repairs_it():
    text = "a\tO\nb\tI-Gene\nc\tI-Gene\n\n"
    with pytest.raises(FormatError) as e:
        conll.loads(text)
    assert e.value.code == "E160" and e.value.where.line == 2
    diags = Diagnostics()
    docs = conll.loads(text, lenient=True, diagnostics=diags)
    assert [m.text for m in docs[0].mentions] == ["b c"]
    assert [(p.code, p.where.line) for p in diags] == [("E160", 2)]
    # IOB1 allows an I- tag to start a mention
    assert [m.text for m in conll.loads(text, scheme="iob1")[0].mentions] == ["b c"]


def test_type_change_inside_i_run_starts_new_mention_in_iob1():
    docs = conll.loads("a\tB-X\nb\tI-Y\n", scheme="iob1")
    assert [(m.text, m.type) for m in docs[0].mentions] == [("a", "X"), ("b", "Y")]


def test_bad_tag_and_malformed_line():
    with pytest.raises(FormatError) as e:
        conll.loads("a\tO\nb\tX-Gene\n")
    assert e.value.code == "E160" and e.value.where.line == 2
    with pytest.raises(FormatError) as e:
        conll.loads("a\tO\njustonecolumn\n")
    assert e.value.code == "E021" and e.value.where.line == 2
    diags = Diagnostics()
    docs = conll.loads("a\tO\njustonecolumn\nb\tB-Gene\n", lenient=True, diagnostics=diags)
    assert docs[0].text == "a b" and docs[0].mentions[0].text == "b"
    assert [(p.code, p.where.line) for p in diags] == [("E021", 2)]


def test_unknown_grouping_is_an_error():
    with pytest.raises(BiorelError) as e:
        conll.loads(SAMPLE, group="paragraph")
    assert e.value.code == "E001"


def test_roundtrip_is_byte_identical():
    assert conll.dumps(conll.loads(SAMPLE)) == SAMPLE
    grouped = "-DOCSTART-\tO\n\n" + SAMPLE
    assert conll.dumps(conll.loads(grouped, group="docstart"), group="docstart") == grouped


def _pubtator_like() -> Document:
    text = "Cisplatin-induced nephrotoxicity (CIN) in rats."
    d = Document("1", passages=[Passage(0, text, "title")])
    d.mentions = [
        Mention("a", ((0, 9),), "Cisplatin", "Chemical"),
        Mention("b", ((18, 32),), "nephrotoxicity", "Disease"),
        Mention("c", ((34, 37),), "CIN", "Disease"),
    ]
    return d


def test_writer_cuts_tokens_at_mention_boundaries():
    out = conll.dumps([_pubtator_like()])
    assert out.splitlines() == [
        "Cisplatin\tB-Chemical",
        "-induced\tO",
        "nephrotoxicity\tB-Disease",
        "(\tO",
        "CIN\tB-Disease",
        ")\tO",
        "in\tO",
        "rats.\tO",
        "",
    ]
    punct = conll.dumps([_pubtator_like()], tokenizer="punct").splitlines()
    assert punct[1:3] == ["-\tO", "induced\tO"] and punct[-2:] == [".\tO", ""]
    back = conll.loads(out)[0]
    assert [m.text for m in back.mentions] == ["Cisplatin", "nephrotoxicity", "CIN"]


def test_writer_splits_sentences_on_request():
    text = "Aspirin helps. Ulcers may follow."
    d = Document("1", passages=[Passage(0, text)], mentions=[Mention("m", ((15, 21),), "Ulcers", "Disease")])
    out = conll.dumps([d], sentences="split")
    assert out == "Aspirin\tO\nhelps.\tO\n\nUlcers\tB-Disease\nmay\tO\nfollow.\tO\n\n"


def test_writer_refuses_what_conll_cannot_hold():
    d = _pubtator_like()
    d.mentions.append(Mention("d", ((0, 17),), "Cisplatin-induced", "Chemical"))  # overlaps "a"
    with pytest.raises(BiorelError) as e:
        conll.dumps([d])
    assert e.value.code == "E166" and "overlaps" in e.value.message
    diags = Diagnostics()
    out = conll.dumps([d], on_conflict="skip", diagnostics=diags)
    assert [p.code for p in diags] == ["E166"] and "B-Chemical" in out
    disc = Document("2", passages=[Passage(0, "a b c")], mentions=[Mention("x", ((0, 1), (4, 5)), "a c", "T")])
    with pytest.raises(BiorelError) as e:
        conll.dumps([disc])
    assert e.value.code == "E166"


def test_registered_and_detected(tmp_path):
    assert io.get_format("conll").name == "conll"
    p = tmp_path / "x.conll"
    io.write(conll.loads(SAMPLE), p)
    assert io.detect_format(p).name == "conll"
    assert io.load(p) == conll.loads(SAMPLE)


# ---- properties -----------------------------------------------------------------

tokens = st.text(alphabet="abcXYZ-().,09", min_size=1, max_size=6)
tags = st.sampled_from(["O", "B-Gene", "I-Gene", "B-Disease", "I-Disease"])


def _normalise_iob2(seq: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Turn I- tags that do not continue a mention into B- (what IOB2 allows)."""
    out, prev = [], "O"
    for tok, tag in seq:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append((tok, tag))
        prev = tag
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(tokens, tags), min_size=1, max_size=12), min_size=1, max_size=5))
def test_random_tag_sequences_roundtrip(sentences):
    sentences = [_normalise_iob2(s) for s in sentences]
    text = "".join("".join(f"{t}\t{g}\n" for t, g in s) + "\n" for s in sentences)
    docs = conll.loads(text)
    assert len(docs) == len(sentences)
    for doc, sent in zip(docs, sentences):
        assert doc.text == " ".join(t for t, _ in sent)
        assert len(doc.mentions) == sum(g.startswith("B-") for _, g in sent)
        for m in doc.mentions:
            assert doc.text[m.start : m.end] == m.text
    assert conll.dumps(docs) == text


# ---- real data ------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize(
    "rel, sentences",
    [("ncbi_disease/conll/test.tsv", 940), ("ncbi_disease/conll/devel.tsv", 923), ("bc2gm/conll/test.tsv", 5000)],
)
def test_real_files_counts_and_byte_roundtrip(mirror, rel, sentences):
    path = mirror / rel
    raw = path.read_text(encoding="utf-8")
    # independent known answers: blank lines end sentences; every mention starts with a B- tag in these files
    assert raw.count("\n\n") == sentences
    b_tags = sum(1 for line in raw.splitlines() if "\tB-" in line)
    docs = io.load(path, "conll")
    assert len(docs) == sentences
    assert sum(len(d.mentions) for d in docs) == b_tags
    assert conll.dumps(docs) == raw


@pytest.mark.realdata
def test_ncbi_conll_matches_published_mention_count(mirror):
    # README of the mirror: test 960 mentions, dev 787 (the official NCBI figures)
    assert sum(len(d.mentions) for d in io.read(mirror / "ncbi_disease/conll/test.tsv", "conll")) == 960
    assert sum(len(d.mentions) for d in io.read(mirror / "ncbi_disease/conll/devel.tsv", "conll")) == 787
