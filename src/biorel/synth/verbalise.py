"""The "main findings" verbaliser: a document's relations as one or more sentences.

Rules (deterministic; nothing depends on dict or set order):

* Relations are grouped by their head (for ``produces``: the organism), heads in
  the order they first appear in ``doc.relations``, tails (chemicals) in
  relation order within a head. Heads whose tail lists are identical are merged
  into one sentence ("... were isolated from A and B").
* ``produces`` sentences read "{chemicals} {was|were} isolated from {organisms}.";
  any other relation type reads "{head} {type} {tails}." with the type lowercased
  and underscores as spaces.
* Lists read "X", "X and Y", "X, Y and Z" (no serial comma).
* A chemical *class* (entity type ``class`` or ``infons["type"] == "class"``)
  stands for ``infons["count"]`` compounds (default 1): "two Sesterterpenoids"
  (the count word is capitalised at the start of a sentence; names never are);
  a count of 1 reads as the bare name.
* Series compression: three or more names "Stem X" with the same stem whose
  suffixes form a contiguous run of capital letters, roman numerals or numbers
  become one item "Stems X-Y" (e.g. Eryloside G..J -> "Erylosides G-J"), placed
  where the first member was. Two names are listed as they are.
* ``numbered=True`` adds compound numbers in reading order: "Nuapapuin A (3)",
  a class of two "(1-2)", a series of four "(1-4)". A chemical named again in a
  later sentence keeps its first number.
* Entity names: ``Entity.name``, else the text of its first mention; an entity
  with neither cannot be verbalised (E315).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import error
from ..types import Document, Entity

NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX"]
_SERIES_NAME = re.compile(r"^(?P<stem>.*[A-Za-z].*?) (?P<suffix>[A-Z]|[IVX]{1,5}|\d{1,3})$")


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One listed thing: a chemical, a class with a count, or a compressed series."""

    text: str  # as written mid-sentence
    count: int  # how many compounds it stands for
    members: tuple[str, ...]  # entity ids
    counted: bool = False  # starts with a count word ("two Sesterterpenoids")


def entity_name(ent: Entity, doc: Document) -> str:
    if ent.name:
        return ent.name
    mentions = doc.mention_index()
    for mid in ent.mention_ids:
        m = mentions.get(mid)
        if m is not None and m.text:
            return m.text
    raise error("E315", doc=doc.id, reason=f"entity '{ent.id}' has no name and no mention")


def is_class(ent: Entity) -> bool:
    return ent.type == "class" or str(ent.infons.get("type", "")).lower() == "class"


def class_count(ent: Entity) -> int:
    try:
        n = int(ent.infons.get("count", 1))
    except (TypeError, ValueError):
        n = 1
    return max(n, 1)


def join_list(parts: list[str]) -> str:
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _contiguous_values(suffixes: list[str]) -> list[int] | None:
    """Values of the suffixes under the first reading (letters, then roman
    numerals, then numbers) in which they are distinct and contiguous."""
    readings = (
        lambda x: ord(x) if len(x) == 1 and x.isupper() else None,
        lambda x: _ROMAN.index(x) + 1 if x in _ROMAN else None,
        lambda x: int(x) if x.isdigit() else None,
    )
    for read in readings:
        values = [read(x) for x in suffixes]
        if any(v is None for v in values):
            continue
        lo, hi = min(values), max(values)
        if len(set(values)) == len(values) and hi - lo == len(values) - 1:
            return values
    return None


def pluralise(stem: str) -> str:
    if stem.endswith(("s", "x", "ch", "sh")):
        return stem + "es"
    return stem + "s"


def compress_series(names: list[tuple[str, str]]) -> list[tuple[str, tuple[str, ...]]]:
    """``[(entity id, name)]`` -> ``[(text, member ids)]`` with runs of three or
    more "Stem X" names compressed (see the module rules). A series sits at the
    position of its first member; members are ordered by suffix."""
    by_stem: dict[str, list[tuple[int, str]]] = {}
    for i, (_, name) in enumerate(names):
        m = _SERIES_NAME.match(name)
        if m:
            by_stem.setdefault(m.group("stem"), []).append((i, m.group("suffix")))
    replaced: dict[int, tuple[str, tuple[str, ...]]] = {}
    absorbed: set[int] = set()
    for stem, members in by_stem.items():
        if len(members) < 3:
            continue
        values = _contiguous_values([sfx for _, sfx in members])
        if values is None:
            continue
        ordered = [m for _, m in sorted(zip(values, members))]
        text = f"{pluralise(stem)} {ordered[0][1]}-{ordered[-1][1]}"
        replaced[min(i for i, _ in members)] = (text, tuple(names[i][0] for i, _ in ordered))
        absorbed.update(i for i, _ in members)
    out: list[tuple[str, tuple[str, ...]]] = []
    for i, (eid, name) in enumerate(names):
        if i in replaced:
            out.append(replaced[i])
        elif i not in absorbed:
            out.append((name, (eid,)))
    return out


def _items(tail_ids: list[str], ents: dict[str, Entity], doc: Document) -> list[ListEntry]:
    """Tails as listed items: classes with their count, series compressed, each
    item at the position of its first member."""
    plain = [(eid, entity_name(ents[eid], doc)) for eid in tail_ids if not is_class(ents[eid])]
    first_pos = {eid: i for i, (eid, _) in enumerate(plain)}
    anchored: dict[str, ListEntry] = {}
    for text, members in compress_series(plain):
        anchor = min(members, key=first_pos.__getitem__)
        anchored[anchor] = ListEntry(text, len(members), members)
    out: list[ListEntry] = []
    for eid in tail_ids:
        ent = ents[eid]
        if is_class(ent):
            n = class_count(ent)
            name = entity_name(ent, doc)
            out.append(ListEntry(f"{NUMBER_WORDS.get(n, str(n))} {name}" if n > 1 else name, n, (eid,), n > 1))
        elif eid in anchored:
            out.append(anchored[eid])
    return out


def _capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


def verbalise(doc: Document, *, numbered: bool = False, relation_types: tuple[str, ...] | None = None) -> str:
    """The main findings of ``doc`` (see the module docstring for the rules)."""
    ents = doc.entity_index()
    rels = [r for r in doc.relations if relation_types is None or r.type in relation_types]
    if not rels:
        raise error("E315", doc=doc.id, reason="it has no relations")
    groups: dict[tuple[str, str], list[str]] = {}
    for r in rels:
        for arg in (r.head, r.tail):
            if arg not in ents:
                raise error(
                    "E315",
                    doc=doc.id,
                    reason=f"relation '{r.id}' names entity '{arg}', which does not exist (mention-level relations are not verbalised)",
                )
        tails = groups.setdefault((r.type, r.head), [])
        if r.tail not in tails:
            tails.append(r.tail)
    # merge heads with identical tail lists (same relation type)
    merged: list[tuple[str, list[str], list[str]]] = []
    index: dict[tuple[str, tuple[str, ...]], int] = {}
    for (rtype, head), tails in groups.items():
        k = (rtype, tuple(tails))
        if k in index:
            merged[index[k]][1].append(head)
        else:
            index[k] = len(merged)
            merged.append((rtype, [head], tails))
    numbers: dict[str, tuple[int, int]] = {}
    next_no = 1
    sentences: list[str] = []
    for rtype, heads, tails in merged:
        items = _items(tails, ents, doc)
        parts: list[str] = []
        for it in items:
            text = it.text
            if numbered:
                key = "|".join(it.members)
                if key not in numbers:
                    numbers[key] = (next_no, next_no + it.count - 1)
                    next_no += it.count
                a, b = numbers[key]
                text += f" ({a})" if a == b else f" ({a}-{b})"
            parts.append(text)
        head_names = [entity_name(ents[h], doc) for h in heads]
        total = sum(it.count for it in items)
        if rtype == "produces":
            verb = "was" if total == 1 else "were"
            listed = join_list(parts)
            # a sentence-initial count word is capitalised; names never are
            sentences.append(f"{_capitalise(listed) if items[0].counted else listed} {verb} isolated from {join_list(head_names)}.")
        else:
            phrase = rtype.replace("_", " ").lower()
            sentences.append(f"{join_list(head_names)} {phrase} {join_list(parts)}.")
    return " ".join(sentences)


def target_entities(doc: Document) -> list[Entity]:
    """The entities a synthetic text must mention: every relation argument, in
    first-appearance order (head before tail)."""
    ents = doc.entity_index()
    seen: dict[str, Entity] = {}
    for r in doc.relations:
        for arg in (r.head, r.tail):
            if arg in ents and arg not in seen:
                seen[arg] = ents[arg]
    return list(seen.values())
