"""Text to masked-language-model batches: a resumable stream of packed token
blocks, and whole-word masking.

**Blocks.** Documents are tokenised in order (no special tokens), each followed
by the separator token, and packed into blocks of ``max_length`` tokens
(``[CLS] ... [SEP]`` around ``max_length - 2`` tokens of text). A block never
ends inside a word (the cut moves back to the word's first piece), unless one
word is longer than a block. A block starts at a :class:`Position` (epoch,
document number, token of that document): the stream restarts from any
position without tokenising the documents before it, which is how a run
resumes exactly where its checkpoint was taken.

**Whole-word masking** (:func:`mask_block`). Words are the tokenizer's
``word_ids()`` (for BERT: runs of letters/digits, and each punctuation mark).
Words are drawn in a random order and chosen while their pieces fit into
``round(mask_rate x text tokens)``; every piece of a chosen word is predicted.
Each chosen word is, as a whole, replaced by mask tokens (80%), by random
tokens (10%) or left as it is (10%): all its pieces get the same treatment. The
random generator is seeded by the block's position, so a block gets the same
masks whether the run was interrupted or not.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

#: the label of a token that is not predicted (ignored by the loss)
IGNORE = -100
#: documents tokenised per call of the fast tokenizer
TOKENIZE_BATCH = 64


@dataclass(frozen=True)
class Position:
    epoch: int = 0
    doc: int = 0
    token: int = 0

    def seed(self, salt: int | str) -> str:
        """A seed for :class:`random.Random` (strings seed the same in every process)."""
        return f"{salt}:{self.epoch}:{self.doc}:{self.token}"


@dataclass
class Block:
    input_ids: list[int]
    #: block-local word numbers; ``None`` for special tokens and separators
    word_ids: list[int | None]
    start: Position
    #: where the next block starts
    end: Position


@dataclass(frozen=True)
class Masking:
    rate: float
    mask_share: float
    random_share: float
    mask_id: int
    #: ids a random replacement is drawn from (the vocabulary minus special tokens)
    random_ids: Sequence[int]


def masking_for(tokenizer: Any, rate: float, mask_share: float = 0.8, random_share: float = 0.1) -> Masking:
    special = set(tokenizer.all_special_ids)
    return Masking(rate, mask_share, random_share, tokenizer.mask_token_id, [i for i in range(len(tokenizer)) if i not in special])


# ---- tokenising and packing ----------------------------------------------------------


def tokenize(tokenizer: Any, texts: list[str]) -> list[tuple[list[int], list[int | None]]]:
    """``(ids, word ids)`` per text, each followed by the separator (word ``None``)."""
    enc = tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)
    sep = tokenizer.sep_token_id
    return [(list(enc["input_ids"][i]) + [sep], list(enc.word_ids(i)) + [None]) for i in range(len(texts))]


def _tokenized_docs(tokenizer: Any, texts: Iterator[tuple[int, str]]) -> Iterator[tuple[int, list[int], list[int | None]]]:
    while chunk := list(islice(texts, TOKENIZE_BATCH)):
        kept = [(i, t) for i, t in chunk if t.strip()]
        for (i, _), (ids, wids) in zip(kept, tokenize(tokenizer, [t for _, t in kept]) if kept else []):
            yield i, ids, wids


def _cut(wids: Sequence[int | None], start: int, end: int, block_empty: bool) -> int:
    """Where to end a piece of a document that would end at ``end`` (> ``start``):
    back to the first piece of a word the cut would split (a word longer than a
    whole block is cut where it is)."""
    if end >= len(wids) or wids[end] is None or wids[end] != wids[end - 1]:
        return end
    first = end
    while first > start and wids[first - 1] == wids[end]:
        first -= 1
    if first == start and block_empty:
        return end
    return first


class BlockPacker:
    """Fills blocks of ``capacity`` text tokens from tokenised documents."""

    def __init__(self, cls_id: int, sep_id: int, capacity: int):
        self.cls_id, self.sep_id, self.capacity = cls_id, sep_id, capacity
        self.ids: list[int] = []
        self.words: list[tuple[int, int] | None] = []
        self.start: Position | None = None

    def _block(self, end: Position) -> Block:
        numbers: dict[tuple[int, int], int] = {}
        wids = [None if w is None else numbers.setdefault(w, len(numbers)) for w in self.words]
        block = Block([self.cls_id, *self.ids, self.sep_id], [None, *wids, None], self.start or end, end)
        self.ids, self.words, self.start = [], [], None
        return block

    def add(self, epoch: int, doc: int, ids: list[int], wids: list[int | None], first: int) -> Iterator[Block]:
        t = first
        while t < len(ids):
            if len(self.ids) == self.capacity:
                yield self._block(Position(epoch, doc, t))
            if self.start is None:
                self.start = Position(epoch, doc, t)
            end = _cut(wids, t, min(len(ids), t + self.capacity - len(self.ids)), not self.ids)
            if end == t:  # the next word does not fit: it starts the next block
                yield self._block(Position(epoch, doc, t))
                continue
            self.ids += ids[t:end]
            self.words += [None if w is None else (doc, w) for w in wids[t:end]]
            t = end

    def flush(self, end: Position) -> Iterator[Block]:
        if self.ids:
            yield self._block(end)


def iter_blocks(
    tokenizer: Any,
    open_texts: Callable[[], Iterable[str]],
    max_length: int,
    start: Position = Position(),
    first_doc: int = 0,
    last_doc: int | None = None,
    epochs: int | None = None,
) -> Iterator[Block]:
    """Blocks of the documents ``first_doc <= i < last_doc`` of the stream
    ``open_texts()``, from ``start``; the stream is opened again for each epoch
    (``epochs=None``: forever, ``1``: once)."""
    packer = BlockPacker(tokenizer.cls_token_id, tokenizer.sep_token_id, max_length - 2)
    epoch, pos = start.epoch, start if start.doc >= first_doc else Position(start.epoch, first_doc, 0)
    while epochs is None or epoch < start.epoch + epochs:
        texts = ((i, t) for i, t in enumerate(open_texts()) if i >= pos.doc and (last_doc is None or i < last_doc))
        if last_doc is not None:
            texts = islice(texts, max(0, last_doc - pos.doc))
        seen = False
        for doc, ids, wids in _tokenized_docs(tokenizer, texts):
            seen = True
            yield from packer.add(epoch, doc, ids, wids, pos.token if doc == pos.doc else 0)
        yield from packer.flush(Position(epoch + 1, first_doc, 0))
        if not seen:
            return
        epoch += 1
        pos = Position(epoch, first_doc, 0)


# ---- masking --------------------------------------------------------------------


def word_groups(word_ids: Sequence[int | None]) -> list[list[int]]:
    """Token positions per word, in order of first appearance."""
    groups: dict[int, list[int]] = {}
    for pos, w in enumerate(word_ids):
        if w is not None:
            groups.setdefault(w, []).append(pos)
    return list(groups.values())


def choose_words(groups: list[list[int]], rate: float, rng: random.Random) -> list[list[int]]:
    """Words in a random order, taken while their pieces fit into
    ``round(rate x tokens)`` (at least one word when there is any)."""
    total = sum(len(g) for g in groups)
    if not total:
        return []
    target = max(1, round(total * rate))
    order = list(range(len(groups)))
    rng.shuffle(order)
    chosen, covered = [], 0
    for i in order:
        if covered + len(groups[i]) <= target:
            chosen.append(groups[i])
            covered += len(groups[i])
        if covered == target:
            break
    return chosen or [groups[order[0]]]


def mask_block(input_ids: Sequence[int], word_ids: Sequence[int | None], masking: Masking, rng: random.Random) -> tuple[list[int], list[int]]:
    """``(inputs, labels)`` of one block under whole-word masking (module doc)."""
    inputs, labels = list(input_ids), [IGNORE] * len(input_ids)
    for group in choose_words(word_groups(word_ids), masking.rate, rng):
        r = rng.random()
        for p in group:
            labels[p] = input_ids[p]
            if r < masking.mask_share:
                inputs[p] = masking.mask_id
            elif r < masking.mask_share + masking.random_share:
                inputs[p] = masking.random_ids[rng.randrange(len(masking.random_ids))]
    return inputs, labels


def masked_examples(blocks: Iterable[Block], masking: Masking, salt: int | str) -> Iterator[tuple[list[int], list[int]]]:
    for b in blocks:
        yield mask_block(b.input_ids, b.word_ids, masking, random.Random(b.start.seed(salt)))


def collate(examples: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    """Tensors ``input_ids``, ``attention_mask``, ``labels`` padded to the longest block."""
    import torch

    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, (x, y) in enumerate(examples):
        ids[row, : len(x)] = torch.tensor(x)
        labels[row, : len(y)] = torch.tensor(y)
        mask[row, : len(x)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


__all__ = [
    "IGNORE",
    "Block",
    "BlockPacker",
    "Masking",
    "Position",
    "choose_words",
    "collate",
    "iter_blocks",
    "mask_block",
    "masked_examples",
    "masking_for",
    "tokenize",
    "word_groups",
]
