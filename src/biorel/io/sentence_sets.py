"""Sentence-level relation sets: one sentence, two marked entities, one label.

Two formats, each registered with the ``json``-like API (``tsv.load(path)``,
``chemprot.loads(text)`` ...):

**Sentence TSV** (``biorel.SentenceTSV.v1``, alias ``sentence-tsv``): BioBERT's
GAD / EU-ADR relation files. ``train.tsv`` has no header (``sentence<TAB>label``);
``test.tsv`` has the header ``index<TAB>sentence<TAB>label``. The two entities are
masked in the sentence as ``@GENE$`` / ``@DISEASE$``. Cells are split on TAB with
no quoting (the files contain bare ``"``).

**ChemProt SciBERT** (``biorel.ChemProtSciBERT.v1``, alias ``chemprot-scibert``):
JSON lines ``{"text": ..., "label": ..., "metadata": []}`` whose text marks one
entity as ``<< X >>`` and the other as ``[[ Y ]]``. The dataset README says
``<<`` marks the protein and ``[[`` the chemical, but in all 10,065 instances
``<<`` is simply the entity that comes *first* in the sentence (train line 1:
``<< Epidermal growth factor receptor >> ... [[ gefitinib ]]``; line 1373:
``<< 17-phenyl-trinor-PGE2 >> ... [[ HVA Ca2+ channels ]]``), so the markers
give order, not type: mention types are ``E1`` (``<< >>``) and ``E2``
(``[[ ]]``). A marker is the bracket pair *with its inner space* (``"<< "`` ...
``" >>"``), so chemical names like ``6[[(3-iodophenyl)...`` or text like
``PGE1>STA2>>17-phenyl`` are not markers; each opening marker must occur exactly
once, followed by its closing marker (E150 otherwise). This format claims no file
extension: ``.jsonl`` is biorel's native JSONL; name the format.

Rules common to both:

* One :class:`Document` per instance, id = ``id_prefix`` + the ``index`` cell when
  the file has one, else the 0-based instance number (line order). One passage
  (type ``sentence``) at offset 0.
* Two mentions ``M1``/``M2`` (text order) over the masked / marked entities and
  an entity ``E1``/``E2`` for each; one relation ``R1`` between them, head = the
  first in the text, undirected (neither format says which argument is which
  role), ``type`` = the label verbatim (GAD ``"0"``/``"1"``, ChemProt
  ``"INHIBITOR"`` ...).
* The dataset's negative label (``negative_label=``, ``"0"`` for the TSV sets,
  none for ChemProt SciBERT, which holds only related pairs) is recorded in
  ``metadata["negative_label"]`` and each relation has ``infons["negative"]``:
  scorers treat a negative relation as *no relation*.
* Masks keep the text as given (the mention text is ``@GENE$``). Markers: by
  default (``strip_markers=False``) the text keeps them and the mention spans
  cover the entity inside them, so the round trip is exact; with
  ``strip_markers=True`` the markers are removed from the text (mention offsets
  are in the clean text) and each mention keeps its exact marker strings in
  ``infons["marker"]``, so writing puts them back and the round trip is still
  exact. ``metadata["markers"]`` says which (``"inline"`` / ``"stripped"``).
* Errors name file and line: wrong cell count (E141), mask count not 2 (E148),
  unknown mask (E149, ``masks=None`` accepts any ``@NAME$``), missing / repeated /
  overlapping markers (E150), empty label (E151), a line that is not a ChemProt
  record (E152), invalid UTF-8 (E020). Lenient mode skips the line and reports it.
* Writers reproduce the files: same header, index cells, label, JSON key order
  and layout (``ensure_ascii=False``, ``", "``/``": "`` separators). The TSV
  writer masks the two arguments of a document from another format as
  ``@<TYPE>$`` (the mention type upper-cased, one of ``masks=``), so what it
  writes reads back; a mask outside ``masks``, discontinuous or overlapping
  arguments, or other masks in the text are E153.
"""

from __future__ import annotations

import json
import re
from typing import Any, TextIO
from collections.abc import Iterable, Iterator, Sequence

from ..errors import BiorelError, Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document, Entity, Mention, Passage, Relation
from .base import Format, RawDocument, Source, iter_lines, json_like, report_or_raise

#: BioBERT's masks (GAD/EU-ADR: GENE, DISEASE; ChemProt: CHEMICAL, GENE; DDI: DRUG)
DEFAULT_MASKS = ("GENE", "DISEASE", "CHEMICAL", "DRUG")
MASK_RE = re.compile(r"@([A-Za-z][A-Za-z0-9_-]*)\$")
TSV_HEADERS = (("index", "sentence", "label"), ("sentence", "label"))
#: ChemProt SciBERT markers: (type, opening, closing), inner spaces included
CHEMPROT_MARKERS = (("E1", "<< ", " >>"), ("E2", "[[ ", " ]]"))


def _problem(err: BiorelError, lenient: bool, diagnostics: Diagnostics | None, action: str = "line skipped") -> None:
    report_or_raise(err, action, lenient=lenient, diagnostics=diagnostics)


def _instance(
    doc_id: str,
    text: str,
    spans: Sequence[tuple[int, int, str, dict]],
    label: str,
    negative_label: str | None,
    metadata: dict[str, Any],
) -> Document:
    """A document with one sentence, two mentions/entities and one relation.
    ``spans`` are ``(start, end, type, mention infons)`` in text order."""
    doc = Document(id=doc_id, passages=[Passage(0, text, "sentence")], metadata=metadata)
    for i, (s, e, mtype, infons) in enumerate(spans, start=1):
        doc.mentions.append(Mention(f"M{i}", ((s, e),), text[s:e], mtype, infons=infons))
        doc.entities.append(Entity(f"E{i}", mtype, (f"M{i}",)))
    infons = {"negative": label == negative_label} if negative_label is not None else {}
    doc.relations.append(Relation("R1", label, "E1", "E2", directed=False, infons=infons))
    doc.metadata["negative_label"] = negative_label
    return doc


def _numbered_lines(source: Source, lenient: bool, diagnostics: Diagnostics | None) -> Iterator[tuple[SourceLocation, str, int]]:
    """Non-blank lines with their 0-based number among non-blank lines. Lines
    skipped as undecodable (lenient mode) keep their number, so the ids of the
    instances after a skipped line do not shift."""
    k, last = 0, 0
    for where, line in iter_lines(source, lenient=lenient, diagnostics=diagnostics):
        k += where.line - last - 1  # lines dropped by the decoder in between
        last = where.line
        if line.strip():
            yield where, line, k
            k += 1


def _label_check(label: str, labels: Sequence[str] | None) -> str | None:
    if not label.strip():
        return "the label is empty"
    if labels is not None and label not in labels:
        return f"not one of {list(labels)}"
    return None


def _relation_and_args(doc: Document, fmt: str) -> tuple[Relation, list[Mention]]:
    """The one relation of an instance document and its two mentions, in text order."""
    if len(doc.relations) != 1:
        raise error("E153", fmt=fmt, reason=f"document '{doc.id}' has {len(doc.relations)} relations; a sentence-level instance has exactly one")
    rel = doc.relations[0]
    ments = doc.mention_index()
    ents = doc.entity_index()
    args = []
    for ref in (rel.head, rel.tail):
        if rel.level == "mention":
            m = ments.get(ref)
        else:
            ent = ents.get(ref)
            m = ments.get(ent.mention_ids[0]) if ent is not None and ent.mention_ids else None
        if m is None:
            raise error("E153", fmt=fmt, reason=f"argument '{ref}' of relation '{rel.id}' in document '{doc.id}' has no mention in the text")
        args.append(m)
    return rel, sorted(args, key=lambda m: m.start)


def _one_line(value: str, what: str, doc: Document, fmt: str) -> str:
    if "\n" in value or "\r" in value or (fmt == "sentence TSV" and "\t" in value):
        raise error("E153", fmt=fmt, reason=f"the {what} of document '{doc.id}' contains a line break or tab")
    return value


# ---- sentence TSV (GAD, EU-ADR) -----------------------------------------------------


def _tsv_raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    id_prefix: str = "",
    negative_label: str | None = "0",
    masks: Sequence[str] | None = DEFAULT_MASKS,
    labels: Sequence[str] | None = None,
) -> Iterator[RawDocument]:
    columns: tuple[str, ...] | None = None
    header = 0
    for where, line, k in _numbered_lines(source, lenient, diagnostics):
        cells = line.split("\t")
        if columns is None:
            columns = tuple(cells) if tuple(cells) in TSV_HEADERS else ("sentence", "label")
            if columns == tuple(cells):
                header = 1
                continue
        if len(cells) != len(columns):
            _problem(error("E141", where=where, fmt="sentence TSV", found=len(cells), expected=len(columns), delimiter="TAB"), lenient, diagnostics)
            continue
        row = dict(zip(columns, cells))
        try:
            doc = _tsv_document(row, k - header, columns, where, id_prefix, negative_label, masks, labels)
        except BiorelError as err:
            _problem(err, lenient, diagnostics)
            continue
        yield RawDocument(doc, where)


def _tsv_document(row, n, columns, where, id_prefix, negative_label, masks, labels) -> Document:
    text, label = row["sentence"], row["label"]
    why = _label_check(label, labels)
    if why:
        raise error("E151", where=where, label=label, reason=why)
    found = list(MASK_RE.finditer(text))
    if masks is not None:
        for m in found:
            if m.group(1) not in masks:
                raise error(
                    "E149", where=SourceLocation(where.file, where.line, offset=m.start()), mask=m.group(0), known=", ".join(f"@{k}$" for k in masks)
                )
    if len(found) != 2:
        raise error("E148", where=where, fmt="sentence TSV", n=len(found), masks=[m.group(0) for m in found])
    meta: dict[str, Any] = {"columns": list(columns)}
    if "index" in row:
        meta["index"] = row["index"]
    doc_id = f"{id_prefix}{row['index'] if 'index' in row else n}"
    spans = [(m.start(), m.end(), m.group(1), {}) for m in found]
    return _instance(doc_id, text, spans, label, negative_label, meta)


def masked_sentence(doc: Document, args: Sequence[Mention], masks: Sequence[str] | None = DEFAULT_MASKS) -> str:
    """The text with the two argument mentions replaced by their masks
    (``@GENE$``: the type upper-cased; a mention that is a mask already stays),
    which is what the reader finds again. E153 when that cannot be read back:
    a discontinuous or overlapping argument, a mask not in ``masks``, or other
    masks in the text."""
    text = doc.text
    a, b = args
    if len(a.spans) != 1 or len(b.spans) != 1 or a.end > b.start:
        raise error("E153", fmt="sentence TSV", reason=f"the arguments of document '{doc.id}' are discontinuous or overlap, which masks cannot hold")
    for m in (b, a):  # right to left, so the left offsets stay valid
        mask = text[m.start : m.end] if MASK_RE.fullmatch(text[m.start : m.end]) else f"@{m.type.upper()}$"
        name = mask[1:-1]
        if not MASK_RE.fullmatch(mask) or (masks is not None and name not in masks):
            raise error(
                "E153",
                fmt="sentence TSV",
                reason=f"mention '{m.id}' of document '{doc.id}' would be masked as {mask!r}, which is not one of the masks {list(masks or [])}",
            )
        text = text[: m.start] + mask + text[m.end :]
    if len(MASK_RE.findall(text)) != 2:
        raise error("E153", fmt="sentence TSV", reason=f"the text of document '{doc.id}' holds other @NAME$ masks besides its two arguments")
    return text


def _tsv_write(docs: Iterable[Document], fh: TextIO, *, columns: Sequence[str] | None = None, masks: Sequence[str] | None = DEFAULT_MASKS) -> int:
    """Write ``sentence<TAB>label`` rows; with an ``index`` column (from
    ``columns=``, else the first document's ``metadata["columns"]``) the header
    line is written first and each row gets its ``metadata["index"]`` (or its
    0-based number)."""
    n = 0
    cols: tuple[str, ...] | None = tuple(columns) if columns is not None else None
    for doc in docs:
        if cols is None:
            cols = tuple(doc.metadata.get("columns") or ("sentence", "label"))
            if cols not in TSV_HEADERS:
                raise error("E154", fmt="sentence TSV", header=list(cols), expected=" or ".join(str(list(h)) for h in TSV_HEADERS))
        if n == 0 and "index" in cols:
            fh.write("\t".join(cols) + "\n")
        rel, args = _relation_and_args(doc, "sentence TSV")
        cells = {"index": str(doc.metadata.get("index", n)), "sentence": masked_sentence(doc, args, masks), "label": rel.type}
        fh.write("\t".join(_one_line(cells[c], c, doc, "sentence TSV") for c in cols) + "\n")
        n += 1
    return n


def sniff_tsv(path: str) -> bool:
    """A ``.tsv`` whose first line is the ``index/sentence/label`` header, or a
    2-cell ``sentence<TAB>label`` line with two ``@NAME$`` masks."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 16).decode("utf-8-sig", "replace").rstrip("\r\n")
    except OSError:
        return False
    cells = first.split("\t")
    if tuple(cells) == TSV_HEADERS[0]:
        return True
    return len(cells) == 2 and len(MASK_RE.findall(cells[0])) == 2


# ---- ChemProt SciBERT JSONL -----------------------------------------------------------


def _find_markers(text: str) -> list[tuple[int, int, str, str, str]]:
    """``(open_start, close_end, type, open, close)`` of each marker pair; raises
    ``ValueError`` with the reason when a marker is missing, repeated or unclosed."""
    out = []
    for mtype, opening, closing in CHEMPROT_MARKERS:
        count = text.count(opening)
        if count != 1:
            raise ValueError(opening, "missing" if count == 0 else f"appears {count} times (ambiguous)")
        start = text.index(opening)
        end = text.find(closing, start + len(opening))
        if end < 0:
            raise ValueError(opening, f"is not closed by {closing!r}")
        if not text[start + len(opening) : end].strip():
            raise ValueError(opening, "marks an empty entity")
        out.append((start, end + len(closing), mtype, opening, closing))
    out.sort()
    if out[0][1] > out[1][0]:
        raise ValueError(out[1][3], f"overlaps the {out[0][3].strip()!r} marker")
    return out


def _chemprot_document(obj: Any, n: int, where: SourceLocation, id_prefix: str, strip_markers: bool, labels: Sequence[str] | None) -> Document:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not isinstance(obj.get("label"), str):
        raise error("E152", where=where, fmt="ChemProt SciBERT", reason='expected a JSON object with string "text" and "label"')
    text, label = obj["text"], obj["label"]
    why = _label_check(label, labels)
    if why:
        raise error("E151", where=where, label=label, reason=why)
    try:
        marks = _find_markers(text)
    except ValueError as e:
        raise error("E150", where=where, fmt="ChemProt SciBERT", marker=e.args[0], reason=e.args[1]) from None
    spans = []
    if strip_markers:
        pieces, pos = [], 0
        for s, e, mtype, opening, closing in marks:
            pieces.append(text[pos:s])
            start = sum(len(p) for p in pieces)
            inner = text[s + len(opening) : e - len(closing)]
            pieces.append(inner)
            spans.append((start, start + len(inner), mtype, {"marker": [opening, closing]}))
            pos = e
        pieces.append(text[pos:])
        text = "".join(pieces)
    else:
        spans = [(s + len(o), e - len(c), mtype, {}) for s, e, mtype, o, c in marks]
    meta = {"markers": "stripped" if strip_markers else "inline", "keys": list(obj)}
    meta.update({"fields": {k: v for k, v in obj.items() if k not in ("text", "label")}})
    return _instance(f"{id_prefix}{n}", text, spans, label, None, meta)


def _chemprot_raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    id_prefix: str = "",
    strip_markers: bool = False,
    labels: Sequence[str] | None = None,
) -> Iterator[RawDocument]:
    for where, line, k in _numbered_lines(source, lenient, diagnostics):
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise error("E024", where=SourceLocation(where.file, where.line, offset=e.pos), reason=e.msg) from None
            doc = _chemprot_document(obj, k, where, id_prefix, strip_markers, labels)
        except BiorelError as err:
            _problem(err, lenient, diagnostics)
            continue
        yield RawDocument(doc, where)


def _marked_text(doc: Document, args: list[Mention]) -> str:
    """The text with markers: as is when ``metadata["markers"] == "inline"``,
    else with each argument wrapped in its marker (``infons["marker"]``, or
    ``<< >>`` for the first and ``[[ ]]`` for the second)."""
    text = doc.text
    if doc.metadata.get("markers") == "inline":
        return text
    out, pos = [], 0
    for m, (_, opening, closing) in zip(args, CHEMPROT_MARKERS):
        opening, closing = m.infons.get("marker", (opening, closing))
        out += [text[pos : m.start], opening, text[m.start : m.end], closing]
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


def _chemprot_write(docs: Iterable[Document], fh: TextIO, *, ensure_ascii: bool = False) -> int:
    n = 0
    for doc in docs:
        rel, args = _relation_and_args(doc, "ChemProt SciBERT")
        values = {"text": _marked_text(doc, args), "label": rel.type, **doc.metadata.get("fields", {"metadata": []})}
        keys = doc.metadata.get("keys") or ["text", "label", *[k for k in values if k not in ("text", "label")]]
        obj = {k: values[k] for k in keys if k in values} | {k: v for k, v in values.items() if k not in keys}
        fh.write(json.dumps(obj, ensure_ascii=ensure_ascii) + "\n")
        n += 1
    return n


tsv = json_like(_tsv_raw, _tsv_write, require_text=True, fmt="sentence-tsv")
chemprot = json_like(_chemprot_raw, _chemprot_write, require_text=True, fmt="chemprot-scibert")

registry.formats.register(
    "biorel.SentenceTSV.v1",
    Format(
        "sentence-tsv",
        tsv,
        extensions=(".tsv",),
        description="BioBERT sentence-level relation TSV (GAD, EU-ADR; @GENE$/@DISEASE$ masks)",
        sniff=sniff_tsv,
    ),
    aliases=("sentence-tsv",),
)
registry.formats.register(
    "biorel.ChemProtSciBERT.v1",
    Format("chemprot-scibert", chemprot, extensions=(), description="SciBERT ChemProt JSON lines (<< >> and [[ ]] entity markers)"),
    aliases=("chemprot-scibert",),
)
