"""Locate target entities in generated text: the alignment filter's annotator.

Each target entity is looked for under its names (``Entity.name``, then
``infons["synonyms"]`` if a list) in three ways; the tolerant pass only runs
for entities the others did not find:

1. ``exact``: the name verbatim, not inside a longer word (the characters
   around the match are not letters or digits).
2. ``tolerant``: on a normalised token stream of text and name: case folded,
   Unicode dashes read as ``-``, Greek letters read as their names (``β`` =
   ``beta``), whitespace ignored between tokens, hyphens optional, and each
   word singularised (``-ies`` -> ``-y``, a final ``s`` dropped, not ``ss``),
   so "Sesterterpenoids" finds "sesterterpenoid" and "beta-Zeacarotene"
   finds "β-zeacarotene".
3. ``series`` (looked for first, see :func:`align`): a name "Stem X" is found
   in a series written in the text:
   "erylosides G-J" (a range of letters, roman numerals or numbers),
   "nuapapuins A and B", "oxytropiols A, B, and C". The mention is one
   *composite* mention covering the whole series, whose ``concept_ids`` and
   ``components`` list every entity it names (``Mention.is_composite``).

Overlaps: longer names claim text first, so "Luteolin" is not found inside a
mention of "Luteolin 7-glucuronide"; a span claimed by one entity is not given
to another, except that a series mention is shared by the entities it names.

The score is the paper's: the share of target entities found in the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from collections.abc import Iterable, Sequence

from ..types import Entity

GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "ο": "omicron",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "ς": "sigma",
    "τ": "tau",
    "υ": "upsilon",
    "φ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
    "µ": "mu",
}
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212\u2043\ufe63\uff0d"
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx"]


@dataclass(frozen=True, slots=True)
class Token:
    norm: str  # normalised form (singular, lower case, Greek spelt out)
    raw: str  # lower-cased form before singularising (for series suffixes)
    start: int  # original character offsets [start, end)
    end: int


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    method: str  # exact | tolerant | series
    entity_ids: tuple[str, ...]
    components: tuple[str, ...] = ()


@dataclass
class Alignment:
    """The result of aligning one text: matches per entity, and the score."""

    found: dict[str, list[Match]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    n_targets: int = 0

    @property
    def score(self) -> float:
        return (len(self.found) / self.n_targets) if self.n_targets else 0.0

    def methods(self) -> dict[str, str]:
        """The best (first) method that found each entity."""
        return {eid: ms[0].method for eid, ms in self.found.items()}


def singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _normalise_chars(text: str) -> tuple[str, list[int]]:
    """Case-folded text with Greek letters spelt out and dashes unified, and for
    every output character the offset of the input character it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch in DASHES:
            rep = "-"
        else:
            low = ch.lower()
            rep = GREEK.get(low) or GREEK.get(ch) or unicodedata.normalize("NFKC", low)
        out.append(rep)
        where.extend([i] * len(rep))
    return "".join(out), where


def tokens(text: str) -> list[Token]:
    norm, where = _normalise_chars(text)
    out = []
    for m in _TOKEN.finditer(norm):
        raw = m.group()
        out.append(Token(singular(raw), raw, where[m.start()], where[m.end() - 1] + 1))
    return out


def _content(toks: Sequence[Token]) -> list[Token]:
    """Tokens with hyphens dropped (hyphens are optional in tolerant matching)."""
    return [t for t in toks if t.norm != "-"]


def entity_names(ent: Entity) -> list[str]:
    names: list[str] = []
    if ent.name:
        names.append(ent.name)
    syn = ent.infons.get("synonyms")
    if isinstance(syn, (list, tuple)):
        names.extend(str(s) for s in syn if str(s).strip())
    seen: set[str] = set()
    return [n for n in names if not (n in seen or seen.add(n))]


def _free(claimed: list[tuple[int, int]], s: int, e: int) -> bool:
    return all(e <= a or s >= b for a, b in claimed)


def _exact(text: str, name: str) -> Iterable[tuple[int, int]]:
    start = text.find(name)
    while start >= 0:
        end = start + len(name)
        before = text[start - 1] if start > 0 else " "
        after = text[end] if end < len(text) else " "
        # a name that starts/ends with a word character must not continue a word
        ok_before = not (name[0].isalnum() and before.isalnum())
        ok_after = not (name[-1].isalnum() and after.isalnum())
        if ok_before and ok_after:
            yield start, end
        start = text.find(name, start + 1)


def _tolerant(ctoks: list[Token], name: str) -> Iterable[tuple[int, int]]:
    pattern = [t.norm for t in _content(tokens(name))]
    if not pattern:
        return
    n = len(pattern)
    for i in range(len(ctoks) - n + 1):
        if ctoks[i].norm == pattern[0] and all(ctoks[i + j].norm == pattern[j] for j in range(1, n)):
            yield ctoks[i].start, ctoks[i + n - 1].end


def _suffix_values(a: str, b: str) -> list[str] | None:
    """Expand a range "a-b" of letters, roman numerals or numbers (lower case)."""
    if len(a) == 1 and len(b) == 1 and a.isalpha() and b.isalpha() and a < b and ord(b) - ord(a) < 26:
        return [chr(c) for c in range(ord(a), ord(b) + 1)]
    if a in _ROMAN and b in _ROMAN and _ROMAN.index(a) < _ROMAN.index(b):
        return _ROMAN[_ROMAN.index(a) : _ROMAN.index(b) + 1]
    if a.isdigit() and b.isdigit() and int(a) < int(b) <= int(a) + 50:
        return [str(v) for v in range(int(a), int(b) + 1)]
    return None


def _is_suffix(tok: Token, text: str) -> bool:
    """A series member: one capital letter, a capital roman numeral, or a number
    (as written in the text: "and a new compound" is not a member)."""
    r = tok.raw
    written = text[tok.start : tok.end]
    if r.isdigit():
        return len(r) <= 3
    return ((len(r) == 1 and r.isalpha()) or r in _ROMAN) and written.isupper()


def parse_series(toks: list[Token], i: int, text: str) -> tuple[list[str], int] | None:
    """Parse a series of suffixes starting at token ``i`` (just after the stem):
    "G-J", "G to J", "A and B", "A, B, and C". Returns the suffixes (lower
    case) and the index of the last token used."""
    if i >= len(toks) or not _is_suffix(toks[i], text):
        return None
    first = toks[i]
    if i + 2 < len(toks) and toks[i + 1].raw in ("-", "to") and _is_suffix(toks[i + 2], text):
        vals = _suffix_values(first.raw, toks[i + 2].raw)
        if vals:
            return vals, i + 2
    vals = [first.raw]
    j = i
    while True:
        k = j + 1
        if k < len(toks) and toks[k].raw == ",":
            k += 1
        conj = False
        if k < len(toks) and toks[k].raw in ("and", "&"):
            k += 1
            conj = True
        if k == j + 1 or k >= len(toks) or not _is_suffix(toks[k], text):
            break
        vals.append(toks[k].raw)
        j = k
        if conj:
            break
    if len(vals) < 2 or len(set(vals)) != len(vals) or not _same_kind(vals):
        return None
    return vals, j


def _same_kind(vals: list[str]) -> bool:
    return all(len(v) == 1 and v.isalpha() for v in vals) or all(v in _ROMAN for v in vals) or all(v.isdigit() for v in vals)


_STEM_NAME = re.compile(r"^(?P<stem>.*\w.*?)\s+(?P<suffix>[A-Za-z]|[IVXivx]{1,5}|\d{1,3})$")


def _series(text: str, toks: list[Token], targets: list[tuple[str, str]]) -> list[Match]:
    """Series mentions naming two or more of ``targets`` ([(entity id, name)])."""
    by_stem: dict[tuple[str, ...], dict[str, str]] = {}
    for eid, name in targets:
        m = _STEM_NAME.match(name)
        if m:
            stem = tuple(t.norm for t in _content(tokens(m.group("stem"))))
            by_stem.setdefault(stem, {})[m.group("suffix").lower()] = eid
    out: list[Match] = []
    ctoks = _content(toks)
    for stem, suffixes in by_stem.items():
        n = len(stem)
        for i in range(len(ctoks) - n):
            if [t.norm for t in ctoks[i : i + n]] != list(stem):
                continue
            # parse on the full stream (hyphens matter for ranges)
            full_i = toks.index(ctoks[i + n - 1]) + 1
            parsed = parse_series(toks, full_i, text)
            if not parsed:
                continue
            vals, last = parsed
            end = toks[last].end
            if end < len(text) and (text[end].isalnum() or text[end] in "-" + DASHES):
                continue  # "A, 5-bromo..." is not a series
            hit = [suffixes[v] for v in vals if v in suffixes]
            if hit:
                comps = tuple(f"{' '.join(stem)} {v}" for v in vals)
                out.append(Match(ctoks[i].start, toks[last].end, "series", tuple(dict.fromkeys(hit)), comps))
    return out


def align(text: str, targets: Sequence[Entity]) -> Alignment:
    """Find every target entity in ``text`` (see the module rules). Series are
    looked for first (so "erylosides G-J" is not half-claimed as "eryloside G"
    by the tolerant pass), then exact names, longest first, then tolerant."""
    result = Alignment(n_targets=len(targets))
    claimed: list[tuple[int, int]] = []
    named = sorted(((ent.id, nm) for ent in targets for nm in entity_names(ent)), key=lambda t: -len(t[1]))
    toks = tokens(text)
    ctoks = _content(toks)
    for m in sorted(_series(text, toks, named), key=lambda m: (m.start, -m.end)):
        if _free(claimed, m.start, m.end):
            claimed.append((m.start, m.end))
            for eid in m.entity_ids:
                result.found.setdefault(eid, []).append(m)
    for method in ("exact", "tolerant"):
        for eid, name in named:
            if method == "tolerant" and eid in result.found:
                continue
            spans = _exact(text, name) if method == "exact" else _tolerant(ctoks, name)
            for s, e in spans:
                if _free(claimed, s, e):
                    claimed.append((s, e))
                    result.found.setdefault(eid, []).append(Match(s, e, method, (eid,)))
    order = {ent.id: i for i, ent in enumerate(targets)}
    result.found = {k: sorted(v, key=lambda m: m.start) for k, v in sorted(result.found.items(), key=lambda kv: order[kv[0]])}
    result.missing = [ent.id for ent in targets if ent.id not in result.found]
    return result
