from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel.errors import BiorelError
from biorel.sentences import sentence_spans, split_sentences
from biorel.types import Document, Passage


def sents(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Famotidine causes delirium. It was given i.v. to rats.", ["Famotidine causes delirium.", "It was given i.v. to rats."]),
        ("Doses were 3.5 mg/kg (p < 0.05). The rest .5 mg.", ["Doses were 3.5 mg/kg (p < 0.05).", "The rest .5 mg."]),
        ("Drugs, e.g. aspirin, help. Others, i.e. opioids, harm.", ["Drugs, e.g. aspirin, help.", "Others, i.e. opioids, harm."]),
        ("As Smith et al. reported, it works. We agree.", ["As Smith et al. reported, it works.", "We agree."]),
        ("Smith et al. Nature showed it.", ["Smith et al. Nature showed it."]),
        ("See Fig. 2 for data. Cells grew.", ["See Fig. 2 for data.", "Cells grew."]),
        ("We used E. coli strains. They grew.", ["We used E. coli strains.", "They grew."]),
        ("Work by J. Smith and K. Lee is cited. Fine.", ["Work by J. Smith and K. Lee is cited.", "Fine."]),
        ("Patients had hepatitis B. The virus cleared.", ["Patients had hepatitis B.", "The virus cleared."]),
        ("Levels fell. p53 rose. mRNA was low.", ["Levels fell.", "p53 rose.", "mRNA was low."]),
        ("It was approx. five times higher. Yes.", ["It was approx. five times higher.", "Yes."]),
        ("Is it? Yes! No... Maybe.", ["Is it?", "Yes!", "No...", "Maybe."]),
        ('He said "stop." Then left. (See above.) Then more.', ['He said "stop."', "Then left.", "(See above.)", "Then more."]),
        ("Heading without stop\n\nBody text here.", ["Heading without stop", "Body text here."]),
        ("Values 0.78 vs. 0.86 were found. Done.", ["Values 0.78 vs. 0.86 were found.", "Done."]),
        ("  padded sentence.   ", ["padded sentence."]),
        ("no final stop", ["no final stop"]),
        ("", []),
        (" \n\t ", []),
    ],
)
def test_known_splits(text, expected):
    assert sents(text) == expected


def test_offset_shifts_spans():
    text = "First one. Second one."
    assert split_sentences(text) == [(0, 10), (11, 22)]
    assert split_sentences(text, 100) == [(100, 110), (111, 122)]


def test_document_sentences_stay_inside_passages():
    # the title has no final stop: without passages it would run into the abstract
    title, abstract = "Aspirin and ulcers", "We studied aspirin. Ulcers were rare."
    doc = Document("d", passages=[Passage(0, title, "title"), Passage(len(title) + 1, abstract, "abstract")])
    spans = sentence_spans(doc)
    assert [doc.text[s:e] for s, e in spans] == ["Aspirin and ulcers", "We studied aspirin.", "Ulcers were rare."]
    assert spans[1][0] == len(title) + 1


def test_unknown_backend_is_coded_error():
    with pytest.raises(BiorelError) as e:
        split_sentences("A. B.", backend="nope")
    assert e.value.code == "E169"


# ---- properties -----------------------------------------------------------------

alphabet = st.sampled_from(list("abcAB. ?!\n()0123456789e.g,;\"'") + ["et al.", "i.v.", "Fig.", " "])
texts = st.lists(alphabet, max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(min_value=0, max_value=1000))
def test_spans_are_ordered_trimmed_and_cover_all_text(text, offset):
    spans = split_sentences(text, offset)
    prev_end = offset
    for s, e in spans:
        assert prev_end <= s < e <= offset + len(text)
        piece = text[s - offset : e - offset]
        assert piece == piece.strip() and piece
        prev_end = e
    # every non-whitespace character is in exactly one sentence
    covered = [False] * len(text)
    for s, e in spans:
        for i in range(s - offset, e - offset):
            assert not covered[i]
            covered[i] = True
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())


# letters that cannot spell any abbreviation of NO_BREAK_AFTER
words = st.text(alphabet="bkmnwxz", min_size=2, max_size=8)
plain_sentences = st.lists(words, min_size=1, max_size=6).map(lambda ws: " ".join([ws[0].capitalize(), *ws[1:]]) + ".")


@settings(max_examples=200, deadline=None)
@given(st.lists(plain_sentences, min_size=1, max_size=6), st.sampled_from([" ", "  ", "\n", " \n "]))
def test_plain_sentences_split_exactly(sentences, sep):
    # the known answer is the construction: capitalised plain sentences, one stop each
    text = sep.join(sentences)
    assert sents(text) == sentences
