from __future__ import annotations

import io as pyio
from collections import Counter

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics, FormatError
from biorel.io import bc2

SENTENCES = "S1 The p53  gene and MDM2 interact.\nS2 No genes here.\n"
# non-whitespace offsets: "Thep53genegand..." -> p53 = 3..5, "p53 gene" = 3..9, MDM2 = 13..16
GENE = "S1|3 5|p53\nS1|13 16|MDM2\n"
ALTGENE = "S1|3 9|p53  gene\n"


def _load(sentences=SENTENCES, gene=GENE, alt=ALTGENE, **kw):
    return bc2.loads(sentences, gene=pyio.StringIO(gene), altgene=pyio.StringIO(alt), **kw)


def test_nonwhitespace_offsets_become_character_offsets():
    docs = _load()
    assert [d.id for d in docs] == ["S1", "S2"]
    s1 = docs[0]
    assert s1.text == "The p53  gene and MDM2 interact."
    assert [(m.id, m.spans, m.text, m.type) for m in s1.mentions] == [
        ("T1", ((4, 7),), "p53", "GENE"),
        ("T2", ((18, 22),), "MDM2", "GENE"),
    ]
    assert s1.metadata["bc2_altgene"] == [[4, 13, "p53  gene"]]
    assert s1.mentions[0].infons["alternatives"] == [[4, 13]]
    assert s1.mentions[1].infons["alternatives"] == []
    assert docs[1].mentions == [] and "bc2_altgene" not in docs[1].metadata


def test_offset_helpers_known_values():
    text = "a  bc\td e"
    assert bc2.nonws_positions(text) == [0, 3, 4, 6, 8]
    assert bc2.to_char_span(text, 1, 3) == (3, 7)
    assert bc2.to_nonws_offsets(text, 3, 7) == (1, 3)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \t", min_size=1, max_size=40), st.data())
def test_offset_conversion_roundtrips(text, data):
    pos = bc2.nonws_positions(text)
    assume(pos)
    i = data.draw(st.integers(0, len(pos) - 1))
    j = data.draw(st.integers(i, len(pos) - 1))
    s, e = bc2.to_char_span(text, i, j)
    assert not text[s].isspace() and not text[e - 1].isspace()
    assert "".join(text[s:e].split()) == "".join(text.split())[i : j + 1]
    assert bc2.to_nonws_offsets(text, s, e) == (i, j)


def test_out_of_range_offsets_are_e161_with_location():
    with pytest.raises(FormatError) as e:
        _load(gene="S1|3 5|p53\nS1|40 44|none\n")
    assert e.value.code == "E161" and e.value.where.line == 2 and "sentence 'S1'" in e.value.message


def test_text_mismatch_is_e162_and_lenient_skips_it():
    bad = "S1|3 5|p54\nS1|13 16|MDM2\n"
    with pytest.raises(FormatError) as e:
        _load(gene=bad)
    assert e.value.code == "E162" and e.value.where.line == 1
    diags = Diagnostics()
    docs = _load(gene=bad, lenient=True, diagnostics=diags)
    assert [m.text for m in docs[0].mentions] == ["MDM2"]
    assert [(p.code, p.where.line, p.action) for p in diags] == [("E162", 1, "annotation skipped")]


def test_unknown_sentence_is_e163_after_reading():
    with pytest.raises(FormatError) as e:
        _load(gene=GENE + "S9|0 1|xx\n")
    assert e.value.code == "E163" and e.value.where.line == 3
    diags = Diagnostics()
    assert len(_load(gene=GENE + "S9|0 1|xx\n", lenient=True, diagnostics=diags)) == 2
    assert [p.code for p in diags] == ["E163"]


def test_malformed_lines():
    with pytest.raises(FormatError) as e:
        _load(gene="S1|3-5|p53\n")
    assert e.value.code == "E021"
    with pytest.raises(FormatError) as e:
        bc2.loads("lonely\n")
    assert e.value.code == "E021" and e.value.where.line == 1


def test_sibling_files_are_found_and_write_roundtrips(tmp_path):
    (tmp_path / "train.in").write_text(SENTENCES)
    (tmp_path / "GENE.eval").write_text(GENE)
    (tmp_path / "ALTGENE.eval").write_text(ALTGENE)
    docs = io.load(tmp_path / "train.in")  # detected as bc2, GENE/ALTGENE beside it
    assert docs == _load()
    out = tmp_path / "out" / "x.in"
    assert io.write(docs, out, "bc2") == 2
    assert (tmp_path / "out" / "GENE.eval").read_text() == GENE
    assert (tmp_path / "out" / "ALTGENE.eval").read_text() == ALTGENE
    assert io.load(out, "bc2") == docs


def test_writing_mentions_to_a_stream_needs_gene_target():
    docs = _load()
    with pytest.raises(BiorelError) as e:
        bc2.dumps(docs)
    assert e.value.code == "E166"
    gene, alt = pyio.StringIO(), pyio.StringIO()
    assert bc2.dumps(docs, gene=gene, altgene=alt) == SENTENCES
    assert gene.getvalue() == GENE and alt.getvalue() == ALTGENE


# ---- real data ------------------------------------------------------------------


def _eval_lines(path) -> Counter:
    return Counter(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.realdata
def test_bc2gm_test_split_counts_and_roundtrip(mirror, tmp_path):
    folder = mirror / "bc2gm/original/test"
    docs = io.load(folder / "test.in", "bc2")
    # published counts (README of the corpus / mirror): 5,000 sentences, 6,331 GENE, 5,068 ALTGENE
    assert len(docs) == 5000
    assert sum(len(d.mentions) for d in docs) == 6331
    assert sum(len(d.metadata.get("bc2_altgene", ())) for d in docs) == 5068
    io.write(docs, tmp_path / "test.in", "bc2")
    assert (tmp_path / "test.in").read_text(encoding="utf-8") == (folder / "test.in").read_text(encoding="utf-8")
    # the .eval files come back line for line (their order is not by sentence upstream)
    assert _eval_lines(tmp_path / "GENE.eval") == _eval_lines(folder / "GENE.eval")
    assert _eval_lines(tmp_path / "ALTGENE.eval") == _eval_lines(folder / "ALTGENE.eval")


@pytest.mark.realdata
def test_bc2gm_train_quirks_are_reported(mirror):
    with pytest.raises(FormatError) as e:
        io.load(mirror / "bc2gm/original/train/train.in", "bc2")
    assert e.value.code == "E162"
    diags = Diagnostics()
    docs = io.load(mirror / "bc2gm/original/train/train.in", "bc2", lenient=True, diagnostics=diags)
    assert len(docs) == 15000
    assert sum(len(d.mentions) for d in docs) == 18265 - 1
    assert sum(len(d.metadata.get("bc2_altgene", ())) for d in docs) == 14499 - 3
    assert sorted((p.code, p.where.file.rsplit("/", 1)[-1], p.where.line) for p in diags) == [
        ("E162", "ALTGENE.eval", 787),
        ("E162", "ALTGENE.eval", 2236),
        ("E162", "ALTGENE.eval", 7954),
        ("E162", "GENE.eval", 1790),
    ]
