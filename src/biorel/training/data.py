"""Loading training/dev/test documents from a config reference, with provenance.

A reference is either a file or folder path in any readable format
(``~`` and ``$VARS`` expanded) or ``dataset:split`` naming a registered dataset
(``bc5cdr:train``; extra options as ``bc5cdr:train?variant=bioc-xml``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from collections.abc import Sequence

from ..errors import BiorelError, Diagnostics, error
from ..types import Document


def _parse_ref(ref: str) -> tuple[str, str, dict[str, Any]] | None:
    """``(dataset, split, options)`` if ``ref`` names a dataset, else ``None``."""
    if os.path.exists(os.path.expandvars(os.path.expanduser(ref))):
        return None
    base, _, query = ref.partition("?")
    name, sep, split = base.partition(":")
    if not sep or not name or "/" in name or "\\" in name:
        return None
    opts: dict[str, Any] = {}
    for kv in filter(None, query.split("&")):
        k, _, v = kv.partition("=")
        opts[k] = int(v) if v.isdigit() else v
    return name, split, opts


def documents_digest(docs: list[Document]) -> str:
    h = hashlib.sha256()
    for d in docs:
        h.update(json.dumps(d.to_dict(), sort_keys=True, ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def load_split(
    ref: str | Sequence[str], *, format: str | None = None, lenient: bool = False, limit: int = 0
) -> tuple[list[Document], dict[str, Any]]:
    """``(documents, provenance)`` for a data reference, or for a list of them
    (read in order and concatenated; ``limit`` applies to the whole)."""
    from .. import io

    if not isinstance(ref, str):
        refs = list(ref)
        if not refs:
            raise error("E408", ref="[]", reason="an empty list of data references")
        docs: list[Document] = []
        parts = []
        for r in refs:
            part_docs, part_prov = load_split(r, format=format, lenient=lenient)
            docs.extend(part_docs)
            parts.append(part_prov)
        seen: dict[str, str] = {}
        offset = 0
        for p in parts:
            for d in docs[offset : offset + p["documents"]]:
                if d.id in seen:
                    raise error(
                        "E408", ref=p["ref"], reason=f"document id {d.id!r} is also in {seen[d.id]}; the concatenated splits must not overlap"
                    )
                seen[d.id] = p["ref"]
            offset += p["documents"]
        if limit:
            docs = docs[:limit]
        return docs, {"ref": refs, "parts": parts, "documents": len(docs), "limit": limit, "content_sha256": documents_digest(docs)}

    diags = Diagnostics()
    prov: dict[str, Any] = {"ref": ref}
    parsed = _parse_ref(ref)
    try:
        if parsed is not None:
            try:
                from ..datasets import load_dataset
            except ImportError as e:
                raise error("E408", ref=ref, reason=f"the dataset registry is not available ({e}); give a file path") from None
            name, split, opts = parsed
            docs = load_dataset(name, split=split or None, diagnostics=diags if lenient else None, **({"lenient": True} if lenient else {}), **opts)
            prov.update(dataset=name, split=split, options=opts)
        else:
            path = Path(os.path.expandvars(os.path.expanduser(ref)))
            if not path.exists():
                raise error("E408", ref=ref, reason="no such file, and not a 'dataset:split' reference")
            docs = io.load(path, format, lenient=lenient, diagnostics=diags)
            prov["path"] = str(path.resolve())
            if path.is_file():
                prov["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    except BiorelError as e:
        if e.code == "E408":
            raise
        raise error("E408", ref=ref, reason=str(e)) from None
    if limit:
        docs = docs[:limit]
    prov["documents"] = len(docs)
    prov["limit"] = limit
    prov["skipped_problems"] = len(diags)
    prov["content_sha256"] = documents_digest(docs)
    return docs, prov
