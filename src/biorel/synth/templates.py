"""Prompt templates: versioned, registered, editable YAML files.

A template file (``src/biorel/synth/templates/*.yaml``, or any file a user
passes with ``--template PATH``) has these keys:

* ``name``: versioned name (``biorel.synth.AbroadPaper.v1``); ``aliases``: short names.
* ``kind``: ``completion`` (one prompt string, sent to a completions endpoint)
  or ``chat`` (``system`` + ``user`` messages; the runtime applies the model's
  chat template).
* ``template`` (completion) or ``system``/``user`` (chat): text with the
  placeholders ``{title}``, ``{keywords}``, ``{findings}``; literal braces are
  written ``{{`` and ``}}``. Only these placeholders exist (E310 otherwise).
* ``stop``: stop strings, sent to the backend and also applied to the reply.
* few-shot templates add ``n_shots``, ``max_shot_chars`` and ``shot`` (which may
  also use ``{abstract}``); the rendered shots are put before the prompt.
* ``repair`` (optional): the feedback sent when a reply misses target names
  (the job's ``repairs`` option); it may use ``{missing}`` (the missing names,
  quoted, as a list: '"X", "Y" and "Z"') besides the three placeholders. How
  it is sent depends on the kind and the repair style (:meth:`PromptTemplate.render_repair`).
  Without it the built-in :data:`CHAT_REPAIR` (chat, ``turn``),
  :data:`CHAT_REPROMPT` (chat, ``reprompt``) or :data:`COMPLETION_REPAIR`
  (completion) is used.

Rendering is pure string formatting: values are inserted verbatim, never
re-parsed, so a title containing braces is safe. Changing a template means
writing a new file with a new version; the job records the template's name and
a hash of its content in every record's provenance.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from collections.abc import Sequence

import yaml

from ..errors import error
from ..registry import registry

PLACEHOLDERS = frozenset({"title", "keywords", "findings"})
SHOT_PLACEHOLDERS = PLACEHOLDERS | {"abstract"}
REPAIR_PLACEHOLDERS = PLACEHOLDERS | {"missing"}

#: feedback turn of chat templates (the model sees its own reply, then this)
CHAT_REPAIR = (
    "Your abstract does not name {missing}. Rewrite the whole abstract so that it states each missing name "
    "exactly as written here, and keep it one paragraph."
)
#: appended (after a blank line) to the last user message of a chat template's fresh prompt
CHAT_REPROMPT = "The abstract must name {missing} exactly as written."
#: appended to the main findings of a completion template's fresh prompt
COMPLETION_REPAIR = "The abstract names each of these exactly as written: {missing}."
REPAIR_STYLES = ("turn", "reprompt")


@dataclass(frozen=True, slots=True)
class Prompt:
    """What is sent to a backend: a string (``completion``) or chat messages."""

    kind: Literal["completion", "chat"]
    text: str = ""
    messages: tuple[tuple[str, str], ...] = ()

    def as_text(self) -> str:
        """The prompt as one string (for echo checks and provenance)."""
        if self.kind == "completion":
            return self.text
        return "\n".join(f"{role}: {content}" for role, content in self.messages)

    def instruction_text(self) -> str:
        """The prompt as one string without earlier assistant replies: what a
        reply must not echo (a repaired reply may keep most of its own first
        version)."""
        if self.kind == "completion":
            return self.text
        return "\n".join(f"{role}: {content}" for role, content in self.messages if role != "assistant")

    def chat_messages(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]


@dataclass(frozen=True, slots=True)
class Shot:
    """A worked example for few-shot prompts: a real seed abstract."""

    title: str
    keywords: str
    findings: str
    abstract: str


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    kind: Literal["completion", "chat"]
    template: str = ""
    system: str = ""
    user: str = ""
    stop: tuple[str, ...] = ()
    description: str = ""
    aliases: tuple[str, ...] = ()
    n_shots: int = 0
    max_shot_chars: int = 900
    shot: str = ""
    repair: str = ""
    source: str = "<string>"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """Hash of everything that shapes the prompt (recorded in provenance)."""
        parts = [self.kind, self.template, self.system, self.user, self.shot, repr(self.stop), str(self.n_shots), str(self.max_shot_chars)]
        if self.repair:  # templates without one keep the hash they always had
            parts.append(self.repair)
        blob = "\x1f".join(parts)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def render(self, title: str, keywords: str, findings: str, shots: Sequence[Shot] = ()) -> Prompt:
        values = {"title": title, "keywords": keywords, "findings": findings}
        if self.kind == "chat":
            return (
                Prompt("chat", messages=(("system", self.system.format(**values)), ("user", self.user.format(**values))))
                if self.system
                else Prompt("chat", messages=(("user", self.user.format(**values)),))
            )
        prefix = "".join(
            self.shot.format(title=s.title, keywords=s.keywords, findings=s.findings, abstract=cut_abstract(s.abstract, self.max_shot_chars))
            for s in shots
        )
        return Prompt("completion", text=prefix + self.template.format(**values))

    def repair_text(self, style: str = "turn") -> str:
        """The feedback text in use for ``style`` (the template's ``repair``,
        else the built-in one)."""
        if self.repair:
            return self.repair
        if self.kind == "completion":
            return COMPLETION_REPAIR
        return CHAT_REPAIR if style == "turn" else CHAT_REPROMPT

    def render_repair(
        self, previous: Prompt, reply: str, missing: str, title: str, keywords: str, findings: str, shots: Sequence[Shot] = (), *, style: str = "turn"
    ) -> tuple[Prompt, str]:
        """The follow-up prompt after ``reply`` (the cleaned text the model
        wrote for ``previous``) failed to name ``missing``. Returns the prompt
        and the feedback text. Values are inserted verbatim, as in :meth:`render`.

        * chat, ``style="turn"``: ``previous`` + the reply as an assistant turn
          + the feedback as a further user turn (the conversation grows with
          each repair);
        * chat, ``style="reprompt"``: the first prompt rendered afresh with the
          feedback appended to its last user message, after a blank line (the
          model does not see its earlier reply);
        * completion (either style: a completion prompt has no turns): the
          template rendered afresh with the feedback appended to the main
          findings.
        """
        if style not in REPAIR_STYLES:
            raise error("E321", option="repair_style", value=style, reason=f"one of {', '.join(REPAIR_STYLES)}")
        feedback = self.repair_text(style).format(title=title, keywords=keywords, findings=findings, missing=missing)
        if self.kind == "chat" and style == "turn":
            return Prompt("chat", messages=previous.messages + (("assistant", reply), ("user", feedback))), feedback
        if self.kind == "chat":
            first = self.render(title, keywords, findings, shots).messages
            return Prompt("chat", messages=first[:-1] + ((first[-1][0], f"{first[-1][1]}\n\n{feedback}"),)), feedback
        return self.render(title, keywords, f"{findings} {feedback}", shots), feedback


def cut_abstract(text: str, limit: int) -> str:
    """One paragraph, at most ``limit`` characters, cut at a sentence end when
    one exists before the limit."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = head.rfind(". ")
    return head[: cut + 1] if cut > limit // 3 else head.rstrip() + "..."


def _fields_of(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def parse_template(data: Any, source: str) -> PromptTemplate:
    """Build a template from a parsed YAML mapping, checking it (E310)."""

    def bad(reason: str):
        return error("E310", source=source, reason=reason)

    if not isinstance(data, dict):
        raise bad("expected a mapping at the top level")
    name, kind = data.get("name"), data.get("kind")
    if not isinstance(name, str) or not name:
        raise bad("'name' (a versioned name such as my.Template.v1) is required")
    if kind not in ("completion", "chat"):
        raise bad(f"'kind' must be 'completion' or 'chat', not {kind!r}")
    texts = {k: data.get(k, "") for k in ("template", "system", "user", "shot", "repair")}
    for k, v in texts.items():
        if not isinstance(v, str):
            raise bad(f"'{k}' must be a string")
    if kind == "completion" and not texts["template"]:
        raise bad("a completion template needs 'template'")
    if kind == "chat" and not texts["user"]:
        raise bad("a chat template needs 'user'")
    for k, v in texts.items():
        allowed = SHOT_PLACEHOLDERS if k == "shot" else REPAIR_PLACEHOLDERS if k == "repair" else PLACEHOLDERS
        try:
            unknown = _fields_of(v) - allowed
        except ValueError as e:
            raise bad(f"'{k}': {e}") from None
        if unknown:
            raise bad(f"'{k}' uses unknown placeholder(s) {sorted(unknown)}; valid: {sorted(allowed)}")
    stop = data.get("stop", [])
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise bad("'stop' must be a list of non-empty strings")
    n_shots = data.get("n_shots", 0)
    if not isinstance(n_shots, int) or n_shots < 0:
        raise bad("'n_shots' must be a non-negative integer")
    if n_shots and (kind != "completion" or not texts["shot"]):
        raise bad("few-shot templates are completion templates with a 'shot' text")
    known = {"name", "aliases", "kind", "description", "template", "system", "user", "stop", "n_shots", "max_shot_chars", "shot", "repair"}
    return PromptTemplate(
        name=name,
        kind=kind,
        template=texts["template"],
        system=texts["system"],
        user=texts["user"],
        shot=texts["shot"],
        repair=texts["repair"],
        stop=tuple(stop),
        description=str(data.get("description", "")),
        aliases=tuple(data.get("aliases", ()) or ()),
        n_shots=n_shots,
        max_shot_chars=int(data.get("max_shot_chars", 900)),
        source=source,
        extra={k: v for k, v in data.items() if k not in known},
    )


def load_template_file(path: str | Path) -> PromptTemplate:
    """Read a user's template file (YAML)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise error("E310", source=str(p), reason=f"{type(e).__name__}: {e}") from None
    return parse_template(data, str(p))


def get_template(name_or_path: str | Path) -> PromptTemplate:
    """A registered template by name or alias, or a template file by path."""
    s = str(name_or_path)
    if s.endswith((".yaml", ".yml")) or Path(s).is_file():
        return load_template_file(s)
    return registry.prompt_templates.get(s)


def _register_builtins() -> None:
    pkg = resources.files("biorel.synth") / "templates"
    for entry in sorted(pkg.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        tpl = parse_template(yaml.safe_load(entry.read_text(encoding="utf-8")), f"biorel/synth/templates/{entry.name}")
        if tpl.name not in registry.prompt_templates:
            registry.prompt_templates.register(tpl.name, tpl, aliases=tpl.aliases)


_register_builtins()
