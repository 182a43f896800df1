"""Grouping predicted mentions into entities.

The rule, in order:

1. A mention with grounded concept ids (from a normaliser, or inherited from a
   gold mention with the same span and type when the caller asks for that) joins
   the entity of each of its ids, like :meth:`Document.entities_from_mentions`.
   The entity id is the concept id.
2. Any other mention is grouped by ``(type, normalised text)``. The normalised
   text is: Unicode NFKC, case-folded, every run of characters that are not
   letters or digits replaced by one space, then stripped; a final ``s`` is
   dropped from words longer than three characters (``seizures`` = ``seizure``).
   The entity id is ``"<type>:<normalised text>"``; the name is the first
   mention's text.
3. When the document text is given, abbreviations defined in it join their long
   form: two adjacent mentions of the same type written ``long form (SHORT)`` or
   ``SHORT (long form)`` whose short form passes the Schwartz-Hearst test (every
   letter and digit of the short form appears in the long form in order, reading
   both from the end, and its first character starts a word of the long form;
   the short form has at most 10 characters and two words, and is shorter than
   the long form) link the short form's string key to the long form's, so
   every mention with the short form's text, anywhere in the document, joins
   the long form's entity ("puromycin aminonucleoside (PAN) ... PAN-induced" is
   one entity).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from ..types import Entity, Mention

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).casefold()
    t = _NON_ALNUM.sub(" ", t).strip()
    words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in t.split()]
    return " ".join(words)


def string_key(m: Mention) -> str:
    return f"{m.type}:{normalise(m.text) or m.text}"


def is_abbreviation(short: str, long: str) -> bool:
    """The Schwartz-Hearst test of ``short`` as an abbreviation of ``long``."""
    short, long = short.strip(), long.strip()
    if not (1 < len(short) <= 10 and len(short) < len(long) and len(short.split()) <= 2 and any(c.isalpha() for c in short)):
        return False
    s, l = short.lower(), long.lower()
    si, li = len(s) - 1, len(l) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        # the first character of the short form must start a word of the long form
        while li >= 0 and (l[li] != c or (si == 0 and li > 0 and l[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return False
        li -= 1
        si -= 1
    return True


_OPEN = re.compile(r"\s*\(\s*")
_CLOSE = re.compile(r"\s*\)")


def abbreviation_links(mentions: Iterable[Mention], text: str) -> dict[str, str]:
    """``{short-form string key: long-form string key}`` for the abbreviations
    defined in ``text`` between adjacent mentions (rule 3 of the module docstring)."""
    ms = sorted((m for m in mentions if not m.grounded_ids and len(m.spans) == 1), key=lambda m: m.spans[0])
    links: dict[str, str] = {}
    for a, b in zip(ms, ms[1:]):
        (_, e1), (s2, e2) = a.spans[0], b.spans[0]
        if a.type != b.type or not _OPEN.fullmatch(text, e1, s2) or not _CLOSE.match(text, e2):
            continue
        for short, long in ((b, a), (a, b)):
            if is_abbreviation(short.text, long.text):
                key, target = string_key(short), string_key(long)
                if key != target:
                    links.setdefault(key, links.get(target, target))
                break
    return links


def group_mentions(mentions: Iterable[Mention], text: str | None = None) -> list[Entity]:
    """Entities in first-seen order (see the module docstring for the rules;
    abbreviations are linked only when the document ``text`` is given)."""
    mentions = list(mentions)
    links = abbreviation_links(mentions, text) if text else {}
    by_id: dict[str, Entity] = {}
    for m in mentions:
        if m.grounded_ids:
            keys = m.grounded_ids
        else:
            key = string_key(m)
            keys = (links.get(key, key),)
        for key in keys:
            ent = by_id.get(key)
            if ent is None:
                by_id[key] = Entity(id=key, type=m.type, mention_ids=(m.id,), name=None if m.grounded_ids else m.text)
            elif m.id not in ent.mention_ids:
                ent.mention_ids = ent.mention_ids + (m.id,)
    return list(by_id.values())


def inherit_gold_ids(predicted: Iterable[Mention], gold: Iterable[Mention]) -> int:
    """Give each predicted mention the concept ids of a gold mention with the
    same spans and type (oracle normalisation, for concept-level scoring of
    end-to-end predictions). Returns how many mentions got ids."""
    index = {(g.spans, g.type): g.concept_ids for g in gold if g.grounded_ids}
    n = 0
    for m in predicted:
        ids = index.get((m.spans, m.type))
        if ids:
            m.concept_ids = ids
            n += 1
    return n
