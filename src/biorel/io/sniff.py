"""Content sniffing: which format a file holds, from its first bytes.

:func:`sniff_content` looks at the first 64 KiB of a file (a UTF-8 BOM and
leading whitespace skipped) and names the format it recognises, or ``None``:

* ``<`` ... root element ``<collection>`` -> ``bioc-xml``;
* a JSON object whose first line is a whole biorel document (keys ``id``,
  ``passages`` and ``mentions``) -> ``jsonl``; PURE's ``doc_key`` +
  ``sentences`` -> ``pure``;
* any other JSON object or list: first every registered format that reads
  ``.json`` files asks its own ``sniff`` (ABroad: an object of objects with an
  ``ArticleTitle``; BioC JSON: a collection with a ``documents`` list), BioC
  JSON's last; then an object whose first key is a PMID or a synthetic
  ``PMID-n`` key -> ``abroad``; anything else (one BioC document, a list of
  them, PubTator Central's one document per line) -> ``bioc-json``;
* ``<`` ... root element ``<PubmedArticleSet>`` (or its ``<!DOCTYPE``) -> ``pubmed-xml``;
* a first non-blank line ``PMID- <digits>`` -> ``medline``;
* a first non-blank line ``PMID|t|`` / ``PMID|a|`` -> ``pubtator``;
* a gzip file (first bytes ``1f 8b``) whose content is PubMed XML or MEDLINE
  -> ``pubmed-xml`` / ``medline`` (the readers that decompress as they read);
  any other gzip content -> ``None``;
* anything else that decodes as text -> ``text`` (only offered for ``.txt``
  and unknown extensions; see :func:`biorel.io.detect_format`).
"""

from __future__ import annotations

import json
import os
import re

from ..validate import is_blank  # noqa: F401  (re-exported: part of sniffing)

HEAD_BYTES = 64 * 1024
_PUBTATOR = re.compile(r"^[^\s|]+\|[A-Za-z_]{1,16}\|")
_XML_ROOT = re.compile(r"<([A-Za-z_][\w.\-:]*)")
_XML_SKIP = re.compile(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.S)
_XML_SKIP_PI = re.compile(r"<\?.*?\?>|<!--.*?-->", re.S)
_DOCTYPE = re.compile(r"<!DOCTYPE\s+([A-Za-z_][\w.\-:]*)")
_MEDLINE = re.compile(r"PMID- ?\d")
#: an ABroad top-level key: a PMID, or ``PMID-n`` for a synthetic abstract
_ABROAD_KEY = re.compile(r"\d+(?:-\d+)?")
#: the fallback for a JSON object or list that no format's own sniff claims
JSON_FALLBACK = "bioc-json"


def head_text(path: str | os.PathLike) -> str | None:
    """The first bytes of a file as text (``None``: unreadable or binary)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(HEAD_BYTES)
    except OSError:
        return None
    if b"\x00" in data:
        return None
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def sniff_content(path: str | os.PathLike) -> str | None:
    """The short name of the format ``path`` holds, or ``None`` (empty,
    unreadable, or nothing recognised)."""
    if _is_gzip(path):
        return _sniff_gzip(path)
    text = head_text(path)
    if text is None or not text.strip():
        return None
    body = text.lstrip()
    if body.startswith("<"):
        return _sniff_xml(body)
    if body[0] in "{[":
        return _sniff_json(str(path), body)
    first = next((line for line in body.splitlines() if line.strip()), "")
    if _MEDLINE.match(first):
        return "medline"
    if _PUBTATOR.match(first):
        return "pubtator"
    return "text"


def _sniff_xml(body: str) -> str | None:
    doctype = _DOCTYPE.match(_XML_SKIP_PI.sub("", body).lstrip())
    if doctype and doctype.group(1) == "PubmedArticleSet":
        return "pubmed-xml"
    m = _XML_ROOT.search(_XML_SKIP.sub("", body))
    root = m.group(1) if m else None
    return {"collection": "bioc-xml", "PubmedArticleSet": "pubmed-xml"}.get(root or "")


def _is_gzip(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def _sniff_gzip(path: str | os.PathLike) -> str | None:
    """PubMed XML or MEDLINE inside a gzip file (the formats whose readers
    decompress), else ``None``: the same tests on the decompressed head."""
    import gzip
    import zlib

    try:
        with gzip.open(path, "rb") as fh:
            head = fh.read(1 << 16).decode("utf-8", "replace").lstrip("\ufeff")
    except (OSError, EOFError, zlib.error):
        return None
    body = head.lstrip()
    if body.startswith("<"):
        return "pubmed-xml" if _sniff_xml(body) == "pubmed-xml" else None
    first = next((line for line in body.splitlines() if line.strip()), "")
    return "medline" if _MEDLINE.match(first) else None


def _sniff_json(path: str, body: str) -> str | None:
    first_line = body.split("\n", 1)[0]
    try:
        obj = json.loads(first_line)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        if {"id", "passages", "mentions"} <= set(obj):
            return "jsonl"
        if {"doc_key", "sentences"} <= set(obj):
            return "pure"
    claimed = next((f.name for f in json_formats() if f.sniff(path)), None)
    if claimed is not None:
        return claimed
    if body[0] == "{":
        keys = re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', body[:4096])
        if keys and _ABROAD_KEY.fullmatch(keys[0]):
            return "abroad"
    return JSON_FALLBACK


def json_formats() -> list:
    """The registered formats that read ``.json`` files and check content
    themselves, in registry order with the fallback (BioC JSON) last, so a
    format with a narrower shape (ABroad) is asked before the broad one."""
    from ..registry import registry

    found = [f for _, f in registry.formats.items() if f.sniff is not None and any(e.endswith(".json") for e in f.extensions)]
    return sorted(found, key=lambda f: f.name == JSON_FALLBACK)
