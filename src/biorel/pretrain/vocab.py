"""Vocabulary extension: frequent domain words that the tokenizer splits into
several pieces become word pieces of their own.

Words are counted as the tokenizer sees them (its normaliser and
pre-tokeniser: lower-cased for an uncased BERT). A candidate occurs at least
``min_count`` times, has at least ``min_chars`` characters and a letter, and is
split into two or more pieces, none unknown; candidates are ranked by the
pieces they save (``count x (pieces - 1)``) and the top ``add_tokens`` are
added to the WordPiece vocabulary (ids after the last one), so ``kinases``
becomes ``kinase ##s``. Each new input embedding is the mean of the embeddings
of the pieces it replaces; an output layer that is not tied to the input
embeddings and an output bias get the same mean. What it saves is measured on
held-out documents (:func:`tokens_per_document`), not assumed.

Only WordPiece tokenizers (the BERT family) can be extended; others are E583.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import error


@dataclass
class NewToken:
    token: str
    count: int
    #: the pieces the tokenizer gave before (their ids initialise the new embedding)
    pieces: list[str]
    piece_ids: list[int]
    id: int = -1


@dataclass
class VocabReport:
    added: list[NewToken] = field(default_factory=list)
    counted_docs: int = 0
    tokens_per_doc_before: float = 0.0
    tokens_per_doc_after: float = 0.0
    measured_docs: int = 0

    @property
    def saved_share(self) -> float:
        before = self.tokens_per_doc_before
        return (before - self.tokens_per_doc_after) / before if before else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["saved_share"] = round(self.saved_share, 4)
        return d


def _wordpiece(tokenizer: Any, name: str) -> Any:
    model = tokenizer.backend_tokenizer.model
    if type(model).__name__ != "WordPiece":
        raise error(
            "E583", name=name, reason=f"its tokenizer model is {type(model).__name__}; only WordPiece vocabularies (BERT family) can be extended"
        )
    pieces = tokenizer.backend_tokenizer.get_vocab_size(with_added_tokens=False)
    if len(tokenizer) != pieces:
        raise error("E583", name=name, reason=f"it has {len(tokenizer) - pieces} added token(s) after the word-piece vocabulary")
    return model


def count_words(tokenizer: Any, texts: Iterable[str]) -> tuple[Counter, int]:
    """Words as the tokenizer's normaliser and pre-tokeniser give them; and the
    number of texts counted."""
    backend = tokenizer.backend_tokenizer
    counts: Counter = Counter()
    n = 0
    for text in texts:
        n += 1
        normal = backend.normalizer.normalize_str(text) if backend.normalizer is not None else text
        counts.update(w for w, _ in backend.pre_tokenizer.pre_tokenize_str(normal))
    return counts, n


def choose_tokens(tokenizer: Any, counts: Counter, n: int, min_count: int, min_chars: int) -> list[NewToken]:
    """The ``n`` candidates (module doc) that save the most pieces."""
    model = tokenizer.backend_tokenizer.model
    vocab = tokenizer.backend_tokenizer.get_vocab(with_added_tokens=False)
    unk = getattr(model, "unk_token", None)
    scored = []
    for word, count in counts.items():
        if count < min_count or len(word) < min_chars or word in vocab or not any(c.isalpha() for c in word):
            continue
        pieces = model.tokenize(word)
        if len(pieces) < 2 or any(p.value == unk for p in pieces):
            continue
        scored.append((count * (len(pieces) - 1), word, NewToken(word, count, [p.value for p in pieces], [p.id for p in pieces])))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [t for _, _, t in scored[:n]]


def add_to_tokenizer(tokenizer: Any, tokens: list[NewToken], name: str) -> None:
    """Append ``tokens`` to the WordPiece vocabulary (in place); sets their ids."""
    from tokenizers.models import WordPiece

    model = _wordpiece(tokenizer, name)
    vocab = tokenizer.backend_tokenizer.get_vocab(with_added_tokens=False)
    for t in tokens:
        t.id = vocab[t.token] = len(vocab)
    tokenizer.backend_tokenizer.model = WordPiece(
        vocab,
        unk_token=model.unk_token,
        continuing_subword_prefix=model.continuing_subword_prefix,
        max_input_chars_per_word=model.max_input_chars_per_word,
    )


def init_embeddings(model: Any, tokens: list[NewToken]) -> None:
    """Resize the model's embeddings and set each new row (input embeddings,
    untied output embeddings, output bias) to the mean of its old pieces' rows."""
    import torch

    if not tokens:
        return
    size = max(model.get_input_embeddings().weight.shape[0], max(t.id for t in tokens) + 1)
    model.resize_token_embeddings(size, mean_resizing=False)
    rows = [model.get_input_embeddings().weight]
    out = model.get_output_embeddings()
    if out is not None and out.weight is not rows[0]:
        rows.append(out.weight)
    bias = getattr(out, "bias", None) if out is not None else None
    with torch.no_grad():
        for t in tokens:
            for w in rows:
                w[t.id] = w[t.piece_ids].mean(dim=0)
            if bias is not None:
                bias[t.id] = bias[t.piece_ids].mean()


def tokens_per_document(tokenizer: Any, texts: list[str]) -> float:
    if not texts:
        return 0.0
    enc = tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)
    return sum(len(ids) for ids in enc["input_ids"]) / len(texts)


def extend_vocabulary(model: Any, tokenizer: Any, counted: Iterable[str], held_out: list[str], cfg: Any, name: str) -> VocabReport:
    """Add ``cfg.add_tokens`` words of ``counted`` (texts) to ``tokenizer`` and
    ``model`` (in place); the report measures tokens per held-out document
    before and after."""
    _wordpiece(tokenizer, name)
    report = VocabReport(measured_docs=len(held_out))
    report.tokens_per_doc_before = tokens_per_document(tokenizer, held_out)
    counts, report.counted_docs = count_words(tokenizer, counted)
    report.added = choose_tokens(tokenizer, counts, cfg.add_tokens, cfg.min_count, cfg.min_chars)
    add_to_tokenizer(tokenizer, report.added, name)
    init_embeddings(model, report.added)
    report.tokens_per_doc_after = tokens_per_document(tokenizer, held_out)
    return report


__all__ = [
    "NewToken",
    "VocabReport",
    "add_to_tokenizer",
    "choose_tokens",
    "count_words",
    "extend_vocabulary",
    "init_embeddings",
    "tokens_per_document",
]
