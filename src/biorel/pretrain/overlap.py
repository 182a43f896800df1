"""What keeps test text out of a pretraining corpus: normalised words, text
keys, PMIDs, and :class:`ExclusionIndex`, which says why a document overlaps a test
split (or ``None``).

Texts are compared as **normalised words**: lower-cased runs of letters and
digits (``"IL-2 (p < 0.05)"`` -> ``il 2 p 0 05``), so tokenised copies
(CoNLL, PURE), marked copies (ChemProt's ``<< >>``) and the original text of
the same sentence compare equal. A corpus document overlaps the test splits
when (first reason that applies):

1. ``test PMID``: its PMID is a test document's PMID;
2. ``test text``: its normalised text equals a test text;
3. ``shares a 13-word sequence``: it has a run of :data:`NGRAM` words in common
   with a test text (the contamination test of GPT-3's paper: a test text
   inside a corpus document, a corpus document inside a test text, or a test
   sentence copied into a longer abstract all share one);
4. ``inside a test text``: it has :data:`MIN_WORDS` to :data:`NGRAM` - 1 words
   and they occur, in order, inside a test text;
5. ``holds a short test text``: a test text of :data:`MIN_WORDS` to
   :data:`NGRAM` - 1 words occurs inside it.

Texts under :data:`MIN_WORDS` words are compared by equality only (a
five-word title such as ``"Materials and methods"`` would otherwise exclude
half a corpus).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..types import Document

#: words in common that make a corpus document a copy of test text
NGRAM = 13
#: shorter texts are compared by equality only
MIN_WORDS = 8
#: formats whose document ids are PMIDs (when they are all digits)
PMID_ID_FORMATS = frozenset({"pubtator", "bioc-xml", "bioc-json", "pubmed-xml", "medline", "pure"})
#: metadata keys that hold a document's PMID
PMID_KEYS = ("pmid", "PMID", "pubmed_id", "reference_pubmed_id")

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The normalised words of ``text`` (see the module doc)."""
    return _WORD.findall(text.lower())


def text_key(ws: list[str]) -> bytes:
    """A 16-byte key of normalised words (de-duplication, equality)."""
    return hashlib.blake2b(" ".join(ws).encode("utf-8"), digest_size=16).digest()


def ngram_hashes(ws: list[str], n: int = NGRAM) -> Iterator[int]:
    """Hashes of every run of ``n`` words (in-process only: ``hash`` is salted)."""
    for i in range(len(ws) - n + 1):
        yield hash(tuple(ws[i : i + n]))


def pmid_of(doc: Document, fmt: str | None) -> str | None:
    """The document's PMID: a metadata key of :data:`PMID_KEYS`, else its id
    when the format names documents by PMID (:data:`PMID_ID_FORMATS`)."""
    for key in PMID_KEYS:
        value = doc.metadata.get(key)
        if value is not None and str(value).strip().isdigit():
            return str(int(str(value).strip()))
    if fmt in PMID_ID_FORMATS and doc.id.isdigit():
        return str(int(doc.id))
    return None


@dataclass
class ExclusionIndex:
    """Every test text and PMID, indexed for :meth:`why`."""

    pmids: set[str] = field(default_factory=set)
    exact: set[bytes] = field(default_factory=set)
    ngrams: set[int] = field(default_factory=set)
    #: first MIN_WORDS words of a short test text -> the short texts starting so
    short: dict[int, list[tuple[str, ...]]] = field(default_factory=dict)
    #: every normalised test text, one per line, words between single spaces
    blob_parts: list[str] = field(default_factory=list)
    texts: int = 0
    short_texts: int = 0
    tiny_texts: int = 0
    _blob: str | None = None

    def add(self, doc: Document, fmt: str | None) -> None:
        pmid = pmid_of(doc, fmt)
        if pmid is not None:
            self.pmids.add(pmid)
        self.add_text(doc.text)

    def add_text(self, text: str) -> None:
        ws = words(text)
        if not ws:
            return
        self.texts += 1
        self._blob = None
        self.exact.add(text_key(ws))
        self.blob_parts.append(" " + " ".join(ws) + " ")
        if len(ws) >= NGRAM:
            self.ngrams.update(ngram_hashes(ws))
        elif len(ws) >= MIN_WORDS:
            self.short_texts += 1
            self.short.setdefault(hash(tuple(ws[:MIN_WORDS])), []).append(tuple(ws))
        else:
            self.tiny_texts += 1

    @property
    def blob(self) -> str:
        if self._blob is None:
            self._blob = "\n".join(self.blob_parts)
        return self._blob

    def why(self, ws: list[str], pmid: str | None, key: bytes | None = None) -> str | None:
        """Why a document with normalised words ``ws`` overlaps the test splits
        (the reasons of the module doc), or ``None``."""
        if pmid is not None and pmid in self.pmids:
            return "test PMID"
        if (key or text_key(ws)) in self.exact:
            return "test text"
        if len(ws) >= NGRAM and any(h in self.ngrams for h in ngram_hashes(ws)):
            return f"shares a {NGRAM}-word sequence"
        if MIN_WORDS <= len(ws) < NGRAM and (" " + " ".join(ws) + " ") in self.blob:
            return "inside a test text"
        if self._holds_short(ws):
            return "holds a short test text"
        return None

    def _holds_short(self, ws: list[str]) -> bool:
        if not self.short:
            return False
        for i in range(len(ws) - MIN_WORDS + 1):
            for cand in self.short.get(hash(tuple(ws[i : i + MIN_WORDS])), ()):
                if tuple(ws[i : i + len(cand)]) == cand:
                    return True
        return False

    def summary(self) -> dict[str, Any]:
        return {
            "texts": self.texts,
            "pmids": len(self.pmids),
            f"{NGRAM}-grams": len(self.ngrams),
            f"short texts ({MIN_WORDS}-{NGRAM - 1} words)": self.short_texts,
            f"texts under {MIN_WORDS} words (equality only)": self.tiny_texts,
        }


def index_documents(docs: Iterable[tuple[Document, str | None]], index: ExclusionIndex | None = None) -> ExclusionIndex:
    """Add ``(document, format)`` pairs to ``index`` (a new one by default)."""
    index = index if index is not None else ExclusionIndex()
    for doc, fmt in docs:
        index.add(doc, fmt)
    return index


__all__ = ["MIN_WORDS", "NGRAM", "PMID_ID_FORMATS", "ExclusionIndex", "index_documents", "ngram_hashes", "pmid_of", "text_key", "words"]
