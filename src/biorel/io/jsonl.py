"""biorel's native, lossless form: one JSON document per line (``Document.to_dict``)."""

from __future__ import annotations

import json
from typing import TextIO
from collections.abc import Iterable, Iterator

from ..errors import Diagnostics, SourceLocation, error
from ..registry import registry
from ..types import Document
from .base import Format, RawDocument, Source, iter_lines, json_like, report_or_raise


def _raw(source: Source, *, lenient: bool = False, diagnostics: Diagnostics | None = None) -> Iterator[RawDocument]:
    for where, line in iter_lines(source, fmt="JSONL", lenient=lenient, diagnostics=diagnostics):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if not isinstance(d, dict):
                raise ValueError(f"expected a JSON object, got {type(d).__name__}")
            doc = Document.from_dict(d)
        except json.JSONDecodeError as e:
            err = error("E024", where=SourceLocation(where.file, where.line, offset=e.pos), reason=e.msg)
        except (KeyError, TypeError, ValueError) as e:
            err = error("E021", where=where, fmt="JSONL", reason=f"not a biorel document: {type(e).__name__}: {e}")
        else:
            yield RawDocument(doc, where)
            continue
        report_or_raise(err, "line skipped", lenient=lenient, diagnostics=diagnostics)


def _write(docs: Iterable[Document], fh: TextIO) -> int:
    n = 0
    for doc in docs:
        fh.write(json.dumps(doc.to_dict(), ensure_ascii=False, separators=(",", ":")))
        fh.write("\n")
        n += 1
    return n


# JSONL may hold text-less documents (LOTUS relations, ABroad labels), so text is not required.
_api = json_like(_raw, _write, require_text=False, fmt="jsonl")
iterparse, load, loads, dump, dumps = _api.iterparse, _api.load, _api.loads, _api.dump, _api.dumps

registry.formats.register(
    "biorel.JSONL.v1",
    Format("jsonl", _api, extensions=(".jsonl", ".biorel.jsonl", ".ndjson"), description="biorel native lossless JSON lines"),
    aliases=("jsonl",),
)
