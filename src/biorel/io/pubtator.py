"""PubTator: ``PMID|t|title`` / ``PMID|a|abstract`` lines, then tab-separated
mention and relation lines, a blank line after each document.

Reading rules (``biorel.PubTator.v1``, alias ``pubtator``):

* **Passages.** ``PMID|<code>|<text>`` starts or continues document ``PMID``.
  ``t`` becomes type ``title`` and ``a`` type ``abstract``; any other code is
  kept as the type. The first passage is at offset 0 and each next one at the
  previous one's end + 1 (PubTator's single space), so document offsets are the
  file's offsets. The text is kept exactly (trailing spaces included).
* **Mentions.** ``PMID<TAB>start<TAB>end<TAB>text<TAB>type[<TAB>ids[<TAB>components]]``
  (5 to 7 columns). Mentions get ids ``T0``, ``T1``, ... counting the document's
  mention lines in file order.
* **Concept ids.** The ids column is split into ``Mention.concept_ids`` at ``|``,
  ``,``, ``;`` or ``+`` (BC5CDR/NCBI composites use ``|`` or ``+``, BioRED gene
  lists ``,``); each piece is stripped of spaces; ``-1`` and ``-`` are kept
  verbatim and mean "not normalised". The column is *not* split when the
  mention type is a variant type (:data:`VARIANT_TYPES`) or the column has the
  shape of a tmVar variant id (``c|SUB|G|1763|A``, ``|DEL|46|S``), whose ``|`` is
  part of the id. A separator other than ``|`` is kept in
  ``infons["pubtator.ids_separator"]``; a column that the ids joined back with
  that separator would not reproduce (NCBI's `` D007153``) is kept verbatim in
  ``infons["pubtator.ids"]``. A 6th column that is empty gives no ids and
  ``infons["pubtator.ids"] = ""``; a 5-column line has no ids.
* **Composite mentions.** A mention with several grounded ids is composite; the
  7th column (BC5CDR), split at ``|``, becomes ``Mention.components`` (BC5CDR
  gives it for most composites, e.g. ``hemorrhagic|cystitis`` for
  ``hemorrhagic cystitis`` with ids ``D006470|D003556``). The mention joins one
  entity per grounded id.
* **Entities** are :meth:`Document.entities_from_mentions` (one per concept id).
  When a relation names a composite mention's *whole* ids column (BioRED has
  5 such relations, 1 in Test and 4 in Train, naming 3 ``|``-joined disease
  composites such as ``D007859|D008569``),
  that column also becomes an entity, grounded in the mentions carrying it, with
  ``infons["pubtator.composite_of"]`` listing its ids.
* **Relations.** ``PMID<TAB>type<TAB>id1<TAB>id2`` (BC5CDR ``CID``) or with a 5th
  column (BioRED ``Novel``/``No``, kept verbatim in ``infons["novel"]``) become
  entity-level relations ``R0``, ``R1``, ... between concept ids, directed for the
  types in ``directed_types`` (default ``("CID",)``: chemical induces disease).
  An argument that is no entity of the document is error E014 (validation).
* A line is classified by its columns: 6-7 columns is a mention; 5 columns is a
  mention if column 2 (start) has a digit (relation types have none: BioRED's
  5-column relation lines have gene ids in column 3), else a relation; 4 columns
  is a relation.
* Line endings LF or CRLF; a BOM is ignored. A blank line ends a document, as
  does a passage line naming another PMID.

Errors (strict raises, lenient reports to ``diagnostics`` and skips the line):
E120 unrecognised line, E121 wrong number of columns, E122 non-integer offsets,
E123 an annotation line whose PMID is not the open document's. Invalid UTF-8
(E020) skips the whole document in lenient mode. Offset drift (E010), spans
outside the text (E011) or across passages (E012), duplicate PMIDs (E016) and
relations to missing entities (E014) come from :func:`biorel.io.base.checked`,
located at the file line of the item.

Writing reproduces a file read by this module byte for byte (apart from leading
and trailing blank lines). It writes what PubTator can express: passages laid
out one space apart, single-span mentions, entity-level relations (and
``infons["novel"]``). Mention/relation ids, entity records, scores, evidence,
other infons and metadata are not written; anything PubTator cannot carry
(discontinuous mentions, mention-level relations, newlines or tabs in fields,
passage offsets that are not PubTator's layout) is error E124.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TextIO
from collections.abc import Iterable, Iterator

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import NULL_CONCEPT_IDS, Document, Entity, Mention, Passage, Relation
from .base import Format, RawDocument, Source, ensure_diagnostics, iter_decoded_lines, json_like, report_or_raise

FMT = "PubTator"

#: passage codes and the passage types they stand for
PASSAGE_TYPES = {"t": "title", "a": "abstract"}
_PASSAGE_CODES = {v: k for k, v in PASSAGE_TYPES.items()}

#: mention types whose ids column is one id even when it contains ``|`` (tmVar/BioRED variants)
VARIANT_TYPES = frozenset(
    {"SequenceVariant", "Variant", "Mutation", "DNAMutation", "ProteinMutation", "SNP", "DNAAllele", "ProteinAllele", "AcidChange"}
)

#: infon keys this module reads and writes
IDS_FIELD = "pubtator.ids"
IDS_SEPARATOR = "pubtator.ids_separator"
NOVEL = "novel"
COMPOSITE_OF = "pubtator.composite_of"
#: entity infon: the entity was created for a relation argument that no mention carries
UNMENTIONED = "pubtator.unmentioned"
UNMENTIONED_MODES = ("auto", "entity")

ID_SEPARATORS = "|,;+"

_PASSAGE = re.compile(r"^([^\t|]+)\|([^\t|]+)\|(.*)$", re.S)
_SNIFF = re.compile(r"^[^\s|]+\|[A-Za-z_]{1,16}\|")
_TMVAR = re.compile(r"^[A-Za-z]?\|[A-Za-z]+\|")
_SPLIT = re.compile(r"[|,;+]")
_INT = re.compile(r"^\d+$")
_NUMBERISH = re.compile(r"^\s*[+-]?\d+\s*$")
_HAS_DIGIT = re.compile(r"\d")


# ---- concept ids ----------------------------------------------------------


def split_ids(column: str, mention_type: str = "", *, atomic_types: Iterable[str] = VARIANT_TYPES) -> tuple[tuple[str, ...], str]:
    """Split an ids column into ``(ids, separator)`` by the rules above."""
    if column == "":
        return (), "|"
    if mention_type in atomic_types or _TMVAR.match(column.strip()):
        return (column.strip(),), "|"
    seps = [c for c in column if c in ID_SEPARATORS]
    if not seps:
        return (column.strip(),), "|"
    return tuple(p.strip() for p in _SPLIT.split(column)), seps[0]


def _mention_ids_infons(column: str, mention_type: str, atomic_types) -> tuple[tuple[str, ...], dict]:
    ids, sep = split_ids(column, mention_type, atomic_types=atomic_types)
    infons: dict = {}
    if len(ids) > 1 and sep != "|":
        infons[IDS_SEPARATOR] = sep
    if sep.join(ids) != column or column == "":
        infons[IDS_FIELD] = column
    return ids, infons


def ids_column(m: Mention, *, atomic_types: Iterable[str] = VARIANT_TYPES) -> str | None:
    """The ids column for ``m`` (``None``: write a 5-column line)."""
    verbatim = m.infons.get(IDS_FIELD)
    if isinstance(verbatim, str) and split_ids(verbatim, m.type, atomic_types=atomic_types)[0] == tuple(m.concept_ids):
        return verbatim
    if not m.concept_ids:
        return None
    return str(m.infons.get(IDS_SEPARATOR, "|")).join(m.concept_ids)


def _components_column(m: Mention) -> str | None:
    if any("|" in c for c in m.components):
        raise ValueError("'|' in a component")
    return "|".join(m.components) if m.components else None


# ---- reading --------------------------------------------------------------


@dataclass
class _Builder:
    pmid: str
    where: SourceLocation
    doc: Document = field(init=False)
    item_where: dict[str, SourceLocation] = field(default_factory=dict)
    n_mention_lines: int = 0
    broken: list[BiorelError] = field(default_factory=list)
    _text: str | None = None

    def __post_init__(self) -> None:
        self.doc = Document(id=self.pmid)

    def add_passage(self, code: str, text: str) -> None:
        ps = self.doc.passages
        offset = ps[-1].end + 1 if ps else 0
        ps.append(Passage(offset, text, PASSAGE_TYPES.get(code, code)))
        self._text = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.doc.text
        return self._text

    def finish(self, unmentioned: str = "auto") -> RawDocument:
        doc = self.doc
        doc.entities = doc.entities_from_mentions()
        _add_whole_composites(doc)
        if unmentioned == "entity" or self.n_mention_lines == 0:
            _add_unmentioned(doc, self.item_where)
        for ent in doc.entities:
            self.item_where.setdefault(ent.id, self.item_where[ent.mention_ids[0]] if ent.mention_ids else self.where)
        return RawDocument(doc, self.where, self.item_where)


def _add_unmentioned(doc: Document, item_where: dict[str, SourceLocation]) -> None:
    """Relation arguments that no mention carries become entities without
    mentions (a relation-only document: the BC5CDR CID submission format)."""
    known = {e.id for e in doc.entities}
    for r in doc.relations:
        for arg in (r.head, r.tail):
            if arg not in known:
                known.add(arg)
                doc.entities.append(Entity(arg, "", (), infons={UNMENTIONED: True}))
                item_where.setdefault(arg, item_where.get(r.id, SourceLocation()))


def _add_whole_composites(doc: Document) -> None:
    """BioRED relations sometimes name a composite mention's whole ids column
    (``D007859|D008569``) as one argument: give such a column its own entity,
    grounded in the mentions that carry it, so the relation resolves."""
    known = {e.id for e in doc.entities}
    wanted = [a for r in doc.relations for a in (r.head, r.tail) if a not in known]
    for arg in dict.fromkeys(wanted):
        carriers = [
            m
            for m in doc.mentions
            if m.is_composite and (m.infons.get(IDS_FIELD) == arg or str(m.infons.get(IDS_SEPARATOR, "|")).join(m.concept_ids) == arg)
        ]
        if carriers:
            doc.entities.append(Entity(arg, carriers[0].type, tuple(m.id for m in carriers), infons={COMPOSITE_OF: list(carriers[0].grounded_ids)}))


class _Reader:
    def __init__(
        self, lenient: bool, diagnostics: Diagnostics | None, directed_types: Iterable[str], atomic_types: Iterable[str], unmentioned: str = "auto"
    ):
        if unmentioned not in UNMENTIONED_MODES:
            raise ValueError(f"unmentioned must be one of {', '.join(UNMENTIONED_MODES)}, not {unmentioned!r}")
        self.lenient = lenient
        self.diagnostics = ensure_diagnostics(lenient, diagnostics) or Diagnostics()
        self.directed = frozenset(directed_types)
        self.atomic = frozenset(atomic_types)
        self.unmentioned = unmentioned
        self.cur: _Builder | None = None

    # -- plumbing
    def _problem(self, err: BiorelError, action: str = "line skipped") -> None:
        report_or_raise(err, action, lenient=self.lenient, diagnostics=self.diagnostics)

    def close(self) -> Iterator[RawDocument]:
        cur, self.cur = self.cur, None
        if cur is None:
            return
        if cur.broken:
            for err in cur.broken:
                self.diagnostics.add(err, f"document '{cur.pmid}' skipped")
            return
        yield cur.finish(self.unmentioned)

    # -- one line
    def feed(self, where: SourceLocation, line: str, bad: BiorelError | None) -> Iterator[RawDocument]:
        if bad is not None:
            yield from self._bad_bytes(line, bad)
            return
        if not line.strip():
            yield from self.close()
            return
        m = _PASSAGE.match(line)
        if m:
            pmid, code, text = m.groups()
            if self.cur is not None and self.cur.pmid != pmid:
                yield from self.close()
            if self.cur is None:
                self.cur = _Builder(pmid, where)
            self.cur.add_passage(code, text)
            return
        if "\t" not in line:
            self._problem(error("E120", where=where, line=line[:80]))
            return
        cols = line.split("\t")
        if _is_relation_line(cols) and (self.cur is None or self.cur.pmid != cols[0]):
            # a relation line that opens a document: a relation-only document
            # (the BC5CDR CID submission format has no title or mention lines)
            yield from self.close()
            self.cur = _Builder(cols[0], where)
        try:
            self._annotation(where, cols)
        except BiorelError as err:
            self._problem(err)

    def _bad_bytes(self, line: str, err: BiorelError) -> Iterator[RawDocument]:
        if not self.lenient:
            raise err
        m = _PASSAGE.match(line)
        pmid = m.group(1) if m else line.split("\t", 1)[0]
        if m and (self.cur is None or self.cur.pmid != pmid):
            yield from self.close()
            self.cur = _Builder(pmid, err.where)
        if self.cur is None:
            self.diagnostics.add(err, "line skipped")
        else:
            self.cur.broken.append(err)

    def _annotation(self, where: SourceLocation, cols: list[str]) -> None:
        n = len(cols)
        pmid = cols[0]
        cur = self.cur
        if cur is None:
            raise error("E123", where=where, pmid=pmid, why="no document is open here (a title line 'PMID|t|...' must come first)")
        if cur.pmid != pmid:
            raise error("E123", where=where, pmid=pmid, why=f"the open document is '{cur.pmid}'")
        if n >= 6 and _INT.match(cols[1]) and _INT.match(cols[2]):
            self._check_tab_in_text(where, cols)
        if n in (6, 7) or (n == 5 and _HAS_DIGIT.search(cols[1])):
            self._mention(where, cols)
        elif n in (4, 5) and not (_NUMBERISH.match(cols[1]) and _NUMBERISH.match(cols[2])):
            self._relation(where, cols)
        else:
            expected = (
                "a mention line has 5-7 (PMID, start, end, text, type[, ids[, components]]) and a relation line 4-5 (PMID, type, id1, id2[, novel])"
            )
            raise error("E121", where=where, n=n, expected=expected)

    def _check_tab_in_text(self, where: SourceLocation, cols: list[str]) -> None:
        """A tab inside the mention text shifts every later column: say so
        (E131) rather than report the shifted columns as offset drift."""
        assert self.cur is not None
        found = self.cur.text[int(cols[1]) : int(cols[2])]
        if "\t" not in found or cols[3] == found:
            return
        n_tabs = found.count("\t")
        if "\t".join(cols[3 : 4 + n_tabs]) == found:
            raise error(
                "E131",
                where=where,
                reason=f"the text at {cols[1]}-{cols[2]} is {found!r} ({n_tabs} tab(s)); the type and ids columns read as {cols[4 + n_tabs :][:2]!r}",
            )

    def _mention(self, where: SourceLocation, cols: list[str]) -> None:
        cur = self.cur
        assert cur is not None
        mid = f"T{cur.n_mention_lines}"
        cur.n_mention_lines += 1
        start, end = cols[1], cols[2]
        if not (_INT.match(start) and _INT.match(end)):
            raise error("E122", where=where, start=start, end=end)
        text, mtype = cols[3], cols[4]
        ids: tuple[str, ...] = ()
        infons: dict = {}
        if len(cols) >= 6:
            ids, infons = _mention_ids_infons(cols[5], mtype, self.atomic)
        components: tuple[str, ...] = ()
        if len(cols) == 7:
            components = tuple(cols[6].split("|"))
        cur.doc.mentions.append(Mention(mid, ((int(start), int(end)),), text, mtype, ids, components, infons))
        cur.item_where[mid] = where

    def _relation(self, where: SourceLocation, cols: list[str]) -> None:
        cur = self.cur
        assert cur is not None
        rid = f"R{len(cur.doc.relations)}"
        rtype, head, tail = cols[1], cols[2], cols[3]
        infons = {NOVEL: cols[4]} if len(cols) == 5 else {}
        cur.doc.relations.append(Relation(rid, rtype, head, tail, level="entity", directed=rtype in self.directed, infons=infons))
        cur.item_where[rid] = where


def _is_relation_line(cols: list[str]) -> bool:
    """The column shape of a relation line (see the classification rule)."""
    if len(cols) == 5 and _HAS_DIGIT.search(cols[1]):
        return False
    return len(cols) in (4, 5) and not (_NUMBERISH.match(cols[1]) and _NUMBERISH.match(cols[2]))


def _raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    directed_types: Iterable[str] = ("CID",),
    atomic_id_types: Iterable[str] = VARIANT_TYPES,
    unmentioned: str = "auto",
) -> Iterator[RawDocument]:
    reader = _Reader(lenient, diagnostics, directed_types, atomic_id_types, unmentioned)
    for where, line, bad in iter_decoded_lines(source):
        yield from reader.feed(where, line, bad)
    yield from reader.close()


# ---- writing --------------------------------------------------------------


def _check_field(doc: Document, what: str, value: str, *, allow_tab: bool = False, allow_empty: bool = True) -> None:
    bad = "\n\r" if allow_tab else "\n\r\t"
    if any(c in value for c in bad) or (not allow_empty and value == ""):
        why = "is empty" if value == "" else "contains a line break or tab"
        raise error("E124", doc=doc.id, fmt=FMT, reason=f"{what} {value[:60]!r} {why}")


_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " "})
_COLUMN_BREAKS = str.maketrans({"\n": " ", "\r": " ", "\t": " "})
#: characters an id cannot hold in an ids column (separators, column and line breaks), percent-encoded
_ID_ESCAPES = {c: f"%{ord(c):02X}" for c in "%|,;+\t\n\r"}


def encode_id(eid: str) -> str:
    """An entity id as one id of an ids column: ``%``, the separators
    ``|,;+`` and tabs/line breaks percent-encoded (``Chemical:2,4-DNP`` ->
    ``Chemical:2%2C4-DNP``); other ids unchanged."""
    return "".join(_ID_ESCAPES.get(c, c) for c in eid)


@dataclass
class _Layout:
    """Where each passage goes in PubTator's layout and the text written."""

    lines: list[tuple[str, int, str]]  # (code, offset, text) of each passage line
    starts: list[tuple[int, int, int]]  # (old offset, old end, new offset) of each passage
    text: list[str]  # the written document text, one character per item (edited for mention tabs)

    def new_span(self, s: int, e: int) -> tuple[int, int] | None:
        for old, old_end, new in self.starts:
            if old <= s and e <= old_end:
                return s - old + new, e - old + new
        return None


def _is_pubtator_layout(doc: Document) -> bool:
    pos = 0
    for p in doc.passages:
        code = _PASSAGE_CODES.get(p.type, p.type)
        if p.offset != pos or not code or "|" in code or "\t" in code or "\n" in code or "\r" in code:
            return False
        pos = p.end + 1
    return True


def _layout(doc: Document) -> _Layout:
    """Passages in PubTator's layout (see the module docstring): kept as they
    are when they already are in it, else the first passage is the title and
    the others are joined, one space apart, as the abstract."""
    ps = doc.passages
    if _is_pubtator_layout(doc):
        groups = [(_PASSAGE_CODES.get(p.type, p.type), [p]) for p in ps]
    else:
        groups = [("t", ps[:1])] + ([("a", ps[1:])] if len(ps) > 1 else [])
    lines, starts, pos = [], [], 0
    for code, members in groups:
        line_start = pos
        for i, p in enumerate(members):
            if i:
                pos += 1  # the joining space
            starts.append((p.offset, p.end, pos))
            pos += len(p.text)
        lines.append((code, line_start, " ".join(p.text.translate(_LINE_BREAKS) for p in members)))
        pos += 1  # PubTator's space before the next passage
    text = list(" ".join(t for _, _, t in lines))
    return _Layout(lines, starts, text)


class _IdPlan:
    """What the ids columns and the relation lines say, so that every relation
    argument names an id that reading the file back resolves (the rules in the
    module docstring, "Writing")."""

    def __init__(self, doc: Document):
        self.doc = doc
        ents = doc.entity_index()
        self.entities_of: dict[str, list[str]] = {}
        for e in doc.entities:
            for mid in e.mention_ids:
                self.entities_of.setdefault(mid, []).append(e.id)
        mentions = doc.mention_index()
        self.written_ids: dict[str, tuple[str, ...]] = {}  # mention id -> ids it carries on its line
        self.arg_name: dict[str, str] = {}  # entity id -> the id its relation lines name
        mention_args = {a for r in doc.relations if r.level == "mention" for a in (r.head, r.tail)}
        for m in doc.mentions:
            if m.grounded_ids:
                self.written_ids[m.id] = m.concept_ids
            elif self.entities_of.get(m.id):
                self.written_ids[m.id] = tuple(encode_id(eid) for eid in self.entities_of[m.id])
            elif m.id in mention_args:  # in no entity: the mention stands for itself
                self.written_ids[m.id] = (encode_id(m.id),)
        for eid, e in ents.items():
            self.arg_name[eid] = self._name(e, mentions)

    def _name(self, e: Entity, mentions: dict[str, Mention]) -> str:
        carried = [set(self.written_ids.get(mid, ())) for mid in e.mention_ids if mid in mentions]
        if not carried or any(e.id in c for c in carried):
            return e.id  # a concept id its mentions carry, or an entity without mentions
        if any(encode_id(e.id) in c for c in carried):
            return encode_id(e.id)
        common = set.intersection(*carried) - NULL_CONCEPT_IDS
        return common.pop() if len(common) == 1 else e.id

    def ids_column(self, m: Mention, atomic_types: Iterable[str]) -> str | None:
        if m.grounded_ids or m.id not in self.written_ids:
            return ids_column(m, atomic_types=atomic_types)
        return "|".join(self.written_ids[m.id])

    def relation_arg(self, r: Relation, ref: str) -> str:
        if r.level == "entity":
            return self.arg_name.get(ref, ref)
        owners = self.entities_of.get(ref, [])
        if not owners and ref in self.written_ids:
            return self.written_ids[ref][0]
        if len(owners) != 1:
            raise error(
                "E124", doc=self.doc.id, fmt=FMT, reason=f"relation '{r.id}' names mention '{ref}', which stands for {len(owners)} entities, not one"
            )
        return self.arg_name[owners[0]]


def _mention_lines(doc: Document, m: Mention, layout: _Layout, plan: _IdPlan, atomic_types: Iterable[str]) -> list[list[str]]:
    """One line per span of ``m`` (a discontinuous mention becomes one line
    per piece, all with the mention's ids)."""
    _check_field(doc, f"mention '{m.id}' type", m.type)
    ids = plan.ids_column(m, atomic_types)
    try:
        comps = _components_column(m)
    except ValueError:
        raise error("E124", doc=doc.id, fmt=FMT, reason=f"a component of mention '{m.id}' contains '|', the components separator") from None
    if ids is None and comps is not None:
        raise error("E124", doc=doc.id, fmt=FMT, reason=f"mention '{m.id}' has components but no concept ids")
    rows = []
    for s, e in m.spans:
        span = layout.new_span(s, e)
        if span is None:
            raise error("E124", doc=doc.id, fmt=FMT, reason=f"mention '{m.id}' span {s}-{e} lies in no passage")
        ns, ne = span
        for i in range(ns, ne):
            if layout.text[i] == "\t":
                layout.text[i] = " "  # a tab cannot be in the text column: a space in both
        piece = m.text.translate(_COLUMN_BREAKS) if len(m.spans) == 1 else "".join(layout.text[ns:ne])
        cols = [doc.id, str(ns), str(ne), piece, m.type]
        for what, col in (("concept ids", ids), ("components", comps)):
            if col is not None:
                _check_field(doc, f"mention '{m.id}' {what}", col)
                cols.append(col)
        rows.append(cols)
    return rows


def document_lines(doc: Document, *, atomic_types: Iterable[str] = VARIANT_TYPES) -> list[str]:
    """The PubTator lines of one document (without the trailing blank line)."""
    if "|" in doc.id:
        raise error("E124", doc=doc.id, fmt=FMT, reason="the document id contains '|'")
    _check_field(doc, "document id", doc.id, allow_empty=False)
    layout = _layout(doc)
    plan = _IdPlan(doc)
    mention_rows = [row for m in doc.mentions for row in _mention_lines(doc, m, layout, plan, atomic_types)]
    text = "".join(layout.text)  # after the mention lines replaced tabs inside mentions
    lines = [f"{doc.id}|{code}|{text[off : off + len(t)]}" for code, off, t in layout.lines]
    lines += ["\t".join(cols) for cols in mention_rows]
    for r in doc.relations:
        cols = [doc.id, r.type, plan.relation_arg(r, r.head), plan.relation_arg(r, r.tail)]
        if NOVEL in r.infons:
            cols.append(str(r.infons[NOVEL]))
        for c in cols[1:]:
            _check_field(doc, f"relation '{r.id}' field", c, allow_empty=False)
        lines.append("\t".join(cols))
    return lines


def _write(docs: Iterable[Document], fh: TextIO, *, atomic_id_types: Iterable[str] = VARIANT_TYPES) -> int:
    n = 0
    for doc in docs:
        fh.write("\n".join(document_lines(doc, atomic_types=atomic_id_types)))
        fh.write("\n\n")
        n += 1
    return n


# ---- registration ---------------------------------------------------------


def sniff(path: str) -> bool:
    """True when the first non-blank line of ``path`` is a PubTator passage line."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return False
    for raw in head.split(b"\n")[:100]:
        line = raw.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r")
        if line.strip():
            return bool(_SNIFF.match(line))
    return False


_api = json_like(_raw, _write, fmt="pubtator")
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.PubTator.v1",
    Format(
        "pubtator",
        _api,
        extensions=(".pubtator", ".pubtator.txt", ".txt"),
        description="PubTator title/abstract + tab-separated mentions and relations (BC5CDR, BioRED, NCBI-disease)",
        sniff=sniff,
    ),
    aliases=("pubtator",),
)
