"""MEDLINE text (``biorel.Medline.v1``, alias ``medline``): PubMed's "MEDLINE"
export and ``efetch rettype=medline`` output. Read only, streaming.

A record is a run of tagged fields, ``TAG - value`` with the tag left-aligned
in 4 columns and ``- `` in columns 5-6 (``PMID- 12230038``, ``TI  - The
Bio* toolkits``); a field goes on over lines that begin with 6 spaces.
Records are separated by blank lines (a ``PMID-`` line also starts a new
record). Rules:

* **Values.** A field's lines are joined with one space after the spaces at
  the end of each line and at the start of continuation lines (the 6-column
  indent) are dropped (MEDLINE wraps text at about 80 columns; the line breaks are not
  part of the text). Nothing else is changed.
* **Document.** id = ``PMID``; passages: ``TI`` (type ``title``, offset 0),
  then ``AB`` (type ``abstract``, at the title's end + 1, PubTator's layout).
  A structured abstract is one passage here (MEDLINE inlines its section
  labels, ``BACKGROUND: ...``); a record without ``AB`` is title-only. A
  repeated ``TI`` or ``AB`` (not in PubMed's output) is joined with one space.
* **Metadata.** Every other field goes to ``metadata["medline"]``: tag ->
  list of values in file order (``{"MH": ["*Computational Biology", ...],
  "LA": ["eng"], ...}``), tags as written.
* **Errors.** A record without a PMID, or with neither a title nor an
  abstract -> E192; a line that is neither a field, a continuation nor blank
  (or a continuation with no field before it) -> E193; invalid UTF-8 -> E020.
  All name file and line; lenient mode reports them and skips the line
  (E193) or the record (E192, E020).
* gzip input (first bytes ``1f 8b``) is decompressed as it is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document, Passage
from .base import Format, RawDocument, Reporter, Source, iter_decoded_lines, json_like
from .pubmed import open_decompressed, read_head

FMT = "MEDLINE"
#: ``TAG - value``: a tag of 2-4 letters or digits, left-aligned in 4 columns, then ``- ``
_FIELD = re.compile(r"([A-Z][A-Z0-9]{1,3}) {0,2}-(?: (.*)|$)")
_CONTINUATION = "      "
#: the first line of a MEDLINE file (content sniffing)
SNIFF = re.compile(r"PMID- ?\d")


@dataclass
class _Record:
    where: SourceLocation
    fields: list[tuple[str, list[str]]] = field(default_factory=list)
    error: BiorelError | None = None


def _field_line(line: str) -> tuple[str, str] | None:
    """``(tag, value)`` of a field line, or ``None``."""
    if len(line) < 5 or line[4] != "-":
        return None
    m = _FIELD.fullmatch(line)
    if m is None or len(line[:4].rstrip()) != len(m.group(1)):
        return None
    return m.group(1), (m.group(2) or "")


def _records(source: Source, report: Reporter) -> Iterator[_Record]:
    """The records of ``source``, their fields' lines not yet joined."""
    with open_decompressed(source) as (fh, was_text, _):
        rec: _Record | None = None
        for where, line, err in iter_decoded_lines(source if was_text else fh):
            if not line.strip():
                if rec is not None:
                    yield rec
                rec = None
                continue
            parsed = _field_line(line)
            if parsed is not None and parsed[0] == "PMID" and rec is not None and rec.fields:
                yield rec
                rec = None
            if rec is None:
                rec = _Record(where)
            if err is not None and rec.error is None:
                rec.error = err
            if parsed is not None:
                rec.fields.append((parsed[0], [parsed[1]]))
            elif line.startswith(_CONTINUATION) and rec.fields:
                rec.fields[-1][1].append(line[len(_CONTINUATION) :])
            else:
                why = (
                    "a continuation line before any field"
                    if line.startswith(_CONTINUATION)
                    else f"not 'TAG - value' nor a 6-space continuation: {line[:40]!r}"
                )
                report(error("E193", where=where, reason=why), "line skipped")
        if rec is not None:
            yield rec


def join_value(lines: list[str]) -> str:
    """A field's value: its lines joined with one space, the spaces at the end
    of each line and at the start of continuation lines dropped (empty lines
    add nothing)."""
    pieces = [lines[0].rstrip(), *(ln.strip() for ln in lines[1:])]
    return " ".join(p for p in pieces if p)


def record_document(rec: _Record) -> Document:
    """The document of one record (E192 when it has no PMID, or neither a
    title nor an abstract)."""
    values: dict[str, list[str]] = {}
    for tag, lines in rec.fields:
        values.setdefault(tag, []).append(join_value(lines))
    pmid = " ".join(values.pop("PMID", [])).strip()
    if not pmid:
        raise error("E192", where=rec.where, pmid="?", reason="it has no PMID field")
    title = " ".join(values.pop("TI", []))
    abstract = values.pop("AB", None)
    if not title.strip() and not (abstract and " ".join(abstract).strip()):
        raise error("E192", where=rec.where, pmid=pmid, reason="it has neither a title (TI) nor an abstract (AB)")
    passages = [Passage(0, title, "title")]
    if abstract is not None:
        passages.append(Passage(len(title) + 1, " ".join(abstract), "abstract"))
    return Document(pmid, passages, metadata={"medline": values})


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    report = Reporter(lenient, diagnostics)
    for rec in _records(source, report):
        try:
            if rec.error is not None:
                raise rec.error
            doc = record_document(rec)
        except BiorelError as err:
            report(err, "record skipped")
            continue
        yield RawDocument(doc, rec.where)


def sniff(path: str) -> bool:
    """True when the first non-blank line (of the file, or of its gzip
    content) is a ``PMID-`` field."""
    head = read_head(path, 1 << 16).decode("utf-8", "replace").lstrip("\ufeff")
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    return bool(SNIFF.match(first))


_api = json_like(_raw, None, require_text=True, fmt="medline", blank_is_empty=True)
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.Medline.v1",
    Format(
        "medline",
        _api,
        extensions=(".medline", ".medline.txt", ".medline.gz", ".nbib", ".txt"),
        description="MEDLINE text (PMID- / TI  - / AB  - fields, efetch rettype=medline): title + abstract (read only)",
        sniff=sniff,
    ),
    aliases=("medline",),
)

__all__ = ["join_value", "record_document", "sniff", "iterparse", "load", "loads", "dump", "dumps"]
