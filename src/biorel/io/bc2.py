"""The BioCreative II Gene Mention (BC2GM) original format.

A corpus is a sentence file (``train.in`` / ``test.in``: ``<id> <sentence>`` per
line) plus two annotation files, ``GENE.eval`` (the gold mentions) and
``ALTGENE.eval`` (acceptable alternative boundaries), with lines
``<id>|<start> <end>|<text>``.

Offsets in the ``.eval`` files count NON-WHITESPACE characters: ``start`` is the
number of non-whitespace characters of the sentence before the mention and
``end`` the index of its last non-whitespace character (inclusive). The reader
converts them to ordinary ``[start, end)`` character offsets and checks them:
offsets past the sentence are E161; a ``text`` column that differs from the
sentence at those offsets (whitespace ignored) is E162; an annotation for an
unknown sentence id is E163. Lenient mode reports and skips such annotations.

Each sentence becomes a document (id = sentence id) with one passage of type
``sentence``. GENE annotations become mentions of type ``GENE`` with ids ``T1``,
``T2``, ... in ``GENE.eval`` order. ALTGENE annotations are kept as a side
structure: ``doc.metadata["bc2_altgene"]`` lists every alternative of the
sentence as ``[start, end, text]`` (real character offsets, file order), and
each mention's ``infons["alternatives"]`` lists the ``[start, end]`` of the
alternatives that overlap it (what a BC2-style scorer accepts in its place).

Options: ``gene`` and ``altgene`` name the annotation files (a path or an open
text stream). When reading a path and they are not given, ``GENE.eval`` and
``ALTGENE.eval`` next to it are used if they exist; a missing file means no
annotations of that kind. Writing takes the same two options and writes the
sentence file plus both annotation files (by default beside the sentence file);
writing mentions to a stream needs ``gene=``, else it is E166.
"""

from __future__ import annotations

import io
import os
from collections import defaultdict
from pathlib import Path
from typing import IO, Any, TextIO
from collections.abc import Iterable, Iterator

from ..errors import Diagnostics, FormatError, SourceLocation, error
from ..registry import registry
from ..types import Document, Mention, Passage
from .base import Format, JsonLikeAPI, RawDocument, Source, iter_lines, json_like, source_name, report_or_raise

ALT_KEY = "bc2_altgene"

_Annotation = tuple[int, int, str, SourceLocation]  # nonws start, nonws end (inclusive), text, where


def nonws_positions(text: str) -> list[int]:
    """Character index of each non-whitespace character of ``text``."""
    return [i for i, ch in enumerate(text) if not ch.isspace()]


def to_char_span(text: str, start: int, end: int, positions: list[int] | None = None) -> tuple[int, int]:
    """Convert BC2 non-whitespace offsets (end inclusive) to a ``[start, end)`` span."""
    pos = nonws_positions(text) if positions is None else positions
    return pos[start], pos[end] + 1


def to_nonws_offsets(text: str, start: int, end: int) -> tuple[int, int]:
    """Convert a ``[start, end)`` character span to BC2 non-whitespace offsets."""
    before = sum(1 for ch in text[:start] if not ch.isspace())
    inside = sum(1 for ch in text[start:end] if not ch.isspace())
    return before, before + inside - 1


def _read_eval(source: Any, *, lenient: bool, diagnostics: Diagnostics | None) -> dict[str, list[_Annotation]]:
    out: dict[str, list[_Annotation]] = defaultdict(list)
    for where, line in iter_lines(source, fmt="BC2", lenient=lenient, diagnostics=diagnostics):
        if not line.strip():
            continue
        parts = line.split("|", 2)
        try:
            sid, offsets = parts[0], parts[1].split()
            if len(offsets) != 2 or not sid:
                raise ValueError
            start, end = int(offsets[0]), int(offsets[1])
        except (IndexError, ValueError):
            err = error("E021", where=where, fmt="BC2 annotation", reason=f"expected 'id|start end|text', got {line!r}")
            report_or_raise(err, "annotation skipped", lenient=lenient, diagnostics=diagnostics)
            continue
        out[sid].append((start, end, parts[2] if len(parts) > 2 else "", where))
    return out


def _default_sibling(source: Source, name: str) -> str | None:
    if isinstance(source, (str, os.PathLike)):
        p = Path(source).parent / name
        return str(p) if p.exists() else None
    return None


def _convert(sid: str, text: str, positions: list[int], ann: _Annotation) -> tuple[int, int, str]:
    start, end, given, where = ann
    n = len(positions)
    if not (0 <= start <= end < n):
        raise error("E161", where=where, start=start, end=end, sid=sid, n=n)
    s, e = positions[start], positions[end] + 1
    found = text[s:e]
    if given and "".join(given.split()) != "".join(found.split()):
        raise error("E162", where=where, expected=given, sid=sid, start=start, end=end, found=found)
    return s, e, found


def _converted(sid: str, text: str, positions: list[int], anns: list[_Annotation], lenient: bool, diagnostics: Diagnostics | None):
    for ann in anns:
        try:
            yield (*_convert(sid, text, positions, ann), ann[3])
        except FormatError as err:
            report_or_raise(err, "annotation skipped", lenient=lenient, diagnostics=diagnostics)


def _build(sid: str, text: str, where: SourceLocation, genes, alts, lenient, diagnostics) -> RawDocument:
    positions = nonws_positions(text)
    alt_spans = [(s, e, t) for s, e, t, _ in _converted(sid, text, positions, alts, lenient, diagnostics)]
    doc = Document(id=sid, passages=[Passage(0, text, "sentence")])
    item_where: dict[str, SourceLocation] = {}
    for i, (s, e, t, w) in enumerate(_converted(sid, text, positions, genes, lenient, diagnostics), start=1):
        overlapping = [[a, b] for a, b, _ in alt_spans if a < e and s < b]
        doc.mentions.append(Mention(f"T{i}", ((s, e),), t, "GENE", infons={"alternatives": overlapping}))
        item_where[f"T{i}"] = w
    if alt_spans:
        doc.metadata[ALT_KEY] = [[s, e, t] for s, e, t in alt_spans]
    return RawDocument(doc, where, item_where)


def _raw(
    source: Source,
    *,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    gene: Any = None,
    altgene: Any = None,
) -> Iterator[RawDocument]:
    gene = gene if gene is not None else _default_sibling(source, "GENE.eval")
    altgene = altgene if altgene is not None else _default_sibling(source, "ALTGENE.eval")
    genes = _read_eval(gene, lenient=lenient, diagnostics=diagnostics) if gene is not None else {}
    alts = _read_eval(altgene, lenient=lenient, diagnostics=diagnostics) if altgene is not None else {}
    seen: set[str] = set()
    for where, line in iter_lines(source, fmt="BC2", lenient=lenient, diagnostics=diagnostics):
        if not line.strip():
            continue
        sid, sep, text = line.partition(" ")
        if not sep or not sid:
            err = error("E021", where=where, fmt="BC2 sentence", reason=f"expected '<id> <sentence>', got {line!r}")
            report_or_raise(err, "line skipped", lenient=lenient, diagnostics=diagnostics)
            continue
        seen.add(sid)
        yield _build(sid, text, where, genes.get(sid, ()), alts.get(sid, ()), lenient, diagnostics)
    _check_unknown(genes, seen, source, lenient, diagnostics)
    _check_unknown(alts, seen, source, lenient, diagnostics)


def _check_unknown(anns: dict[str, list[_Annotation]], seen: set[str], source: Source, lenient: bool, diagnostics: Diagnostics | None) -> None:
    for sid in anns:
        if sid in seen:
            continue
        for _, _, _, where in anns[sid]:
            err = error("E163", where=where, sid=sid, source=source_name(source))
            report_or_raise(err, "annotation skipped", lenient=lenient, diagnostics=diagnostics)


# ---- writing -----------------------------------------------------------------


def _eval_line(doc: Document, s: int, e: int) -> str:
    text = doc.text
    a, b = to_nonws_offsets(text, s, e)
    return f"{doc.id}|{a} {b}|{text[s:e]}\n"


def _write_all(docs: Iterable[Document], fh: TextIO, gene: TextIO | None, altgene: TextIO | None) -> int:
    n = 0
    for doc in docs:
        text = doc.text
        if "\n" in text or "\r" in text or not text.strip() or " " in doc.id or not doc.id:
            raise error("E166", fmt="BC2", reason=f"document '{doc.id}' must have an id without spaces and one non-empty line of text")
        fh.write(f"{doc.id} {text}\n")
        if doc.mentions and gene is None:
            raise error("E166", fmt="BC2", reason="mentions go to a separate GENE.eval: pass gene=<path or stream>")
        for m in doc.mentions:
            if len(m.spans) != 1:
                raise error("E166", fmt="BC2", reason=f"document '{doc.id}' mention '{m.id}' is discontinuous")
            gene.write(_eval_line(doc, m.start, m.end))
        for s, e, *_ in doc.metadata.get(ALT_KEY, ()):
            if altgene is None:
                raise error("E166", fmt="BC2", reason="alternatives go to a separate ALTGENE.eval: pass altgene=<path or stream>")
            altgene.write(_eval_line(doc, s, e))
        n += 1
    return n


def _open_target(target: Any, default: Path | None):
    if target is None and default is not None:
        target = default
    if target is None or hasattr(target, "write"):
        return target, False
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    return open(target, "w", encoding="utf-8", newline=""), True


def _dump(docs: Iterable[Document], target: str | os.PathLike | TextIO, *, gene: Any = None, altgene: Any = None) -> int:
    folder = Path(target).parent if isinstance(target, (str, os.PathLike)) else None
    handles: list[IO[str]] = []
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            fh = open(target, "w", encoding="utf-8", newline="")
            handles.append(fh)
        else:
            fh = target
        g, own_g = _open_target(gene, folder / "GENE.eval" if folder else None)
        a, own_a = _open_target(altgene, folder / "ALTGENE.eval" if folder else None)
        handles += [h for h, own in ((g, own_g), (a, own_a)) if own]
        return _write_all(docs, fh, g, a)
    finally:
        for h in handles:
            h.close()


def _dumps(docs: Iterable[Document], **options) -> str:
    buf = io.StringIO(newline="")
    _dump(docs, buf, **options)
    return buf.getvalue()


def _sniff(path: str) -> bool:
    return (Path(path).parent / "GENE.eval").exists()


_read_api = json_like(_raw, None, fmt="bc2")
_api = JsonLikeAPI(_read_api.iterparse, _read_api.load, _read_api.loads, _dump, _dumps)
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.BC2.v1",
    Format(
        "bc2",
        _api,
        extensions=(".in",),
        description="BioCreative II GM: '<id> <sentence>' + GENE.eval/ALTGENE.eval (non-whitespace offsets)",
        sniff=_sniff,
    ),
    aliases=("bc2", "bc2gm"),
)
