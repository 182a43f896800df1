"""Relations as text and back: the target strings of generative relation
extraction and the output strings that scorers parse.

A *form* writes one relation as one item and parses an item back; items are
joined by ``"; "``. Forms are registered in ``registry.linearizations``:

``biorel.Linear.ABroad.v1`` (``abroad``)
    ``"{organism} produces {chemical}"``: the ABroad-RE output form (head =
    organism, tail = chemical, one relation type). Parsing splits an item on the
    word ``produces``: an item that does not give exactly two parts is skipped
    with the reason (the ABroad protocol's rule 2).

``biorel.Linear.Typed.v1`` (``typed``)
    ``"{head} @{HeadType}@ {tail} @{TailType}@ @{Relation}@"``: every relation
    type and both argument types, the form seq2rel uses for BC5CDR and similar
    corpora. Types are single tokens without ``@`` or spaces (spaces are written
    as ``_``).

:func:`linearize` writes a document's relations (each argument named by its
entity's ``name``, else its first mention's text, else its id);
:func:`parse` reads a string into :class:`TextRelation` s and the skipped
items; :func:`ground` turns parsed relations into mentions, entities and
relations of a document at the character offsets where the names occur, so
that every scorer and writer can use a generated output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from ..registry import registry
from ..types import Document, Entity, Mention, Relation

SEPARATOR = "; "


@dataclass(frozen=True)
class TextRelation:
    """A relation read from text: argument strings as written, types when the
    form carries them (else empty)."""

    head: str
    tail: str
    type: str = ""
    head_type: str = ""
    tail_type: str = ""


class Form:
    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()

    def write(self, rel: TextRelation) -> str:
        raise NotImplementedError

    def read(self, item: str) -> TextRelation | str:
        """The relation an item states, or the reason it states none."""
        raise NotImplementedError


class ABroadForm(Form):
    name = "biorel.Linear.ABroad.v1"
    aliases = ("abroad",)

    def __init__(self, word: str = "produces"):
        self.word = word

    def write(self, rel: TextRelation) -> str:
        return f"{rel.head} {self.word} {rel.tail}"

    def read(self, item: str) -> TextRelation | str:
        parts = item.split(self.word)
        if len(parts) != 2:
            return f"no '{self.word}'" if len(parts) < 2 else f"'{self.word}' occurs {len(parts) - 1} times"
        return TextRelation(parts[0].strip(), parts[1].strip(), self.word)


def _token(t: str) -> str:
    return "_".join(t.split()).replace("@", "_")


class TypedForm(Form):
    name = "biorel.Linear.Typed.v1"
    aliases = ("typed",)
    _item = re.compile(r"^(?P<head>.+?) @(?P<ht>[^@\s]+)@ (?P<tail>.+?) @(?P<tt>[^@\s]+)@ @(?P<rel>[^@\s]+)@$")

    def write(self, rel: TextRelation) -> str:
        return f"{rel.head} @{_token(rel.head_type)}@ {rel.tail} @{_token(rel.tail_type)}@ @{_token(rel.type)}@"

    def read(self, item: str) -> TextRelation | str:
        m = self._item.match(item.strip())
        if m is None:
            return "not 'HEAD @TYPE@ TAIL @TYPE@ @RELATION@'"
        return TextRelation(m["head"].strip(), m["tail"].strip(), m["rel"], m["ht"], m["tt"])


for _form in (ABroadForm, TypedForm):
    registry.linearizations.register(_form.name, _form, aliases=_form.aliases)


def get_form(form: str | Form) -> Form:
    return form if isinstance(form, Form) else registry.linearizations.get(form)()


def entity_name(doc: Document, entity_id: str) -> str:
    """An entity's ``name``, else its first mention's text, else its id."""
    ent = doc.entity_index().get(entity_id)
    if ent is None:
        return entity_id
    if ent.name:
        return ent.name
    mentions = {m.id: m for m in doc.mentions}
    for mid in ent.mention_ids:
        if mid in mentions:
            return mentions[mid].text
    return entity_id


def relations_of(doc: Document) -> list[TextRelation]:
    ents = doc.entity_index()
    out = []
    for r in doc.relations:
        h, t = ents.get(r.head), ents.get(r.tail)
        out.append(TextRelation(entity_name(doc, r.head), entity_name(doc, r.tail), r.type, h.type if h else "", t.type if t else ""))
    return out


def linearize(doc: Document, form: str | Form = "typed", *, separator: str = SEPARATOR) -> str:
    """The relations of ``doc`` as one string in ``form``."""
    f = get_form(form)
    return separator.join(f.write(r) for r in relations_of(doc))


def parse(text: str, form: str | Form = "typed", *, separator: str = SEPARATOR) -> tuple[list[TextRelation], list[tuple[int, str, str]]]:
    """``(relations, skipped)``: the relations stated by ``text`` in order, and
    the items that state none as ``(index, item, reason)``. An empty string
    states nothing and skips nothing."""
    f = get_form(form)
    rels: list[TextRelation] = []
    skipped: list[tuple[int, str, str]] = []
    if not text.strip():
        return rels, skipped
    for i, item in enumerate(text.strip().split(separator)):
        got = f.read(item)
        if isinstance(got, str):
            skipped.append((i, item, got))
        else:
            rels.append(got)
    return rels, skipped


def _occurrences(text: str, name: str) -> list[tuple[int, int]]:
    """Every place ``name`` occurs in ``text`` (exact case first, else any case)."""
    if not name:
        return []
    for hay, needle in ((text, name), (text.lower(), name.lower())):
        found = [(m.start(), m.start() + len(name)) for m in re.finditer(re.escape(needle), hay)]
        if found:
            return found
    return []


def ground(doc: Document, relations: list[TextRelation], *, default_type: str = "Entity") -> tuple[Document, list[TextRelation]]:
    """A copy of ``doc`` whose mentions, entities and relations are the parsed
    ``relations`` grounded in its text: each argument becomes an entity with a
    mention at every place its string occurs. Returns the document and the
    relations that could not be grounded (an argument's string is not in the
    text); nothing is dropped silently."""
    text = doc.text
    mentions: list[Mention] = []
    entities: dict[tuple[str, str], Entity] = {}
    out_rels: list[Relation] = []
    ungrounded: list[TextRelation] = []

    def entity(name: str, typ: str) -> Entity:
        key = (name.lower(), typ or default_type)
        if key in entities:
            return entities[key]
        spans = _occurrences(text, name)
        ids = []
        for s, e in spans:
            m = Mention(f"m{len(mentions)}", ((s, e),), text[s:e], typ or default_type)
            mentions.append(m)
            ids.append(m.id)
        ent = Entity(f"e{len(entities)}", typ or default_type, tuple(ids), name)
        entities[key] = ent
        return ent

    seen = set()
    for rel in relations:
        if not (_occurrences(text, rel.head) and _occurrences(text, rel.tail)):
            ungrounded.append(rel)  # an argument is not in the text: no entity is made for either
            continue
        h, t = entity(rel.head, rel.head_type), entity(rel.tail, rel.tail_type)
        key = (h.id, t.id, rel.type)
        if key in seen:
            continue
        seen.add(key)
        out_rels.append(Relation(f"r{len(out_rels)}", rel.type or "related", h.id, t.id, directed=True))
    from .predicted import with_annotations

    return with_annotations(doc, mentions, list(entities.values()), out_rels), ungrounded


__all__ = ["TextRelation", "Form", "ABroadForm", "TypedForm", "SEPARATOR", "get_form", "linearize", "parse", "ground", "relations_of", "entity_name"]
