"""Tokenisation into document-offset tokens and sliding encoder windows.

A document's text (its passages laid out at their offsets) is tokenised once
with the fast tokenizer's offset mapping, so every token carries its
document-level ``[start, end)``. Documents longer than one window are cut into
windows of ``max_length - specials`` tokens overlapping by ``stride`` tokens.
Each token is *owned* by the window where it has the most context on both sides
(as in SQuAD-style sliding windows); predictions are stitched by reading each
token's representation from its owner window.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from ..types import Document
from .labels import TokenOffsets


@dataclass
class Features:
    doc_id: str
    text: str
    offsets: TokenOffsets
    input_ids: list[int]
    #: token ranges ``[start, end)`` of the windows
    windows: list[tuple[int, int]]
    #: per token: (window index, position inside that window's input ids)
    owner: list[tuple[int, int]]
    #: token indices that start a new passage (spans never cross them)
    breaks: list[int] = field(default_factory=list)

    @property
    def n_tokens(self) -> int:
        return len(self.offsets)


def plan_windows(n: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Windows of at most ``size`` tokens covering ``[0, n)``, consecutive ones
    overlapping by ``stride`` tokens (the last one is aligned to the end)."""
    if n == 0:
        return []
    if n <= size:
        return [(0, n)]
    step = max(1, size - stride)
    out = []
    start = 0
    while True:
        end = start + size
        if end >= n:
            out.append((n - size, n))
            break
        out.append((start, end))
        start += step
    return out


def assign_owners(n: int, windows: list[tuple[int, int]]) -> list[int]:
    """For each token, the window giving it the most context on both sides."""
    owner = [0] * n
    best = [-1] * n
    for w, (s, e) in enumerate(windows):
        for i in range(s, e):
            ctx = min(i - s, e - 1 - i)
            if ctx > best[i]:
                best[i], owner[i] = ctx, w
    return owner


class Featurizer:
    def __init__(self, tokenizer, max_length: int, stride: int):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.stride = stride
        sentinel = -7
        built = tokenizer.build_inputs_with_special_tokens([sentinel])
        self.prefix = built.index(sentinel)
        self.n_special = len(built) - 1
        self.size = max_length - self.n_special

    def wrap(self, ids: list[int]) -> list[int]:
        return self.tokenizer.build_inputs_with_special_tokens(ids)

    def __call__(self, doc: Document, text: str | None = None) -> Features:
        text = doc.text if text is None else text
        if text:
            enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False, truncation=False)
            pairs = [(i, (s, e)) for i, (s, e) in zip(enc["input_ids"], enc["offset_mapping"]) if e > s]
        else:
            pairs = []
        ids = [i for i, _ in pairs]
        offsets = TokenOffsets(o for _, o in pairs)
        windows = plan_windows(len(ids), self.size, self.stride)
        owners = assign_owners(len(ids), windows)
        owner = [(w, self.prefix + i - windows[w][0]) for i, w in enumerate(owners)]
        starts = sorted(p.offset for p in doc.passages)
        breaks = []
        if len(starts) > 1:
            prev = None
            for i, (s, _) in enumerate(offsets):
                pi = bisect_right(starts, s)
                if prev is not None and pi != prev:
                    breaks.append(i)
                prev = pi
        return Features(doc.id, text, offsets, ids, windows, owner, breaks)
