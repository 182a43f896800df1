"""Label maps and the BIO/BILOU tagging schemes.

A :class:`LabelMaps` holds everything a model's heads are sized by: the entity
types (and the tag set built from them), the relation types with their
direction, and the candidate argument type pairs. It is saved next to the
weights as ``labels.json``.

Tags are over encoder tokens. :func:`encode_tags` turns character spans into
tags (a token belongs to a span when it overlaps it; where spans overlap, the
earlier, longer one wins); :func:`decode_tags` turns tag sequences back into
token spans, repairing ill-formed sequences (an ``I-`` without a ``B-`` opens a
span; a change of type closes one).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal
from collections.abc import Iterable, Sequence

from ..types import Document

Scheme = Literal["BIO", "BILOU"]
_PREFIXES = {"BIO": ("B", "I"), "BILOU": ("B", "I", "L", "U")}


def tag_names(entity_types: Sequence[str], scheme: Scheme) -> list[str]:
    return ["O"] + [f"{p}-{t}" for t in entity_types for p in _PREFIXES[scheme]]


@dataclass
class LabelMaps:
    entity_types: list[str]
    scheme: Scheme = "BIO"
    relation_types: list[str] = field(default_factory=list)
    #: relation type -> directed
    directed: dict[str, bool] = field(default_factory=dict)
    #: candidate (head type, tail type) pairs for the relation head
    pair_types: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tags = tag_names(self.entity_types, self.scheme)
        self.tag_index = {t: i for i, t in enumerate(self.tags)}
        self.type_index = {t: i for i, t in enumerate(self.entity_types)}
        self.relation_index = {t: i for i, t in enumerate(self.relation_types)}
        self.pair_type_set = {tuple(p) for p in self.pair_types}

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_types": self.entity_types,
            "scheme": self.scheme,
            "tags": self.tags,
            "relation_types": self.relation_types,
            "directed": self.directed,
            "pair_types": [list(p) for p in self.pair_types],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelMaps:
        return cls(
            entity_types=list(d["entity_types"]),
            scheme=d.get("scheme", "BIO"),
            relation_types=list(d.get("relation_types", [])),
            directed={k: bool(v) for k, v in d.get("directed", {}).items()},
            pair_types=[(a, b) for a, b in d.get("pair_types", [])],
        )

    @classmethod
    def from_documents(
        cls,
        docs: Iterable[Document],
        *,
        scheme: Scheme = "BIO",
        entity_types: Sequence[str] = (),
        relation_types: Sequence[str] = (),
        pair_types: Sequence[tuple[str, str]] = (),
    ) -> LabelMaps:
        """Collect the label sets from training documents; the given lists
        restrict (and order) them when not empty."""
        etypes: Counter = Counter()
        rtypes: Counter = Counter()
        directed: dict[str, Counter] = {}
        seen_pairs: set[tuple[str, str]] = set()
        for doc in docs:
            for m in doc.mentions:
                etypes[m.type] += 1
            ents = doc.entity_index() if doc.entities else {e.id: e for e in doc.entities_from_mentions()}
            for r in doc.relations:
                if r.level != "entity":
                    continue
                rtypes[r.type] += 1
                directed.setdefault(r.type, Counter())[r.directed] += 1
                h, t = ents.get(r.head), ents.get(r.tail)
                if h is None or t is None:
                    continue
                if relation_types and r.type not in relation_types:
                    continue
                seen_pairs.add((h.type, t.type))
                if not r.directed:
                    seen_pairs.add((t.type, h.type))
        ets = list(entity_types) if entity_types else sorted(etypes)
        rts = list(relation_types) if relation_types else sorted(rtypes)
        dirs = {r: bool(directed.get(r, Counter()).most_common(1)[0][0]) if directed.get(r) else False for r in rts}
        if pair_types:
            pts = [tuple(p) for p in pair_types]
        else:
            pts = sorted(p for p in seen_pairs if p[0] in ets and p[1] in ets) if rts else []
        return cls(entity_types=ets, scheme=scheme, relation_types=rts, directed=dirs, pair_types=pts)


# --------------------------------------------------------------------------
def char_to_tokens(offsets: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """Token index range ``[i, j)`` of the tokens overlapping ``[start, end)``.
    ``offsets`` are sorted token character spans; an empty range means no token
    overlaps."""
    ends = [e for _, e in offsets] if not hasattr(offsets, "ends") else offsets.ends  # type: ignore[attr-defined]
    starts = [s for s, _ in offsets] if not hasattr(offsets, "starts") else offsets.starts  # type: ignore[attr-defined]
    i = bisect_right(ends, start)  # first token ending after start
    j = bisect_left(starts, end)  # first token starting at/after end
    return i, max(i, j)


class TokenOffsets(list):
    """A list of ``(start, end)`` token offsets with cached start/end arrays."""

    def __init__(self, offsets: Iterable[tuple[int, int]]):
        super().__init__(offsets)
        self.starts = [s for s, _ in self]
        self.ends = [e for _, e in self]


def encode_tags(
    offsets: Sequence[tuple[int, int]],
    spans: Iterable[tuple[int, int, str]],
    labels: LabelMaps,
) -> list[int]:
    """Tag ids for each token from character spans ``(start, end, type)``.
    Spans of unknown types are ignored; overlapping spans keep the one placed
    first after sorting by (start, -length)."""
    n = len(offsets)
    tags = [0] * n
    taken = [False] * n
    for s, e, typ in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]))):
        if typ not in labels.type_index:
            continue
        i, j = char_to_tokens(offsets, s, e)
        if i >= j or any(taken[i:j]):
            continue
        for k in range(i, j):
            taken[k] = True
        if labels.scheme == "BILOU" and j - i == 1:
            tags[i] = labels.tag_index[f"U-{typ}"]
            continue
        tags[i] = labels.tag_index[f"B-{typ}"]
        for k in range(i + 1, j):
            tags[k] = labels.tag_index[f"I-{typ}"]
        if labels.scheme == "BILOU":
            tags[j - 1] = labels.tag_index[f"L-{typ}"]
    return tags


def word_starts(offsets: Sequence[tuple[int, int]], text: str) -> list[bool]:
    """For each token, whether it starts a word: it does unless it follows the
    previous token with no gap and both sides of the join are letters or digits
    (a word-piece continuation such as ``cort`` + ``##isol``)."""
    out = []
    prev_end = None
    for start, end in offsets:
        cont = prev_end == start and 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum()
        out.append(not cont)
        prev_end = end
    return out


def word_level_tags(tags: Sequence[int], starts: Sequence[bool], labels: LabelMaps) -> list[int]:
    """Tags made consistent within words: every word takes the label of its
    first token (its type, and whether it opens, continues or closes a span),
    so a predicted span never starts or ends inside a word. This is the usual
    first-sub-word rule of BERT taggers, applied when decoding."""
    names = labels.tags
    index = labels.tag_index
    out = list(tags)
    n = len(tags)
    k = 0
    while k < n:
        j = k + 1
        while j < n and not starts[j]:
            j += 1
        if j - k > 1:
            name = names[tags[k]]
            if name == "O":
                out[k:j] = [tags[k]] * (j - k)
            else:
                prefix, typ = name.split("-", 1)
                first = {"U": "B", "L": "I"}.get(prefix, prefix) if labels.scheme == "BILOU" else prefix
                last = {"B": "I", "U": "L"}.get(prefix, prefix) if labels.scheme == "BILOU" else "I"
                out[k] = index[f"{first}-{typ}"]
                for m in range(k + 1, j - 1):
                    out[m] = index[f"I-{typ}"]
                out[j - 1] = index[f"{last}-{typ}"]
        k = j
    return out


def decode_tags(tags: Sequence[int], labels: LabelMaps, breaks: Iterable[int] = ()) -> list[tuple[int, int, str]]:
    """Token spans ``(i, j, type)`` (``j`` exclusive) from tag ids. ``breaks``
    are token indices that must start a new span (e.g. the first token of a
    passage)."""
    names = labels.tags
    brk = set(breaks)
    out: list[tuple[int, int, str]] = []
    cur: list[Any] | None = None  # [start, end, type]

    def close() -> None:
        nonlocal cur
        if cur is not None:
            out.append((cur[0], cur[1], cur[2]))
            cur = None

    for k, t in enumerate(tags):
        name = names[t]
        if k in brk:
            close()
        if name == "O":
            close()
            continue
        prefix, typ = name.split("-", 1)
        if prefix in ("B", "U"):
            close()
            cur = [k, k + 1, typ]
        elif cur is not None and cur[2] == typ and cur[1] == k:  # I or L continuing
            cur[1] = k + 1
        else:  # I/L without a matching opener: open a new span
            close()
            cur = [k, k + 1, typ]
        if prefix in ("U", "L"):
            close()
    close()
    return out
