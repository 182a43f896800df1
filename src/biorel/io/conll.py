"""CoNLL-style BIO token files (``token<TAB>tag`` per line), as in the
``ncbi_disease/conll`` and ``bc2gm/conll`` releases.

Reading rules:

* One token per line; the token is the first tab-separated column and the tag
  the last (middle columns, e.g. POS tags, are ignored). A blank line ends a
  sentence. Lines starting with ``-DOCSTART-`` separate documents.
* Tags are ``O``, ``B-<type>`` or ``I-<type>``. With ``scheme="iob2"`` (default)
  an ``I-`` tag must continue a mention of the same type; one that does not is
  error E160 (lenient mode reports it and starts a new mention there). With
  ``scheme="iob1"`` such an ``I-`` tag simply starts a mention.
* Text: the tokens of a sentence joined by single spaces; each sentence is a
  passage of type ``sentence``. Original whitespace is not recorded by the
  format, so character offsets are those of this rebuilt text.
* Documents: ``group="sentence"`` (default) makes every sentence a document
  (ids ``<id_prefix>1``, ``<id_prefix>2``, ... in file order); ``group="docstart"``
  makes a document of the sentences between ``-DOCSTART-`` lines, passages one
  space apart (ids numbered the same way). The NCBI-disease and BC2GM CoNLL
  files have no ``-DOCSTART-`` lines, so their documents are sentences.
* Mentions get ids ``T1``, ``T2``, ... per document, the tag's type, no concept ids.

Writing: every passage is a sentence (``sentences="passage"``, default) or is
split with :func:`biorel.sentences.split_sentences` (``sentences="split"``).
Tokens are the whitespace-separated pieces of the text (``tokenizer="whitespace"``)
or words and single punctuation marks (``tokenizer="punct"``), in both cases cut
again at every mention boundary so that each mention covers whole tokens.
CoNLL cannot hold overlapping, nested or discontinuous mentions, nor a mention
that crosses a sentence: writing one is error E166, unless ``on_conflict="skip"``,
which leaves the later mention out and reports it to ``diagnostics``. Written
with ``group="docstart"``, each document is preceded by a ``-DOCSTART-`` line.
A document read from CoNLL is written back byte for byte.
"""

from __future__ import annotations

import re
from typing import TextIO
from collections.abc import Iterable, Iterator

from ..errors import Diagnostics, SourceLocation, error
from ..registry import registry
from ..sentences import split_sentences
from ..types import Document, Mention, Passage
from .base import Format, RawDocument, Source, iter_lines, json_like, report_or_raise

DOCSTART = "-DOCSTART-"
_TAG = re.compile(r"^(?:O|([BI])-(\S+))$")


class _Builder:
    """Accumulates the sentences and mentions of the document being read."""

    def __init__(self, doc_id: str, where: SourceLocation):
        self.doc = Document(id=doc_id)
        self.where = where
        self.item_where: dict[str, SourceLocation] = {}
        self.tokens: list[str] = []
        self.token_starts: list[int] = []
        self.open: tuple[str, int, int, SourceLocation] | None = None  # type, first token index, last token index
        self.pos = 0  # document offset where the current sentence starts
        self.n_mentions = 0

    def sentence_start(self) -> int:
        return self.pos + (1 if self.doc.passages else 0)

    def add_token(self, token: str) -> int:
        if self.tokens:
            offset = self.token_starts[-1] + len(self.tokens[-1]) + 1
        else:
            offset = self.sentence_start()
        self.tokens.append(token)
        self.token_starts.append(offset)
        return len(self.tokens) - 1

    def close_mention(self) -> None:
        if self.open is None:
            return
        typ, first, last, where = self.open
        self.open = None
        start = self.token_starts[first]
        end = self.token_starts[last] + len(self.tokens[last])
        self.n_mentions += 1
        mid = f"T{self.n_mentions}"
        self.doc.mentions.append(Mention(mid, ((start, end),), " ".join(self.tokens[first : last + 1]), typ))
        self.item_where[mid] = where

    def end_sentence(self) -> None:
        self.close_mention()
        if not self.tokens:
            return
        start = self.sentence_start()
        self.doc.passages.append(Passage(start, " ".join(self.tokens), "sentence"))
        self.pos = self.doc.passages[-1].end
        self.tokens, self.token_starts = [], []

    def has_content(self) -> bool:
        return bool(self.doc.passages or self.tokens)


def _raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    group: str = "sentence",
    scheme: str = "iob2",
    id_prefix: str = "s",
) -> Iterator[RawDocument]:
    if group not in ("sentence", "docstart"):
        raise error("E001", kind="CoNLL grouping", name=group, choices="sentence, docstart")
    if scheme not in ("iob2", "iob1"):
        raise error("E001", kind="BIO scheme", name=scheme, choices="iob2, iob1")
    count = 0
    builder: _Builder | None = None

    def finish() -> RawDocument | None:
        nonlocal builder
        if builder is None:
            return None
        builder.end_sentence()
        done, builder = builder, None
        if not done.doc.passages:
            return None
        return RawDocument(done.doc, done.where, done.item_where)

    for where, line in iter_lines(source, fmt="CoNLL", lenient=lenient, diagnostics=diagnostics):
        if line.startswith(DOCSTART):
            if (raw := finish()) is not None:
                yield raw
            continue
        if not line.strip():
            if builder is not None:
                builder.end_sentence()
                if group == "sentence" and (raw := finish()) is not None:
                    yield raw
            continue
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0] or cols[0] != cols[0].strip() or " " in cols[0]:
            err = error("E021", where=where, fmt="CoNLL", reason=f"expected 'token<TAB>tag' with a token free of spaces, got {line!r}")
            report_or_raise(err, "line skipped", lenient=lenient, diagnostics=diagnostics)
            continue
        if builder is None:
            count += 1
            builder = _Builder(f"{id_prefix}{count}", where)
        _add_tagged(builder, cols[0], cols[-1].strip(), where, scheme, lenient, diagnostics)
    if (raw := finish()) is not None:
        yield raw


def _add_tagged(b: _Builder, token: str, tag: str, where: SourceLocation, scheme: str, lenient: bool, diagnostics: Diagnostics | None) -> None:
    m = _TAG.match(tag)
    if m is None:
        err = error("E160", where=where, tag=tag, reason="expected O, B-<type> or I-<type>")
        report_or_raise(err, "tag read as O", lenient=lenient, diagnostics=diagnostics)
        b.close_mention()
        b.add_token(token)
        return
    prefix, typ = m.groups()
    idx = b.add_token(token)
    if prefix is None:
        b.close_mention()
    elif prefix == "I" and b.open is not None and b.open[0] == typ:
        b.open = (typ, b.open[1], idx, b.open[3])
    else:
        if prefix == "I" and scheme == "iob2":
            err = error("E160", where=where, tag=tag, reason="I- tag does not continue a mention of the same type (IOB2)")
            report_or_raise(err, "read as B-" + typ, lenient=lenient, diagnostics=diagnostics)
        b.close_mention()
        b.open = (typ, idx, idx, where)


# ---- writing -----------------------------------------------------------------

_PUNCT_TOKEN = re.compile(r"\w+|[^\w\s]")
_WS_TOKEN = re.compile(r"\S+")


def _tokens(text: str, offset: int, cuts: set[int], tokenizer: str) -> list[tuple[int, int]]:
    pattern = _PUNCT_TOKEN if tokenizer == "punct" else _WS_TOKEN
    out: list[tuple[int, int]] = []
    for m in pattern.finditer(text):
        s, e = m.start() + offset, m.end() + offset
        inner = sorted(c for c in cuts if s < c < e)
        for a, b in zip([s, *inner], [*inner, e]):
            out.append((a, b))
    return out


def _sentences(doc: Document, mode: str) -> list[tuple[int, str]]:
    """``(offset, text)`` of each sentence to write."""
    out: list[tuple[int, str]] = []
    for p in sorted(doc.passages, key=lambda p: p.offset):
        if mode == "split":
            out.extend((s, p.text[s - p.offset : e - p.offset]) for s, e in split_sentences(p.text, p.offset))
        else:
            out.append((p.offset, p.text))
    return out


def _conflict(reason: str, doc: Document, m: Mention, on_conflict: str, diagnostics: Diagnostics | None) -> None:
    err = error("E166", fmt="CoNLL", reason=f"document '{doc.id}' mention '{m.id}' {m.spans}: {reason}")
    report_or_raise(err, "mention left out of the CoNLL output", lenient=on_conflict == "skip", diagnostics=diagnostics)


def _usable_mentions(doc: Document, sentences: list[tuple[int, str]], on_conflict: str, diagnostics: Diagnostics | None) -> list[Mention]:
    kept: list[Mention] = []
    bounds = [(s, s + len(t)) for s, t in sentences]
    for m in sorted(doc.mentions, key=lambda m: (m.start, -m.end)):
        if len(m.spans) != 1:
            _conflict("discontinuous mentions cannot be written", doc, m, on_conflict, diagnostics)
        elif m.text != m.text.strip() or not m.text:
            _conflict("the mention starts or ends with whitespace", doc, m, on_conflict, diagnostics)
        elif any(ch.isspace() for ch in m.type) or not m.type:
            _conflict(f"mention type {m.type!r} is empty or has whitespace", doc, m, on_conflict, diagnostics)
        elif not any(s <= m.start and m.end <= e for s, e in bounds):
            _conflict("the mention crosses a sentence boundary", doc, m, on_conflict, diagnostics)
        elif kept and m.start < kept[-1].end:
            _conflict(f"overlaps mention '{kept[-1].id}'", doc, m, on_conflict, diagnostics)
        else:
            kept.append(m)
    return kept


def _write(
    docs: Iterable[Document],
    fh: TextIO,
    *,
    group: str = "sentence",
    sentences: str = "passage",
    tokenizer: str = "whitespace",
    on_conflict: str = "error",
    diagnostics: Diagnostics | None = None,
) -> int:
    n = 0
    for doc in docs:
        if not doc.text.strip():
            raise error("E166", fmt="CoNLL", reason=f"document '{doc.id}' has no text, and CoNLL holds only tokens (it would be lost)")
        sents = _sentences(doc, sentences)
        mentions = _usable_mentions(doc, sents, on_conflict, diagnostics)
        cuts = {c for m in mentions for c in (m.start, m.end)}
        starts = {m.start: m for m in mentions}
        if group == "docstart":
            fh.write(f"{DOCSTART}\tO\n\n")
        for offset, text in sents:
            toks = _tokens(text, offset, cuts, tokenizer)
            if not toks:
                continue
            current: Mention | None = None
            for s, e in toks:
                if current is not None and s >= current.end:
                    current = None
                if s in starts:
                    current = starts[s]
                    tag = f"B-{current.type}"
                else:
                    tag = f"I-{current.type}" if current is not None else "O"
                fh.write(f"{text[s - offset : e - offset]}\t{tag}\n")
            fh.write("\n")
        n += 1
    return n


def _sniff(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    cols = line.rstrip("\n").split("\t")
                    return len(cols) >= 2 and bool(_TAG.match(cols[-1].strip()))
    except (OSError, UnicodeDecodeError):
        return False
    return False


_api = json_like(_raw, _write, fmt="conll")
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.CoNLL.v1",
    Format(
        "conll", _api, extensions=(".conll", ".bio", ".iob", ".tsv"), description="BIO/IOB2 token-per-line NER files (token<TAB>tag)", sniff=_sniff
    ),
    aliases=("conll",),
)
