"""Input helpers shared by the BioC readers: byte streams for lxml/ijson from
paths, binary or text streams, and the exact place of invalid UTF-8."""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from typing import Any, TextIO

from ...errors import BiorelError, FormatError
from ..base import Source, iter_lines


def is_text(source: Any) -> bool:
    return isinstance(source, io.TextIOBase) or (hasattr(source, "read") and isinstance(getattr(source, "encoding", None), str))


class EncodedText(io.RawIOBase):
    """A text stream read as UTF-8 bytes, block by block (``loads``, open text files)."""

    def __init__(self, fh: TextIO):
        self._fh = fh
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while len(self._buf) < len(b):
            chunk = self._fh.read(max(1, len(b) // 4))
            if not chunk:
                break
            self._buf += chunk.encode("utf-8", "surrogatepass")
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


@contextmanager
def open_input(source: Source):
    """Yield ``(binary stream, was_text)`` for a path or a stream."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            yield fh, False
    elif is_text(source):
        yield EncodedText(source), True
    else:
        yield source, False


def rereadable(source: Source) -> Source | None:
    """The source rewound to its start, or ``None`` if it cannot be re-read."""
    if isinstance(source, (str, os.PathLike)):
        return source
    if hasattr(source, "seek"):
        try:
            source.seek(0)
            return source
        except (OSError, ValueError):
            return None
    return None


def find_bad_utf8(source: Source, fmt: str) -> BiorelError | None:
    """E020 with line and byte offset of the first invalid UTF-8 in a
    re-readable source, or ``None``."""
    target = rereadable(source)
    if target is None or is_text(target):
        return None
    try:
        for _ in iter_lines(target, fmt=fmt):
            pass
    except FormatError as err:
        return err
    return None
