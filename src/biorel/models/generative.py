"""``biorel.GenerativeRE.v1``: relation extraction as text generation with LoRA
adapters on a causal (or seq2seq) language model.

The input is the document's text (title and abstract) in a prompt
(``model.prompt``, ``{text}`` standing for the text); the target is its
relations linearised by :mod:`biorel.models.linearize` (``model.form``:
``abroad``, ``"{organism} produces {chemical}"``, or ``typed``) followed by the
end-of-sequence token. Training is the language-model loss on the target
tokens only (the prompt's labels are ``-100``), through the LoRA adapters
(:mod:`.generative_base`); the base stays as loaded.

Decoding is greedy or beam search; with ``decoding.constrained`` (the default)
a :class:`~biorel.models.generative_decode.CopyConstraint` lets only outputs of
the form's grammar whose argument names are copied from the input be
generated. The output is parsed (:func:`~biorel.models.linearize.parse`) and
grounded (:func:`~biorel.models.linearize.ground`) into a document with
mentions at every place a name occurs, entities and relations. Nothing is
dropped silently: each predicted document's ``metadata["output"]`` is the raw
text (what the ABroad protocol scores) and ``metadata["generation"]`` lists the
items that did not parse, the relations whose names are not in the text,
truncated outputs and dead ends; :attr:`GenerativeRE.stats` sums them over
every prediction.

Documents longer than ``max_length`` tokens are read in windows of whole
sentences (a longer sentence is cut between tokens); training puts each relation
in the windows that name both arguments (or the first window when none does).
One document at a time is generated (no padding), so a document's prediction
does not depend on its batch.

Saving writes the adapter only (``model.safetensors``, peft's key names, and
``adapter_config.json``) with ``base_model.json`` naming the base and its
fingerprint; loading puts the adapter back on the same base (E565 otherwise).

Prompting without adapters (``model.adapter = false``, :meth:`GenerativeRE.prompted`)
is the same model with the base alone: zero-shot, or with ``model.shots`` worked
examples from the documents it was built from (never the document being read),
as plain text or through the chat template (:mod:`.generative_prompt`); its
folder holds no tensors, and ``shots.json`` holds the examples.
"""

from __future__ import annotations

import json
import string
from contextlib import nullcontext
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config import ModelConfig
from ..errors import error
from ..registry import registry
from ..types import Document
from .base import BiorelModel, Capabilities, resolve_mode
from .generative_prompt import Shot, chat_prompt, check_chat_template, pick_shots, plain_prompt, shot_pool, text_key, with_answer
from .linearize import SEPARATOR, TextRelation, get_form, ground, parse, relations_of

BASE_FILE = "base_model.json"
SHOTS_FILE = "shots.json"
DEFAULT_PROMPT = "Text: {text}\nRelations:"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LoraSettings(_Section):
    """``[model.lora]``: the adapters' rank, scale (``alpha / r``), dropout and
    the linear layers they adapt (last names, or ``"all-linear"``)."""

    r: int = Field(16, ge=1)
    alpha: float = Field(32.0, gt=0)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | Literal["all-linear"] = Field(default_factory=lambda: ["q_proj", "v_proj"])


class DecodingSettings(_Section):
    """``[model.decoding]``: greedy or beam search, and whether outputs are
    copy-constrained (every argument name a substring of the input; with
    ``ignore_case``, up to ASCII case)."""

    strategy: Literal["greedy", "beam"] = "greedy"
    num_beams: int = Field(4, ge=2)
    constrained: bool = True
    ignore_case: bool = False
    #: the longest name a constrained output may copy (UTF-8 bytes: characters for ASCII)
    max_name_bytes: int = Field(128, ge=1)


class GenerativeConfig(ModelConfig):
    """``[model]`` of ``biorel.GenerativeRE.v1``."""

    architecture: str = "biorel.GenerativeRE.v1"
    #: a packaged GGUF model (``smollm2-135m``, ``qwen2.5-coder-0.5b``), a ``.gguf`` file, a folder or a HF id
    base: str = "smollm2-135m"
    local_files_only: bool = True
    revision: str | None = None
    #: the linearisation of the targets (``registry.linearizations``)
    form: Literal["typed", "abroad"] = "typed"
    #: the prompt; ``{text}`` stands for the document's text (or one window of it)
    prompt: str = DEFAULT_PROMPT
    #: text tokens per window of the input
    max_length: int = Field(512, ge=16)
    max_new_tokens: int = Field(128, ge=1)
    lora: LoraSettings = Field(default_factory=LoraSettings)
    #: 4-bit base (bitsandbytes NF4) on a CUDA device
    qlora: bool = False
    decoding: DecodingSettings = Field(default_factory=DecodingSettings)
    #: relation types to learn; empty means every type seen in training
    relation_types: list[str] = Field(default_factory=list)
    #: LoRA adapters on the base; false: the base alone, prompted (nothing to train)
    adapter: bool = True
    #: worked examples before the document, from the documents the model was built from (never the document itself)
    shots: int = Field(0, ge=0)
    #: the prompt (and the shots) through the tokenizer's chat template
    chat: bool = False
    #: the chat's system message (none: the template's own)
    system: str | None = None

    @field_validator("prompt")
    @classmethod
    def _one_text_field(cls, v: str) -> str:
        names = [name for _, name, _, _ in string.Formatter().parse(v) if name is not None]
        if names != ["text"]:
            raise ValueError(f"the prompt must hold '{{text}}' once and no other field (found: {', '.join(names) or 'none'})")
        return v

    @model_validator(mode="after")
    def _system_needs_chat(self) -> GenerativeConfig:
        if self.system is not None and not self.chat:
            raise ValueError("system is the chat's system message: set chat = true as well")
        return self


@dataclass
class GenerativeLabels:
    """The relation types learnt and their ``(relation, head type, tail type)``
    signatures (the grammar of constrained decoding is built from them)."""

    relation_types: list[str]
    signatures: list[tuple[str, str, str]]

    @classmethod
    def from_documents(cls, docs: Sequence[Document], relation_types: Sequence[str] = ()) -> GenerativeLabels:
        seen = sorted({(r.type, r.head_type, r.tail_type) for d in docs for r in relations_of(d)})
        types = list(relation_types) or sorted({s[0] for s in seen})
        sigs = [s for s in seen if s[0] in types]
        if not sigs:
            raise error(
                "E407", reason="the training documents have no relations of the types to learn; a generative model learns from their linearisation"
            )
        return cls(types, sigs)

    def to_dict(self) -> dict[str, Any]:
        return {"relation_types": self.relation_types, "signatures": [list(s) for s in self.signatures]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerativeLabels:
        return cls(list(data["relation_types"]), [tuple(s) for s in data["signatures"]])


@dataclass
class GenerativeItem:
    doc_id: str
    #: per window: (prompt ids, target ids ending with EOS)
    sequences: list[tuple[list[int], list[int]]]
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class WindowOutput:
    text: str
    ended: bool
    dead_ends: int
    new_tokens: int
    prompt_tokens: int = 0


@dataclass
class GenerationStats:
    """Counts over every document a model predicted (:attr:`GenerativeRE.stats`)."""

    documents: int = 0
    windows: int = 0
    items: int = 0
    unparsable_items: int = 0
    ungrounded_relations: int = 0
    duplicate_relations: int = 0
    mentions_across_passages: int = 0
    truncated_windows: int = 0
    dead_ends: int = 0
    new_tokens: int = 0
    prompt_tokens: int = 0

    def add(self, report: Mapping[str, Any]) -> None:
        self.documents += 1
        for f in fields(self):
            value = report.get(f.name)
            if f.name != "documents" and value is not None:
                setattr(self, f.name, getattr(self, f.name) + (len(value) if isinstance(value, list) else value))

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def cut_windows(text: str, token_starts: Sequence[int], sentence_ends: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """``[start, end)`` character windows of ``text`` of at most ``budget``
    tokens (``token_starts``: each token's first character), ending at a
    sentence end where one fits, else between two tokens."""
    from bisect import bisect_left

    def skip_space(i: int) -> int:
        while i < len(text) and text[i].isspace():
            i += 1
        return i

    out: list[tuple[int, int]] = []
    a = skip_space(0)
    while a < len(text):
        i = bisect_left(token_starts, a)
        limit = token_starts[i + budget] if i + budget < len(token_starts) else len(text)
        b = max((e for e in sentence_ends if a < e <= limit), default=max(limit, a + 1))
        out.append((a, b))
        a = skip_space(b)
    return out


def _inside_passages(doc: Document) -> int:
    """Remove (in place) predicted mentions that cross a passage boundary;
    returns how many."""
    passages = [(p.offset, p.end) for p in doc.passages]
    bad = {m.id for m in doc.mentions if not all(any(a <= s and e <= b for a, b in passages) for s, e in m.spans)}
    if bad:
        doc.mentions = [m for m in doc.mentions if m.id not in bad]
        for ent in doc.entities:
            ent.mention_ids = tuple(mid for mid in ent.mention_ids if mid not in bad)
    return len(bad)


class GenerativeRE(BiorelModel):
    architecture = "biorel.GenerativeRE.v1"
    config_class = GenerativeConfig
    capabilities = Capabilities(
        modes=("extract",),
        precisions=("fp32", "bf16"),
        loss_parts={"lm": 1.0},
        default_scorers=("e2e:extract",),
        train_bf16=True,
    )
    #: every trainable parameter is an adapter, trained at ``training.lr``
    pretrained_prefixes = ("base_model.",)
    required_files = ("labels.json", "model.safetensors", BASE_FILE)

    def __init__(self, cfg: GenerativeConfig, labels: GenerativeLabels, base: Any, shots: Sequence[Shot] = ()):
        from .generative_base import add_adapters

        self.cfg = cfg
        self.labels = labels
        self.base = base
        self.form = get_form(cfg.form)
        if cfg.chat:
            check_chat_template(base.tokenizer, cfg.base)
        lora = cfg.lora
        if cfg.adapter:
            self.net = add_adapters(base, r=lora.r, alpha=lora.alpha, dropout=lora.dropout, target_modules=lora.target_modules, qlora=cfg.qlora)
        else:
            self.net = base.model.requires_grad_(False)
        #: the worked examples a prompt may show (:func:`.generative_prompt.shot_pool`)
        self.shots = list(shots)
        self.precision = "fp32"
        self.stats = GenerationStats()
        self._autocast = False
        self._fp32: dict[str, Any] = {}
        self._tokens: Any = None
        self._grammar: Any = None
        self._label_maps = self._type_maps()

    # ---- construction -------------------------------------------------------
    @staticmethod
    def _load_base(cfg: GenerativeConfig):
        from .generative_base import load_base

        return load_base(cfg.base, revision=cfg.revision, local_files_only=cfg.local_files_only, qlora=cfg.qlora)

    @classmethod
    def from_config(cls, cfg: GenerativeConfig, train_docs: Sequence[Document]) -> GenerativeRE:
        """A new model; ``train_docs`` give the relation types and signatures
        and, with ``model.shots``, the worked examples (in their order)."""
        labels = GenerativeLabels.from_documents(train_docs, cfg.relation_types)
        model = cls(cfg, labels, cls._load_base(cfg))
        if cfg.shots:
            model.shots = shot_pool((model._shot(d) for d in train_docs), cfg.shots)
        return model

    @classmethod
    def prompted(cls, docs: Sequence[Document], *, base: str = "smollm2-135m", shots: int = 0, **options: Any) -> GenerativeRE:
        """The base alone, prompted (no adapters, nothing trained): zero-shot,
        or with ``shots`` worked examples, the first of ``docs`` that are not the
        document being read. ``docs`` also give the relation types and
        signatures outputs are read with; ``options`` are other ``[model]`` keys
        (``form``, ``prompt``, ``chat``, ``system``, ``decoding``, ...)."""
        from ..config import validate_model_config

        cfg = validate_model_config({**options, "architecture": cls.architecture, "base": base, "adapter": False, "shots": shots})
        return cls.from_config(cfg, docs)

    @classmethod
    def from_saved(cls, folder: Path, cfg: GenerativeConfig, labels: dict[str, Any]) -> GenerativeRE:
        saved = json.loads((folder / BASE_FILE).read_text("utf-8"))
        base = cls._load_base(cfg)
        if saved.get("fingerprint") != base.fingerprint:
            reason = f"the adapter was trained on {saved.get('fingerprint')}; this base is {base.fingerprint}"
            raise error("E565", path=str(folder), name=cfg.base, reason=reason)
        return cls(cfg, GenerativeLabels.from_dict(labels), base, cls._saved_shots(folder, cfg))

    @staticmethod
    def _saved_shots(folder: Path, cfg: GenerativeConfig) -> list[Shot]:
        if not cfg.shots:
            return []
        try:
            return [Shot.from_dict(s) for s in json.loads((folder / SHOTS_FILE).read_text("utf-8"))]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise error("E404", path=str(folder), reason=f"{SHOTS_FILE} (the {cfg.shots} worked examples of model.shots): {e}") from None

    def _type_maps(self) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """``{written: label}`` for the relation, head and tail types, read back
        through the form from every signature; a written token that stands for
        several labels (or nothing, in an untyped form) maps only if one label fits."""
        found: list[dict[str, set[str]]] = [{}, {}, {}]
        for sig in self.labels.signatures:
            got = self.form.read(self.form.write(TextRelation("h", "t", *sig)))
            if isinstance(got, TextRelation):
                for k, token in enumerate((got.type, got.head_type, got.tail_type)):
                    found[k].setdefault(token, set()).add(sig[k])
        rel, head, tail = ({t: next(iter(ls)) for t, ls in d.items() if len(ls) == 1} for d in found)
        return rel, head, tail

    def _relabel(self, r: TextRelation) -> TextRelation:
        rel, head, tail = self._label_maps
        return TextRelation(r.head, r.tail, rel.get(r.type, r.type), head.get(r.head_type, r.head_type), tail.get(r.tail_type, r.tail_type))

    # ---- text, windows, prompts ---------------------------------------------------
    def cost(self, doc: Document) -> int:
        shown = sum(len(s.text) + len(s.answer) for s in self.shots[: self.cfg.shots])
        return max(1, (len(doc.text) + shown) // 4) + self.cfg.max_new_tokens

    def _windows(self, doc: Document) -> list[tuple[int, int]]:
        from ..sentences import sentence_spans

        text = doc.text
        if not text.strip():
            return []
        enc = self.base.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        starts = [a for a, _ in enc["offset_mapping"]]
        return cut_windows(text, starts, [e for _, e in sentence_spans(doc)], self.cfg.max_length)

    def _shots_for(self, doc: Document) -> list[Shot]:
        return pick_shots(self.shots, self.cfg.shots, doc) if self.cfg.shots else []

    def _prompt(self, doc: Document, a: int, b: int) -> str:
        """The prompt of the window ``[a, b)`` of ``doc``, after its shots."""
        text, shots = doc.text[a:b], self._shots_for(doc)
        if self.cfg.chat:
            return chat_prompt(self.base.tokenizer, self.cfg.prompt, text, shots, self.cfg.system)
        return plain_prompt(self.cfg.prompt, text, shots)

    def _prompt_ids(self, prompt: str) -> list[int]:
        # a chat template writes its own special tokens
        return list(self.base.tokenizer(prompt, add_special_tokens=not self.cfg.chat, verbose=False)["input_ids"])

    def _answer(self, rels: Sequence[TextRelation]) -> str:
        return SEPARATOR.join(self.form.write(r) for r in rels)

    def _target_ids(self, prompt: str, rels: Sequence[TextRelation]) -> list[int]:
        target = with_answer(prompt, self._answer(rels))
        ids = self.base.tokenizer(target, add_special_tokens=False, verbose=False)["input_ids"] if target else []
        return [*ids, self.base.eos_id]

    def _window_relations(self, doc: Document) -> tuple[list[tuple[int, int]], list[list[TextRelation]], dict[str, int]]:
        """The windows of ``doc``, the relations of the types learnt that each
        names (both arguments in it; the first window when none does) and counts."""
        text = doc.text
        windows = self._windows(doc) or [(0, 0)]
        rels = relations_of(doc)
        kept = [r for r in rels if r.type in self.labels.relation_types]
        per_window: list[list[TextRelation]] = [[] for _ in windows]
        outside = 0
        for r in kept:
            hits = [k for k, (a, b) in enumerate(windows) if r.head.lower() in text[a:b].lower() and r.tail.lower() in text[a:b].lower()]
            outside += not hits
            for k in hits or [0]:
                per_window[k].append(r)
        stats = {"relations": len(kept), "relations_of_other_types": len(rels) - len(kept), "names_not_in_text": outside, "windows": len(windows)}
        return windows, per_window, stats

    def _shot(self, doc: Document) -> Shot:
        """``doc`` as a worked example: its first window and that window's target."""
        windows, per_window, _ = self._window_relations(doc)
        (a, b), rels = windows[0], per_window[0]
        return Shot(doc.id, doc.text[a:b], self._answer(rels), text_key(doc.text))

    # ---- training ------------------------------------------------------------------
    def prepare(self, doc: Document) -> GenerativeItem:
        windows, per_window, stats = self._window_relations(doc)
        prompts = [self._prompt(doc, a, b) for a, b in windows]
        seqs = [(self._prompt_ids(p), self._target_ids(p, rs)) for p, rs in zip(prompts, per_window)]
        return GenerativeItem(doc.id, seqs, stats)

    def parameter_groups(self, lr: float, head_lr: float, weight_decay: float) -> list[dict[str, Any]]:
        if not self.cfg.adapter:
            raise error("E568", reason="this generative model has no adapters (model.adapter = false: the base is prompted as it is)")
        return super().parameter_groups(lr, head_lr, weight_decay)

    def _device(self):
        return next(self.net.parameters()).device

    def _collate(self, seqs: Sequence[tuple[list[int], list[int]]]) -> dict[str, Any]:
        """Right-padded model inputs; labels are ``-100`` on the prompt (causal)
        and on padding."""
        import torch

        pad = self.base.pad_id
        if self.base.encoder_decoder:
            inputs = [p for p, _ in seqs]
            labels = [t for _, t in seqs]
        else:
            inputs = [p + t for p, t in seqs]
            labels = [[-100] * len(p) + t for p, t in seqs]
        n, m = max(map(len, inputs)), max(map(len, labels))
        batch = {
            "input_ids": torch.tensor([x + [pad] * (n - len(x)) for x in inputs]),
            "attention_mask": torch.tensor([[1] * len(x) + [0] * (n - len(x)) for x in inputs]),
            "labels": torch.tensor([y + [-100] * (m - len(y)) for y in labels]),
        }
        device = self._device()
        return {k: v.to(device) for k, v in batch.items()}

    def loss(self, items: Sequence[GenerativeItem], weights: Mapping[str, float] | None = None) -> tuple[Any, dict[str, float]]:
        import torch

        w = self.loss_weights(weights)
        batch = self._collate([s for it in items for s in it.sequences])
        device = self._device()
        ctx = torch.autocast(device.type, dtype=torch.bfloat16) if self._autocast else nullcontext()
        with ctx:
            lm = self.net(**batch).loss.float()
        return w["lm"] * lm, {"lm": float(lm.detach())}

    def set_train_autocast(self, on: bool) -> None:
        super().set_train_autocast(on)
        self._autocast = bool(on)

    @property
    def train_autocast(self) -> bool:
        return self._autocast

    # ---- decoding ------------------------------------------------------------------
    def token_table(self):
        """The tokenizer's tokens as bytes (built on first use; E562 when the
        tokenizer cannot be read that way)."""
        if self._tokens is None:
            from .generative_decode import token_table

            self._tokens = token_table(self.base.tokenizer, self.cfg.base)
        return self._tokens

    def constraint(self, doc: Document, a: int, b: int, prefix: int):
        """The copy constraint of the window ``[a, b)`` of ``doc``."""
        from .generative_decode import CopyAutomaton, CopyConstraint, build_grammar

        pieces = [(max(p.offset, a) - a, min(p.end, b) - a) for p in doc.passages if p.offset < b and p.end > a]
        if self._grammar is None:
            self._grammar = build_grammar(self.form, self.labels.signatures)
        dec = self.cfg.decoding
        automaton = CopyAutomaton(self._grammar, doc.text[a:b], pieces, ignore_case=dec.ignore_case, max_name_bytes=dec.max_name_bytes)
        return CopyConstraint(automaton, self.token_table(), self.base.eos_id, prefix)

    def _generation_config(self):
        from transformers import GenerationConfig

        dec = self.cfg.decoding
        beams = dec.num_beams if dec.strategy == "beam" else 1
        extra = {"decoder_start_token_id": self.base.model.config.decoder_start_token_id} if self.base.encoder_decoder else {}
        return GenerationConfig(
            max_new_tokens=self.cfg.max_new_tokens,
            do_sample=False,
            num_beams=beams,
            eos_token_id=self.base.eos_id,
            pad_token_id=self.base.pad_id,
            **extra,
        )

    def _generate(self, doc: Document, a: int, b: int) -> WindowOutput:
        import torch
        from transformers import LogitsProcessorList

        prompt = self._prompt_ids(self._prompt(doc, a, b))
        ids = torch.tensor([prompt], device=self._device())
        prefix = 1 if self.base.encoder_decoder else len(prompt)
        constraint = self.constraint(doc, a, b, prefix) if self.cfg.decoding.constrained else None
        out = self.net.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            generation_config=self._generation_config(),
            logits_processor=LogitsProcessorList([constraint] if constraint else []),
            use_model_defaults=False,
        )
        new = out[0, prefix:].tolist()
        ended = self.base.eos_id in new
        new = new[: new.index(self.base.eos_id)] if ended else new
        text = (
            self.token_table().text(new)
            if constraint
            else self.base.tokenizer.decode(new, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        )
        dead = constraint.log.dead_ends if constraint else 0
        return WindowOutput(text, ended, dead, len(new), len(prompt))

    def _to_document(self, doc: Document, outputs: Sequence[WindowOutput]) -> Document:
        rels: list[TextRelation] = []
        skipped: list[list[str]] = []
        for out in outputs:
            got, bad = parse(out.text, self.form)
            rels += got
            skipped += [[item, reason] for _, item, reason in bad]
        pred, ungrounded = ground(doc, [self._relabel(r) for r in rels])
        report = {
            "shots": [s.id for s in self._shots_for(doc)],
            "windows": len(outputs),
            "items": len(rels) + len(skipped),
            "unparsable_items": skipped,
            "ungrounded_relations": [[r.head, r.tail] for r in ungrounded],
            "duplicate_relations": len(rels) - len(ungrounded) - len(pred.relations),
            "mentions_across_passages": _inside_passages(pred),
            "truncated_windows": sum(not o.ended for o in outputs),
            "dead_ends": sum(o.dead_ends for o in outputs),
            "new_tokens": sum(o.new_tokens for o in outputs),
            "prompt_tokens": sum(o.prompt_tokens for o in outputs),
        }
        pred.metadata["output"] = SEPARATOR.join(o.text.strip() for o in outputs if o.text.strip())
        pred.metadata["generation"] = report
        self.stats.add(report)
        return pred

    def predict_modes(
        self, docs: Sequence[Document], modes: Sequence[str] | None = None, *, threshold: float = 0.5, use_gold_ids: bool = False
    ) -> dict[str, list[Document]]:
        """``extract``: relations generated from each document's text, grounded
        at the places their names occur. ``threshold`` has no effect (generated
        relations carry no score)."""
        import torch

        modes = [resolve_mode(m, self.capabilities.modes) for m in (modes or (self.default_mode,))]
        if use_gold_ids:
            raise error("E566", option="use_gold_ids", reason="a generative model names entities by their text and has no concept ids to take")
        self.net.eval()
        with torch.inference_mode():
            found = [self._to_document(doc, [self._generate(doc, a, b) for a, b in self._windows(doc)]) for doc in docs]
        return {m: found for m in modes}

    # ---- precision -------------------------------------------------------------------
    def _apply_precision(self, precision: str) -> None:
        """bf16: the frozen base weights are cast (the fp32 tensors are kept, so
        going back is exact); the adapters stay fp32. A 4-bit base is left as it is."""
        import torch

        if self.cfg.qlora:
            return
        if precision == "bf16" and not self._fp32:
            for name, p in self.net.named_parameters():
                if not p.requires_grad and p.is_floating_point():
                    self._fp32[name] = p.data
                    p.data = p.data.to(torch.bfloat16)
        elif precision == "fp32" and self._fp32:
            for name, p in self.net.named_parameters():
                if name in self._fp32:
                    p.data = self._fp32.pop(name)

    # ---- persistence ---------------------------------------------------------------
    def _adapter_state(self) -> dict[str, Any]:
        """The adapters' tensors (none for a prompted model)."""
        from peft import get_peft_model_state_dict

        if not self.cfg.adapter:
            return {}
        return get_peft_model_state_dict(self.net, save_embedding_layers=False)

    def state_for_saving(self) -> dict[str, Any]:
        return {k: v.detach().float().cpu().contiguous() for k, v in self._adapter_state().items()}

    def load_state(self, state: dict[str, Any]) -> None:
        from peft import set_peft_model_state_dict

        own = self._adapter_state()
        bad = sorted(set(own) ^ set(state)) + [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
        if bad:
            raise error("E414", reason=f"adapter tensors missing, unexpected or of another shape: {bad[:3]}")
        if not own:
            return  # a prompted model: no adapters
        device = self._device()
        set_peft_model_state_dict(self.net, {k: v.to(device) for k, v in state.items()})

    def write_files(self, folder: Path) -> None:
        info = {"name": self.cfg.base, "fingerprint": self.base.fingerprint, "encoder_decoder": self.base.encoder_decoder}
        (folder / BASE_FILE).write_text(json.dumps(info, indent=2), "utf-8")
        if self.cfg.adapter:
            self.net.peft_config["default"].save_pretrained(str(folder))
        if self.cfg.shots:
            (folder / SHOTS_FILE).write_text(json.dumps([s.to_dict() for s in self.shots], indent=2, ensure_ascii=False), "utf-8")


registry.models.register(GenerativeRE.architecture, GenerativeRE, aliases=("generative",))

__all__ = ["GenerativeRE", "GenerativeConfig", "GenerativeLabels", "GenerationStats", "LoraSettings", "DecodingSettings", "cut_windows"]
