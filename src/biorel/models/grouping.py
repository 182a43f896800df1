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
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from ..types import Entity, Mention

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).casefold()
    t = _NON_ALNUM.sub(" ", t).strip()
    words = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in t.split()]
    return " ".join(words)


def string_key(m: Mention) -> str:
    return f"{m.type}:{normalise(m.text) or m.text}"


def group_mentions(mentions: Iterable[Mention]) -> list[Entity]:
    """Entities in first-seen order (see the module docstring for the rule)."""
    by_id: dict[str, Entity] = {}
    for m in mentions:
        keys = m.grounded_ids or (string_key(m),)
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
