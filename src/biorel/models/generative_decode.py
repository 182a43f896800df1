"""Copy-constrained decoding for generative relation extraction.

A generated output is a list of linearised relations (:mod:`biorel.models.linearize`).
Its *grammar* is read off the form itself: a probe relation with placeholder
arguments is written for every known type signature, which splits an item into
**slots** (the two argument names) and **choices** (the fixed text between them:
``" produces "``, ``" @Chemical@ "``, ``" @Disease@ @CID@"``); items are joined by
the separator ``"; "``; one whitespace byte may open the output.

:class:`CopyAutomaton` runs that grammar over UTF-8 **bytes** against one input
text. Its state is a set of configurations:

* ``("w",)``: nothing written yet (one whitespace byte may come first);
* ``("c", segment, node)``: inside a choice, at a node of that choice's byte trie;
* ``("s", segment, ends, length)``: inside a slot whose text so far is the input's
  bytes ``[e - length, e)`` for every ``e`` in ``ends`` (the slot text occurs
  there). A slot starts at a word boundary (not on a space, a hyphen, a slash
  or closing punctuation), never crosses a passage boundary, may not hold the
  form's reserved strings (the separator, a line break, the relation word or
  ``@``), may be closed only where the input has a word boundary after a
  character that is not a space, a hyphen, a slash or opening punctuation,
  and is at most ``max_name_bytes`` long.

Because a slot is only ever extended by a byte the input has next to one of its
occurrences, **every entity string of an output that the automaton accepts is a
substring of the input** (starting and ending at word boundaries, inside one
passage; with ``ignore_case``, up to ASCII case), and each item parses back into
exactly its two slot texts. A slot is kept only while it can still be closed (a
valid end lies ahead before the passage ends, the length limit, or a reserved
string), so every accepted prefix can be completed byte by byte.

:class:`TokenTable` maps a tokenizer's ids to the bytes they stand for
(byte-level BPE such as GPT-2, SmolLM2 and Qwen, where a leading space is part of
the token, or SentencePiece pieces with ``▁`` and ``<0xNN>`` byte fallback) and
holds them in a byte trie; :meth:`CopyAutomaton.allowed` walks that trie and the
automaton together, so only tokens whose whole byte string keeps the output
valid are allowed, whatever the token boundaries. A token may thus close one
slot, cross the fixed text and open the next (``" produces"`` then ``" strept"``).
:class:`CopyConstraint` is the ``LogitsProcessor`` that applies it at every step
of greedy or beam search; EOS is allowed where the output may end (and, so that
generation can never get stuck, at a dead end: a state whose next bytes no token
of the vocabulary spells alone, which byte-level vocabularies never have; it
is reported).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from collections.abc import Iterable, Sequence

from ..errors import error
from .linearize import SEPARATOR, ABroadForm, Form, TextRelation, TypedForm

#: the whitespace bytes that may open an output
LEADING_SPACE = frozenset(b" \t\n")
#: what a slot may never contain, whatever the form
ALWAYS_RESERVED = (SEPARATOR, "\n")
#: characters a name does not start with (closing punctuation, joiners), or end with (opening punctuation, joiners)
NO_START = frozenset(".,;:!?)]}-/")
NO_END = frozenset("([{,;:-/")
_HEAD, _TAIL = "\x00", "\x01"

State = frozenset


# ---------------------------------------------------------------- the grammar
@dataclass(frozen=True)
class Choice:
    """Fixed text: one of ``alternatives`` (non-empty byte strings)."""

    alternatives: tuple[bytes, ...]


@dataclass(frozen=True)
class Slot:
    """An argument name, copied from the input."""


@dataclass(frozen=True)
class Grammar:
    """The segments of one item followed by the separator choice (the last
    segment; after it the first segment comes again), and the strings a slot
    may not contain."""

    segments: tuple[Choice | Slot, ...]
    reserved: tuple[bytes, ...]

    @property
    def separator_index(self) -> int:
        return len(self.segments) - 1


def reserved_strings(form: Form) -> tuple[str, ...]:
    """What an argument name may not contain so that ``form.read`` splits the
    item back into exactly that name (E562 for a form without a rule here)."""
    if isinstance(form, ABroadForm):
        return (form.word,)
    if isinstance(form, TypedForm):
        return ("@",)
    raise error("E562", name=type(form).__name__, reason="copy-constrained decoding knows the forms abroad and typed")


def _pieces(form: Form, sig: tuple[str, str, str]) -> tuple[str, str, str]:
    """``(before, between, after)``: the fixed text around the two arguments of
    an item of type signature ``(relation, head type, tail type)``."""
    rel, ht, tt = sig
    text = form.write(TextRelation(_HEAD, _TAIL, rel, ht, tt))
    if text.count(_HEAD) != 1 or text.count(_TAIL) != 1:
        raise error("E562", name=type(form).__name__, reason="an item must name each argument once")
    first, second = sorted((_HEAD, _TAIL), key=text.index)
    before, rest = text.split(first)
    between, after = rest.split(second)
    return before, between, after


def build_grammar(form: Form, signatures: Iterable[tuple[str, str, str]], separator: str = SEPARATOR) -> Grammar:
    """The grammar of outputs of ``form`` over the given ``(relation, head
    type, tail type)`` signatures."""
    parts = [_pieces(form, sig) for sig in signatures]
    if not parts:
        raise error("E562", name=type(form).__name__, reason="no relation type signature to build the output grammar from")
    segments: list[Choice | Slot] = []
    for k, fixed in enumerate(zip(*parts)):
        alts = tuple(sorted({s.encode() for s in fixed}))
        if any(alts) and not all(alts):
            raise error("E562", name=type(form).__name__, reason="fixed text that is empty for some types only")
        if any(alts):
            segments.append(Choice(alts))
        if k < 2:
            segments.append(Slot())
    segments.append(Choice((separator.encode(),)))
    reserved = tuple(dict.fromkeys(s.encode() for s in (*ALWAYS_RESERVED, separator, *reserved_strings(form))))
    return Grammar(tuple(segments), reserved)


class _ByteTrie:
    """A trie over byte strings; node 0 is the root."""

    def __init__(self) -> None:
        self.children: list[dict[int, int]] = [{}]
        self.values: list[list[int]] = [[]]

    def add(self, data: bytes, value: int) -> None:
        node = 0
        for b in data:
            nxt = self.children[node].get(b)
            if nxt is None:
                nxt = len(self.children)
                self.children[node][b] = nxt
                self.children.append({})
                self.values.append([])
            node = nxt
        self.values[node].append(value)


# ---------------------------------------------------------------- the automaton over one input
class CopyAutomaton:
    """The grammar run against one input text (see the module docstring).
    ``pieces``: the ``[start, end)`` character spans of the text that a slot may
    copy from, one per passage (default: the whole text). ``ignore_case``: a
    slot copies the input up to ASCII case (``nuapapuin B`` may be written
    ``Nuapapuin B``); reserved strings are then refused in any case.
    ``max_name_bytes``: the longest slot (UTF-8 bytes); a model that keeps
    copying the input must close the name there."""

    def __init__(
        self,
        grammar: Grammar,
        text: str,
        pieces: Sequence[tuple[int, int]] | None = None,
        *,
        ignore_case: bool = False,
        max_name_bytes: int = 128,
    ):
        self.grammar = grammar
        self.max_name_bytes = max_name_bytes
        self.buf = text.encode()
        self.ignore_case = ignore_case
        #: the bytes a slot is compared with (ASCII-lowercased when ignoring case)
        self.key = self.buf.lower() if ignore_case else self.buf
        self._choices = {i: self._choice_trie(s) for i, s in enumerate(grammar.segments) if isinstance(s, Choice)}
        self._index_bytes(text, pieces if pieces is not None else [(0, len(text))])
        self._steps: dict[tuple[State, int], State] = {}
        self._next: dict[State, frozenset[int]] = {}
        self.start: State = self._closure({("w",)})

    @staticmethod
    def _choice_trie(choice: Choice) -> _ByteTrie:
        trie = _ByteTrie()
        for k, alt in enumerate(choice.alternatives):
            trie.add(alt, k)
        return trie

    def _index_bytes(self, text: str, pieces: Sequence[tuple[int, int]]) -> None:
        """Per byte: its piece (-1 outside every piece), and whether a slot may
        start there or end before it; then the slots' limits."""
        n = len(self.buf)
        piece_of_char = [-1] * len(text)
        for k, (a, b) in enumerate(pieces):
            for c in range(max(0, a), min(b, len(text))):
                piece_of_char[c] = k
        self.piece = [-1] * (n + 1)
        self.start_ok = [False] * (n + 1)
        self.end_ok = [False] * (n + 1)
        pos = 0
        for c, ch in enumerate(text):
            width = len(ch.encode())
            here = piece_of_char[c]
            for k in range(pos, pos + width):
                self.piece[k] = here
            prev = text[c - 1] if c else ""
            joined = bool(prev) and piece_of_char[c - 1] == here and prev.isalnum() and ch.isalnum()
            self.start_ok[pos] = here >= 0 and not ch.isspace() and ch not in NO_START and not joined
            self.end_ok[pos] = bool(prev) and piece_of_char[c - 1] >= 0 and not prev.isspace() and prev not in NO_END and not joined
            pos += width
        self.end_ok[n] = bool(text) and piece_of_char[-1] >= 0 and not text[-1].isspace() and text[-1] not in NO_END
        self._index_limits()

    def _index_limits(self) -> None:
        """``limit[s]``: the furthest end of a slot starting at byte ``s`` (its
        piece's end, ``max_name_bytes``, and before the end of any reserved
        string that starts at or after ``s``); ``next_end[e]``: the first
        position at or after ``e`` where a slot may end. A slot ``[s, e)`` is
        kept only while ``next_end[e] <= limit[s]``: it can still be closed, so
        the automaton never walks into a name it cannot finish."""
        n = len(self.key)
        reserved_end = [n + 1] * (n + 2)  # min end of a reserved string starting at or after s
        for r in self.grammar.reserved:
            for m in re.finditer(re.escape(self._fold(r)), self.key):
                reserved_end[m.start()] = min(reserved_end[m.start()], m.end())
        for s in range(n - 1, -1, -1):
            reserved_end[s] = min(reserved_end[s], reserved_end[s + 1])
        piece_end = [0] * (n + 1)
        for s in range(n - 1, -1, -1):
            piece_end[s] = piece_end[s + 1] if s + 1 < n and self.piece[s + 1] == self.piece[s] else s + 1
        self.limit = [min(reserved_end[s] - 1, piece_end[s], s + self.max_name_bytes) for s in range(n)]
        self.next_end = [n + 1] * (n + 2)
        for e in range(n, -1, -1):
            self.next_end[e] = e if self.end_ok[e] else self.next_end[e + 1]
        firsts: dict[int, set[int]] = {}
        for s in range(n):
            if self.start_ok[s] and self.next_end[s + 1] <= self.limit[s]:
                firsts.setdefault(self.key[s], set()).add(s + 1)
        self._firsts = {b: frozenset(e) for b, e in firsts.items()}

    def _fold(self, data: bytes) -> bytes:
        return data.lower() if self.ignore_case else data

    def _fold_byte(self, b: int) -> int:
        return b + 32 if self.ignore_case and 65 <= b <= 90 else b

    def _with_cases(self, keys: Iterable[int]) -> set[int]:
        """Output bytes that match the comparison bytes ``keys``."""
        out = set(keys)
        if self.ignore_case:
            out |= {b - 32 for b in out if 97 <= b <= 122}
        return out

    # ---- configurations ----------------------------------------------------
    def _segment_start(self, i: int) -> tuple:
        return ("s", i, None, 0) if isinstance(self.grammar.segments[i], Slot) else ("c", i, 0)

    def _after(self, i: int) -> tuple:
        return self._segment_start((i + 1) % len(self.grammar.segments))

    def _closable(self, ends: frozenset[int]) -> bool:
        return any(self.end_ok[e] for e in ends)

    def _closure(self, configs: Iterable[tuple]) -> State:
        out: set[tuple] = set()
        todo = list(configs)
        while todo:
            c = todo.pop()
            if c in out:
                continue
            if c[0] == "c" and not self._choices[c[1]].children[c[2]]:
                todo.append(self._after(c[1]))  # a finished choice: only what follows it
                continue
            out.add(c)
            if c[0] == "w":
                todo.append(self._segment_start(0))
            elif c[0] == "c" and self._choices[c[1]].values[c[2]]:
                todo.append(self._after(c[1]))
            elif c[0] == "s" and c[3] and self._closable(c[2]):
                todo.append(self._after(c[1]))
        return frozenset(out)

    def _extend(self, ends: frozenset[int], length: int, b: int) -> frozenset[int]:
        """The ends of the slot text extended by byte ``b`` (only those from
        which the slot can still be closed)."""
        key, limit, next_end, n = self.key, self.limit, self.next_end, len(self.key)
        return frozenset(e + 1 for e in ends if e < n and key[e] == b and next_end[e + 1] <= limit[e - length])

    def _step_one(self, c: tuple, b: int) -> tuple | None:
        kind = c[0]
        if kind == "w":  # one whitespace byte may open the output
            return self._segment_start(0) if b in LEADING_SPACE else None
        if kind == "c":
            nxt = self._choices[c[1]].children[c[2]].get(b)
            return None if nxt is None else ("c", c[1], nxt)
        _, i, ends, length = c
        b = self._fold_byte(b)
        new = self._firsts.get(b, frozenset()) if ends is None else self._extend(ends, length, b)
        return ("s", i, new, length + 1) if new else None

    def step(self, state: State, b: int) -> State:
        """The state after one more output byte (empty: the output is invalid)."""
        key = (state, b)
        got = self._steps.get(key)
        if got is None:
            got = self._closure(x for c in state if (x := self._step_one(c, b)) is not None)
            self._steps[key] = got
        return got

    def run(self, data: bytes, state: State | None = None) -> State:
        state = self.start if state is None else state
        for b in data:
            if not state:
                break
            state = self.step(state, b)
        return state

    def can_end(self, state: State) -> bool:
        """Whether the output may stop here (EOS): nothing written yet, or a
        complete item just written."""
        return ("w",) in state or ("c", self.grammar.separator_index, 0) in state

    def next_bytes(self, state: State) -> frozenset[int]:
        """The bytes that may come next."""
        got = self._next.get(state)
        if got is None:
            out: set[int] = set()
            n = len(self.buf)
            for c in state:
                if c[0] == "w":
                    out |= LEADING_SPACE
                elif c[0] == "c":
                    out |= self._choices[c[1]].children[c[2]].keys()
                elif c[2] is None:
                    out |= self._with_cases(self._firsts.keys())
                else:
                    out |= self._with_cases({self.key[e] for e in c[2] if e < n})
            got = self._next[state] = frozenset(out)
        return got

    def allowed(self, state: State, tokens: TokenTable) -> list[int]:
        """The token ids whose whole byte string may come next (EOS not included)."""
        out: list[int] = []
        trie = tokens.trie
        stack = [(0, state)]
        while stack:
            node, st = stack.pop()
            children = trie.children[node]
            for b in self.next_bytes(st) & children.keys():
                child = children[b]
                nst = self.step(st, b)
                if nst and (self.next_bytes(nst) or self.can_end(nst)):
                    out.extend(trie.values[child])
                    if trie.children[child]:
                        stack.append((child, nst))
        return out


# ---------------------------------------------------------------- tokens as bytes
@lru_cache(maxsize=1)
def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's printable stand-ins for the 256 byte values, inverted."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


_BYTE_PIECE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def _decoder_kinds(tokenizer: Any) -> set[str]:
    """The decoder step types of a fast tokenizer (``ByteLevel``, ``Metaspace``, ...)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return set()
    spec = json.loads(backend.to_str()).get("decoder") or {}
    steps = spec.get("decoders", [spec]) if spec.get("type") == "Sequence" else [spec]
    return {s.get("type", "") for s in steps}


def _piece_bytes(piece: str, kind: str) -> bytes:
    if kind == "byte-level":
        table = _byte_level_alphabet()
        return bytes(table[ch] for ch in piece) if all(ch in table for ch in piece) else piece.encode()
    m = _BYTE_PIECE.match(piece)
    return bytes([int(m.group(1), 16)]) if m else piece.replace("▁", " ").encode()


@dataclass
class TokenTable:
    """Each token id's bytes (``None``: special tokens, never generated inside
    an output) and a byte trie over them."""

    data: list[bytes | None]
    kind: str
    trie: _ByteTrie = field(default_factory=_ByteTrie)

    def __post_init__(self) -> None:
        for i, d in enumerate(self.data):
            if d:
                self.trie.add(d, i)

    def bytes_of(self, ids: Iterable[int]) -> bytes:
        return b"".join(self.data[i] or b"" for i in ids if 0 <= i < len(self.data))

    def text(self, ids: Iterable[int]) -> str:
        return self.bytes_of(ids).decode("utf-8", errors="replace")


#: a check string: words, punctuation, a multi-byte character, the forms' fixed text
_PROBE = "Streptomyces sp. (strain 5α) produces β-lactam; X @Chemical@ y @CID@ 3'-O-methyl."


def token_table(tokenizer: Any, name: str = "the base model") -> TokenTable:
    """The :class:`TokenTable` of a fast tokenizer (E562 when its tokens cannot
    be read as bytes, checked by decoding a probe string)."""
    kinds = _decoder_kinds(tokenizer)
    if "ByteLevel" in kinds:
        kind = "byte-level"
    elif kinds & {"Metaspace", "Replace", "ByteFallback"}:
        kind = "sentencepiece"
    else:
        raise error("E562", name=name, reason=f"its decoder ({', '.join(sorted(kinds)) or 'none'}) is neither byte-level BPE nor SentencePiece")
    added = {i: t for i, t in getattr(tokenizer, "added_tokens_decoder", {}).items()}
    special = set(tokenizer.all_special_ids)
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    data: list[bytes | None] = []
    for i, piece in enumerate(pieces):
        if i in special or (i in added and added[i].special) or piece is None:
            data.append(None)
        else:
            data.append(added[i].content.encode() if i in added else _piece_bytes(piece, kind))
    table = TokenTable(data, kind)
    ids = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
    if table.text(ids).lstrip(" ") != _PROBE:
        raise error("E562", name=name, reason=f"its tokens do not read back as the text they encode ({table.text(ids)!r})")
    return table


# ---------------------------------------------------------------- the logits processor
@dataclass
class ConstraintLog:
    """What the constraint saw: steps, and steps where nothing but EOS could
    follow although the output was incomplete (dead ends)."""

    steps: int = 0
    dead_ends: int = 0


class CopyConstraint:
    """A ``transformers`` logits processor: at each step, every token that would
    make the output leave the grammar or copy a string that is not in the input
    gets ``-inf``. ``prefix``: how many leading ids of each row are not output
    (the prompt of a decoder-only model; the start token of a seq2seq decoder)."""

    def __init__(self, automaton: CopyAutomaton, tokens: TokenTable, eos_id: int, prefix: int):
        self.automaton = automaton
        self.tokens = tokens
        self.eos_id = eos_id
        self.prefix = prefix
        self.log = ConstraintLog()
        self._states: dict[tuple[int, ...], State] = {(): automaton.start}
        self._allowed: dict[State, Any] = {}

    def state(self, ids: tuple[int, ...]) -> State:
        got = self._states.get(ids)
        if got is None:
            parent = self.state(ids[:-1])
            data = self.tokens.data[ids[-1]] if 0 <= ids[-1] < len(self.tokens.data) else None
            got = self.automaton.run(data, parent) if data else frozenset()
            self._states[ids] = got
        return got

    def allowed_ids(self, state: State) -> tuple[Any, bool]:
        """``(token ids, dead end)``: what may come next; at a dead end (an
        incomplete output that nothing can continue) only EOS."""
        import torch

        got = self._allowed.get(state)
        if got is None:
            ids = self.automaton.allowed(state, self.tokens) if state else []
            dead = not ids and not (state and self.automaton.can_end(state))
            if dead or self.automaton.can_end(state):
                ids.append(self.eos_id)
            got = self._allowed[state] = (torch.tensor(sorted(set(ids)), dtype=torch.long), dead)
        return got

    def __call__(self, input_ids, scores):
        import torch

        out = torch.full_like(scores, float("-inf"))
        for row in range(input_ids.shape[0]):
            idx, dead = self.allowed_ids(self.state(tuple(input_ids[row, self.prefix :].tolist())))
            self.log.steps += 1
            self.log.dead_ends += dead
            out[row, idx] = scores[row, idx]
        return out


__all__ = [
    "Choice",
    "Slot",
    "Grammar",
    "build_grammar",
    "reserved_strings",
    "CopyAutomaton",
    "TokenTable",
    "token_table",
    "CopyConstraint",
    "ConstraintLog",
]
