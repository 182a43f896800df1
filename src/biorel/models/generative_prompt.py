"""Prompts of ``biorel.GenerativeRE.v1``: the document's text in
``model.prompt``, after ``model.shots`` worked examples (few-shot prompting),
as plain text or through the tokenizer's chat template (``model.chat``).

A **shot** is one document of the pool the model was built from (its first
window of text and the relations stated there, linearised as a target would be).
The pool is the first ``shots + 1`` distinct documents (by text) in the order
given; a document's shots are the first ``shots`` of them that are not the
document itself (neither its id nor its text, compared with whitespace
collapsed and case folded), so a document never sees its own answer.

Plain text: each shot is the prompt filled with its text and followed by its
answer, shots separated by a blank line, then the prompt of the document. Chat:
each shot is a user turn (the filled prompt) and an assistant turn (its
answer), then the document's user turn and the assistant header
(``add_generation_prompt``); ``model.system`` is the system message (none: the
template's own).
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import error
from ..types import Document

#: between two worked examples of a plain-text prompt
SHOT_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Shot:
    """A worked example: the id of its document, the text shown, its answer
    (linearised relations) and the key of the whole document's text."""

    id: str
    text: str
    answer: str
    key: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shot:
        return cls(str(data["id"]), str(data["text"]), str(data["answer"]), str(data["key"]))


def text_key(text: str) -> str:
    """The sha256 of a text with whitespace collapsed and case folded: two
    copies of one abstract have the same key."""
    return hashlib.sha256(" ".join(text.split()).casefold().encode()).hexdigest()


def shot_pool(shots: Iterable[Shot], k: int) -> list[Shot]:
    """The first ``k + 1`` shots of distinct texts (one spare, for the document
    that is itself in the pool); E569 when there are fewer than ``k``."""
    pool: dict[str, Shot] = {}
    for shot in shots:
        if len(pool) > k:
            break
        pool.setdefault(shot.key, shot)
    if len(pool) < k:
        raise error("E569", k=k, reason=f"the documents it was built from give only {len(pool)} distinct one(s)")
    return list(pool.values())


def pick_shots(pool: Sequence[Shot], k: int, doc: Document) -> list[Shot]:
    """The first ``k`` shots of ``pool`` that are not ``doc`` (by id or text);
    E569 when fewer remain."""
    key = text_key(doc.text)
    chosen = [s for s in pool if s.id != doc.id and s.key != key][:k]
    if len(chosen) < k:
        raise error("E569", k=k, reason=f"only {len(chosen)} of its example documents remain once document {doc.id!r} itself is left out")
    return chosen


def with_answer(prompt: str, answer: str) -> str:
    """``answer`` as it follows ``prompt``: after a space unless the prompt
    ends with whitespace (or the answer is empty)."""
    return " " + answer if answer and not prompt.endswith(tuple(string.whitespace)) else answer


def fill(template: str, text: str) -> str:
    return template.replace("{text}", text)


def plain_prompt(template: str, text: str, shots: Sequence[Shot]) -> str:
    examples = [fill(template, s.text) + with_answer(fill(template, s.text), s.answer) + SHOT_SEPARATOR for s in shots]
    return "".join(examples) + fill(template, text)


def chat_prompt(tokenizer: Any, template: str, text: str, shots: Sequence[Shot], system: str | None = None) -> str:
    messages = [{"role": "system", "content": system}] if system else []
    for s in shots:
        messages += [{"role": "user", "content": fill(template, s.text)}, {"role": "assistant", "content": s.answer}]
    messages.append({"role": "user", "content": fill(template, text)})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def check_chat_template(tokenizer: Any, name: str) -> None:
    """E570 when the tokenizer has no chat template."""
    if not getattr(tokenizer, "chat_template", None):
        raise error("E570", name=name)


__all__ = [
    "Shot",
    "text_key",
    "shot_pool",
    "pick_shots",
    "with_answer",
    "fill",
    "plain_prompt",
    "chat_prompt",
    "check_chat_template",
    "SHOT_SEPARATOR",
]
