"""Quality filters for generated abstracts, and near-duplicate detection.

A completion is first cleaned (:func:`clean_completion`), then checked in this
order; the first failing check is the rejection reason:

* ``empty``: no word at all.
* ``prompt_echo``: it contains a prompt field label at a line start
  ("Title:", "Keywords:", ...) or at least ``echo_share`` of its word 8-grams
  occur in the prompt (the main-findings sentence itself is short enough to be
  restated without tripping this).
* ``truncated``: the backend stopped on the token limit (``finish_reason ==
  "length"``) or the text does not end a sentence (``. ! ?``, possibly followed
  by a closing bracket or quote).
* ``too_short``: fewer than ``min_words`` words.
* ``repetitive``: the same word four or more times in a row, or more than
  ``max_dup_ngram_share`` of its word 4-grams are repeats.
* ``low_score``: the alignment score is below the threshold (the job checks it).
* ``near_duplicate``: word-3-gram Jaccard similarity at or above
  ``near_dup_jaccard`` with an already accepted text (the job checks it with
  :class:`NearDupIndex`: MinHash signatures, LSH banding for candidates, exact
  Jaccard on the candidates).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
FIELD_LABELS = ("Instructions:", "Title:", "Keywords:", "Main findings:", "Abstract:")
#: a leading "Abstract:" label, also as a markdown heading or in bold ("### Abstract", "**Abstract:**")
_LABEL = re.compile(r"^(?:#+[ \t]*)?(?:\*\*)?abstract(?:\*\*)?[ \t]*:?(?:\*\*)?[ \t]*(?:\n|$|(?<=:)|(?<=\*\*))", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?][)\]\"'”’]*$")

REASONS = ("empty", "prompt_echo", "truncated", "too_short", "repetitive", "low_score", "near_duplicate")


@dataclass(frozen=True)
class QualityConfig:
    min_words: int = 50
    echo_share: float = 0.5
    max_dup_ngram_share: float = 0.2
    max_same_word_run: int = 4
    near_dup_jaccard: float = 0.8


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def clean_completion(text: str, stop: tuple[str, ...] = ()) -> str:
    """The abstract in a completion: leading whitespace and a leading
    "Abstract:" label (or markdown "### Abstract" heading) removed, cut at the first stop string and at the first
    blank line (one paragraph), trailing whitespace removed."""
    t = _LABEL.sub("", text.lstrip(), count=1).lstrip()
    cut = len(t)
    for s in stop:
        i = t.find(s)
        if i >= 0:
            cut = min(cut, i)
    t = t[:cut]
    para = re.search(r"\n[ \t]*\n", t)
    if para:
        t = t[: para.start()]
    return t.strip()


def _ngrams(ws: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]


def check_text(text: str, *, finish_reason: str | None, prompt: str, config: QualityConfig = QualityConfig()) -> str | None:
    """The first failing check's reason, or ``None`` when the text passes."""
    ws = words(text)
    if not ws:
        return "empty"
    if any(re.search(rf"(^|\n)\s*{re.escape(lbl)}", text) for lbl in FIELD_LABELS[:-1]):
        return "prompt_echo"
    grams = _ngrams(ws, 8)
    if grams:
        prompt_grams = set(_ngrams(words(prompt), 8))
        if sum(g in prompt_grams for g in grams) / len(grams) >= config.echo_share:
            return "prompt_echo"
    if finish_reason == "length" or not _SENTENCE_END.search(text):
        return "truncated"
    if len(ws) < config.min_words:
        return "too_short"
    run = 1
    for a, b in zip(ws, ws[1:]):
        run = run + 1 if a == b else 1
        if run >= config.max_same_word_run:
            return "repetitive"
    four = _ngrams(ws, 4)
    if four and (len(four) - len(set(four))) / len(four) > config.max_dup_ngram_share:
        return "repetitive"
    return None


def shingles(text: str, n: int = 3) -> set[str]:
    ws = words(text)
    if len(ws) < n:
        return {" ".join(ws)} if ws else set()
    return {" ".join(g) for g in _ngrams(ws, n)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


_MERSENNE = (1 << 61) - 1


@dataclass
class NearDupIndex:
    """Near-duplicate detection over accepted texts.

    MinHash with ``num_perm`` universal hash functions over word 3-gram
    shingles; LSH with ``bands`` bands finds candidates; a candidate is a
    duplicate when the exact Jaccard similarity of the shingle sets reaches
    ``threshold``. The hash functions come from a fixed seed, so an index
    rebuilt on restart gives the same answers.
    """

    threshold: float = 0.8
    num_perm: int = 64
    bands: int = 16
    _a: np.ndarray = field(init=False, repr=False)
    _b: np.ndarray = field(init=False, repr=False)
    _buckets: list[dict[bytes, list[int]]] = field(init=False, repr=False)
    _sets: list[set[str]] = field(init=False, repr=False)
    _keys: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.num_perm % self.bands:
            raise ValueError("num_perm must be a multiple of bands")
        rng = np.random.default_rng(20231106)
        self._a = rng.integers(1, _MERSENNE, size=self.num_perm, dtype=np.uint64)
        self._b = rng.integers(0, _MERSENNE, size=self.num_perm, dtype=np.uint64)
        self._buckets = [dict() for _ in range(self.bands)]
        self._sets = []
        self._keys = []

    def __len__(self) -> int:
        return len(self._keys)

    def signature(self, sh: set[str]) -> np.ndarray:
        if not sh:
            return np.zeros(self.num_perm, dtype=np.uint64)
        hv = [int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little") & _MERSENNE for s in sorted(sh)]
        # exact modular arithmetic in Python ints (numpy uint64 would overflow)
        sig = [min((int(a) * h + int(b)) % _MERSENNE for h in hv) for a, b in zip(self._a, self._b)]
        return np.array(sig, dtype=np.uint64)

    def _band_keys(self, sig: np.ndarray) -> list[bytes]:
        r = self.num_perm // self.bands
        return [sig[i * r : (i + 1) * r].tobytes() for i in range(self.bands)]

    def query(self, text: str) -> tuple[str, float] | None:
        """The key of the most similar indexed text at or above the threshold."""
        sh = shingles(text)
        cands: set[int] = set()
        for band, k in zip(self._buckets, self._band_keys(self.signature(sh))):
            cands.update(band.get(k, ()))
        best: tuple[str, float] | None = None
        for i in sorted(cands):
            j = jaccard(sh, self._sets[i])
            if j >= self.threshold and (best is None or j > best[1]):
                best = (self._keys[i], j)
        return best

    def add(self, key: str, text: str) -> None:
        sh = shingles(text)
        idx = len(self._keys)
        self._keys.append(key)
        self._sets.append(sh)
        for band, k in zip(self._buckets, self._band_keys(self.signature(sh))):
            band.setdefault(k, []).append(idx)
