"""What a source is: formats recognised by content (ABroad before the BioC JSON
fallback), E003 naming the real file or stream, empty files holding no
documents (E174 from ``biorel validate``, exit 0), unknown options (E005), and
the raw-text split note ``convert`` prints."""

from __future__ import annotations

import io as pyio
import json
import shutil

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.errors import BiorelError
from biorel.io import sniff
from biorel.types import Document, Passage

ABROAD = {
    "9514009-8": {"ArticleTitle": "Norterpene peroxides.", "AbstractText": " Two were isolated.", "chemicals": [], "organisms": [], "relations": []},
    "9514009-9": {"ArticleTitle": "Another one.", "chemicals": [], "organisms": [], "relations": []},
}


@pytest.mark.parametrize("name", ["x.json", "x.data", "x"])
def test_abroad_with_synthetic_keys_is_sniffed_before_the_bioc_fallback(tmp_path, name):
    path = tmp_path / name
    path.write_text(json.dumps(ABROAD, indent=4), encoding="utf-8")
    assert sniff.sniff_content(path) == "abroad"
    assert io.detect_format(path).name == "abroad"
    assert [d.id for d in io.load(path)] == ["9514009-8", "9514009-9"]


def test_json_formats_ask_their_own_sniff_with_bioc_json_last():
    names = [f.name for f in sniff.json_formats()]
    assert "abroad" in names and names[-1] == "bioc-json"


@pytest.mark.realdata
def test_real_synthetic_abroad_file_under_any_name(mirror, tmp_path):
    src = mirror / "abroad_re_lotus" / "examples-validation__sub_valid.json"
    want = io.load(src, "abroad")
    for name in ("copy.json", "copy.dat", "copy"):
        shutil.copy(src, tmp_path / name)
        assert io.detect_format(tmp_path / name).name == "abroad"
        assert io.load(tmp_path / name) == want


def test_e003_names_the_file_or_the_stream(tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(BiorelError) as e:
        io.load(binary)
    assert e.value.code == "E003" and str(binary) in str(e.value)
    for stream, kind in ((pyio.StringIO("hello"), "StringIO"), (pyio.BytesIO(b"hello"), "BytesIO")):
        with pytest.raises(BiorelError) as e:
            io.load(stream)
        assert e.value.code == "E003" and "<string>" not in str(e.value) and f"<{kind} stream without a file name>" in str(e.value)
    named = tmp_path / "notes.txt"
    named.write_text("one\n\ntwo\n", encoding="utf-8")
    with open(named, encoding="utf-8") as fh:  # a stream on a file: detected from that file
        assert [d.id for d in io.load(fh)] == ["notes:1", "notes:2"]


@pytest.mark.parametrize(
    "name", ["e.json", "e.xml", "e.bioc.json", "e.abroad.json", "e.lotus.tsv", "e.tsv", "e.txt", "e.jsonl", "e.conll", "e.pubtator", "e.unknown"]
)
@pytest.mark.parametrize("content", ["", "\n \r\n\t\n", "\ufeff"])
def test_an_empty_file_holds_no_documents_in_every_format(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert io.load(path) == []
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 0, r.output
    assert f"warning [E174] {path} holds no documents: the file is empty or holds only whitespace" in r.output
    assert "0 documents, no problems" in r.output


def test_validate_of_an_empty_folder_warns_e174_and_convert_warns_e130(tmp_path):
    (tmp_path / "empty").mkdir()
    r = CliRunner().invoke(app, ["validate", str(tmp_path / "empty"), "--format", "text"])
    assert r.exit_code == 0 and "warning [E174]" in r.output and "the folder has no files this format reads" in r.output
    r = CliRunner().invoke(app, ["convert", str(tmp_path / "empty"), str(tmp_path / "o.jsonl"), "--from", "text"])
    assert r.exit_code == 0 and "warning [E130]" in r.output and "wrote 0 documents" in r.output
    r = CliRunner().invoke(app, ["validate", str(tmp_path / "o.jsonl")])
    assert r.exit_code == 0 and "warning [E174]" in r.output


def test_a_broken_file_is_still_a_failure(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"documents": [', encoding="utf-8")
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 1 and "[E024]" in r.output and "E174" not in r.output


def test_unknown_reader_and_writer_options_are_e005():
    with pytest.raises(BiorelError) as e:
        io.get_format("pubtator").api.loads("", split="file")
    assert e.value.code == "E005" and "split" in str(e.value) and "unmentioned" in str(e.value)
    with pytest.raises(BiorelError) as e:
        io.dumps([Document("d", [Passage(0, "x")])], "jsonl", no_such_option=1)
    assert e.value.code == "E005"


def test_convert_prints_how_raw_text_was_split(tmp_path):
    src = tmp_path / "abstracts.txt"
    src.write_text("First abstract.\n\nSecond abstract.\n\nThird.\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["convert", str(src), str(tmp_path / "o.jsonl")])
    assert r.exit_code == 0, r.output
    assert "wrote 3 documents" in r.output and "raw text: 1 file(s) -> 3 document(s), one document per blank-line-separated block" in r.output
    assert [d.id for d in io.load(tmp_path / "o.jsonl")] == ["abstracts:1", "abstracts:2", "abstracts:3"]
    r = CliRunner().invoke(app, ["convert", str(src), str(tmp_path / "p.jsonl"), "-r", "split=file"])
    assert r.exit_code == 0 and "wrote 1 documents" in r.output and "one document per file" in r.output
    r = CliRunner().invoke(app, ["convert", str(tmp_path / "o.jsonl"), str(tmp_path / "q.bioc.json")])
    assert r.exit_code == 0 and "raw text" not in r.output
