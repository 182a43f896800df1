"""Raw text: documents with text and nothing else (``biorel.Text.v1``, alias ``text``).

Reading rules. The reader option ``split`` says where one document ends and
the next begins:

* ``split="blank-lines"`` (the default for a file or stream): one document per
  block of lines separated by one or more blank lines (lines that are empty or
  only whitespace), so a file of unrelated abstracts is never one document. A
  document's text is its block exactly: from the first character of its first
  line to the last character of its last line, inner line endings (LF or CRLF)
  kept, the block's final line ending and the blank lines around it not part of
  any document. The id is ``<file stem>:<n>`` (``<doc_id>:<n>`` when
  ``doc_id`` is given, ``<n>`` for a stream without a name), ``n`` the 1-based
  block number. ``metadata["text_block"]`` records where the block lies in the
  file: ``{"file", "block", "line", "offset"}`` (``line`` 1-based, ``offset``
  the character offset of the block in the file decoded as UTF-8, a leading BOM
  dropped), so ``file_text[offset:offset + len(text)] == text``.
* ``split="file"``: one document per file, its whole text byte-exact (``\\r``
  and the last line ending kept); id ``doc_id`` if given, else the file stem
  (``<string>`` for a stream without a name).
* ``split="lines"`` (``lines=True`` is the older spelling): one document per
  line; ids are the 1-based line numbers (``"1"``, ``"2"``, ...; ``"<doc_id>:<n>"``
  when ``doc_id`` is given, and ``"<file id>:<n>"`` for the files of a folder).
  ``id_column=True`` (implies ``lines``): each line is ``id<TAB>text`` (split at
  the first tab; no tab is error E128). The line ending is removed and nothing
  else.
* **A folder**: its ``*.txt`` files below it (sorted, hidden files and folders
  skipped), each read with ``split`` -- whose default for a folder is
  ``"file"``, one document per file, the id the file's path relative to the
  folder without ``.txt`` (``a/b.txt`` -> ``a/b``); with ``split="blank-lines"``
  the blocks of ``a/b.txt`` are ``a/b:1``, ``a/b:2``, ...
* Each document has one passage at offset 0 (type ``""``).
* A document with no text, or only whitespace (an empty file with
  ``split="file"``, an empty line in line mode) is error E015 in strict mode;
  lenient mode reports and skips it. A file of only whitespace holds no block,
  so with ``split="blank-lines"`` it gives no document (``biorel validate`` and
  ``convert`` say so as a warning). Invalid UTF-8 is E020 (lenient: that file,
  block or line is reported and skipped).
* :func:`split_note` says in one line how a source is split and into how many
  documents (what ``biorel convert`` and ``extract`` print).

Writing mirrors reading: to a folder one ``<id>.txt`` per document; to a path
ending in ``.txt`` (or a stream) with ``split="blank-lines"`` (the default) one
block per document, a blank line between two; ``split="file"`` the text of
exactly one document; ``split="lines"`` (or ``lines=True``) one line per
document (``id_column=True``: ``id<TAB>text``). Annotations are not written.
Text the chosen layout cannot hold (a line break in line mode; a blank line, or
a leading or trailing line break, in a block) and unsafe ids (absolute,
``..``) are error E124.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO
from collections.abc import Iterable, Iterator

from ..errors import BiorelError, Diagnostics, FormatError, SourceLocation, error
from ..registry import registry
from ..types import Document, Passage
from .base import Format, JsonLikeAPI, RawDocument, Source, iter_decoded_lines, json_like, read_text, report_or_raise, source_name

FMT = "text"
SPLITS = ("blank-lines", "lines", "file")
#: the metadata key of a block's place in its file (``split="blank-lines"``)
BLOCK_KEY = "text_block"


def _doc(doc_id: str, text: str, metadata: dict | None = None) -> Document:
    return Document(id=doc_id, passages=[Passage(0, text)], metadata=metadata or {})


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


def _is_dir(source: Source) -> bool:
    return isinstance(source, (str, os.PathLike)) and Path(source).is_dir()


def resolve_split(source: Source, split: str | None = None, *, lines: bool = False, id_column: bool = False) -> str:
    """The split mode a read uses: ``split`` if given, ``"lines"`` for the older
    ``lines=True``/``id_column=True``, else ``"file"`` for a folder and
    ``"blank-lines"`` for a file or stream. Unknown values and contradictions
    are E005."""
    if split is not None and split not in SPLITS:
        raise error("E005", kind="raw-text reader", option="split", value=split, reason=f"expected one of {', '.join(SPLITS)}")
    if lines or id_column:
        if split not in (None, "lines"):
            raise error(
                "E005",
                kind="raw-text reader",
                option="split",
                value=split,
                reason="lines=True and id_column=True read one document per line (split='lines')",
            )
        return "lines"
    if split is not None:
        return split
    return "file" if _is_dir(source) else "blank-lines"


def _raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    split: str | None = None,
    lines: bool = False,
    id_column: bool = False,
    doc_id: str | None = None,
) -> Iterator[RawDocument]:
    mode = resolve_split(source, split, lines=lines, id_column=id_column)
    if _is_dir(source):
        root = Path(source)
        for path in folder_files(root, ".txt"):
            yield from _raw(path, lenient=lenient, diagnostics=diagnostics, split=mode, id_column=id_column, doc_id=relative_id(root, path, ".txt"))
        return
    if isinstance(source, (str, os.PathLike)) and not Path(source).exists():
        raise error("E129", path=str(source), fmt=FMT, reason="no such file or folder")
    if mode == "lines":
        yield from _raw_lines(
            source, lenient=lenient, diagnostics=diagnostics, id_column=id_column, prefix=f"{doc_id}:" if doc_id is not None else ""
        )
    elif mode == "blank-lines":
        yield from _raw_blocks(source, lenient=lenient, diagnostics=diagnostics, base=_block_base(source, doc_id))
    else:
        yield from _raw_file(source, lenient=lenient, diagnostics=diagnostics, doc_id=doc_id)


def _raw_file(source: Source, *, lenient: bool, diagnostics: Diagnostics | None, doc_id: str | None) -> Iterator[RawDocument]:
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


# ---- blank-line blocks -------------------------------------------------------


def _block_base(source: Source, doc_id: str | None) -> str:
    """What a block id starts with: ``doc_id``, the file stem, or nothing for a
    stream without a name."""
    if doc_id is not None:
        return doc_id
    name = source_name(source)
    return "" if name.startswith("<") else PurePosixPath(name).stem


def _strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith("\n") else line


@dataclass(slots=True)
class Block:
    """One blank-line-separated block of a file: where it starts and its text."""

    number: int
    line: int
    offset: int
    text: str
    error: FormatError | None = None


def iter_blocks(source: Source) -> Iterator[Block]:
    """The blocks of ``source`` in order. A block that holds an undecodable line
    comes with that line's E020 (its text decoded with U+FFFD)."""
    parts: list[str] = []
    first_line = first_offset = 0
    bad: FormatError | None = None
    offset = number = 0
    for where, line, err in iter_decoded_lines(source, keepends=True):
        if _strip_eol(line).strip():
            if not parts:
                first_line, first_offset = where.line, offset
            parts.append(line)
            bad = bad or err
        elif parts:
            number += 1
            yield Block(number, first_line, first_offset, _join(parts), bad)
            parts, bad = [], None
        offset += len(line)
    if parts:
        yield Block(number + 1, first_line, first_offset, _join(parts), bad)


def _join(parts: list[str]) -> str:
    return "".join(parts[:-1]) + _strip_eol(parts[-1])


def _raw_blocks(source: Source, *, lenient: bool, diagnostics: Diagnostics | None, base: str) -> Iterator[RawDocument]:
    name = source_name(source)
    for block in iter_blocks(source):
        if block.error is not None:
            _skip_or_raise(block.error, lenient, diagnostics, f"block {block.number} skipped")
            continue
        doc_id = f"{base}:{block.number}" if base else str(block.number)
        meta = {BLOCK_KEY: {"file": name, "block": block.number, "line": block.line, "offset": block.offset}}
        yield RawDocument(_doc(doc_id, block.text, meta), SourceLocation(name, block.line))


# ---- how a source was split (for the CLI) ------------------------------------------


def count_documents(source: str | os.PathLike, mode: str) -> tuple[int, int]:
    """``(files, documents)`` a read of ``source`` with split ``mode`` gives,
    counted without building documents (E015 / E020 items included)."""
    files = folder_files(Path(source), ".txt") if _is_dir(source) else [Path(source)]
    docs = 0
    for f in files:
        if mode == "file":
            docs += 1
        elif mode == "lines":
            docs += sum(1 for _ in iter_decoded_lines(f))
        else:
            docs += sum(1 for _ in iter_blocks(f))
    return len(files), docs


_HOW = {
    "blank-lines": "one document per blank-line-separated block",
    "lines": "one document per line",
    "file": "one document per file",
}


def split_note(source: str | os.PathLike, format: str | None = None, options: dict | None = None) -> str | None:
    """One line saying how raw text is split into documents, e.g. ``raw text
    split on blank lines: 1 file -> 12 documents (one document per
    blank-line-separated block; reader option split=lines or split=file to
    change)``; ``None`` when ``source`` is not read as raw text (or cannot be
    read at all: the read itself reports that)."""
    from . import resolve_format

    options = dict(options or {})
    try:
        if resolve_format(source, format).name != FMT or not Path(source).exists():
            return None
        mode = resolve_split(source, options.get("split"), lines=bool(options.get("lines")), id_column=bool(options.get("id_column")))
        files, docs = count_documents(source, mode)
    except (BiorelError, OSError):
        return None
    others = " or ".join(f"split={m}" for m in SPLITS if m != mode)
    return f"raw text: {files} file(s) -> {docs} document(s), {_HOW[mode]} (reader option {others} to change)"


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


def _block(doc: Document) -> str:
    """The text of ``doc`` as one block, or E124 when reading it back on blank
    lines would not give the same text."""
    text = doc.text
    pieces = text.split("\n")
    if not text.strip() or any(not _strip_eol(p + "\n").strip() for p in pieces) or text.endswith("\r"):
        raise error(
            "E124",
            doc=doc.id,
            fmt=FMT,
            reason="its text is empty, holds a blank line, or starts or ends with a line break, which a blank-line-separated block cannot hold (use split='file' or a folder)",
        )
    return text


def _write_stream(docs: Iterable[Document], fh: TextIO, *, split: str | None = None, lines: bool = False, id_column: bool = False) -> int:
    mode = resolve_split(fh, split, lines=lines, id_column=id_column)
    n = 0
    if mode == "lines":
        for n, doc in enumerate(docs, start=1):  # noqa: B007 (n is the count returned)
            fh.write(_line(doc, id_column))
        return n
    if mode == "blank-lines":
        for n, doc in enumerate(docs, start=1):
            fh.write(("\n" if n > 1 else "") + _block(doc) + "\n")
        return n
    docs = list(docs)
    if len(docs) != 1:
        raise error(
            "E124",
            doc=", ".join(d.id for d in docs[:3]) or "(none)",
            fmt=FMT,
            reason=f"split='file': one file holds exactly one document; got {len(docs)} (write to a folder, or use split='blank-lines' or 'lines')",
        )
    fh.write(docs[0].text)
    return 1


_base = json_like(_raw, _write_stream, fmt=FMT)


def dump(
    docs: Iterable[Document], target: str | os.PathLike | TextIO, *, split: str | None = None, lines: bool = False, id_column: bool = False
) -> int:
    """Write to a folder (one ``<id>.txt`` each), or to a ``.txt`` path / stream:
    one block per document (``split="blank-lines"``, the default), exactly one
    document (``split="file"``), or one per line (``split="lines"``)."""
    if isinstance(target, (str, os.PathLike)) and not (lines or id_column or split) and not str(target).lower().endswith(".txt"):
        return write_folder(docs, target)
    return _base.dump(docs, target, split=split, lines=lines, id_column=id_column)


iterparse, load, loads, dumps = _base.iterparse, _base.load, _base.loads, _base.dumps
_api = JsonLikeAPI(iterparse, load, loads, dump, dumps)

registry.formats.register(
    "biorel.Text.v1",
    Format(
        "text",
        _api,
        extensions=(".txt",),
        directory=True,
        description="raw text: one document per blank-line-separated block (split=blank-lines), per line (split=lines) or per file (split=file; a folder's default)",
    ),
    aliases=("text",),
)
