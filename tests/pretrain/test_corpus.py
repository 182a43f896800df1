"""The corpus builder without the mirror: overlap reasons, PMIDs, duplicates,
counts that add up, unreadable files reported, the shuffle, coded errors."""

from __future__ import annotations

import json

import pytest

from biorel import io
from biorel.errors import BiorelError
from biorel.pretrain import corpus as corpus_mod
from biorel.pretrain.corpus import Source, build_corpus, report_path, shuffle_lines
from biorel.pretrain.overlap import MIN_WORDS, NGRAM, ExclusionIndex, pmid_of, words
from biorel.types import Document, Passage

TEST_ABSTRACT = (
    "Famotidine-associated delirium. A series of six cases. Famotidine is a histamine H2-receptor antagonist "
    "used in inpatient settings for prevention of stress ulcers and is showing increasing popularity."
)
SHORT_TEST = "Lithium toxicity caused seizures in two elderly rats."  # 9 words


def doc(doc_id: str, text: str, **metadata) -> Document:
    return Document(doc_id, [Passage(0, text, "abstract")], metadata=metadata)


@pytest.fixture
def index() -> ExclusionIndex:
    idx = ExclusionIndex()
    idx.add(doc("8701013", TEST_ABSTRACT), "pubtator")
    idx.add_text(SHORT_TEST)
    idx.add_text("Results.")
    return idx


def test_normalised_words():
    assert words("IL-2 (p < 0.05) << Kinase >>") == ["il", "2", "p", "0", "05", "kinase"]
    assert words("reduction - sensitive") == words("reduction-sensitive")


@pytest.mark.parametrize(
    "text,pmid,reason",
    [
        ("Anything at all about caffeine.", "8701013", "test PMID"),
        (TEST_ABSTRACT.upper().replace("-", " - "), None, "test text"),
        ("Background. " + TEST_ABSTRACT[40:150] + " Other words follow here.", None, f"shares a {NGRAM}-word sequence"),
        ("A series of six cases. Famotidine is a histamine", None, "inside a test text"),
        ("We report that lithium toxicity caused seizures in two elderly rats treated daily.", None, "holds a short test text"),
        ("Results.", None, "test text"),
        ("Results were good and nothing else matched here at all.", None, None),
        ("Famotidine is a histamine H2-receptor antagonist used widely.", None, None),  # 8 words in common, under 13
    ],
)
def test_overlap_reasons(index, text, pmid, reason):
    assert index.why(words(text), pmid) == reason


def test_short_texts_are_compared_by_equality_only(index):
    assert index.why(words("The Results. were"), None) is None  # 'results' alone is under MIN_WORDS
    assert index.summary()[f"texts under {MIN_WORDS} words (equality only)"] == 1


def test_pmids():
    assert pmid_of(doc("123456", "x"), "pubtator") == "123456"
    assert pmid_of(doc("0012", "x"), "bioc-xml") == "12"
    assert pmid_of(doc("123456", "x"), "chemprot-scibert") is None  # ids that are row numbers
    assert pmid_of(doc("a", "x", PMID="987"), "abroad") == "987"
    assert pmid_of(doc("9514009-8", "x"), "abroad") is None


def write_pubtator(path, docs: list[tuple[str, str, str]]) -> None:
    path.write_text("".join(f"{i}|t|{t}\n{i}|a|{a}\n\n" for i, t, a in docs), "utf-8")


def test_duplicates_and_counts(tmp_path):
    a = tmp_path / "a.pubtator"
    write_pubtator(a, [("100", "Aspirin and ulcers.", "Aspirin caused ulcers in rats."), ("101", "Other title.", "Other abstract text.")])
    folder = tmp_path / "more"
    folder.mkdir()
    write_pubtator(folder / "b.pubtator", [("200", "ASPIRIN and ulcers!", "Aspirin caused ulcers in rats"), ("101", "Revised title.", "Revised.")])
    (folder / "notes.xyz").write_bytes(b"\x00\x01 not a corpus")
    (folder / "texts.txt").write_text("A plain text abstract about caffeine.\n\nAnother one about nicotine.\n", "utf-8")
    out = tmp_path / "c" / "corpus.jsonl"
    report = build_corpus([a, folder], out, datasets=False, mirror=None, exclude_tests=False, seed=1)
    counts = {s.source.split("/")[-1]: s for s in report.sources}
    assert counts["b.pubtator"].duplicates == {"same text": 1, "same PMID": 1} and counts["b.pubtator"].written == 0
    assert counts["texts.txt"].written == 2 and report.totals()["written"] == 4
    assert [u["path"].split("/")[-1] for u in report.unused_files] == ["notes.xyz"]
    docs = io.load(out)
    assert len(docs) == 4 and {d.metadata.get("pmid") for d in docs} == {"100", "101", None}
    saved = json.loads(report_path(out).read_text())
    assert saved["totals"] == report.totals() and saved["excluded_splits"] == []
    again = build_corpus([a, folder], tmp_path / "d.jsonl", datasets=False, mirror=None, exclude_tests=False, seed=1)
    assert again.totals() == report.totals() and (tmp_path / "d.jsonl").read_bytes() == out.read_bytes()  # seeded


def test_test_splits_are_left_out(tmp_path, monkeypatch):
    def fake_tests(splits):
        assert tuple(splits) == ("test",)
        return [Source("toy/test (pubtator)", "pubtator", lambda diags: iter([doc("8701013", TEST_ABSTRACT)]))]

    monkeypatch.setattr(corpus_mod, "test_sources", fake_tests)
    a = tmp_path / "a.pubtator"
    write_pubtator(a, [("8701013", "Another title", "Different text."), ("5", "Copy.", TEST_ABSTRACT), ("6", "Kept.", "Nothing in common.")])
    report = build_corpus([a], tmp_path / "c.jsonl", datasets=False, mirror=None)
    (s,) = report.sources
    assert s.excluded == {"test PMID": 1, f"shares a {NGRAM}-word sequence": 1} and s.written == 1
    assert report.test_splits == [{"split": "toy/test (pubtator)", "documents": 1, "problems": 0}]


def test_shuffle_is_a_seeded_permutation(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(b"%d\n" % i for i in range(1000)))
    for bucket in (1000, 64):
        shuffle_lines(src, tmp_path / "out", 1000, 3, tmp_path, bucket=bucket)
        lines = (tmp_path / "out").read_bytes().splitlines()
        assert sorted(lines, key=int) == src.read_bytes().splitlines() and lines != src.read_bytes().splitlines()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out"]  # buckets removed


def test_coded_errors(tmp_path):
    with pytest.raises(BiorelError) as e:
        build_corpus([tmp_path / "missing"], tmp_path / "c.jsonl", datasets=False, mirror=None)
    assert e.value.code == "E580" and "missing" in str(e.value)
    (tmp_path / "odd.xyz").write_bytes(b"\x00\x01")
    with pytest.raises(BiorelError) as e:
        build_corpus([tmp_path / "odd.xyz"], tmp_path / "c.jsonl", datasets=False, mirror=None, exclude_tests=False)
    assert e.value.code == "E580"
    with pytest.raises(BiorelError) as e:
        build_corpus([], tmp_path / "c.txt", datasets=False, mirror=None)
    assert e.value.code == "E585" and ".jsonl" in str(e.value)
    assert not (tmp_path / "c.jsonl").exists()
