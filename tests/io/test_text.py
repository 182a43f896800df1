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


def test_single_file_and_stream(tmp_path):
    path = tmp_path / "My note.txt"
    path.write_text("One document.\nTwo lines.\n", encoding="utf-8")
    assert io.detect_format(path).name == "text"
    (doc,) = io.load(path)
    assert (doc.id, doc.text) == ("My note", "One document.\nTwo lines.\n")
    assert text.loads("hello", doc_id="x") == [Document("x", [Passage(0, "hello")])]
    assert text.dumps([doc]) == doc.text
    with pytest.raises(BiorelError, match="E124"):
        text.dumps([doc, doc])
    out = tmp_path / "copy.txt"
    text.dump([doc], out)
    assert out.read_bytes() == path.read_bytes()


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
@given(st.lists(st.tuples(st.from_regex(r"[a-z0-9_]{1,8}", fullmatch=True), st.text(alphabet="ab \t|é.", min_size=1).filter(str.strip)), min_size=1, max_size=5, unique_by=lambda t: t[0]))
def test_property_lines_round_trip(pairs):
    docs = [Document(i, [Passage(0, t)]) for i, t in pairs]
    assert text.loads(text.dumps(docs, id_column=True), id_column=True) == docs
    assert [d.text for d in text.loads(text.dumps(docs, lines=True), lines=True)] == [t for _, t in pairs]
