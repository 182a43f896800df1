"""Raw text: a folder of files, one file, or one document per line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError, Diagnostics
from biorel.io import text
from biorel.types import Document, Passage


def test_folder_one_document_per_file_byte_exact(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"Aspirin\r\nreduces pain.\r\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes("Caf\u00e9ine.".encode())
    (tmp_path / ".hidden.txt").write_bytes(b"skip me")
    (tmp_path / "notes.md").write_bytes(b"not text format")
    assert io.detect_format(tmp_path).name == "text"
    docs = io.load(tmp_path)
    assert [(d.id, d.text) for d in docs] == [("a", "Aspirin\r\nreduces pain.\r\n"), ("sub/b", "Caféine.")]
    assert docs[0].passages == [Passage(0, "Aspirin\r\nreduces pain.\r\n")]
    out = tmp_path / "out"
    assert text.dump(docs, out) == 2
    assert (out / "a.txt").read_bytes() == b"Aspirin\r\nreduces pain.\r\n"
    assert text.load(out) == docs


def test_single_file_whole_and_stream(tmp_path):
    path = tmp_path / "My note.txt"
    path.write_text("One document.\nTwo lines.\n", encoding="utf-8")
    assert io.detect_format(path).name == "text"
    (doc,) = io.load(path, split="file")
    assert (doc.id, doc.text) == ("My note", "One document.\nTwo lines.\n")
    assert text.loads("hello", doc_id="x", split="file") == [Document("x", [Passage(0, "hello")])]
    assert text.dumps([doc], split="file") == doc.text
    with pytest.raises(BiorelError, match="E124"):
        text.dumps([doc, doc], split="file")
    out = tmp_path / "copy.txt"
    text.dump([doc], out, split="file")
    assert out.read_bytes() == path.read_bytes()


ABSTRACTS = "\ufeffAspirin and pain.\r\nAspirin reduces pain.\r\n\r\n \t\n\nCaffeine and sleep.\nCaffeine delays sleep.\n\n\n"


def test_a_file_splits_on_blank_lines_by_default(tmp_path):
    path = tmp_path / "abstracts.txt"
    path.write_bytes(ABSTRACTS.encode("utf-8"))
    docs = io.load(path)
    assert [(d.id, d.text) for d in docs] == [
        ("abstracts:1", "Aspirin and pain.\r\nAspirin reduces pain."),
        ("abstracts:2", "Caffeine and sleep.\nCaffeine delays sleep."),
    ]
    decoded = ABSTRACTS[1:]  # the BOM is not text
    for d, (block, line) in zip(docs, [(1, 1), (2, 6)]):
        where = d.metadata["text_block"]
        assert (where["file"], where["block"], where["line"]) == (str(path), block, line)
        assert decoded[where["offset"] : where["offset"] + len(d.text)] == d.text
    assert [d.id for d in text.loads("one\n\ntwo")] == ["1", "2"]  # a stream without a name: block numbers
    assert [d.id for d in text.loads("one\n\ntwo", doc_id="x")] == ["x:1", "x:2"]
    # the older spelling and the explicit modes
    with pytest.raises(BiorelError, match="E015"):  # in line mode a blank line is an empty document
        text.load(path, split="lines")
    diags = Diagnostics()
    assert [d.id for d in text.load(path, lines=True, lenient=True, diagnostics=diags)] == ["1", "2", "6", "7"]
    assert [(p.code, p.where.line) for p in diags] == [("E015", n) for n in (3, 4, 5, 8, 9)]
    (whole,) = text.load(path, split="file")
    assert whole.text == ABSTRACTS and whole.id == "abstracts"  # byte-exact, a BOM included


def test_split_is_reported_and_checked(tmp_path):
    path = tmp_path / "abstracts.txt"
    path.write_bytes(ABSTRACTS.encode("utf-8"))
    assert (
        text.split_note(path)
        == "raw text: 1 file(s) -> 2 document(s), one document per blank-line-separated block (reader option split=lines or split=file to change)"
    )
    assert text.split_note(path, options={"lines": True}).startswith(
        "raw text: 1 file(s) -> 9 document(s), one document per line"
    )  # blank lines too (E015)
    assert (
        text.split_note(tmp_path)
        == "raw text: 1 file(s) -> 1 document(s), one document per file (reader option split=blank-lines or split=lines to change)"
    )
    assert text.split_note(path, "pubtator") is None and text.split_note(tmp_path / "nope.txt") is None
    for bad in ({"split": "paragraphs"}, {"split": "file", "lines": True}):
        with pytest.raises(BiorelError, match="E005"):
            text.load(path, **bad)


def test_folder_blocks_and_a_bad_block(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes(b"first\n\nbad \xff byte\nsame block\n\nthird\n")
    (tmp_path / "empty.txt").write_bytes(b"\n \n")
    with pytest.raises(BiorelError) as e:
        io.load(tmp_path, split="blank-lines")
    assert e.value.code == "E020" and (e.value.where.file, e.value.where.line) == (str(tmp_path / "sub" / "b.txt"), 3)
    diags = Diagnostics()
    docs = io.load(tmp_path, split="blank-lines", lenient=True, diagnostics=diags)
    assert [(d.id, d.text) for d in docs] == [("sub/b:1", "first"), ("sub/b:3", "third")]  # block numbers stay those of the file
    assert [(p.code, p.where.line, p.action) for p in diags] == [("E020", 3, "block 2 skipped")]
    # a file of only whitespace holds no block (no document, no error); as one document it is E015
    assert text.load(tmp_path / "empty.txt") == []
    with pytest.raises(BiorelError, match="E015"):
        text.load(tmp_path / "empty.txt", split="file")


def test_blocks_write_back(tmp_path):
    docs = [Document("a", [Passage(0, "Title.\r\nBody.")]), Document("b", [Passage(0, "  indented")])]
    assert text.dumps(docs) == "Title.\r\nBody.\n\n  indented\n"
    assert [d.text for d in text.loads(text.dumps(docs))] == [d.text for d in docs]
    for bad in ("two\n\nblocks", "ends with a break\n", "\nstarts with one", "blank\n \nline", "cr\r"):
        with pytest.raises(BiorelError, match="E124"):
            text.dumps([Document("x", [Passage(0, bad)])])


def test_lines_and_id_column(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"first doc\r\nsecond\tdoc\n")
    assert [(d.id, d.text) for d in text.load(path, lines=True)] == [("1", "first doc"), ("2", "second\tdoc")]
    assert [(d.id, d.text) for d in text.load(path, id_column=True, lenient=True)] == [("second", "doc")]
    docs = [Document("p1", [Passage(0, "alpha beta")]), Document("p2", [Passage(0, "gamma")])]
    assert text.dumps(docs, id_column=True) == "p1\talpha beta\np2\tgamma\n"
    assert text.dumps(docs, lines=True) == "alpha beta\ngamma\n"
    assert text.loads(text.dumps(docs, id_column=True), id_column=True) == docs
    # lines of the files of a folder are told apart by the file id
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "x.txt").write_text("one\ntwo\n", encoding="utf-8")
    assert [d.id for d in text.load(tmp_path / "more", lines=True)] == ["x:1", "x:2"]
    bad = [Document("p3", [Passage(0, "two\nlines")])]
    with pytest.raises(BiorelError, match="E124"):
        text.dumps(bad, lines=True)


def test_empty_file_is_e015_strict_and_reported_lenient(tmp_path):
    # a folder is read one document per file by default, so an empty file is an empty document
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n")
    (tmp_path / "ok.txt").write_bytes(b"text")
    with pytest.raises(BiorelError) as e:
        text.load(tmp_path)
    assert e.value.code == "E015" and e.value.where.file == str(tmp_path / "blank.txt")
    diags = Diagnostics()
    assert [d.id for d in text.load(tmp_path, lenient=True, diagnostics=diags)] == ["ok"]
    assert sorted((p.code, p.where.file) for p in diags) == [("E015", str(tmp_path / "blank.txt")), ("E015", str(tmp_path / "empty.txt"))]


def test_missing_path_and_unsafe_ids(tmp_path):
    with pytest.raises(BiorelError, match="E129"):
        text.load(tmp_path / "nope.txt")
    with pytest.raises(BiorelError, match="E124"):
        text.dump([Document("../escape", [Passage(0, "x")])], tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.from_regex(r"[a-z0-9_]{1,8}", fullmatch=True), st.text(alphabet="ab \t|é.", min_size=1).filter(str.strip)),
        min_size=1,
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_property_lines_round_trip(pairs):
    docs = [Document(i, [Passage(0, t)]) for i, t in pairs]
    assert text.loads(text.dumps(docs, id_column=True), id_column=True) == docs
    assert [d.text for d in text.loads(text.dumps(docs, lines=True), lines=True)] == [t for _, t in pairs]


_BLOCK_LINE = st.text(alphabet="ab \t|é.\r", min_size=1, max_size=12).filter(lambda t: t.strip() and not t.endswith("\r"))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(_BLOCK_LINE, min_size=1, max_size=3).map("\n".join), min_size=1, max_size=5))
def test_property_blocks_round_trip(blocks):
    docs = text.loads(text.dumps([Document(str(i), [Passage(0, b)]) for i, b in enumerate(blocks)]))
    assert [d.text for d in docs] == blocks
