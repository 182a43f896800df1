"""PubMed XML (``biorel.PubMedXML.v1``, alias ``pubmed-xml``): the baseline and
update files of PubMed (``pubmed25n0001.xml.gz``) and ``efetch`` output, read
as a stream. Read only.

Reading rules (``docs/formats-pubmed.md`` has the long form):

* **Streaming.** :func:`lxml.etree.iterparse` on the top-level
  ``<PubmedArticle>``/``<PubmedBookArticle>``/``<DeleteCitation>``/``<DeleteDocument>``
  elements; each is cleared with the elements before it once it is read, so
  memory stays flat. A gzip stream (told by its first two bytes, not its name)
  is decompressed as it is read, never loaded whole.
* **Document.** One per article: id = ``MedlineCitation/PMID`` (the article's
  own PMID, never one of its references'). Passages: the title (type
  ``title``, at offset 0), then one passage of type ``abstract`` per
  ``<AbstractText>``, each at the previous passage's end + 1 (PubTator's
  layout: document offsets are the offsets of title and sections joined by
  one space). A section's ``Label`` and ``NlmCategory`` go to the passage's
  ``infons["label"]``/``infons["nlm_category"]`` (only when given). The
  label is not copied into the text. An article without an abstract is a
  title-only document.
* **Inline markup** (``<i>``, ``<b>``, ``<u>``, ``<sup>``, ``<sub>``, MathML
  ...) is text, not structure: its characters stay, its tags go, offsets count
  the characters that remain. MathML ``<annotation>``/``<annotation-xml>``
  (an alternative TeX or content form of the same formula) is left out.
  Whitespace is kept exactly as the file has it (nothing collapsed or
  stripped).
* **Metadata** (``metadata["pubmed"]``): journal, ISO abbreviation, year,
  DOI, PMC id, languages, publication types, MeSH headings (a list of
  ``{descriptor, ui, major, qualifiers}``), keywords, PMID version, citation
  status, vernacular title, copyright, and other abstracts (``<OtherAbstract>``:
  translations, plain-language summaries; kept here, not as passages, so the
  text a model reads is the article's own abstract).
* **Deletions.** ``<DeleteCitation>``/``<DeleteDocument>`` (update files) give
  no documents; :func:`deleted_pmids` streams the PMIDs they list.
* **Errors.** Broken XML -> E023 with line and column (after the articles
  before it were yielded); invalid UTF-8 -> E020; a broken gzip stream ->
  E194; a root element other than ``<PubmedArticleSet>`` -> E190; an article
  without a PMID, or with an empty title and no abstract -> E191 naming file,
  line and XML path. Lenient mode reports E191 and skips the article; E020,
  E023 and E194 are reported and end the read.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from lxml import etree

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document, Passage
from .base import Format, RawDocument, Reporter, Source, json_like, source_name
from .bioc._io import EncodedText, find_bad_utf8, is_text

FMT = "PubMed XML"
ROOT = "PubmedArticleSet"
ARTICLES = ("PubmedArticle", "PubmedBookArticle")
DELETIONS = ("DeleteCitation", "DeleteDocument")
TOP = ARTICLES + DELETIONS
GZIP_MAGIC = b"\x1f\x8b"
HEAD = 64 * 1024
MATHML = "http://www.w3.org/1998/Math/MathML"
#: MathML elements that repeat a formula in another notation (left out of the text)
MATHML_SKIP = frozenset({f"{{{MATHML}}}annotation", f"{{{MATHML}}}annotation-xml"})
_XML_SKIP = re.compile(rb"<\?.*?\?>|<!--.*?-->", re.S)
_DOCTYPE = re.compile(rb"<!DOCTYPE\s+([A-Za-z_][\w.\-:]*)")
_ROOT = re.compile(rb"<([A-Za-z_][\w.\-:]*)")


# ---------------------------------------------------------------------------
# input: paths, binary or text streams, gzip by content
# ---------------------------------------------------------------------------


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``fh``: the bytes read to look at a stream's
    start are given back to the parser. ``pending``: the error that ended the
    read of the head, raised once the head is consumed."""

    def __init__(self, head: bytes, fh: IO[bytes], pending: BaseException | None = None):
        self._head = head
        self._fh = fh
        self._pending = pending
        self.name = getattr(fh, "name", "<stream>")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self._pending is not None:
            raise self._pending
        data = self._fh.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            head, self._head = self._head, b""
            if self._pending is not None:
                raise self._pending
            return head + self._fh.read()
        return super().read(size)


@contextmanager
def open_decompressed(source: Source):
    """Yield ``(binary stream, was_text, gzipped)`` for a path or a stream; a
    gzip stream (first bytes ``1f 8b``) is decompressed as it is read."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as raw:
            gzipped = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            if gzipped:
                with gzip.GzipFile(filename=str(source), fileobj=raw, mode="rb") as fh:
                    yield fh, False, True
            else:
                yield raw, False, False
        return
    if is_text(source):
        yield EncodedText(source), True, False
        return
    magic = source.read(2)
    stream = io.BufferedReader(_Prefixed(magic, source))
    if magic == GZIP_MAGIC:
        with gzip.GzipFile(filename=source_name(source), fileobj=stream, mode="rb") as fh:
            yield fh, False, True
    else:
        yield stream, False, False


def read_head(path: str | os.PathLike, size: int = HEAD) -> bytes:
    """The first ``size`` bytes of a file, decompressed when it is gzip
    (``b""`` when it cannot be read)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(size)
    except OSError:
        return b""
    if data.startswith(GZIP_MAGIC):
        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, size)
        except zlib.error:
            return b""
    return data


def root_tag(head: bytes) -> str | None:
    """The root element an XML head names (its ``<!DOCTYPE``, else its first
    element), or ``None``."""
    body = _XML_SKIP.sub(b"", head.lstrip(b"\xef\xbb\xbf \t\r\n"))
    m = _DOCTYPE.match(body.lstrip()) or _ROOT.search(re.sub(rb"<!DOCTYPE[^>]*>", b"", body))
    return m.group(1).decode("utf-8", "replace") if m else None


def sniff(path: str) -> bool:
    """True when the file (plain or gzip) is a ``<PubmedArticleSet>``."""
    return root_tag(read_head(path)) == ROOT


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------


def _events(fh: IO[bytes], was_text: bool) -> etree.iterparse:
    return etree.iterparse(
        fh,
        events=("end",),
        tag=TOP,
        encoding="utf-8" if was_text else None,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )


@contextmanager
def _parsed(source: Source, report: Reporter):
    """Yield the top-level elements of ``source`` (each cleared, with what came
    before it, once the caller is done with it); decoding, XML and gzip
    errors are reported (lenient) or raised, and end the read."""
    name = source_name(source)
    with open_decompressed(source) as (fh, was_text, gzipped):
        stream = _checked_root(fh, name)

        def elements() -> Iterator[Any]:
            try:
                for _, el in _events(stream, was_text):
                    yield el
                    _release(el)
            except etree.XMLSyntaxError as e:
                report(_syntax_error(e, source, name, gzipped), "rest of file skipped")
            except (EOFError, OSError, zlib.error) as e:
                report(error("E194", where=SourceLocation(name), reason=str(e) or type(e).__name__), "rest of file skipped")

        yield elements()


def _checked_root(fh: IO[bytes], name: str) -> IO[bytes]:
    """``fh`` with its start given back, after E190 if the root is not
    ``<PubmedArticleSet>`` (checked before parsing, so a wrong file is not
    built up in memory)."""
    chunks: list[bytes] = []
    pending: BaseException | None = None
    size = 0
    while size < HEAD:
        try:
            chunk = fh.read(min(8192, HEAD - size))
        except (EOFError, OSError, zlib.error) as e:  # a broken gzip stream: reported when the parser gets there
            pending = e
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    head = b"".join(chunks)
    tag = root_tag(head)
    if tag is not None and tag != ROOT:
        line = head[: head.find(b"<" + tag.encode())].count(b"\n") + 1
        raise error("E190", where=SourceLocation(name, line, f"/{tag}"), reason=f"the root element is <{tag}>, not <{ROOT}>")
    return _Prefixed(head, fh, pending)


def _release(el) -> None:
    """Free a finished top-level element and everything before it."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _syntax_error(e: etree.XMLSyntaxError, source: Source, name: str, gzipped: bool) -> BiorelError:
    line = e.lineno if e.lineno else None
    column = e.position[1] if e.position else None
    msg = (e.msg or str(e)).strip()
    if "encoding" in msg.lower() or "utf-8" in msg.lower():
        located = None if gzipped else find_bad_utf8(source, FMT)
        return located or error("E020", where=SourceLocation(name, line), byte=column, reason=msg)
    return error("E023", where=SourceLocation(name, line, offset=column), reason=msg)


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    report = Reporter(lenient, diagnostics)
    name = source_name(source)
    counts = dict.fromkeys(TOP, 0)
    with _parsed(source, report) as elements:
        for el in elements:
            counts[el.tag] += 1
            if el.tag not in ARTICLES:
                continue
            where = SourceLocation(name, el.sourceline, f"/{ROOT}/{el.tag}[{counts[el.tag]}]")
            try:
                doc = article_document(el, where)
            except BiorelError as err:
                report(err, "article skipped")
                continue
            yield RawDocument(doc, where)


def deleted_pmids(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[str]:
    """The PMIDs that the ``<DeleteCitation>``/``<DeleteDocument>`` blocks of
    an update file list, in file order (streaming, like the reader)."""
    report = Reporter(lenient, diagnostics)
    with _parsed(source, report) as elements:
        for el in elements:
            if el.tag in DELETIONS:
                yield from (p.text.strip() for p in el.iterfind("PMID") if p.text and p.text.strip())


# ---- one article -> one document ---------------------------------------------


def element_text(el) -> str:
    """The characters of ``el`` with its inline tags dropped (MathML
    annotations left out), whitespace as in the file."""
    if len(el) == 0:
        return el.text or ""
    parts: list[str] = []
    _collect(el, parts)
    return "".join(parts)


def _collect(el, parts: list[str]) -> None:
    if el.text:
        parts.append(el.text)
    for child in el:
        if child.tag not in MATHML_SKIP:
            _collect(child, parts)
        if child.tail:
            parts.append(child.tail)


def _parts(el) -> tuple[Any, Any, Any]:
    """``(PMID element, article element with the title and abstract, the
    citation element)`` of a ``PubmedArticle`` or ``PubmedBookArticle``."""
    if el.tag == "PubmedArticle":
        cit = el.find("MedlineCitation")
        if cit is None:
            return None, None, None
        return cit.find("PMID"), cit.find("Article"), cit
    book = el.find("BookDocument")
    if book is None:
        return None, None, None
    return book.find("PMID"), book, book


def _title(article) -> Any:
    if article is None:
        return None
    title = article.find("ArticleTitle")
    if title is None and article.tag == "BookDocument":
        title = article.find("Book/BookTitle")
    return title


def _sections(article) -> list[tuple[str, dict[str, str]]]:
    """``(text, infons)`` of each ``<AbstractText>``."""
    abstract = None if article is None else article.find("Abstract")
    if abstract is None:
        return []
    out = []
    for sec in abstract.iterfind("AbstractText"):
        infons = {key: sec.get(attr) for key, attr in (("label", "Label"), ("nlm_category", "NlmCategory")) if sec.get(attr) is not None}
        out.append((element_text(sec), infons))
    return out


def article_document(el, where: SourceLocation) -> Document:
    """The document of one ``<PubmedArticle>``/``<PubmedBookArticle>`` (E191
    when it has no PMID, or neither a title nor an abstract)."""
    pmid_el, article, cit = _parts(el)
    pmid = (pmid_el.text or "").strip() if pmid_el is not None else ""
    if not pmid:
        raise error("E191", where=where, pmid="?", reason="it has no PMID")
    title_el = _title(article)
    title = element_text(title_el) if title_el is not None else ""
    sections = _sections(article)
    if not title.strip() and not any(text.strip() for text, _ in sections):
        at = SourceLocation(where.file, title_el.sourceline, where.path) if title_el is not None else where
        raise error("E191", where=at, pmid=pmid, reason="its title is empty and it has no abstract")
    passages = [Passage(0, title, "title")]
    for text, infons in sections:
        passages.append(Passage(passages[-1].end + 1, text, "abstract", infons))
    meta = article_metadata(el, pmid_el, article, cit)
    return Document(pmid, passages, metadata={"pubmed": meta})


# ---- metadata ----------------------------------------------------------------


def _text(el, path: str) -> str | None:
    found = None if el is None else el.find(path)
    return element_text(found).strip() if found is not None else None


def _texts(el, path: str) -> list[str]:
    return [] if el is None else [element_text(x).strip() for x in el.iterfind(path)]


def _year(journal) -> str | None:
    date = None if journal is None else journal.find("JournalIssue/PubDate")
    if date is None:
        return None
    year = _text(date, "Year")
    if year:
        return year
    m = re.search(r"\d{4}", _text(date, "MedlineDate") or "")
    return m.group(0) if m else None


def _article_ids(el) -> dict[str, str]:
    ids: dict[str, str] = {}
    for aid in el.iterfind("PubmedData/ArticleIdList/ArticleId"):
        kind = aid.get("IdType")
        if kind and aid.text and kind not in ids:
            ids[kind] = aid.text.strip()
    return ids


def _mesh(cit) -> list[dict[str, Any]]:
    out = []
    for mh in [] if cit is None else cit.iterfind("MeshHeadingList/MeshHeading"):
        d = mh.find("DescriptorName")
        if d is None:
            continue
        quals = [{"name": element_text(q).strip(), "ui": q.get("UI"), "major": q.get("MajorTopicYN") == "Y"} for q in mh.iterfind("QualifierName")]
        out.append({"descriptor": element_text(d).strip(), "ui": d.get("UI"), "major": d.get("MajorTopicYN") == "Y", "qualifiers": quals})
    return out


def _other_abstracts(cit) -> list[dict[str, Any]]:
    out = []
    for oa in [] if cit is None else cit.iterfind("OtherAbstract"):
        sections = [
            {"text": element_text(s), **{k: s.get(a) for k, a in (("label", "Label"), ("nlm_category", "NlmCategory")) if s.get(a)}}
            for s in oa.iterfind("AbstractText")
        ]
        out.append({"type": oa.get("Type"), "language": oa.get("Language"), "sections": sections})
    return out


def _doi(article, ids: dict[str, str]) -> str | None:
    for loc in [] if article is None else article.iterfind("ELocationID"):
        if loc.get("EIdType") == "doi" and loc.text:
            return loc.text.strip()
    return ids.get("doi")


def article_metadata(el, pmid_el, article, cit) -> dict[str, Any]:
    """What ``metadata["pubmed"]`` keeps of an article (see the module docstring)."""
    book = el.tag == "PubmedBookArticle"
    journal = None if article is None or book else article.find("Journal")
    ids = _article_ids(el) if not book else {}
    if book:
        for aid in el.iterfind("PubmedBookData/ArticleIdList/ArticleId"):
            if aid.get("IdType") and aid.text:
                ids.setdefault(aid.get("IdType"), aid.text.strip())
    return {
        "kind": "book" if book else "article",
        "version": pmid_el.get("Version"),
        "status": cit.get("Status") if cit is not None else None,
        "journal": _text(journal, "Title") if journal is not None else _text(article, "Book/BookTitle"),
        "iso_abbreviation": _text(journal, "ISOAbbreviation"),
        "year": _year(journal) if journal is not None else _text(article, "Book/PubDate/Year"),
        "doi": _doi(article, ids),
        "pmc": ids.get("pmc"),
        "languages": _texts(article, "Language"),
        "publication_types": _texts(article, "PublicationTypeList/PublicationType") or _texts(article, "PublicationType"),
        "mesh_headings": _mesh(cit),
        "keywords": _texts(cit, "KeywordList/Keyword"),
        "vernacular_title": _text(article, "VernacularTitle"),
        "copyright": _text(article, "Abstract/CopyrightInformation"),
        "other_abstracts": _other_abstracts(cit),
    }


# ---------------------------------------------------------------------------
# registration
# ---------------------------------------------------------------------------

_api = json_like(_raw, None, require_text=True, fmt="pubmed-xml", blank_is_empty=True)
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.PubMedXML.v1",
    Format(
        "pubmed-xml",
        _api,
        extensions=(".pubmed.xml", ".pubmed.xml.gz", ".xml.gz", ".xml"),
        description="PubMed XML (<PubmedArticleSet>, baseline/update files, .xml.gz streamed): title + abstract sections (read only)",
        sniff=sniff,
    ),
    aliases=("pubmed-xml",),
)

__all__ = [
    "article_document",
    "article_metadata",
    "deleted_pmids",
    "element_text",
    "open_decompressed",
    "read_head",
    "sniff",
    "iterparse",
    "load",
    "loads",
    "dump",
    "dumps",
]
