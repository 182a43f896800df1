"""Rule-based sentence splitting that keeps document offsets.

:func:`split_sentences` returns ``[start, end)`` character spans into the text it
is given (plus ``offset``), never new strings, so sentence spans are document
coordinates when a passage's text and offset are passed. :func:`sentence_spans`
splits every passage of a :class:`~biorel.types.Document`; sentences never cross
a passage boundary.

The rules (``backend="rules"``, the default):

* A sentence may end after ``.``, ``?`` or ``!`` (a run such as ``?!`` or
  ``...`` counts as one), plus any closing quotes or brackets right after it,
  when whitespace follows. A blank line (two line breaks) always ends a sentence.
* It does not end there when the next word starts with a lowercase letter
  (``e.g. the``, ``approx. five``, ``E. coli``), except when that word looks like a
  gene or molecule name that starts sentences in biomedical text: a lowercase
  letter followed somewhere by a capital letter or a digit (``mRNA``, ``p53``,
  ``cDNA``, ``siRNA``).
* It never ends after a known abbreviation that is followed by more of the same
  sentence: ``e.g.``, ``i.e.``, ``cf.``, ``viz.``, ``vs.``, ``et al.``, ``Fig.``,
  ``Figs.``, ``Eq.``, ``Ref.``, ``No.``, ``Dr.``, ``Prof.``, ``approx.``, ``ca.``,
  ``sp.``, ``spp.``, ``subsp.``, ``var.`` and the like (:data:`NO_BREAK_AFTER`).
  Consequence: a sentence that really ends with ``et al.`` is joined to the next.
* Dotted letter abbreviations (``i.v.``, ``i.p.``, ``s.c.``, ``p.o.``, ``U.S.``) and
  ``etc.`` end a sentence only when a capitalised word follows (the general rule).
* Decimals (``3.5``, ``.05``) never break: there is no whitespace after the dot.
* A single capital letter before the dot is an initial (``J. Smith``,
  ``Smith J. et al.``) and does not end the sentence, unless the word before it
  starts with a lowercase letter (``hepatitis B. The``, ``vitamin C. It``), which
  reads as the end of a sentence; ``and``, ``by``, ``of``, ``with``, ``from``, ``to``
  before the letter keep it an initial (``by J. Smith``).
* Sentence spans exclude leading and trailing whitespace; a text of only
  whitespace has no sentences.

An optional backend may be registered in :data:`BACKENDS`; asking for one that is
not available raises E169.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .errors import error
from .types import Document, Span

#: abbreviations (lowercased, with their final dot) after which a sentence never ends
NO_BREAK_AFTER = frozenset(
    """
    e.g. i.e. cf. viz. vs. v. al. fig. figs. eq. eqs. ref. refs. no. nos. dr. drs. prof. mr. mrs. ms.
    approx. ca. c. sp. spp. subsp. var. cv. tab. vol. pp. p. suppl. st. ed. eds. chap. sect. resp. incl.
    dept. univ. jan. feb. apr. jun. jul. aug. sept. oct. nov. dec.
    """.split()
)

_TERMINATORS = ".?!"
_CLOSERS = "\"')]}\u201d\u2019\u00bb"
_CANDIDATE = re.compile(r"[.?!]+[\"')\]}\u201d\u2019\u00bb]*(?=\s)")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_WORD_BEFORE = re.compile(r"(\S+)$")
_MIXED_LOWER_START = re.compile(r"[a-z][\w-]*[A-Z0-9]")
#: lowercase words that may stand before a name's initial ("by J. Smith", "and K. Lee")
_NAME_JOINERS = frozenset({"and", "by", "of", "with", "from", "to", "&"})


def _token_before(text: str, end: int) -> str:
    """The whitespace-delimited token that ends at ``end`` (the terminator included)."""
    m = _WORD_BEFORE.search(text, 0, end)
    return m.group(1) if m else ""


def _next_word(text: str, pos: int) -> tuple[str, int]:
    """The next non-whitespace token at or after ``pos`` and where it starts."""
    n = len(text)
    while pos < n and text[pos].isspace():
        pos += 1
    start = pos
    while pos < n and not text[pos].isspace():
        pos += 1
    return text[start:pos], start


def _is_break(text: str, match: re.Match) -> bool:
    """Decide whether the candidate terminator ``match`` ends a sentence."""
    mark = match.group(0).rstrip(_CLOSERS)
    token = _token_before(text, match.start() + len(mark))
    word, _ = _next_word(text, match.end())
    if not word:
        return False  # end of text: the final sentence is closed by the caller
    if mark == "." and token.lower().lstrip("([\"'") in NO_BREAK_AFTER:
        return False
    first = word.lstrip("([{\"'\u201c\u2018")[:1] or word[:1]
    if first.islower() and not _MIXED_LOWER_START.match(word.lstrip("([{\"'")):
        return False
    if mark == "." and _is_initial(text, token, match.start()):
        return False
    return True


def _is_initial(text: str, token: str, dot: int) -> bool:
    """``token`` (which ends at the dot) is a single capital letter used as an initial."""
    bare = token.lstrip("([\"'")
    if len(bare) != 2 or not bare[0].isupper():
        return False
    before = _token_before(text, dot - len(token)).rstrip()
    if not before or before.lower() in _NAME_JOINERS:
        return True
    return not before[0].islower()


def _rule_spans(text: str) -> Iterator[tuple[int, int]]:
    starts_ends: list[int] = []
    for m in _CANDIDATE.finditer(text):
        if _is_break(text, m):
            starts_ends.append(m.end())
    for m in _BLANK_LINE.finditer(text):
        starts_ends.append(m.start())
    cut = 0
    for end in sorted(set(starts_ends)) + [len(text)]:
        if end <= cut:
            continue
        yield cut, end
        cut = end


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


Backend = Callable[[str], Iterator[tuple[int, int]]]

#: sentence-splitting backends by name; each yields raw ``(start, end)`` pieces
#: covering the text (whitespace is trimmed afterwards).
BACKENDS: dict[str, Backend] = {"rules": _rule_spans}


def split_sentences(text: str, offset: int = 0, *, backend: str = "rules") -> list[Span]:
    """Sentence spans of ``text`` as ``(start + offset, end + offset)`` pairs.

    ``text[s - offset:e - offset]`` is each sentence, without surrounding
    whitespace; spans are sorted and do not overlap.
    """
    split = BACKENDS.get(backend)
    if split is None:
        raise error("E169", name=backend, reason=f"known backends: {', '.join(sorted(BACKENDS))}")
    out: list[Span] = []
    for s, e in split(text):
        trimmed = _trim(text, s, e)
        if trimmed is not None:
            out.append((trimmed[0] + offset, trimmed[1] + offset))
    return out


def sentence_spans(doc: Document, *, backend: str = "rules") -> list[Span]:
    """Sentence spans of every passage of ``doc``, in document coordinates."""
    spans: list[Span] = []
    for p in sorted(doc.passages, key=lambda p: p.offset):
        spans.extend(split_sentences(p.text, p.offset, backend=backend))
    return spans


__all__ = ["split_sentences", "sentence_spans", "NO_BREAK_AFTER", "BACKENDS"]
