"""The ``biorel pretrain`` config: a TOML/YAML/JSON file with dotted
command-line overrides, read and reported like ``biorel train``'s
(:mod:`biorel.config`: E400 unreadable, E401 syntax, E402 bad value or unknown
key naming the dotted key, E403 malformed override)::

    cfg = load_pretrain_config("configs/dapt-minilm.toml", ["--training.max_steps", "50"])

``docs/pretrain.md`` lists every key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal
from collections.abc import Sequence

from pydantic import Field, ValidationError, model_validator

from ..config import EncoderConfig, _coded, _Section, apply_overrides, parse_overrides, read_config_file


class CorpusSection(_Section):
    #: the corpus: a file or folder in any readable format (a folder: its files),
    #: or a list of them; ``biorel pretrain-corpus`` writes one
    corpus: str | list[str] = ""
    #: format name when it cannot be told from the file names
    format: str | None = None
    #: reader options (``{split = "lines"}`` for one text per line)
    reader_options: dict[str, Any] = Field(default_factory=dict)
    #: the first N documents are held out: the MLM loss is measured on them
    eval_docs: int = Field(200, ge=1)
    #: at most this many blocks of the held-out documents are scored
    eval_blocks: int = Field(64, ge=1)


class MLMSection(_Section):
    #: share of the tokens of a block that are predicted (whole words chosen
    #: until the share is reached)
    mask_rate: float = Field(0.15, gt=0.0, lt=1.0)
    #: of the chosen words: share replaced by the mask token, by random tokens;
    #: the rest stay as they are (BERT's 80/10/10)
    mask_token_share: float = Field(0.8, ge=0.0, le=1.0)
    random_token_share: float = Field(0.1, ge=0.0, le=1.0)
    #: tokens per block, special tokens included
    max_length: int = Field(128, ge=8)

    @model_validator(mode="after")
    def _shares(self) -> MLMSection:
        if self.mask_token_share + self.random_token_share > 1.0:
            raise ValueError("mask_token_share + random_token_share must be <= 1")
        return self


class VocabSection(_Section):
    #: new word pieces to add (0: the vocabulary is kept as it is)
    add_tokens: int = Field(0, ge=0)
    #: a word must occur this often in the counted documents
    min_count: int = Field(20, ge=1)
    #: and have at least this many characters
    min_chars: int = Field(4, ge=2)
    #: documents counted (from the training part of the corpus)
    sample_docs: int = Field(20000, ge=1)


class PretrainTraining(_Section):
    seed: int = 13
    max_steps: int = Field(1000, ge=1)
    #: blocks per forward pass; ``grad_accum`` passes per optimizer step
    batch_size: int = Field(16, ge=1)
    grad_accum: int = Field(1, ge=1)
    lr: float = Field(5e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.06, ge=0, le=1)
    max_grad_norm: float = Field(1.0, ge=0)
    #: ``auto``: bf16 autocast where the hardware has native bf16 and a measured
    #: step is at least 10% faster; ``fp32``; ``bf16``
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    #: held-out MLM loss every N steps (0: at the start and the end only)
    eval_every: int = Field(100, ge=0)
    #: a resumable checkpoint every N steps (and at the end)
    checkpoint_every: int = Field(200, ge=1)
    #: a training-loss record every N steps
    log_every: int = Field(10, ge=1)
    #: torch CPU threads (0: torch's default)
    threads: int = Field(0, ge=0)
    progress: bool = True
    output_dir: str = "runs/dapt"


class PretrainConfig(_Section):
    data: CorpusSection = Field(default_factory=CorpusSection)
    #: the encoder to train: ``name`` is an HF id, a folder, or ``minilm``/``mpnet``
    model: EncoderConfig = Field(default_factory=EncoderConfig)
    mlm: MLMSection = Field(default_factory=MLMSection)
    vocab: VocabSection = Field(default_factory=VocabSection)
    training: PretrainTraining = Field(default_factory=PretrainTraining)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.model_dump_json())


#: training keys that may change when a run is resumed (they do not change the weights)
RESUMABLE_CHANGES = ("training.output_dir", "training.progress", "training.threads", "training.log_every")


def validate_pretrain_config(data: dict[str, Any]) -> PretrainConfig:
    try:
        return PretrainConfig.model_validate(data)
    except ValidationError as e:
        raise _coded(e) from None


def load_pretrain_config(path: str | Path | None = None, overrides: Sequence[str] | dict[str, Any] = ()) -> PretrainConfig:
    data = read_config_file(path) if path is not None else {}
    ov = overrides if isinstance(overrides, dict) else parse_overrides(overrides)
    return validate_pretrain_config(apply_overrides(data, ov))


def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and k != "reader_options" and k != "random_init":
            out.update(flat(v, key + "."))
        else:
            out[key] = v
    return out


def changed_keys(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ, except :data:`RESUMABLE_CHANGES`."""
    a, b = flat(saved), flat(current)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k not in RESUMABLE_CHANGES)


__all__ = [
    "CorpusSection",
    "MLMSection",
    "PretrainConfig",
    "PretrainTraining",
    "VocabSection",
    "changed_keys",
    "load_pretrain_config",
    "validate_pretrain_config",
]
