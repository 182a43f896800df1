"""Invariants of the document model, checked on every read.

:func:`check_document` lists every violation of one document as errors (it never
raises); :func:`repair_document` drops the offending items, which is what lenient
reading does after reporting them. The rules:

* every span is ``0 <= start < end <= len(text)`` and lies inside one passage;
* a mention's text equals the document text at its span; for a multi-span
  (discontinuous) mention, the pieces joined by a space, or joined with nothing,
  or the whole text from its first start to its last end;
* mention, entity and relation ids are unique within the document;
* entity ``mention_ids`` and relation arguments name items that exist;
* passages do not overlap;
* a document that is required to carry text (``require_text``) is not empty,
  unless it carries annotations: an *annotation-only* document (passages
  without text, as BioC allows) keeps its mentions and relations; their spans
  are checked for ``0 <= start < end`` only, since there is no text to check
  them against;
* relations that are not binary (``Document.nary_relations``) follow the
  relation rules: ids unique across both relation lists, every argument exists.

:func:`empty_source_warning` is what ``biorel validate`` says about a file or
folder that holds no documents (E174, a warning: exit code 0).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import BiorelError, SourceLocation, ValidationError, error
from .types import Document


@dataclass(frozen=True, slots=True)
class Violation:
    error: BiorelError
    kind: str  # "document", "mention", "entity", "relation", "passage"
    item_id: str | None


def _err(code: str, where: SourceLocation, **fields) -> BiorelError:
    return error(code, where=where, cls=ValidationError, **fields)


def check_document(
    doc: Document,
    *,
    where: SourceLocation | None = None,
    item_where: dict[str, SourceLocation] | None = None,
    require_text: bool = True,
) -> list[Violation]:
    where = where or SourceLocation()
    item_where = item_where or {}

    def loc(item_id: str | None) -> SourceLocation:
        return item_where.get(item_id, where) if item_id is not None else where

    out: list[Violation] = []
    text = doc.text
    n = len(text)

    annotated = bool(doc.mentions or doc.relations or doc.nary_relations)
    textless = not text.strip()
    if require_text and textless and not annotated:
        out.append(Violation(_err("E015", where, doc=doc.id), "document", None))
        return out
    if textless:  # annotation-only: offsets cannot be checked against text
        n = None

    passages = sorted(doc.passages, key=lambda p: p.offset)
    for a, b in zip(passages, passages[1:]):
        if b.offset < a.end:
            out.append(Violation(_err("E017", where, doc=doc.id, a=a.offset, b=b.offset), "passage", None))

    def passage_of(s: int, e: int) -> bool:
        return any(p.offset <= s and e <= p.end for p in passages)

    seen: set[str] = set()
    for m in doc.mentions:
        if m.id in seen:
            out.append(Violation(_err("E013", loc(m.id), what="mention", id=m.id, doc=doc.id), "mention", m.id))
            continue
        seen.add(m.id)
        bad_span = not m.spans or any(s < 0 or e <= s or (n is not None and e > n) for s, e in m.spans)
        if bad_span:
            out.append(Violation(_err("E011", loc(m.id), spans=list(m.spans), item=f"mention '{m.id}'", length=n), "mention", m.id))
            continue
        if n is None:
            continue
        if passages and not all(passage_of(s, e) for s, e in m.spans):
            out.append(Violation(_err("E012", loc(m.id), spans=list(m.spans), item=f"mention '{m.id}'"), "mention", m.id))
            continue
        pieces = [text[s:e] for s, e in m.spans]
        if len(pieces) == 1:
            ok = pieces[0] == m.text
        else:
            ok = m.text in (" ".join(pieces), "".join(pieces), text[m.start : m.end])
        if not ok:
            found = pieces[0] if len(pieces) == 1 else " ".join(pieces)
            out.append(
                Violation(
                    _err("E010", loc(m.id), item=f"'{m.id}'", expected=m.text, spans=list(m.spans), found=found),
                    "mention",
                    m.id,
                )
            )

    mention_ids = seen
    ent_ids: set[str] = set()
    for ent in doc.entities:
        if ent.id in ent_ids:
            out.append(Violation(_err("E013", loc(ent.id), what="entity", id=ent.id, doc=doc.id), "entity", ent.id))
            continue
        ent_ids.add(ent.id)
        for mid in ent.mention_ids:
            if mid not in mention_ids:
                out.append(Violation(_err("E014", loc(ent.id), item=f"entity '{ent.id}'", what="mention", ref=mid, doc=doc.id), "entity", ent.id))
                break

    rel_ids: set[str] = set()
    for r in doc.relations:
        if r.id in rel_ids:
            out.append(Violation(_err("E013", loc(r.id), what="relation", id=r.id, doc=doc.id), "relation", r.id))
            continue
        rel_ids.add(r.id)
        pool, what = (mention_ids, "mention") if r.level == "mention" else (ent_ids, "entity")
        for ref in (r.head, r.tail):
            if ref not in pool:
                out.append(Violation(_err("E014", loc(r.id), item=f"relation '{r.id}' ({r.type})", what=what, ref=ref, doc=doc.id), "relation", r.id))
                break
        for s, e in r.evidence:
            if s < 0 or e <= s or (n is not None and e > n):
                out.append(
                    Violation(_err("E011", loc(r.id), spans=list(r.evidence), item=f"evidence of relation '{r.id}'", length=n), "relation", r.id)
                )
                break
    for r in doc.nary_relations:
        if r.id in rel_ids:
            out.append(Violation(_err("E013", loc(r.id), what="relation", id=r.id, doc=doc.id), "relation", r.id))
            continue
        rel_ids.add(r.id)
        pool, what = (mention_ids, "mention") if r.level == "mention" else (ent_ids, "entity")
        missing = [ref for ref in r.refs if ref not in pool]
        if missing or not r.args:
            ref = missing[0] if missing else "(none)"
            out.append(
                Violation(
                    _err("E014", loc(r.id), item=f"relation '{r.id}' ({r.type}, {len(r.args)} arguments)", what=what, ref=ref, doc=doc.id),
                    "relation",
                    r.id,
                )
            )
    return out


def repair_document(doc: Document, violations: list[Violation]) -> Document | None:
    """Drop what the violations name, and whatever then dangles. ``None`` means
    the whole document must be skipped."""
    if any(v.kind in ("document", "passage") for v in violations):
        return None
    # Duplicate ids: the first occurrence stays, later ones go (handled by
    # position, since the id itself is shared).
    bad_mentions = {v.item_id for v in violations if v.kind == "mention" and v.error.code != "E013"}
    bad_entities = {v.item_id for v in violations if v.kind == "entity" and v.error.code != "E013"}
    bad_relations = {v.item_id for v in violations if v.kind == "relation" and v.error.code != "E013"}

    def first_only(items, bad):
        seen: set[str] = set()
        kept = []
        for it in items:
            if it.id in bad or it.id in seen:
                continue
            seen.add(it.id)
            kept.append(it)
        return kept

    doc.mentions = first_only(doc.mentions, bad_mentions)
    mids = {m.id for m in doc.mentions}
    ents = first_only(doc.entities, bad_entities)
    for ent in ents:
        ent.mention_ids = tuple(m for m in ent.mention_ids if m in mids)
    doc.entities = ents
    eids = {e.id for e in ents}
    rels = first_only(doc.relations, bad_relations)
    doc.relations = [r for r in rels if (r.head in (mids if r.level == "mention" else eids)) and (r.tail in (mids if r.level == "mention" else eids))]
    kept_ids = {r.id for r in doc.relations}
    nary = [r for r in first_only(doc.nary_relations, bad_relations) if r.id not in kept_ids]
    doc.nary_relations = [r for r in nary if r.args and all(ref in (mids if r.level == "mention" else eids) for ref in r.refs)]
    return doc


def is_blank(path: str | os.PathLike) -> bool:
    """True for a file that holds nothing but whitespace (or nothing at all):
    it holds no documents in any format."""
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 16):
                if chunk.replace(b"\xef\xbb\xbf", b"").strip():
                    return False
    except OSError:
        return False
    return True


def empty_source_warning(path: str | os.PathLike, documents: int) -> list[BiorelError]:
    """E174 when ``path`` gave no documents: a warning, not a failure (``biorel
    validate`` of an empty file or folder still exits 0), saying why."""
    if documents:
        return []
    p = Path(path)
    if p.is_dir():
        reason = "the folder has no files this format reads"
    elif p.is_file() and is_blank(p):
        reason = "the file is empty or holds only whitespace"
    else:
        reason = "nothing in it is a document of this format"
    return [error("E174", path=str(path), reason=reason)]
