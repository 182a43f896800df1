"""Raw text: documents with text and nothing else (``biorel.Text.v1``, alias ``text``).

Reading rules:

* **A folder**: one document per ``*.txt`` file below it (sorted, hidden files
  and folders skipped); the id is the file's path relative to the folder
  without ``.txt`` (``a/b.txt`` -> ``a/b``; a flat folder gives plain stems).
* **A file or stream**: one document, id ``doc_id`` if given, else the file
  stem (``<string>`` for a stream without a name).
* ``lines=True``: one document per line of the file; ids are the 1-based line
  numbers (``"1"``, ``"2"``, ...; ``"<doc_id>:<n>"`` when ``doc_id`` is given, and
  ``"<file id>:<n>"`` for the files of a folder). ``id_column=True`` (implies
  ``lines``): each line is ``id<TAB>text`` (split at the first tab; no tab is
  error E128).
* The text is kept exactly: a whole file is read byte-exact (``\\r`` kept); in
  line mode the line ending (LF or CRLF) is removed and nothing else.
* Each document has one passage at offset 0 (type ``""``).
* A document with no text, or only whitespace (an empty file, an empty line in
  line mode) is error E015 in strict mode; lenient mode reports and skips it.
  Invalid UTF-8 is E020 (lenient: that file or line is reported and skipped).

Writing mirrors reading: to a folder one ``<id>.txt`` per document; to a path
ending in ``.txt`` (or a stream) the text of exactly one document; with
``lines=True`` one line per document (``id_column=True``: ``id<TAB>text``).
Annotations are not written. Text a line cannot hold (line breaks in line
mode, a tab in an id) and unsafe ids (absolute, ``..``) are error E124.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator, TextIO

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document, Passage
from .base import Format, JsonLikeAPI, RawDocument, Source, iter_decoded_lines, json_like, read_text, source_name, report_or_raise

FMT = "text"


def _doc(doc_id: str, text: str) -> Document:
    return Document(id=doc_id, passages=[Passage(0, text)])


def folder_files(root: Path, suffix: str) -> list[Path]:
    """Files below ``root`` ending in ``suffix`` (sorted), skipping hidden names."""
    out = []
    for p in sorted(root.rglob(f"*{suffix}")):
        rel = p.relative_to(root)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            out.append(p)
    return out


def relative_id(root: Path, path: Path, suffix: str) -> str:
    rel = path.relative_to(root).as_posix()
    return rel[: -len(suffix)] if rel.endswith(suffix) else rel


def _skip_or_raise(err: BiorelError, lenient: bool, diagnostics: Diagnostics | None, action: str) -> None:
    report_or_raise(err, action, lenient=lenient, diagnostics=diagnostics)


def _raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    lines: bool = False,
    id_column: bool = False,
    doc_id: str | None = None,
) -> Iterator[RawDocument]:
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        root = Path(source)
        for path in folder_files(root, ".txt"):
            yield from _raw(path, lenient=lenient, diagnostics=diagnostics, lines=lines, id_column=id_column, doc_id=relative_id(root, path, ".txt"))
        return
    if isinstance(source, (str, os.PathLike)) and not Path(source).exists():
        raise error("E129", path=str(source), fmt=FMT, reason="no such file or folder")
    if lines or id_column:
        yield from _raw_lines(source, lenient=lenient, diagnostics=diagnostics, id_column=id_column, prefix=f"{doc_id}:" if doc_id is not None else "")
        return
    name = source_name(source)
    try:
        _, text = read_text(source)
    except BiorelError as err:
        _skip_or_raise(err, lenient, diagnostics, "document skipped")
        return
    yield RawDocument(_doc(doc_id if doc_id is not None else PurePosixPath(name).stem, text), SourceLocation(name))


def _raw_lines(source: Source, *, lenient: bool, diagnostics: Diagnostics | None, id_column: bool, prefix: str = "") -> Iterator[RawDocument]:

    for where, line, bad in iter_decoded_lines(source):
        if bad is not None:
            _skip_or_raise(bad, lenient, diagnostics, "line skipped")
            continue
        if id_column:
            if "\t" not in line:
                _skip_or_raise(error("E128", where=where, line=line[:80]), lenient, diagnostics, "line skipped")
                continue
            doc_id, text = line.split("\t", 1)
        else:
            doc_id, text = f"{prefix}{where.line}", line
        yield RawDocument(_doc(doc_id, text), where)


# ---- writing --------------------------------------------------------------


def _line(doc: Document, id_column: bool) -> str:
    text = doc.text
    if "\n" in text or "\r" in text:
        raise error("E124", doc=doc.id, fmt=FMT, reason="its text contains a line break, which line mode cannot hold")
    if id_column:
        if "\t" in doc.id or "\n" in doc.id or "\r" in doc.id:
            raise error("E124", doc=doc.id, fmt=FMT, reason="its id contains a tab or line break")
        return f"{doc.id}\t{text}\n"
    return text + "\n"


def _safe_relpath(doc: Document) -> PurePosixPath:
    rel = PurePosixPath(doc.id)
    if not doc.id or rel.is_absolute() or ".." in rel.parts or "\\" in doc.id or "\x00" in doc.id:
        raise error("E124", doc=doc.id, fmt=FMT, reason="its id is not a safe relative file name")
    return rel


def write_folder(docs: Iterable[Document], folder: str | os.PathLike, suffix: str = ".txt") -> int:
    n = 0
    root = Path(folder)
    for doc in docs:
        path = root / (str(_safe_relpath(doc)) + suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(doc.text)
        n += 1
    return n


def _write_stream(docs: Iterable[Document], fh: TextIO, *, lines: bool = False, id_column: bool = False) -> int:
    if lines or id_column:
        n = 0
        for doc in docs:
            fh.write(_line(doc, id_column))
            n += 1
        return n
    docs = list(docs)
    if len(docs) != 1:
        raise error("E124", doc=", ".join(d.id for d in docs[:3]) or "(none)", fmt=FMT, reason=f"one file holds exactly one document; got {len(docs)} (write to a folder or use lines=True)")
    fh.write(docs[0].text)
    return 1


_base = json_like(_raw, _write_stream, fmt=FMT)


def dump(docs: Iterable[Document], target: str | os.PathLike | TextIO, *, lines: bool = False, id_column: bool = False) -> int:
    """Write to a folder (one ``<id>.txt`` each), or to a ``.txt`` path / stream
    (one document, or one per line with ``lines=True``)."""
    if isinstance(target, (str, os.PathLike)) and not (lines or id_column) and not str(target).lower().endswith(".txt"):
        return write_folder(docs, target)
    return _base.dump(docs, target, lines=lines, id_column=id_column)


iterparse, load, loads, dumps = _base.iterparse, _base.load, _base.loads, _base.dumps
_api = JsonLikeAPI(iterparse, load, loads, dump, dumps)

registry.formats.register(
    "biorel.Text.v1",
    Format("text", _api, extensions=(".txt",), directory=True, description="raw text: one document per file in a folder, or per line (lines=True)"),
    aliases=("text",),
)
