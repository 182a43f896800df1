"""Grammar-guided decoding: make the reply state the main findings verbatim.

A small instruct model asked to keep the main-findings sentence word for word
often paraphrases it, drops a long chemical name or never writes it at all, so
the reply fails the alignment filter. With ``guide = "findings"`` the job hands
the backend a GBNF grammar (the format of llama.cpp, llama-cpp-python and their
servers) under which every reply has this shape::

    [a space] [up to ``intro_sentences`` free sentences] FINDINGS [up to ``rest_sentences`` free sentences]

* The model writes the free sentences as it likes. A free sentence may contain
  anything but a line break, is at most ``max_sentence_chars`` characters long,
  and ends with ". ". A period inside a sentence ("2.5 μM") is allowed when no
  space follows it.
* FINDINGS is the verbalised main findings, character for character, with
  four liberties: its first letter may also be written in the other case (a
  sentence may start with "Shizukaol F" where the findings begin with
  "shizukaol F"), a list may take the serial comma ("A, B, and C" as well as
  "A, B and C"), and compound numbers may be left out ("Aconine (4)" or
  "Aconine"), and its last sentence may run on before its period ("... from
  Gymnodinium, a marine dinoflagellate species."; the run-on starts with a
  space, comma, semicolon or parenthesis, so the last name is not glued to a
  word). Small models write the findings these ways on their own; a grammar
  that refused them would make the model write the sentence twice.
  The model may start it at any sentence start. Once ``intro_sentences`` sentences have been
  written, it must.
* Only a whole sentence may end the reply.

The sampler only ever allows tokens that keep the reply inside the grammar, so
the target entities are stated by construction, in the sentence the findings
verbaliser wrote; the model writes everything around it (background, methods,
results) and chooses where the sentence goes. The price is measured in
BENCHMARKS.md (alignment, acceptance, speed and the diversity report with and
without the guide).

This is not the alignment filter. The job still aligns, scores and checks
every reply as usual. A guided reply can still be rejected (too short,
repetitive, truncated by the token limit, a near duplicate).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

#: ``none``: free decoding; ``findings``: the main findings verbatim (see the
#: module); ``auto``: ``findings`` on a backend whose ``guide_by_default`` is
#: true (llama.cpp in process), else ``none`` (a remote server may not take a grammar)
GUIDES = ("auto", "none", "findings")


def resolve_guide(guide: str, backend: object) -> str:
    """The guide in effect for ``guide`` on ``backend`` (``auto`` resolved)."""
    if guide != "auto":
        return guide
    return "findings" if getattr(backend, "guide_by_default", False) and getattr(backend, "supports_grammar", False) else "none"


@dataclass(frozen=True)
class FindingsGuide:
    intro_sentences: int = 3
    rest_sentences: int = 5
    max_sentence_chars: int = 300

    def grammar(self, findings: str) -> str:
        return findings_grammar(findings, self.intro_sentences, self.rest_sentences, self.max_sentence_chars)


def gbnf_literal(text: str) -> str:
    """``text`` as a GBNF string literal (quotes, backslashes and control
    characters escaped)."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _gbnf_char_class(chars: str) -> str:
    esc = {"]": "\\]", "\\": "\\\\", "^": "\\^", "-": "\\-", "\n": "\\n"}
    return "[" + "".join(esc.get(c, c) for c in chars) + "]"


def findings_grammar(findings: str, intro_sentences: int = 3, rest_sentences: int = 5, max_sentence_chars: int = 300) -> str:
    """The GBNF grammar of :mod:`biorel.synth.guide` for ``findings``."""
    findings = findings.strip()
    if not findings:
        raise ValueError("findings_grammar: the findings are empty")
    if "\n" in findings:
        raise ValueError("findings_grammar: the findings span several lines")
    if intro_sentences < 0 or rest_sentences < 0 or max_sentence_chars < 2:
        raise ValueError("findings_grammar: sentence counts must be >= 0 and max_sentence_chars >= 2")
    # the last sentence may run on: "... from Gymnodinium, a marine dinoflagellate."
    open_end = findings.endswith(".") and len(findings) > 1
    if open_end:
        findings = findings[:-1]
    first, tail = findings[0], findings[1:]
    variants = dict.fromkeys([first, first.upper(), first.lower()])
    parts = [_gbnf_char_class("".join(variants)) if len(variants) > 1 else gbnf_literal(first)]
    # liberties inside the findings: the serial comma ("A, B, and C"; only for
    # an " and " whose list, since the sentence start or the previous " and ",
    # already has a comma) and compound numbers left out ("A (1)" as "A")
    start = 0
    for m in re.finditer(r"(?<!,) and | \(\d{1,3}\)", tail):
        piece = tail[start : m.start()]
        if piece:
            parts.append(gbnf_literal(piece))
        if m.group(0).startswith(" ("):
            parts.append(f"{gbnf_literal(m.group(0))}?")
        else:
            since = (first + tail)[: m.start() + 1]
            clause = re.split(r"\. | and ", since)[-1]
            parts.append('","? " and "' if "," in clause else '" and "')
        start = m.end()
    if tail[start:]:
        parts.append(gbnf_literal(tail[start:]))
    if open_end:
        parts.append("end")
    body = " ".join(parts)
    n = max_sentence_chars - 1
    rules = [
        'root ::= " "? intro findings rest',
        f"intro ::= sentence{{0,{intro_sentences}}}",
        f"findings ::= {body}",
        *([f'end ::= "." | [ ,;(] schar{{0,{n - 1}}} "."'] if open_end else []),
        # free text after the findings: more sentences, each opened with a space
        f'rest ::= (" " schar schar{{0,{n - 1}}} "."){{0,{rest_sentences}}}',
        f'sentence ::= schar schar{{0,{n - 1}}} ". "',
        # any character but a line break; a period only when no space, period or line break follows
        'schar ::= [^.\\n] | "." [^ .\\n]',
    ]
    return "\n".join(rules) + "\n"


def grammar_sha(grammar: str) -> str:
    return hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
