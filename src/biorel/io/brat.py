"""brat standoff: ``<doc>.txt`` (the text) + ``<doc>.ann`` (annotations) pairs
(``biorel.Brat.v1``, alias ``brat``).

Sources: a folder (every ``*.ann``/``*.txt`` pair below it, sorted; the id is
the path relative to the folder without the suffix, so a flat folder gives
file stems and DDI's ``Train/DrugBank/Aspirin_ddi``; hidden files skipped), a
single ``.ann`` or ``.txt`` path (its sibling is read too), or a stream holding
``.ann`` content with ``text=`` giving the document text (``loads``).

Reading rules:

* The ``.txt`` is read byte-exact as UTF-8 (:func:`~biorel.io.base.read_text`):
  offsets count characters, ``\\r`` included. It becomes one passage at 0.
  A ``.txt`` without ``.ann`` is an unannotated document (brat's own rule);
  an ``.ann`` without ``.txt`` is error E126.
* ``T``: ``T1<TAB>TYPE start end[;start end...]<TAB>text`` -> a :class:`Mention`
  (discontinuous mentions keep all their spans; validation accepts the pieces
  joined by a space or by nothing, as brat writes them).
* ``R``: ``R1<TAB>TYPE Arg1:T1 Arg2:T2`` -> a mention-level, directed relation
  (head Arg1, tail Arg2). Role names other than Arg1/Arg2 are kept in
  ``infons["brat.roles"]``; a trailing tab in ``infons["brat.trailing_tab"]``.
* ``E``: events become relations, one per argument:
  ``E1<TAB>TYPE:T5 Theme:T3 Cause:T4`` -> relations ``E1:Theme`` (T5 -> T3) and
  ``E1:Cause`` (T5 -> T4), type ``TYPE``, mention level, directed, with
  ``infons["brat.event"] = "E1"`` and ``infons["brat.role"]``. An argument that is
  another event points at that event's trigger and keeps the event id in
  ``infons["brat.arg_event"]``. An event without arguments cannot be
  represented: error E127 (lenient: reported, skipped).
* **Skipping is transitive** (lenient): when an annotation is skipped (a bad
  line, an event without arguments), every event, relation, equivalence,
  normalisation, attribute and note that points at it is skipped too, and so
  on until nothing points at a skipped id; each is reported (E132, "line
  skipped"). So what lenient reading keeps always writes a valid brat file.
* ``*``: ``*<TAB>Equiv T1 T2 T3`` -> undirected relations T1-T2, T2-T3 with
  ``infons["brat.equiv"]`` numbering the line (``*1``, ``*2`` ...).
* ``N``: ``N1<TAB>Reference T1 DB:ID[<TAB>name]`` appends ``DB:ID`` to the
  mention's ``concept_ids`` (entities then group mentions by it); the line is
  kept in ``infons["brat.normalizations"]``.
* ``A``/``M``: attributes, ``#``: notes -> ``infons["brat.attributes"]`` /
  ``infons["brat.notes"]`` (lists of dicts with ``id``) of the annotation they
  target (a mention, a relation, or every relation of an event).
* Malformed lines are E125, a reference to a missing annotation E014 (both
  located at ``file:line``); blank lines are ignored. Duplicate ids (E013), span
  and text checks (E010/E011) and empty texts (E015) come from validation.

Writing (``dump`` to a folder, or one document to an ``.ann`` path whose
``.txt`` sibling is written too; ``dumps`` gives one document's ``.ann``
text) reproduces every annotation read, in the order T, R, E, ``*``, N, A/M, #
(N, A/M and # lines sorted by their id number; a file already in that order,
as the DDI corpus is, comes back byte-exact).
Mention and relation ids that are not brat ids (``T<n>``, ``R<n>``) are
renumbered. Concept ids without an ``N`` record are written as
``N<n><TAB>Reference T<n> <id>``. Entity-level relations cannot be expressed in
brat: error E124.
"""

from __future__ import annotations

import io as _io
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TextIO
from collections.abc import Iterable, Iterator

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document, Mention, Passage, Relation
from .base import Format, JsonLikeAPI, RawDocument, Source, ensure_diagnostics, iter_lines, json_like, read_text, report_or_raise, source_name
from .text import folder_files, relative_id, write_folder

FMT = "brat"

ROLES = "brat.roles"
TRAILING_TAB = "brat.trailing_tab"
EVENT = "brat.event"
ROLE = "brat.role"
ARG_EVENT = "brat.arg_event"
EQUIV = "brat.equiv"
NORMALIZATIONS = "brat.normalizations"
ATTRIBUTES = "brat.attributes"
NOTES = "brat.notes"

_SPAN = re.compile(r"^(\d+) (\d+)$")
_TID = re.compile(r"^T\d+$")
_RID = re.compile(r"^R\d+$")


@dataclass(slots=True)
class _Line:
    where: SourceLocation
    id: str
    fields: list[str]  # the space-separated second column
    rest: list[str]  # tab-separated columns after the second


def _bad(where: SourceLocation, kind: str, reason: str) -> BiorelError:
    return error("E125", where=where, kind=kind, reason=reason)


def _arg(line: _Line, token: str) -> tuple[str, str]:
    role, sep, ref = token.partition(":")
    if not sep or not role or not ref:
        raise _bad(line.where, line.id, f"argument {token!r} is not ROLE:ID")
    return role, ref


class _AnnParser:
    """Turns the lines of one ``.ann`` into a :class:`RawDocument`."""

    def __init__(self, doc: Document, lenient: bool, diagnostics: Diagnostics | None):
        self.doc = doc
        self.lenient = lenient
        self.diagnostics = diagnostics
        self.dropped: set[str] = set()  # ids of the annotations skipped (their dependents go too)
        self.item_where: dict[str, SourceLocation] = {}
        self.later: list[_Line] = []  # N, A, M, #: they need the annotations they target
        self.events: list[_Line] = []
        self.equivs: list[_Line] = []
        self.relations: dict[str, Relation] = {}
        self.event_trigger: dict[str, str] = {}

    def problem(self, err: BiorelError, ident: str | None = None, action: str = "line skipped") -> None:
        report_or_raise(err, action, lenient=self.lenient, diagnostics=self.diagnostics)
        if ident:
            self.dropped.add(ident)

    def run(self, lines: Iterable[tuple[SourceLocation, str]]) -> None:
        for where, text in lines:
            if not text.strip():
                continue
            try:
                self.first_pass(where, text)
            except BiorelError as err:
                self.problem(err, text.split("\t", 1)[0])
        self.drop_dependents()
        for kind in (self.events, self.equivs, self.later):
            for line in kind:
                if line.id in self.dropped and line.id[:1] in "E":
                    continue  # reported by drop_dependents
                try:
                    self._check_refs(line)
                    self.second_pass(line)
                except BiorelError as err:
                    self.problem(err, line.id)
        self.doc.entities = self.doc.entities_from_mentions()
        for ent in self.doc.entities:
            self.item_where.setdefault(ent.id, self.item_where[ent.mention_ids[0]])

    # -- skipping an annotation skips what depends on it (transitively)
    @staticmethod
    def _refs(line: _Line) -> list[str]:
        """The annotation ids a line points at."""
        kind = line.id[:1]
        if kind == "E":
            return [tok.partition(":")[2] for tok in line.fields]
        if kind == "*":
            return list(line.fields[1:])
        return line.fields[1:2]  # N, A, M, #: the target

    def _check_refs(self, line: _Line) -> None:
        gone = [ref for ref in self._refs(line) if ref in self.dropped]
        if gone:
            raise error("E132", where=line.where, item=line.id, ref=gone[0])

    def drop_dependents(self) -> None:
        """Events without arguments (E127), then, until nothing changes, every
        event and relation pointing at a skipped annotation (E132): all
        reported, so that what is kept never names a skipped id."""
        for ev in self.events:
            if ev.id not in self.dropped and len(ev.fields) < 2:
                self.problem(error("E127", where=ev.where, item=ev.id, reason="an event without arguments has no relation to represent it"), ev.id)
        changed = True
        while changed:
            changed = False
            for ev in self.events:
                if ev.id not in self.dropped and any(ref in self.dropped for ref in self._refs(ev)):
                    self.problem(error("E132", where=ev.where, item=ev.id, ref=next(r for r in self._refs(ev) if r in self.dropped)), ev.id)
                    changed = True
            for rel in [r for r in self.doc.relations if r.id not in self.dropped and (r.head in self.dropped or r.tail in self.dropped)]:
                ref = rel.head if rel.head in self.dropped else rel.tail
                self.doc.relations.remove(rel)
                self.relations.pop(rel.id, None)
                self.problem(error("E132", where=self.item_where.get(rel.id), item=rel.id, ref=ref), rel.id)
                changed = True

    def first_pass(self, where: SourceLocation, text: str) -> None:
        cols = text.split("\t")
        if len(cols) < 2:
            raise _bad(where, cols[0][:20], "expected ID<TAB>annotation")
        ident = cols[0]
        kind = ident[:1]
        if kind == "T":
            head, _, rest = text.partition("\t")
            mid, sep, mtext = rest.partition("\t")
            line = _Line(where, ident, mid.split(" "), [mtext])
            if not sep:
                raise _bad(where, ident, "a text-bound annotation needs ID<TAB>TYPE SPANS<TAB>text")
            self.mention(line)
            return
        line = _Line(where, ident, cols[1].split(), cols[2:])
        if not line.fields:
            raise _bad(where, ident, "the annotation column is empty")
        if kind == "R":
            self.relation(line)
        elif kind == "E":
            self.events.append(line)
            self.event_trigger[ident] = ""
        elif kind == "*":
            self.equivs.append(line)
        elif kind in ("N", "A", "M", "#"):
            self.later.append(line)
        else:
            raise error("E127", where=where, item=ident, reason="unknown annotation kind (brat ids start with T, R, E, *, N, A, M or #)")

    def mention(self, line: _Line) -> None:
        if len(line.fields) < 2:
            raise _bad(line.where, line.id, "expected TYPE start end[;start end...]")
        mtype, span_text = line.fields[0], " ".join(line.fields[1:])
        spans = []
        for piece in span_text.split(";"):
            m = _SPAN.match(piece)
            if not m:
                raise _bad(line.where, line.id, f"span {piece!r} is not 'start end' with integer offsets")
            spans.append((int(m.group(1)), int(m.group(2))))
        self.doc.mentions.append(Mention(line.id, tuple(spans), line.rest[0], mtype))
        self.item_where[line.id] = line.where

    def relation(self, line: _Line) -> None:
        if len(line.fields) != 3:
            raise _bad(line.where, line.id, "expected TYPE Arg1:ID Arg2:ID")
        (r1, a1), (r2, a2) = _arg(line, line.fields[1]), _arg(line, line.fields[2])
        infons: dict[str, Any] = {}
        if (r1, r2) != ("Arg1", "Arg2"):
            infons[ROLES] = [r1, r2]
        if line.rest:
            if line.rest != [""]:
                raise _bad(line.where, line.id, f"unexpected extra column {line.rest[0][:40]!r}")
            infons[TRAILING_TAB] = True
        rel = Relation(line.id, line.fields[0], a1, a2, level="mention", directed=True, infons=infons)
        self.add_relation(rel, line.where)

    def add_relation(self, rel: Relation, where: SourceLocation) -> None:
        self.doc.relations.append(rel)
        self.relations.setdefault(rel.id, rel)
        self.item_where[rel.id] = where

    def second_pass(self, line: _Line) -> None:
        kind = line.id[:1]
        if kind == "E":
            self.event(line)
        elif kind == "*":
            self.equiv(line)
        elif kind == "N":
            self.normalization(line)
        else:
            self.attribute_or_note(line)

    def _trigger(self, line: _Line, ref: str) -> tuple[str, str | None]:
        """The mention an argument names: itself, or an event's trigger."""
        if ref in self.event_trigger:
            trig = self.event_trigger[ref] or self._event_head(ref)
            return trig, ref
        return ref, None

    def _event_head(self, eid: str) -> str:
        for ev in self.events:
            if ev.id == eid:
                return ev.fields[0].partition(":")[2]
        return ""

    def event(self, line: _Line) -> None:
        etype, sep, trigger = line.fields[0].partition(":")
        if not sep or not etype or not trigger:
            raise _bad(line.where, line.id, "expected TYPE:TRIGGER as the first field of an event")
        self.event_trigger[line.id] = trigger
        args = [_arg(line, tok) for tok in line.fields[1:]]
        for role, ref in args:
            tail, arg_event = self._trigger(line, ref)
            infons: dict[str, Any] = {EVENT: line.id, ROLE: role}
            if arg_event:
                infons[ARG_EVENT] = arg_event
            self.add_relation(Relation(f"{line.id}:{role}", etype, trigger, tail, level="mention", directed=True, infons=infons), line.where)

    def equiv(self, line: _Line) -> None:
        etype, members = line.fields[0], line.fields[1:]
        if len(members) < 2:
            raise _bad(line.where, "*", "an equivalence needs at least two annotations")
        key = f"*{self.equivs.index(line) + 1}"
        for i, (a, b) in enumerate(zip(members, members[1:])):
            self.add_relation(Relation(f"{key}:{i}", etype, a, b, level="mention", directed=False, infons={EQUIV: key}), line.where)

    def _targets(self, line: _Line, ref: str) -> list[Mention | Relation]:
        found: list[Mention | Relation] = [m for m in self.doc.mentions if m.id == ref][:1]
        if not found and ref in self.relations:
            found = [self.relations[ref]]
        if not found:
            found = [r for r in self.doc.relations if r.infons.get(EVENT) == ref]
        if not found:
            raise error("E014", where=line.where, item=f"brat annotation '{line.id}'", what="annotation", ref=ref, doc=self.doc.id)
        return found

    def normalization(self, line: _Line) -> None:
        if len(line.fields) != 3:
            raise _bad(line.where, line.id, "expected TYPE TARGET DB:ID")
        ntype, target, ref = line.fields
        items = self._targets(line, target)
        if not isinstance(items[0], Mention):
            raise error("E127", where=line.where, item=line.id, reason=f"normalisation of '{target}', which is not a text-bound annotation")
        m = items[0]
        m.concept_ids = m.concept_ids + (ref,)
        rec = {"id": line.id, "type": ntype, "ref": ref}
        if line.rest:
            rec["text"] = "\t".join(line.rest)
        m.infons.setdefault(NORMALIZATIONS, []).append(rec)

    def attribute_or_note(self, line: _Line) -> None:
        if line.id.startswith("#"):
            if len(line.fields) != 2:
                raise _bad(line.where, line.id, "expected TYPE TARGET<TAB>note")
            key, rec = NOTES, {"id": line.id, "type": line.fields[0], "text": "\t".join(line.rest)}
        else:
            if len(line.fields) not in (2, 3):
                raise _bad(line.where, line.id, "expected NAME TARGET [VALUE]")
            key, rec = ATTRIBUTES, {"id": line.id, "name": line.fields[0]}
            if len(line.fields) == 3:
                rec["value"] = line.fields[2]
        for item in self._targets(line, line.fields[1]):
            item.infons.setdefault(key, []).append(dict(rec))


def parse(
    doc_id: str, text: str, ann: Source | None, *, where: SourceLocation, lenient: bool = False, diagnostics: Diagnostics | None = None
) -> RawDocument:
    """Parse one brat document from its text and its ``.ann`` source."""
    doc = Document(id=doc_id, passages=[Passage(0, text)])
    parser = _AnnParser(doc, lenient, ensure_diagnostics(lenient, diagnostics))
    if ann is not None:
        parser.run(iter_lines(ann, fmt=FMT))
    return RawDocument(doc, where, parser.item_where)


# ---- reading --------------------------------------------------------------


def _pairs(root: Path) -> list[tuple[str, Path | None, Path | None]]:
    """``(id, txt, ann)`` for every document below ``root``."""
    by_id: dict[str, list[Path | None]] = {}
    for suffix, slot in ((".txt", 0), (".ann", 1)):
        for p in folder_files(root, suffix):
            by_id.setdefault(relative_id(root, p, suffix), [None, None])[slot] = p
    return [(k, v[0], v[1]) for k, v in sorted(by_id.items())]


def _one(doc_id: str, txt: Path | None, ann: Path | None, lenient: bool, diagnostics: Diagnostics | None) -> Iterator[RawDocument]:
    try:
        if txt is None or not txt.exists():
            assert ann is not None
            expected = txt if txt is not None else ann.with_suffix(".txt")
            raise error("E126", where=SourceLocation(str(ann)), ann=str(ann), txt=str(expected))
        name, text = read_text(txt)
        where = SourceLocation(str(ann if ann is not None else txt))
        yield parse(doc_id, text, ann if ann is not None and ann.exists() else None, where=where, lenient=lenient, diagnostics=diagnostics)
    except BiorelError as err:
        if not lenient or err.code not in ("E020", "E126"):
            raise
        report_or_raise(err, f"document '{doc_id}' skipped", lenient=True, diagnostics=diagnostics)


def _raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    text: str | None = None,
    doc_id: str | None = None,
) -> Iterator[RawDocument]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            for did, txt, ann in _pairs(path):
                yield from _one(did, txt, ann, lenient, diagnostics)
            return
        if not path.exists():
            raise error("E129", path=str(path), fmt=FMT, reason="no such file or folder")
        if path.suffix.lower() not in (".ann", ".txt"):
            raise error("E129", path=str(path), fmt=FMT, reason="give a folder, an .ann file or a .txt file")
        ann, txt = path.with_suffix(".ann"), path.with_suffix(".txt")
        if text is not None:
            yield parse(doc_id or path.stem, text, ann, where=SourceLocation(str(ann)), lenient=lenient, diagnostics=diagnostics)
            return
        yield from _one(doc_id or path.stem, txt, ann if ann.exists() or path.suffix.lower() == ".ann" else None, lenient, diagnostics)
        return
    if text is None:
        raise error("E129", path=source_name(source), fmt=FMT, reason="a stream holds only the .ann content: pass text= with the document text")
    name = source_name(source)
    yield parse(doc_id or PurePosixPath(name).stem, text, source, where=SourceLocation(name), lenient=lenient, diagnostics=diagnostics)


# ---- writing --------------------------------------------------------------


class _Ids:
    """Hands out brat ids, keeping the ones that are already valid."""

    def __init__(self, prefix: str, pattern: re.Pattern, wanted: Iterable[str]):
        self.prefix = prefix
        self.pattern = pattern
        self.used = {w for w in wanted if pattern.match(w)}
        self.n = 0
        self.given: dict[str, str] = {}

    def get(self, key: str) -> str:
        if key not in self.given:
            if self.pattern.match(key) and key not in self.given.values():
                self.given[key] = key
            else:
                while f"{self.prefix}{self.n}" in self.used or f"{self.prefix}{self.n}" in self.given.values():
                    self.n += 1
                self.given[key] = f"{self.prefix}{self.n}"
        return self.given[key]


def _no_break(doc: Document, what: str, value: str, chars: str = "\n\r\t") -> str:
    if any(c in value for c in chars) or value == "":
        raise error("E124", doc=doc.id, fmt=FMT, reason=f"{what} {value[:40]!r} is empty or contains a line break or tab")
    return value


def ann_lines(doc: Document) -> list[str]:
    """The ``.ann`` lines of one document (see the module rules for the order)."""
    tids = _Ids("T", _TID, (m.id for m in doc.mentions))
    rids = _Ids("R", _RID, (r.id for r in doc.relations if EVENT not in r.infons and EQUIV not in r.infons))
    t_lines, r_lines, e_lines, star_lines, n_lines, a_lines, note_lines = [], [], [], [], [], [], []
    seen_records: set[str] = set()
    events: dict[str, list[Relation]] = {}
    equivs: dict[str, list[Relation]] = {}
    mention_ids = {m.id for m in doc.mentions}

    def extras(target: str, infons: dict) -> None:
        for rec in infons.get(ATTRIBUTES, ()):
            if rec["id"] not in seen_records:
                seen_records.add(rec["id"])
                value = f" {rec['value']}" if "value" in rec else ""
                a_lines.append(f"{rec['id']}\t{rec['name']} {target}{value}")
        for rec in infons.get(NOTES, ()):
            if rec["id"] not in seen_records:
                seen_records.add(rec["id"])
                note_lines.append(f"{rec['id']}\t{rec['type']} {target}\t{rec['text']}")

    n_used = {rec["id"] for m in doc.mentions for rec in m.infons.get(NORMALIZATIONS, ())}
    n_next = 0
    for m in doc.mentions:
        tid = tids.get(m.id)
        _no_break(doc, f"mention '{m.id}' type", m.type, "\n\r\t ")
        spans = ";".join(f"{s} {e}" for s, e in m.spans)
        _no_break(doc, f"mention '{m.id}' text", m.text or "-", "\n\r")
        t_lines.append(f"{tid}\t{m.type} {spans}\t{m.text}")
        recs = m.infons.get(NORMALIZATIONS, [])
        if [r["ref"] for r in recs] == list(m.concept_ids):
            for r in recs:
                tail = f"\t{r['text']}" if "text" in r else ""
                n_lines.append(f"{r['id']}\t{r['type']} {tid} {r['ref']}{tail}")
        else:
            for cid in m.concept_ids:
                while f"N{n_next}" in n_used:
                    n_next += 1
                n_used.add(f"N{n_next}")
                n_lines.append(f"N{n_next}\tReference {tid} {_no_break(doc, 'concept id', cid, chr(10) + chr(13) + chr(9) + ' ')}")
        extras(tid, m.infons)

    for r in doc.relations:
        if r.level != "mention":
            raise error(
                "E124", doc=doc.id, fmt=FMT, reason=f"relation '{r.id}' is between entities; brat relations are between text-bound annotations"
            )
        for arg in (r.head, r.tail):
            if arg not in mention_ids:
                raise error("E124", doc=doc.id, fmt=FMT, reason=f"relation '{r.id}' names '{arg}', which is not a mention")
        _no_break(doc, f"relation '{r.id}' type", r.type, "\n\r\t ")
        if EVENT in r.infons:
            events.setdefault(str(r.infons[EVENT]), []).append(r)
        elif EQUIV in r.infons:
            equivs.setdefault(str(r.infons[EQUIV]), []).append(r)
        else:
            rid = rids.get(r.id)
            roles = r.infons.get(ROLES, ["Arg1", "Arg2"])
            tab = "\t" if r.infons.get(TRAILING_TAB) else ""
            r_lines.append(f"{rid}\t{r.type} {roles[0]}:{tids.get(r.head)} {roles[1]}:{tids.get(r.tail)}{tab}")
            extras(rid, r.infons)

    for eid, rels in events.items():
        heads = {(r.type, r.head) for r in rels}
        if len(heads) != 1:
            raise error("E124", doc=doc.id, fmt=FMT, reason=f"the relations of event '{eid}' do not share one type and trigger")
        args = " ".join(f"{r.infons.get(ROLE, 'Arg')}:{r.infons.get(ARG_EVENT) or tids.get(r.tail)}" for r in rels)
        e_lines.append(f"{eid}\t{rels[0].type}:{tids.get(rels[0].head)} {args}")
        for r in rels:
            extras(eid, r.infons)
    for _, rels in equivs.items():
        members = [tids.get(rels[0].head)] + [tids.get(r.tail) for r in rels]
        star_lines.append(f"*\t{rels[0].type} {' '.join(members)}")
    for group in (n_lines, a_lines, note_lines):
        group.sort(key=_id_order)
    return t_lines + r_lines + e_lines + star_lines + n_lines + a_lines + note_lines


def _id_order(line: str) -> tuple[str, int, str]:
    ident = line.split("\t", 1)[0]
    digits = ident[1:]
    return (ident[:1], int(digits) if digits.isdigit() else -1, ident)


def ann_text(doc: Document) -> str:
    lines = ann_lines(doc)
    return "".join(line + "\n" for line in lines)


def _write_stream(docs: Iterable[Document], fh: TextIO) -> int:
    docs = list(docs)
    if len(docs) != 1:
        raise error(
            "E124",
            doc=", ".join(d.id for d in docs[:3]) or "(none)",
            fmt=FMT,
            reason=f"a stream holds one document's .ann; got {len(docs)} (write to a folder)",
        )
    fh.write(ann_text(docs[0]))
    return 1


_base = json_like(_raw, _write_stream, fmt=FMT)


def dump(docs: Iterable[Document], target: str | os.PathLike | TextIO) -> int:
    """Write ``<id>.txt`` + ``<id>.ann`` per document into a folder; a path ending
    in ``.ann`` takes exactly one document (its ``.txt`` goes beside it); a
    stream gets one document's ``.ann`` text."""
    if not isinstance(target, (str, os.PathLike)):
        return _write_stream(docs, target)
    path = Path(target)
    if path.suffix.lower() == ".ann":
        docs = list(docs)
        _write_stream(docs, _io.StringIO())  # checks there is exactly one
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".txt").write_text(docs[0].text, encoding="utf-8", newline="")
        path.write_text(ann_text(docs[0]), encoding="utf-8", newline="")
        return 1
    n = 0
    for doc in docs:
        ann = ann_text(doc)  # first, so that a document brat cannot hold leaves no files
        write_folder([doc], path)
        with open(path / (doc.id + ".ann"), "w", encoding="utf-8", newline="") as fh:
            fh.write(ann)
        n += 1
    return n


def sniff(path: str) -> bool:
    """A folder holding ``.ann`` files (at any depth), or an ``.ann`` file."""
    p = Path(path)
    if p.is_dir():
        return any(True for q in p.rglob("*.ann") if q.is_file())
    return p.suffix.lower() == ".ann"


def loads(ann: str, *, text: str | None = None, doc_id: str | None = None, **kw) -> list[Document]:
    """One document from ``.ann`` content and its ``text``."""
    return _base.load(_io.StringIO(ann), text=text, doc_id=doc_id, **kw)


iterparse, load, dumps = _base.iterparse, _base.load, _base.dumps
_api = JsonLikeAPI(iterparse, load, loads, dump, dumps)

registry.formats.register(
    "biorel.Brat.v1",
    Format("brat", _api, extensions=(".ann",), directory=True, description="brat standoff: folder of .txt/.ann pairs (or one .ann)", sniff=sniff),
    aliases=("brat",),
)
