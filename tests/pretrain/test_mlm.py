"""Whole-word masking and block packing: known answers and properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel.models.encoder import load_tokenizer
from biorel.models.testing import make_tiny_tokenizer
from biorel.pretrain.mlm import IGNORE, Masking, Position, choose_words, iter_blocks, mask_block, masking_for, tokenize, word_groups

MASK = 4


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return load_tokenizer(str(make_tiny_tokenizer(tmp_path_factory.mktemp("tok") / "tok")))


def masking(rate: float = 0.15, mask_share: float = 0.8, random_share: float = 0.1) -> Masking:
    return Masking(rate, mask_share, random_share, MASK, list(range(100, 200)))


def layout(pieces: list[int]) -> tuple[list[int], list[int | None]]:
    """A block ``[CLS] w0 w0 w1 ... [SEP]`` with ``pieces[i]`` pieces for word i."""
    ids, wids = [2], [None]
    for w, n in enumerate(pieces):
        ids += [1000 + 10 * w + k for k in range(n)]
        wids += [w] * n
    return ids + [3], wids + [None]


def test_every_piece_of_a_chosen_word_is_predicted_and_treated_alike():
    ids, wids = layout([3, 1, 2, 4, 1, 1, 2, 3, 1, 2])  # 20 text tokens: 3 to predict at 15%
    for seed in range(50):
        inputs, labels = mask_block(ids, wids, masking(), random.Random(seed))
        for group in word_groups(wids):
            predicted = [labels[p] != IGNORE for p in group]
            assert all(predicted) or not any(predicted)
            if all(predicted):
                assert [labels[p] for p in group] == [ids[p] for p in group]
                kinds = {"mask" if inputs[p] == MASK else "kept" if inputs[p] == ids[p] else "random" for p in group}
                assert len(kinds) == 1  # the 80/10/10 choice is made per word
        assert labels[0] == labels[-1] == IGNORE and inputs[0] == 2 and inputs[-1] == 3
        assert 1 <= sum(lab != IGNORE for lab in labels) <= 3


def test_known_answer_all_mask_tokens():
    ids, wids = layout([2, 2, 2, 2, 2])  # 10 tokens, rate 0.4 -> 4 tokens = 2 whole words
    inputs, labels = mask_block(ids, wids, masking(rate=0.4, mask_share=1.0, random_share=0.0), random.Random(0))
    chosen = [p for p, lab in enumerate(labels) if lab != IGNORE]
    assert len(chosen) == 4 and all(inputs[p] == MASK for p in chosen)
    assert [inputs[p] for p in range(len(ids)) if p not in chosen] == [ids[p] for p in range(len(ids)) if p not in chosen]


def test_random_and_kept_shares():
    ids, wids = layout([1] * 200)
    counts = {"mask": 0, "random": 0, "kept": 0}
    for seed in range(40):
        inputs, labels = mask_block(ids, wids, masking(), random.Random(seed))
        for p, lab in enumerate(labels):
            if lab != IGNORE:
                counts["mask" if inputs[p] == MASK else "kept" if inputs[p] == ids[p] else "random"] += 1
    total = sum(counts.values())
    assert total == 40 * 30
    assert abs(counts["mask"] / total - 0.8) < 0.04 and abs(counts["random"] / total - 0.1) < 0.03 and abs(counts["kept"] / total - 0.1) < 0.03


def test_rate_is_met_on_real_text(tok):
    text = "famotidine-associated delirium in elderly rats treated with haloperidol; nephrotoxicity after cisplatin. " * 20
    blocks = list(iter_blocks(tok, lambda: iter([text]), 64, epochs=1))
    m = masking_for(tok, 0.15)
    predicted = tokens = 0
    for i, b in enumerate(blocks):
        _, labels = mask_block(b.input_ids, b.word_ids, m, random.Random(i))
        predicted += sum(lab != IGNORE for lab in labels)
        tokens += sum(w is not None for w in b.word_ids)
    assert abs(predicted / tokens - 0.15) < 0.03


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=60), st.floats(0.05, 0.6), st.integers(0, 10**6))
def test_whole_word_masking_properties(pieces, rate, seed):
    ids, wids = layout(pieces)
    inputs, labels = mask_block(ids, wids, masking(rate=rate), random.Random(seed))
    groups = word_groups(wids)
    chosen = [g for g in groups if labels[g[0]] != IGNORE]
    assert all(all(labels[p] == ids[p] for p in g) for g in chosen)
    assert all(all(labels[p] == IGNORE for p in g) for g in groups if g not in chosen)
    n = sum(len(g) for g in chosen)
    target = max(1, round(sum(pieces) * rate))
    assert chosen and (n <= target or len(chosen) == 1)
    assert all(inputs[p] == ids[p] for p, w in enumerate(wids) if w is None)  # special tokens are never touched


def test_choose_words_is_seeded():
    groups = word_groups(layout([1, 2, 3, 1, 1, 2, 2, 1])[1])
    assert choose_words(groups, 0.3, random.Random(7)) == choose_words(groups, 0.3, random.Random(7))


# ---- packing ---------------------------------------------------------------------

DOCS = [
    "Famotidine-associated delirium. A series of six cases.",
    "",
    "Nephrotoxicity induced by cisplatin in elderly rats treated with lithium and haloperidol, " * 6,
    "Caffeine.",
    "Morphine caused bradycardia and hypotension after digoxin; warfarin-induced anemia was given.",
]


@pytest.mark.parametrize("max_length", [8, 12, 32, 512])
def test_blocks_hold_every_token_once_and_never_split_a_word(tok, max_length):
    blocks = list(iter_blocks(tok, lambda: iter(DOCS), max_length, epochs=1))
    expected = [t for ids, _ in tokenize(tok, [d for d in DOCS if d.strip()]) for t in ids]
    got = [t for b in blocks for t in b.input_ids[1:-1]]
    assert got == expected
    for b in blocks:
        assert b.input_ids[0] == tok.cls_token_id and b.input_ids[-1] == tok.sep_token_id and len(b.input_ids) <= max_length
    # no word is split between two blocks unless it is longer than a block
    longest = max(len(g) for ids, w in tokenize(tok, DOCS[:1] + DOCS[2:]) for g in word_groups(w))
    if longest <= max_length - 2:
        for b in blocks[1:]:
            if b.start.token:  # inside a document
                _, wids = tokenize(tok, [DOCS[b.start.doc]])[0]
                assert wids[b.start.token] != wids[b.start.token - 1]
        assert all(a.end == b.start for a, b in zip(blocks, blocks[1:]))


def test_restarting_at_a_block_gives_the_same_blocks(tok):
    texts = lambda: iter(DOCS)  # noqa: E731
    full = [b for b, _ in zip(iter_blocks(tok, texts, 12, first_doc=1), range(40))]  # several epochs
    assert {b.start.epoch for b in full} >= {0, 1, 2} and all(b.start.doc >= 1 for b in full)
    for k in (1, 5, 17):
        again = [b for b, _ in zip(iter_blocks(tok, texts, 12, start=full[k].start, first_doc=1), range(40 - k))]
        assert [(b.input_ids, b.word_ids, b.start) for b in again] == [(b.input_ids, b.word_ids, b.start) for b in full[k:]]


def test_held_out_documents_are_not_in_the_training_blocks(tok):
    held = list(iter_blocks(tok, lambda: iter(DOCS), 16, last_doc=2, epochs=1))
    train = list(iter_blocks(tok, lambda: iter(DOCS), 16, first_doc=2, epochs=1))
    assert {b.start.doc for b in held} <= {0, 1} and {b.start.doc for b in train} >= {2} and all(b.start.doc >= 2 for b in train)
    assert held[-1].end == Position(1, 0, 0)
