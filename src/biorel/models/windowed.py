"""A transformer encoder over whole documents, in sliding windows.

:class:`WindowedEncoder` is the component every encoder-based model shares: it
tokenises a document once with document-level offsets
(:class:`~biorel.models.features.Featurizer`), runs the encoder over windows of
``max_length`` tokens overlapping by ``stride`` (shortest first, ``window_batch``
at a time) and stitches one vector per token from each token's owner window. It
also owns the inference precision switch (bf16 weights with an exact way back
to fp32), bf16 autocast for training, the token cost of a document for
batching, and the encoder's config and tokenizer files in a saved folder.

The ``torch`` module itself is registered in the model's network (as
``encoder``), so its weights are saved with the rest of the model.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from collections.abc import Iterator, Sequence

import torch

from ..config import EncoderConfig
from ..errors import error
from ..types import Document
from .encoder import encoder_from_saved, load_encoder, load_tokenizer
from .features import Featurizer, Features

#: HF model types whose position table reserves two entries (a padding offset)
PADDING_OFFSET_TYPES = ("roberta", "mpnet", "xlm-roberta", "camembert")


def position_limit(module: Any) -> int | None:
    """How many tokens one window of this encoder can hold."""
    max_pos = getattr(module.config, "max_position_embeddings", None)
    if max_pos is None:
        return None
    return max_pos - 2 if getattr(module.config, "model_type", "") in PADDING_OFFSET_TYPES else max_pos


def quantized_copy(module: Any) -> Any:
    """A copy of ``module`` with every ``nn.Linear`` dynamically quantised to
    int8 (weights per output channel), with ``torch.ao.quantization`` (deprecated
    upstream in favour of torchao, still in the torch 2.13 that biorel pins; the
    warnings are not the user's to act on)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*quantize_per_(tensor|channel).*deprecated", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        return quantize_dynamic(module, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=False)


class WindowedEncoder:
    def __init__(self, module: Any, tokenizer: Any, *, max_length: int, stride: int, window_batch: int, key: str = "model.max_length"):
        limit = position_limit(module)
        if limit is not None and max_length > limit:
            raise error("E402", key=key, reason=f"{max_length} exceeds the encoder's {limit} positions")
        self.module = module
        self.tokenizer = tokenizer
        self.featurizer = Featurizer(tokenizer, max_length, stride)
        self.window_batch = window_batch
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        #: bf16 autocast in the forward pass (training, where measured faster)
        self.autocast = False
        self.precision = "fp32"
        #: where the forward pass runs; its output comes back to the CPU
        self.device = torch.device("cpu")
        self._fp32: dict[str, torch.Tensor] | None = None
        self._int8: Any = None
        #: features computed by :meth:`cost`, reused once by the prediction that follows
        self._cache: dict[tuple[str, int, int], Features] = {}
        #: when a list, every forward pass of :meth:`encode_windows` appends
        #: ``(window indices, word-embedding output [B, W, H])``, the output a
        #: leaf that collects gradients (token attributions, :mod:`biorel.models.evidence`)
        self.capture: list[tuple[list[int], torch.Tensor]] | None = None

    # ---- construction ------------------------------------------------------------
    @staticmethod
    def load_parts(cfg: EncoderConfig) -> tuple[Any, Any]:
        """``(torch module, tokenizer)`` for an encoder config."""
        return load_encoder(cfg)

    @staticmethod
    def saved_parts(folder: Path) -> tuple[Any, Any]:
        """``(module with the saved architecture, tokenizer)`` from a model folder."""
        return encoder_from_saved(folder / "encoder"), load_tokenizer(str(folder / "tokenizer"), local_files_only=True)

    def write_files(self, folder: Path) -> None:
        (folder / "encoder").mkdir(exist_ok=True)
        self.module.config.to_json_file(str(folder / "encoder" / "config.json"))
        self.tokenizer.save_pretrained(str(folder / "tokenizer"))

    @property
    def hidden_size(self) -> int:
        return int(self.module.config.hidden_size)

    # ---- features and cost -----------------------------------------------------------
    def features(self, doc: Document, text: str | None = None) -> Features:
        if text is None:
            f = self._cache.pop(self._cache_key(doc), None)
            if f is not None:
                return f
        return self.featurizer(doc, text)

    def window_spans(self, f: Features) -> list[list[tuple[int, int] | None]]:
        """Per window of ``f`` (as :meth:`encode` runs them), the document
        characters of each input position; ``None`` for special tokens."""
        out = []
        for s, e in f.windows:
            inner: list[tuple[int, int] | None] = list(f.offsets[s:e])
            wrapped = self.featurizer.prefix + len(inner)
            out.append([None] * self.featurizer.prefix + inner + [None] * (e - s + self.featurizer.n_special - wrapped))
        return out

    def cost(self, doc: Document) -> int:
        """Encoder tokens this document costs (its windows, special tokens
        included). The features are kept for the prediction that follows."""
        f = self.featurizer(doc)
        if len(self._cache) >= 4096:
            self._cache.clear()
        self._cache[self._cache_key(doc)] = f
        return max(1, sum(e - s + self.featurizer.n_special for s, e in f.windows))

    @staticmethod
    def _cache_key(doc: Document) -> tuple[str, int, int]:
        return (doc.id, len(doc.passages), hash(doc.text))

    # ---- encoding ----------------------------------------------------------------
    def encode(self, feats: Sequence[Features]) -> list[torch.Tensor]:
        """Stitched token vectors ``[n_tokens, H]`` per document."""
        windows: list[list[int]] = []
        first: list[int] = []
        for f in feats:
            first.append(len(windows))
            windows.extend(self.featurizer.wrap(f.input_ids[s:e]) for s, e in f.windows)
        if not windows:
            return [torch.zeros((0, self.hidden_size)) for _ in feats]
        flat, bases = self.encode_windows(windows)
        reps = []
        for f, w0 in zip(feats, first):
            if not f.n_tokens:
                reps.append(flat.new_zeros((0, self.hidden_size)))
                continue
            idx = torch.tensor([bases[w0 + w] + pos for w, pos in f.owner], dtype=torch.long)
            reps.append(flat.index_select(0, idx))
        return reps

    def encode_windows(self, windows: Sequence[Sequence[int]]) -> tuple[torch.Tensor, list[int]]:
        """Run the encoder over input-id sequences (special tokens included),
        shortest first, ``window_batch`` at a time. Returns the fp32 token
        vectors of all windows concatenated and each window's first row."""
        order = sorted(range(len(windows)), key=lambda k: len(windows[k]))
        bases = [0] * len(windows)
        pieces: list[torch.Tensor] = []
        base = 0
        ctx = torch.autocast(self.device.type, dtype=torch.bfloat16) if self.autocast else nullcontext()
        for c in range(0, len(order), self.window_batch):
            chunk = order[c : c + self.window_batch]
            width = max(len(windows[k]) for k in chunk)
            ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, k in enumerate(chunk):
                ids[r, : len(windows[k])] = torch.tensor(windows[k], dtype=torch.long)
                mask[r, : len(windows[k])] = 1
            with ctx, self._capturing(chunk):
                out = self.runner(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).last_hidden_state
            out = out.float().cpu()
            for r, k in enumerate(chunk):
                pieces.append(out[r, : len(windows[k])])
                bases[k] = base
                base += len(windows[k])
        flat = torch.cat(pieces) if len(pieces) > 1 else pieces[0]
        return flat, bases

    @contextmanager
    def _capturing(self, chunk: list[int]) -> Iterator[None]:
        """While :attr:`capture` is a list, record the word embeddings of this
        forward pass as a gradient-collecting leaf (the values are unchanged)."""
        if self.capture is None:
            yield
            return
        captured = self.capture

        def hook(_module: Any, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
            leaf = output.detach().requires_grad_(True)
            captured.append((list(chunk), leaf))
            return leaf

        handle = self.runner.get_input_embeddings().register_forward_hook(hook)
        try:
            yield
        finally:
            handle.remove()

    # ---- precision -------------------------------------------------------------------
    def set_precision(self, precision: str) -> None:
        """``bf16`` casts the encoder's weights to bfloat16 (keeping the fp32
        ones, so that ``fp32`` restores them exactly); ``fp32`` casts back.
        ``int8`` (CPU only) runs a copy of the encoder whose linear layers are
        dynamically quantised (int8 weights per output channel, activations
        quantised per batch); the fp32 module stays as it is, for saving and
        for ``fp32`` again."""
        if precision == "int8" and self.device.type != "cpu":
            raise error("E412", option="precision='int8'", reason=f"int8 runs on the CPU only, not on {self.device.type}")
        if self.precision == "bf16" and precision != "bf16":
            self.module.to(torch.float32)
            self.module.load_state_dict(self._fp32)
            self._fp32 = None
        if precision == "bf16" and self.precision != "bf16":
            self._fp32 = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
            self.module.to(torch.bfloat16)
        self._int8 = quantized_copy(self.module) if precision == "int8" else None
        self.precision = precision

    @property
    def runner(self) -> Any:
        """The module the forward pass runs: the int8 copy in ``int8``, else :attr:`module`."""
        return self._int8 if self._int8 is not None else self.module

    def to_device(self, device: str) -> None:
        """Run the forward pass on ``device`` (``cpu``, ``cuda``)."""
        if device != "cpu" and self.precision == "int8":
            raise error("E412", option=f"device={device!r}", reason="the encoder runs in int8, which is CPU only; set the precision first")
        self.device = torch.device(device)
        self.module.to(self.device)

    def fp32_state(self) -> dict[str, torch.Tensor] | None:
        """The fp32 weights while running in bf16 (``None`` in fp32)."""
        return self._fp32

    def freeze_input_embeddings(self) -> list[int]:
        weight = self.module.get_input_embeddings().weight
        weight.requires_grad_(False)
        return list(weight.shape)


class EncoderBacked:
    """Mixin for models built on a :class:`WindowedEncoder` held as
    ``self.encoder`` whose torch module is ``net.encoder``: token cost, the
    precision switch, training autocast, freezing the input embeddings, the
    encoder's files in a saved folder and fp32 weights on disk."""

    encoder: WindowedEncoder
    pretrained_prefixes = ("encoder.",)
    required_files = ("labels.json", "model.safetensors", "encoder/config.json", "tokenizer")

    def cost(self, doc: Document) -> int:
        return self.encoder.cost(doc)

    def _apply_precision(self, precision: str) -> None:
        self.encoder.set_precision(precision)

    def _movable(self) -> bool:
        return True

    def _apply_device(self, device: str) -> None:
        self.encoder.to_device(device)

    def set_train_autocast(self, on: bool) -> None:
        self.encoder.autocast = bool(on)

    @property
    def train_autocast(self) -> bool:
        return self.encoder.autocast

    def freeze(self, part: str) -> list[int]:
        if part != "embeddings":
            return super().freeze(part)  # type: ignore[misc]
        return self.encoder.freeze_input_embeddings()

    @classmethod
    def base_models(cls, cfg: Any) -> dict[str, str]:
        return {"encoder.": cfg.encoder.name}

    def write_files(self, folder: Path) -> None:
        self.encoder.write_files(folder)

    def state_for_saving(self) -> dict[str, torch.Tensor]:
        state = super().state_for_saving()  # type: ignore[misc]
        fp32 = self.encoder.fp32_state()
        if fp32 is not None:  # running in bf16: save the fp32 weights
            state.update({f"encoder.{k}": v.detach().cpu().contiguous() for k, v in fp32.items()})
        return state


__all__ = ["WindowedEncoder", "EncoderBacked", "position_limit"]
