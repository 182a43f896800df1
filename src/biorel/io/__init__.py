"""Reading and writing documents in every supported format.

Each format is a module (or subpackage) with the ``json``-like API
``iterparse/load/loads/dump/dumps`` and registers a :class:`~biorel.io.base.Format`
in ``registry.formats`` under a versioned name (``biorel.PubTator.v1``) and a short
alias (``pubtator``). The helpers here pick the format from a name or a file name::

    from biorel import io
    for doc in io.read("CDR_TestSet.PubTator.txt"):   # streaming, validated
        ...
    io.write(docs, "out.bioc.xml")
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from collections.abc import Iterable, Iterator

from ..errors import Diagnostics, error
from ..registry import registry
from ..types import Document
from .base import Format

#: the modules that register the built-in formats (imported on first use)
BUILTIN_FORMAT_MODULES = (
    "biorel.io.jsonl",
    "biorel.io.lotus",
    "biorel.io.abroad",
    "biorel.io.sentence_sets",
    "biorel.io.conll",
    "biorel.io.bc2",
    "biorel.io.pure",
    "biorel.io.pubtator",
    "biorel.io.brat",
    "biorel.io.text",
    "biorel.io.bioc.xml",
    "biorel.io.bioc.json",
    "biorel.io.pairs",
    "biorel.io.parquet",
    "biorel.io.pubmed",
    "biorel.io.medline",
)


def _load_builtins() -> None:
    for mod in BUILTIN_FORMAT_MODULES:
        importlib.import_module(mod)


_load_builtins()  # the registry imports biorel.io on its first look-up


def get_format(name: str) -> Format:
    return registry.formats.get(name)


def format_names() -> list[str]:
    """Short names of the registered formats."""
    return sorted({f.name for _, f in registry.formats.items()})


#: what an ambiguous or unknown extension means when writing (README, "Formats")
WRITE_DEFAULTS = {".json": "bioc-json", ".xml": "bioc-xml", ".txt": "pubtator", ".csv": "lotus"}
#: what a shared extension means when reading a file that no format's own
#: check claims: a ``.csv`` that is not a pairs table (``biorel pairs``) is
#: read as LOTUS, as it was before pairs tables were readable, so a broken
#: LOTUS table still gets LOTUS's errors; likewise an ``.xml`` file that is
#: neither a BioC collection nor a PubMed ``<PubmedArticleSet>`` is read as
#: BioC XML (its errors are BioC's, as before PubMed XML was readable)
READ_DEFAULTS = {".csv": "lotus", ".xml": "bioc-xml"}


def detect_format(path: str | os.PathLike, *, for_writing: bool = False) -> Format:
    """Pick a format for a path. A folder is a directory format (brat, or raw
    text files). A file that exists is recognised by its content
    (:func:`biorel.io.sniff.sniff_content`: BioC XML, BioC JSON collection /
    document / list, biorel JSONL, PURE, PubTator, raw text) when its
    extension is shared (``.json``, ``.txt``, ``.xml``) or unknown; a specific
    extension (``.pubtator``, ``.bioc.json``, ``.conll``) wins. A ``.csv`` is
    a pairs table when its header says so, else LOTUS (:data:`READ_DEFAULTS`).
    For writing (``for_writing`` or a file that does not exist yet) a shared
    extension means :data:`WRITE_DEFAULTS`."""
    from .base import describe_source
    from .sniff import is_blank, sniff_content

    if not isinstance(path, (str, os.PathLike)):
        path = describe_source(path)  # a stream: its file's name, or what kind of stream it is
    p = Path(path)
    formats = [f for _, f in registry.formats.items()]
    if p.is_dir() and not for_writing:
        for f in (f for f in formats if f.directory):
            if f.sniff is None or f.sniff(str(p)):
                return f
        raise error("E003", path=str(path), choices=", ".join(format_names()))
    name = p.name.lower()
    candidates = [
        (max(len(e) for e in f.extensions if name.endswith(e)), f) for f in formats if any(name.endswith(e) for e in f.extensions)
    ]  # a directory format's extensions name the single files it also reads (brat .ann, text .txt)
    candidates.sort(key=lambda t: -t[0])
    tied = [f for n, f in candidates if n == candidates[0][0]] if candidates else []
    if len(tied) == 1:
        return tied[0]
    readable = not for_writing and p.is_file()
    if readable:
        for f in tied:  # a format's own check first (LOTUS / sentence TSV headers, ABroad, BioC collections)
            if f.sniff is not None and f.sniff(str(p)):
                return f
        ext = p.suffix.lower()
        if ext in READ_DEFAULTS and any(f.name == READ_DEFAULTS[ext] for f in tied):
            return get_format(READ_DEFAULTS[ext])
        sniffed = sniff_content(p)
        if sniffed is not None and (not tied or any(f.name == sniffed for f in tied)):
            return get_format(sniffed)
        if sniffed is not None or not is_blank(p):
            tied = tied or []
            raise error("E003", path=str(path), choices=", ".join(f.name for f in tied) if tied else ", ".join(format_names()))
    ext = p.suffix.lower()
    if tied and ext in WRITE_DEFAULTS and any(f.name == WRITE_DEFAULTS[ext] for f in tied):
        return get_format(WRITE_DEFAULTS[ext])
    if readable and is_blank(p):  # holds no documents in any format: the readers give none (callers warn E130/E174)
        return tied[0] if tied else get_format("text")
    no_sniff = [f for f in tied if f.sniff is None]
    if len(no_sniff) == 1:
        return no_sniff[0]
    raise error("E003", path=str(path), choices=", ".join(f.name for f in tied) if tied else ", ".join(format_names()))


def resolve_format(path: str | os.PathLike, fmt: str | None) -> Format:
    return get_format(fmt) if fmt else detect_format(path)


def read(
    path: str | os.PathLike, format: str | None = None, *, lenient: bool = False, diagnostics: Diagnostics | None = None, **options
) -> Iterator[Document]:
    """Stream validated documents from ``path``."""
    return resolve_format(path, format).api.iterparse(path, lenient=lenient, diagnostics=diagnostics, **options)


def load(path: str | os.PathLike, format: str | None = None, **kw) -> list[Document]:
    return list(read(path, format, **kw))


def write(docs: Iterable[Document], path: str | os.PathLike, format: str | None = None, **options) -> int:
    """Write documents to ``path`` (streaming); returns the number written.

    The output is atomic and has one writer (:mod:`biorel.jobs`): it is
    written in a hidden staging folder beside ``path`` and moved in place only
    when every document was written, so a failure (a document the format
    cannot hold, a bad input line, ``kill -9``) leaves the old output or none,
    never a part; a second process writing the same ``path`` at the same time
    is refused (E050)."""
    from ..jobs import atomic_output, exclusive_lock

    fmt = get_format(format) if format else detect_format(path, for_writing=True)
    with exclusive_lock(path), atomic_output(path) as staged:
        return fmt.api.dump(docs, staged, **options)


def dump(docs: Iterable[Document], path: str | os.PathLike, format: str | None = None, **options) -> int:
    """Alias of :func:`write` (the ``json``-like name)."""
    return write(docs, path, format, **options)


def dumps(docs: Iterable[Document], format: str, **options) -> str:
    """The documents as text in ``format`` (single-file formats)."""
    return get_format(format).api.dumps(docs, **options)


__all__ = ["read", "load", "write", "dump", "dumps", "get_format", "detect_format", "format_names", "Format"]
