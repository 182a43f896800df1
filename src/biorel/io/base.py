"""Shared machinery of the format subpackages.

A format module implements two things:

* ``_raw(source, **options) -> Iterator[RawDocument]``: parse the source and yield
  documents with where each came from (file, line or XML/JSON path, and a
  location per item id where the format knows it). Syntax errors raise
  :class:`~biorel.errors.FormatError` with the location; in lenient mode a reader
  that can skip a bad record reports it to ``diagnostics`` and goes on.
* ``_write(docs, fp, **options) -> int``: write documents to a text stream.

:func:`json_like` then builds the module's public ``iterparse/load/loads/dump/dumps``
with validation (:mod:`biorel.validate`) and duplicate-id checks applied the same
way for every format, and :class:`Format` registers it.
"""

from __future__ import annotations

import inspect
import io
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TextIO
from collections.abc import Callable, Iterable, Iterator

from ..errors import BiorelError, Diagnostics, FormatError, Problem, SourceLocation, error
from ..types import Document
from ..validate import check_document, repair_document

Source = str | os.PathLike | IO[str] | IO[bytes]


# ---------------------------------------------------------------------------
# raise or report: the one rule every reader follows for a bad item
# ---------------------------------------------------------------------------


class BiorelWarning(UserWarning):
    """What a lenient read reports when the caller gave no :class:`Diagnostics`."""


class WarningDiagnostics(Diagnostics):
    """The collector a lenient read uses when the caller passed none: every
    problem is kept (``.problems``) *and* issued as a :class:`BiorelWarning`, so
    nothing a lenient read skips goes unreported."""

    def add(self, err: BiorelError, action: str = "skipped") -> None:
        super().add(err, action)
        _warn(self.problems[-1])

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.problems.append(p)
            _warn(p)


def _warn(problem: Problem) -> None:
    warnings.warn(str(problem), BiorelWarning, stacklevel=4)


def ensure_diagnostics(lenient: bool, diagnostics: Diagnostics | None) -> Diagnostics | None:
    """``diagnostics`` itself, or, for a lenient read without one, a fresh
    :class:`WarningDiagnostics` (strict reads need none: they raise)."""
    if diagnostics is None and lenient:
        return WarningDiagnostics()
    return diagnostics


def report_or_raise(err: BiorelError, action: str = "skipped", *, lenient: bool, diagnostics: Diagnostics | None) -> None:
    """The shared rule for a bad input item: strict mode raises ``err``; lenient
    mode reports it with what was done about it (``action``: "line skipped",
    "annotation skipped", ...) to ``diagnostics``, or as a
    :class:`BiorelWarning` when there is none. Never silent."""
    if not lenient:
        raise err
    (diagnostics if diagnostics is not None else WarningDiagnostics()).add(err, action)


@dataclass(slots=True)
class Reporter:
    """:func:`report_or_raise` bound to one read: ``report = Reporter(lenient,
    diagnostics); report(err, "line skipped")``. ``report.diagnostics`` is the
    collector in use (a :class:`WarningDiagnostics` for a lenient read given
    none)."""

    lenient: bool = False
    diagnostics: Diagnostics | None = None

    def __post_init__(self) -> None:
        self.diagnostics = ensure_diagnostics(self.lenient, self.diagnostics)

    def __call__(self, err: BiorelError, action: str = "skipped") -> None:
        report_or_raise(err, action, lenient=self.lenient, diagnostics=self.diagnostics)

    skip = __call__


@dataclass(slots=True)
class RawDocument:
    doc: Document
    where: SourceLocation
    item_where: dict[str, SourceLocation] = field(default_factory=dict)


def source_name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return str(getattr(source, "name", "<string>"))


def describe_source(source: Any) -> str:
    """What a message calls a source: a path, the file name of a stream opened
    on a file, or the kind of stream when it has no file name (a ``StringIO``),
    never a bare ``<string>``."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    name = getattr(source, "name", None)
    if isinstance(name, (str, os.PathLike)) and str(name):
        return str(name)
    kind = type(source).__name__
    return f"<{kind} stream without a file name>" if name is None else f"<{kind} stream on file descriptor {name}>"


@contextmanager
def open_binary(source: Source):
    """Yield a binary stream for a path or a (text or binary) file object."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield fh
    elif isinstance(source, io.TextIOBase) or (hasattr(source, "read") and isinstance(getattr(source, "encoding", None), str)):
        # A text stream (StringIO for loads, or an open text file): re-encode
        # lazily so line numbers and decoding errors are reported the same way.
        yield _TextAsBytes(source)
    else:
        yield source


class _TextAsBytes(io.RawIOBase):
    def __init__(self, fh: TextIO):
        self._fh = fh
        self.name = getattr(fh, "name", "<string>")

    def readable(self) -> bool:
        return True

    def __iter__(self):
        for line in self._fh:
            yield line.encode("utf-8", "surrogatepass")

    def readinto(self, b):  # pragma: no cover - only used by readers that read blocks
        data = self._fh.read(len(b) // 4 or 1).encode("utf-8", "surrogatepass")
        b[: len(data)] = data
        return len(data)


def iter_decoded_lines(source: Source, *, keepends: bool = False) -> Iterator[tuple[SourceLocation, str, FormatError | None]]:
    """Yield ``(location, line, error)`` for every line of ``source``.

    The line is decoded as UTF-8 (a leading BOM dropped) and its line ending
    (LF or CRLF) removed unless ``keepends`` (what :mod:`csv` needs). A line that
    is not valid UTF-8 comes back decoded with U+FFFD together with its E020
    error naming file, line and byte offset, so that a reader can decide whether
    to raise, skip the line, or skip the record that holds it. A lone CR (old Mac
    line ending) is kept as text."""
    name = source_name(source)
    with open_binary(source) as fh:
        offset = 0
        for lineno, raw in enumerate(fh, start=1):
            start, offset = offset, offset + len(raw)
            err = None
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                err = error("E020", where=SourceLocation(name, lineno, offset=start + e.start), byte=e.start, reason=e.reason)
                line = raw.decode("utf-8", "replace")
            if lineno == 1 and line.startswith("\ufeff"):
                line = line[1:]
            if not keepends and line.endswith("\n"):
                line = line[:-2] if line.endswith("\r\n") else line[:-1]
            yield SourceLocation(name, lineno), line, err


def iter_lines(
    source: Source, *, fmt: str = "", keepends: bool = False, lenient: bool = False, diagnostics: Diagnostics | None = None
) -> Iterator[tuple[SourceLocation, str]]:
    """Yield ``(location, line)`` (see :func:`iter_decoded_lines`). Invalid UTF-8
    raises E020; in lenient mode the line is reported to ``diagnostics`` and
    skipped."""
    for where, line, err in iter_decoded_lines(source, keepends=keepends):
        if err is not None:
            report_or_raise(err, "line skipped", lenient=lenient, diagnostics=diagnostics)
            continue
        yield where, line


def read_text(source: Source) -> tuple[str, str]:
    """Read a whole (small) text source strictly as UTF-8, keeping line endings
    byte-exact (brat offsets count ``\\r``). Returns ``(name, text)``."""
    name = source_name(source)
    with open_binary(source) as fh:
        data = fh.read() if not isinstance(fh, _TextAsBytes) else b"".join(fh)
    if isinstance(data, str):
        return name, data
    try:
        return name, data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise error("E020", where=SourceLocation(name, line, offset=e.start), byte=e.start, reason=e.reason) from None


def checked(
    raws: Iterable[RawDocument],
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    require_text: bool = True,
    check_duplicates: bool = True,
) -> Iterator[Document]:
    """Validate a stream of parsed documents.

    Strict mode raises the first violation (a :class:`ValidationError` with its
    location). Lenient mode repairs what it can, skips what it cannot, and
    reports every dropped item to ``diagnostics`` with its reason.
    """
    diagnostics = ensure_diagnostics(lenient, diagnostics)
    # Document id -> ordinal in this source: the duplicate-id check is the only
    # state that grows with the corpus (one short string and one int a document).
    seen: dict[str, int] = {}
    ordinal = 0
    for raw in raws:
        doc = raw.doc
        if check_duplicates:
            ordinal += 1
            first = seen.get(doc.id)
            if first is not None:
                err = error("E016", where=raw.where, doc=doc.id, first=f"document #{first} of this source")
                if not lenient:
                    raise err
                diagnostics.add(err, "document skipped")
                continue
            seen[doc.id] = ordinal
        violations = check_document(doc, where=raw.where, item_where=raw.item_where, require_text=require_text)
        if violations:
            if not lenient:
                raise violations[0].error
            for v in violations:
                diagnostics.add(v.error, f"{v.kind} skipped" if v.kind not in ("document", "passage") else "document skipped")
            before = {r.id for r in doc.relations} | {r.id for r in doc.nary_relations}
            repaired = repair_document(doc, violations)
            if repaired is None:
                continue
            dropped_rel = (
                before
                - {r.id for r in repaired.relations}
                - {r.id for r in repaired.nary_relations}
                - {v.item_id for v in violations if v.kind == "relation"}
            )
            diagnostics.extend(
                Problem(
                    "E014",
                    raw.item_where.get(rid, raw.where),
                    f"relation '{rid}' of document '{doc.id}' lost an argument that was skipped",
                    "relation skipped",
                )
                for rid in sorted(dropped_rel)
            )
            doc = repaired
            # a repair can leave nothing (a text-less document whose annotations were all skipped)
            left = check_document(doc, where=raw.where, item_where=raw.item_where, require_text=require_text)
            if left:
                for v in left:
                    diagnostics.add(v.error, "document skipped")
                continue
        yield doc


Writer = Callable[[Iterable[Document], TextIO], int]
RawReader = Callable[..., Iterator[RawDocument]]


@dataclass(frozen=True)
class JsonLikeAPI:
    iterparse: Callable[..., Iterator[Document]]
    load: Callable[..., list[Document]]
    loads: Callable[..., list[Document]]
    dump: Callable[..., int]
    dumps: Callable[..., str]


def is_blank_source(source: Source) -> bool:
    """A path to a file, or a ``StringIO``, that holds only whitespace."""
    from .sniff import is_blank

    if isinstance(source, (str, os.PathLike)):
        return Path(source).is_file() and is_blank(source)
    if isinstance(source, io.StringIO):
        return not source.getvalue()[source.tell() :].strip()
    return False


def option_names(func: Callable | None, skip: int) -> tuple[str, ...] | None:
    """The keyword options ``func`` takes after its first ``skip`` parameters
    (``None``: it takes any)."""
    if func is None:
        return ()
    params = list(inspect.signature(func).parameters.values())
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params[skip:])


def check_options(options: dict[str, Any], valid: tuple[str, ...] | None, what: str) -> None:
    """E005 for an option ``what`` (``"pubtator reader"``) does not take, instead
    of a ``TypeError`` from deep inside a read or write."""
    if valid is None:
        return
    for key in options:
        if key not in valid:
            raise error(
                "E005",
                kind=what,
                option=key,
                value=options[key],
                reason=f"not an option of the {what}; its options are: {', '.join(valid) or 'none'}",
            )


def json_like(
    raw_reader: RawReader | None, writer: Writer | None, *, require_text: bool = True, fmt: str = "", blank_is_empty: bool = False
) -> JsonLikeAPI:
    """Build a format module's ``iterparse/load/loads/dump/dumps``.
    ``blank_is_empty``: a file (or string) of only whitespace holds no
    documents, for formats whose syntax would otherwise call it broken (an
    empty JSON or XML file, a table without a header)."""
    read_options, write_options = option_names(raw_reader, 1), option_names(writer, 2)

    def iterparse(
        source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None, validate: bool = True, **options
    ) -> Iterator[Document]:
        if raw_reader is None:
            raise error("E004", name=fmt, action="read")
        check_options(options, read_options, f"{fmt} reader")
        if blank_is_empty and is_blank_source(source):
            return iter(())
        diagnostics = ensure_diagnostics(lenient, diagnostics)  # one collector for the reader and the checks
        raws = raw_reader(source, lenient=lenient, diagnostics=diagnostics, **options)
        if not validate:
            return (r.doc for r in raws)
        return checked(raws, lenient=lenient, diagnostics=diagnostics, require_text=require_text)

    def load(source: Source, **kw) -> list[Document]:
        return list(iterparse(source, **kw))

    def loads(text: str, **kw) -> list[Document]:
        return list(iterparse(io.StringIO(text), **kw))

    def dump(docs: Iterable[Document], target: str | os.PathLike | TextIO, **options) -> int:
        if writer is None:
            raise error("E004", name=fmt, action="write")
        check_options(options, write_options, f"{fmt} writer")
        if isinstance(target, (str, os.PathLike)):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="") as fh:
                return writer(docs, fh, **options)
        return writer(docs, target, **options)

    def dumps(docs: Iterable[Document], **options) -> str:
        buf = io.StringIO(newline="")
        dump(docs, buf, **options)
        return buf.getvalue()

    return JsonLikeAPI(iterparse, load, loads, dump, dumps)


@dataclass(frozen=True)
class Format:
    """A registered format. ``extensions`` are matched case-insensitively
    against the end of a file name (``.bioc.xml`` beats ``.xml``). A format whose
    source is a folder (brat, one raw-text file per document) sets ``directory``.
    ``dump`` of a directory format writes into a folder."""

    name: str
    api: JsonLikeAPI
    extensions: tuple[str, ...] = ()
    directory: bool = False
    description: str = ""
    #: a cheap content check for ambiguous extensions (``.xml``, ``.json``, ``.txt``)
    sniff: Callable[[str], bool] | None = None
