"""What every biorel model provides, what it declares it can do, and loading a
saved one.

A model is built from its architecture's config (a subclass of
:class:`~biorel.config.ModelConfig` registered with the model as
``config_class``) plus the training documents (which fix its label maps). It
turns documents into training items, computes a loss on a batch of items,
predicts documents, and saves to / loads from a folder::

    model-dir/
      config.json        architecture, model config, biorel version, base references
      labels.json        label maps (tags, entity and relation types, ...)
      model.safetensors  the weights that are not taken from a base model
      ...                model-specific files (encoder/config.json, tokenizer/)
      metrics.json, provenance.json     written by the trainer

What a model can do is declared in :class:`Capabilities` (prediction modes,
precisions, loss parts, default dev scorers, what can be frozen); the trainer,
the extractor and the contract test (:class:`biorel.models.testing.ModelContract`)
read only the declaration and the methods below, never a model's internals.

Prediction modes are named by what the model is given:

* ``extract``: raw documents; the model finds the mentions, entities and
  relations (end to end);
* ``relate``: documents with their entities; the model adds relations.

``e2e`` and ``gold`` are accepted as the older names of the two modes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from collections.abc import Iterable, Mapping, Sequence

from .. import __version__
from ..config import ModelConfig
from ..errors import error
from ..jobs import atomic_dir
from ..registry import registry
from ..types import Document
from .weights import BASES_KEY, complete_state, reference_tensors

#: every prediction mode a model may declare
MODES: tuple[str, ...] = ("extract", "relate")
#: older names of the prediction modes
MODE_ALIASES: dict[str, str] = {"e2e": "extract", "gold": "relate"}
#: inference precisions; ``auto`` picks bf16 where the hardware computes it
#: natively (:func:`native_bf16`) and the model can run in it, else fp32;
#: ``int8`` (CPU, asked for only) quantises the encoder's linear layers (docs/model.md)
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "int8")
#: where inference runs (:meth:`BiorelModel.set_device`); ``auto``: a CUDA device when there is one
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Capabilities:
    """What a model architecture can do; read by the trainer, the extractor and
    the contract test."""

    #: prediction modes (:data:`MODES`); the first is the default
    modes: tuple[str, ...]
    #: inference precisions besides ``auto`` (``fp32`` always)
    precisions: tuple[str, ...] = ("fp32",)
    #: loss parts and their default weights (``training.loss_weights`` overrides)
    loss_parts: Mapping[str, float] = field(default_factory=lambda: {"loss": 1.0})
    #: dev scorers (``EVALUATOR:MODE``) when ``evaluation.scorers`` is empty
    default_scorers: tuple[str, ...] = ()
    #: bf16 autocast while training is possible (``training.bf16``)
    train_bf16: bool = False
    #: parts that ``training.freeze_*`` options may freeze
    freezable: tuple[str, ...] = ()
    #: token-attribution methods of :mod:`biorel.models.evidence` (``attention``,
    #: ``grad-input``, ``occlusion``: the latter needs ``relation_margins``); a
    #: model instance may offer fewer (:meth:`BiorelModel.attribution_methods`)
    attributions: tuple[str, ...] = ()


def native_bf16(device: str | None = None) -> bool:
    """Whether bf16 matrix products run natively on ``device`` (``None``: a
    CUDA device when there is one, else the CPU): a CUDA device with bf16, or a
    CPU with AVX512-BF16 or AMX-BF16 (elsewhere bf16 is emulated and slower
    than fp32)."""
    import torch

    if device == "cuda" or (device is None and torch.cuda.is_available()):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def resolve_mode(mode: str, declared: Sequence[str]) -> str:
    """The canonical name of ``mode`` (``e2e`` → ``extract``), checked against
    the modes a model declares (E412 lists them)."""
    name = MODE_ALIASES.get(mode, mode)
    if name not in declared:
        raise error("E412", option=f"mode={mode!r}", reason=f"valid modes of this model: {', '.join(declared)}")
    return name


class BiorelModel:
    """Interface of a trainable document model (see the module docstring)."""

    architecture: ClassVar[str] = ""
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    capabilities: ClassVar[Capabilities] = Capabilities(modes=("relate",))
    #: parameter-name prefixes of pretrained weights: trained at ``training.lr``,
    #: everything else (new task heads) at ``training.head_lr``
    pretrained_prefixes: ClassVar[tuple[str, ...]] = ()

    #: the torch module holding every trainable parameter
    net: Any
    labels: Any
    cfg: Any
    #: where inference runs (see :meth:`set_device`)
    device: str = "cpu"
    #: the inference precision in use (see :meth:`set_precision`)
    precision: str = "fp32"

    # ---- construction and training ----------------------------------------
    @classmethod
    def from_config(cls, cfg: Any, train_docs: Sequence[Document]) -> BiorelModel:
        raise NotImplementedError

    def prepare(self, doc: Document) -> Any:
        """A training item for one gold document. Items may carry ``stats``, a
        ``{name: count}`` dict the trainer sums and reports."""
        raise NotImplementedError

    def loss(self, items: Sequence[Any], weights: Mapping[str, float] | None = None) -> tuple[Any, dict[str, float]]:
        """``(loss tensor, {part: value})`` for a batch of items; ``weights``
        (default: the declared ones) weigh the parts in the total."""
        raise NotImplementedError

    def loss_weights(self, overrides: Mapping[str, float] | None = None) -> dict[str, float]:
        """The declared default weights with ``overrides`` applied (E402 names an
        unknown part and lists the valid ones)."""
        weights = dict(self.capabilities.loss_parts)
        for name, w in (overrides or {}).items():
            if name not in weights:
                raise error(
                    "E402",
                    key=f"training.loss_weights.{name}",
                    reason=f"{self.architecture} has no loss part {name!r}; valid parts: {', '.join(weights)}",
                )
            weights[name] = float(w)
        return weights

    def parameter_groups(self, lr: float, head_lr: float, weight_decay: float) -> list[dict[str, Any]]:
        """Optimizer groups: :attr:`pretrained_prefixes` at ``lr``, the rest at
        ``head_lr``; no weight decay on biases and norms; frozen parameters left
        out."""
        groups: dict[tuple[bool, bool], list] = {}
        for name, p in self.net.named_parameters():
            if not p.requires_grad:
                continue
            pretrained = name.startswith(self.pretrained_prefixes) if self.pretrained_prefixes else False
            no_decay = p.ndim < 2 or "norm" in name.lower()
            groups.setdefault((pretrained, no_decay), []).append(p)
        out = []
        for (pretrained, no_decay), params in sorted(groups.items()):
            rate = lr if pretrained else head_lr
            out.append({"params": params, "lr": rate, "base_lr": rate, "weight_decay": 0.0 if no_decay else weight_decay})
        return out

    def freeze(self, part: str) -> list[int]:
        """Freeze a declared part (``capabilities.freezable``); returns the
        frozen tensor's shape."""
        raise error(
            "E402",
            key=f"training.freeze_{part}",
            reason=f"{self.architecture} cannot freeze {part!r}; it can freeze: {', '.join(self.capabilities.freezable) or 'nothing'}",
        )

    def set_train_autocast(self, on: bool) -> None:
        """bf16 autocast in the training forward pass (declared by ``train_bf16``)."""
        if on and not self.capabilities.train_bf16:
            raise error("E402", key="training.bf16", reason=f"{self.architecture} does not train in bf16")

    @property
    def train_autocast(self) -> bool:
        return False

    def on_epoch_start(self, epoch: int, items: list[Any]) -> None:
        """Called by the trainer before each epoch (hard negatives are re-mined
        here); may update ``items`` in place."""

    def hook_state(self) -> dict[str, Any]:
        """JSON state of the training hooks (mined hard negatives), kept in the
        trainer's checkpoint so that a resumed epoch uses the same batches."""
        return {}

    def restore_hook_state(self, state: Mapping[str, Any]) -> None:
        """Take back what :meth:`hook_state` returned (on resume)."""

    def batches(self, items: Sequence[Any], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
        """The epoch's batches as item indices: a seeded shuffle cut into
        ``batch_size`` pieces. Override to compose batches (an anchor with its
        hard negatives); must be a function of ``(seed, epoch)`` and the hook
        state (:meth:`hook_state`) so that a resumed run sees the same batches."""
        order = list(range(len(items)))
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

    # ---- prediction ----------------------------------------------------------
    @property
    def default_mode(self) -> str:
        return self.capabilities.modes[0]

    def predict_modes(self, docs: Sequence[Document], modes: Sequence[str] | None = None, **options) -> dict[str, list[Document]]:
        """Predictions for several modes (canonical names) at once."""
        raise NotImplementedError

    def predict(self, docs: Sequence[Document], mode: str | None = None, **options) -> list[Document]:
        mode = resolve_mode(mode or self.default_mode, self.capabilities.modes)
        return self.predict_modes(docs, (mode,), **options)[mode]

    def pipe(
        self, docs: Iterable[Document], *, batch_tokens: int = 4096, pool_tokens: int | None = None, mode: str | None = None, **options
    ) -> Iterable[Document]:
        """Predict a stream, batched by token budget (length-sorted within a
        look-ahead pool of ``pool_tokens``, see :mod:`biorel.models.streaming`),
        in input order."""
        from .streaming import pipe

        return pipe(self, docs, batch_tokens=batch_tokens, pool_tokens=pool_tokens, mode=mode, **options)

    def cost(self, doc: Document) -> int:
        """A cheap size estimate used to batch by token budget."""
        return max(1, len(doc.text) // 4)

    def attribution_methods(self) -> tuple[str, ...]:
        """The token-attribution methods this model instance can run (the
        declared ones, less any its configuration switches off; no gradients
        through an int8 encoder)."""
        return tuple(m for m in self.capabilities.attributions if not (m == "grad-input" and self.precision == "int8"))

    def set_precision(self, precision: str) -> str:
        """Switch inference to ``precision`` (one of :data:`PRECISIONS`, limited to
        the declared ones); returns the precision chosen (``auto`` resolves to
        bf16 where the hardware has native bf16 and the model declares it)."""
        declared = ("auto", *self.capabilities.precisions)
        if precision not in PRECISIONS or precision not in declared:
            raise error("E412", option=f"precision={precision!r}", reason=f"valid precisions of {self.architecture}: {', '.join(declared)}")
        if precision == "auto":
            precision = "bf16" if "bf16" in declared and native_bf16(self.device) else "fp32"
        self._apply_precision(precision)
        self.precision = precision
        return precision

    def _apply_precision(self, precision: str) -> None:
        """Cast for ``precision`` (only declared precisions reach here)."""

    def set_device(self, device: str = "auto") -> str:
        """Run inference on ``device`` (one of :data:`DEVICES`; ``auto``: CUDA
        when available, else the CPU); returns the device chosen. Call before
        :meth:`set_precision`, whose ``auto`` depends on the device."""
        import torch

        if device not in DEVICES:
            raise error("E412", option=f"device={device!r}", reason=f"valid devices: {', '.join(DEVICES)}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() and self._movable() else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise error("E412", option="device='cuda'", reason="torch sees no CUDA device here")
        if device != "cpu" and not self._movable():
            raise error("E412", option=f"device={device!r}", reason=f"{self.architecture} runs on the CPU only")
        self._apply_device(device)
        self.device = device
        return device

    def _movable(self) -> bool:
        """Whether this model can run on another device than the CPU."""
        return False

    def _apply_device(self, device: str) -> None:
        """Move what runs the forward pass to ``device`` (only when :meth:`_movable`)."""

    # ---- persistence ---------------------------------------------------------
    def state_for_saving(self) -> dict[str, Any]:
        """The fp32 weights to write, whatever the inference precision."""
        return {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}

    @classmethod
    def base_models(cls, cfg: Any) -> dict[str, str]:
        """``{parameter prefix: base model name}`` of the pretrained parts that
        ``biorel package`` may reference instead of storing."""
        return {}

    def base_references(self) -> dict[str, str]:
        """``{parameter prefix: base model}`` whose frozen tensors the saved
        folder references by checksum instead of storing (adapter-only models);
        empty: every tensor is stored."""
        return {}

    def write_files(self, folder: Path) -> None:
        """Model-specific files next to the weights (tokenizer, encoder config)."""

    def save(self, path: str | Path, *, metrics: dict | None = None, provenance: dict | None = None) -> Path:
        """Write the model folder atomically: a half-written folder never
        replaces a good one."""
        from safetensors.torch import save_file

        meta: dict[str, Any] = {"architecture": self.architecture, "biorel_version": __version__, "model": json.loads(self.cfg.model_dump_json())}
        state = self.state_for_saving()
        refs = self.base_references()
        if refs:
            frozen = {n for n, p in self.net.named_parameters() if not p.requires_grad}
            state, meta[BASES_KEY] = reference_tensors(state, refs, frozen)
        with atomic_dir(path) as tmp:
            (tmp / "config.json").write_text(json.dumps(meta, indent=2), "utf-8")
            (tmp / "labels.json").write_text(json.dumps(self.labels.to_dict(), indent=2), "utf-8")
            save_file(state, str(tmp / "model.safetensors"), metadata={"architecture": self.architecture, "format": "pt"})
            self.write_files(tmp)
            if metrics is not None:
                (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True), "utf-8")
            if provenance is not None:
                (tmp / "provenance.json").write_text(json.dumps(provenance, indent=2, sort_keys=True), "utf-8")
        return Path(path)

    #: files every saved folder of this architecture must hold
    required_files: ClassVar[tuple[str, ...]] = ("labels.json", "model.safetensors")

    @classmethod
    def from_saved(cls, folder: Path, cfg: Any, labels: dict[str, Any]) -> BiorelModel:
        """A model with the architecture saved in ``folder`` (weights not loaded)."""
        raise NotImplementedError

    @classmethod
    def load(cls, path: str | Path) -> BiorelModel:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        p = Path(path)
        meta = read_model_meta(p)
        if meta["architecture"] != cls.architecture:
            raise error("E404", path=str(p), reason=f"architecture {meta['architecture']!r} is not {cls.architecture!r}")
        for name in cls.required_files:
            if not (p / name).exists():
                raise error("E404", path=str(p), reason=f"{name} is missing")
        from ..config import validate_model_config
        from ..errors import BiorelError

        try:
            cfg = validate_model_config(meta["model"])
        except BiorelError as e:
            raise error("E404", path=str(p), reason=f"config.json: {e.message}") from None
        labels = json.loads((p / "labels.json").read_text("utf-8"))
        model = cls.from_saved(p, cfg, labels)
        try:
            state = load_file(str(p / "model.safetensors"))
        except (SafetensorError, OSError) as e:
            raise error("E404", path=str(p), reason=f"model.safetensors: {e}") from None
        model.load_state(complete_state(p, meta, state))
        model.net.eval()
        return model

    def load_state(self, state: dict[str, Any]) -> None:
        own = self.net.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        bad = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
        if missing or unexpected or bad:
            raise error("E414", reason=f"missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {bad[:3]}")
        self.net.load_state_dict(state)


def read_model_meta(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_dir():
        raise error("E404", path=str(p), reason="no such folder")
    cfg = p / "config.json"
    if not cfg.is_file():
        raise error("E404", path=str(p), reason="config.json is missing")
    try:
        meta = json.loads(cfg.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise error("E404", path=str(p), reason=f"config.json: {e}") from None
    if not isinstance(meta, dict) or "architecture" not in meta:
        raise error("E404", path=str(p), reason="config.json names no architecture")
    return meta


def load_model(path: str | Path) -> BiorelModel:
    """Load any saved biorel model (a folder, or the name of a shipped model,
    :mod:`biorel.models.shipped`); the architecture comes from its config."""
    from .shipped import resolve_model

    path = resolve_model(path)
    meta = read_model_meta(path)
    cls = registry.models.get(meta["architecture"])
    return cls.load(path)
