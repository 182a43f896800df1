"""The MLM training loop of ``biorel pretrain``.

AdamW (no decay on biases and norms) with linear warmup and decay
(:func:`biorel.training.loop.lr_factor`), gradient accumulation, clipping,
whole-word masking over packed blocks (:mod:`.mlm`), bf16 autocast where
``training.precision`` allows it (``auto``: native bf16 and a measured step at
least 10% faster, :func:`biorel.training.loop.measure_bf16`). The MLM loss of
the held-out documents (the corpus's first ``data.eval_docs``, fixed masks,
fp32) is measured at the start, every ``eval_every`` steps and at the end.
Output folder (one writer at a time: :func:`biorel.jobs.exclusive_lock`)::

    OUT/metrics.jsonl   one record per eval and per log_every steps (a loss curve)
    OUT/last/           resumable state (biorel.training.checkpoint: the MLM model and
                        tokenizer, optimizer and RNG state in safetensors, the data
                        position and counters in JSON), every checkpoint_every steps
    OUT/encoder/        the final encoder: an HF folder (safetensors + tokenizer +
                        pretrain.json) that --model.encoder.name OUT/encoder loads
    OUT/vocab.json      what the vocabulary extension added and saved (when asked)
    OUT/summary.json    the run's figures

Running the command again continues from ``OUT/last`` (the same config is
required, E582); a resumed run ends with the same weights as an uninterrupted
one. ``BIOREL_PRETRAIN_KILL_AFTER=N`` kills the process (SIGKILL) after step N
(fault injection for tests).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

import torch

from ..errors import Diagnostics, error
from ..jobs import Journal, atomic_dir, atomic_file, exclusive_lock
from ..training.checkpoint import load_training_state, optimizer_from_flat, restore_rng, save_training_state
from ..training.loop import _peak_rss_mib, lr_factor, measure_bf16
from .config import PretrainConfig, changed_keys
from .mlm import IGNORE, Block, Masking, Position, collate, iter_blocks, mask_block, masking_for

FAULT_ENV = "BIOREL_PRETRAIN_KILL_AFTER"


@dataclass
class PretrainResult:
    output_dir: str
    encoder_dir: str
    steps: int
    resumed_from: int | None
    eval_loss_before: float
    eval_loss_after: float
    tokens: int
    seconds: float
    tokens_per_s: float
    s_per_step: float
    peak_rss_mib: float
    precision: str
    vocab: dict[str, Any] | None = None
    unread_files: list[dict[str, str]] = field(default_factory=list)


class _HFFolder:
    """What :func:`save_training_state` saves as ``model``: the MLM model and its tokenizer."""

    def __init__(self, model: Any, tokenizer: Any):
        self.model, self.tokenizer = model, tokenizer

    def save(self, folder: Path) -> None:
        self.model.save_pretrained(str(folder), safe_serialization=True)
        self.tokenizer.save_pretrained(str(folder))


@dataclass
class _Session:
    cfg: PretrainConfig
    out: Path
    model: Any
    tokenizer: Any
    opt: Any
    masking: Masking
    texts: Callable[[], Iterator[str]]
    eval_examples: list[tuple[list[int], list[int]]]
    state: dict[str, Any]
    metrics: Journal
    resumed_from: int | None = None
    vocab: dict[str, Any] | None = None
    unread: list[dict[str, str]] = field(default_factory=list)


# ---- data ----------------------------------------------------------------------


def corpus_reader(cfg: PretrainConfig) -> tuple[Callable[[], Iterator[str]], list[dict[str, str]]]:
    """``open()`` streaming the corpus's texts in order (strict reading: a bad
    record is an error naming file and line), and the files of its folders that
    cannot be read."""
    from .corpus import path_sources

    refs = [cfg.data.corpus] if isinstance(cfg.data.corpus, str) else list(cfg.data.corpus)
    if not any(refs):
        raise error("E402", key="data.corpus", reason="not set: give a file or folder (biorel pretrain-corpus writes one)")
    sources, unread = path_sources(refs, cfg.data.format, cfg.data.reader_options, lenient=False)

    def open_texts() -> Iterator[str]:
        return chain.from_iterable((d.text for d in src.read(Diagnostics())) for src in sources)

    return open_texts, unread


def _eval_examples(cfg: PretrainConfig, tokenizer: Any, texts: Callable[[], Iterator[str]], masking: Masking) -> list[tuple[list[int], list[int]]]:
    blocks = islice(iter_blocks(tokenizer, texts, cfg.mlm.max_length, last_doc=cfg.data.eval_docs, epochs=1), cfg.data.eval_blocks)
    examples = [mask_block(b.input_ids, b.word_ids, masking, _rng(b.start, "eval", cfg.training.seed)) for b in blocks]
    if not examples:
        raise error("E581", path=str(cfg.data.corpus), reason="the held-out documents hold no text")
    return examples


def _rng(pos: Position, kind: str, seed: int):
    import random

    return random.Random(pos.seed(f"{kind}:{seed}"))


def train_stream(session: _Session) -> Iterator[tuple[Block, tuple[list[int], list[int]]]]:
    """Masked training blocks from the saved position onwards (forever, epoch after epoch)."""
    cfg = session.cfg
    start = Position(**session.state["position"])
    for b in iter_blocks(session.tokenizer, session.texts, cfg.mlm.max_length, start=start, first_doc=cfg.data.eval_docs):
        yield b, mask_block(b.input_ids, b.word_ids, session.masking, _rng(b.start, "train", cfg.training.seed))


# ---- the model -------------------------------------------------------------------


def mlm_loss(model: Any, batch: dict[str, Any], reduction: str = "mean") -> Any:
    """Cross-entropy of the masked tokens. Where the model has one head module
    over its base model (BERT's ``cls``, RoBERTa's ``lm_head``) the head runs on
    the masked positions only; otherwise the full forward pass is used."""
    labels = batch["labels"]
    heads = [m for name, m in model.named_children() if name != model.base_model_prefix and any(True for _ in m.parameters())]
    if len(heads) == 1:
        hidden = model.base_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        chosen = labels != IGNORE
        logits = heads[0](hidden[chosen])
        return torch.nn.functional.cross_entropy(logits.float(), labels[chosen], reduction=reduction)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), ignore_index=IGNORE, reduction=reduction)


def _autocast(on: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=on)


@torch.no_grad()
def eval_loss(model: Any, examples: list[tuple[list[int], list[int]]], batch_size: int, pad_id: int) -> float:
    """Mean MLM loss per masked token of ``examples`` (fp32, dropout off)."""
    model.eval()
    total, n = 0.0, 0
    for i in range(0, len(examples), batch_size):
        batch = collate(examples[i : i + batch_size], pad_id)
        total += float(mlm_loss(model, batch, reduction="sum"))
        n += int((batch["labels"] != IGNORE).sum())
    return total / max(1, n)


def _optimizer(model: Any, cfg: PretrainConfig) -> Any:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    tc = cfg.training
    groups = [{"params": decay, "weight_decay": tc.weight_decay, "base_lr": tc.lr}, {"params": rest, "weight_decay": 0.0, "base_lr": tc.lr}]
    return torch.optim.AdamW(groups, lr=tc.lr)


def _load_fresh(cfg: PretrainConfig) -> tuple[Any, Any]:
    from transformers import AutoModelForMaskedLM

    from ..models.encoder import load_encoder

    return load_encoder(cfg.model, auto_class=AutoModelForMaskedLM)


def _load_checkpoint(cfg: PretrainConfig, folder: Path) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    from transformers import AutoModelForMaskedLM

    from ..models.encoder import load_tokenizer

    saved, tensors = load_training_state(folder)
    changed = changed_keys(saved.get("config", {}), cfg.to_dict())
    if changed:
        raise error("E582", path=str(folder.parent), reason=f"the config differs from the checkpoint's at {', '.join(changed)}")
    try:
        model = AutoModelForMaskedLM.from_pretrained(str(folder / "model"), local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError) as e:
        raise error("E582", path=str(folder.parent), reason=f"the checkpoint's model: {str(e).splitlines()[0]}") from None
    return model, load_tokenizer(str(folder / "model")), saved, tensors


# ---- setting up ------------------------------------------------------------------


def _choose_autocast(session: _Session, log: Callable[[str], None]) -> bool:
    from ..models.base import native_bf16

    mode = session.cfg.training.precision
    if mode != "auto":
        return mode == "bf16"
    if not native_bf16():
        log("precision: fp32 (no native bf16 on this machine)")
        return False
    examples = [ex for _, ex in islice(train_stream(session), session.cfg.training.batch_size)]
    batch = collate(examples, session.tokenizer.pad_token_id)
    session.model.train()

    def step(flag: bool) -> None:
        with _autocast(flag):
            loss = mlm_loss(session.model, batch)
        loss.backward()

    choice, bf16, fp32 = measure_bf16(step)
    session.model.zero_grad(set_to_none=True)
    log(f"precision: bf16 autocast measured {bf16 * 1000:.0f} ms vs fp32 {fp32 * 1000:.0f} ms per batch -> {'bf16' if choice else 'fp32'}")
    return choice


def _extend_vocab(session: _Session, log: Callable[[str], None]) -> None:
    from .vocab import extend_vocabulary

    vc, dc = session.cfg.vocab, session.cfg.data
    texts = list(islice(session.texts(), dc.eval_docs + vc.sample_docs))
    held_out, counted = texts[: dc.eval_docs], texts[dc.eval_docs :]
    report = extend_vocabulary(session.model, session.tokenizer, counted, held_out, vc, session.cfg.model.name)
    session.vocab = report.to_dict()
    with atomic_file(session.out / "vocab.json") as fh:
        fh.write(json.dumps(session.vocab, indent=1, ensure_ascii=False))
    log(
        f"vocabulary: {len(report.added)} word pieces added from {report.counted_docs} documents; "
        f"{report.tokens_per_doc_before:.1f} -> {report.tokens_per_doc_after:.1f} tokens per held-out document ({100 * report.saved_share:.1f}% fewer)"
    )


def _trim_metrics(path: Path, step: int) -> Journal:
    """The metrics journal without the records of steps after ``step`` (written
    after the checkpoint a resumed run starts from)."""
    journal = Journal(path)
    keep = [r for r in journal.read() if r.get("step", 0) <= step]
    with atomic_file(path, "wb") as fh:
        fh.writelines(Journal.encode(r) for r in keep)
    return Journal(path)


def _new_state(cfg: PretrainConfig) -> dict[str, Any]:
    return {
        "step": 0,
        "position": asdict(Position()),
        "tokens": 0,
        "window": [0.0, 0],
        "autocast": False,
        "eval_before": None,
        "config": cfg.to_dict(),
    }


def _setup(cfg: PretrainConfig, out: Path, restart: bool, log: Callable[[str], None]) -> _Session:
    texts, unread = corpus_reader(cfg)
    for f in unread:
        log(f"not read: {f['path']} ({f['reason']})")
    last = out / "last"
    if restart:
        shutil.rmtree(last, ignore_errors=True)
    resume = (last / "trainer_state.json").is_file()
    if resume:
        model, tokenizer, saved, tensors = _load_checkpoint(cfg, last)
        state = {**_new_state(cfg), **{k: v for k, v in saved.items() if k not in ("optimizer", "python_rng")}}
    else:
        torch.manual_seed(cfg.training.seed)
        model, tokenizer = _load_fresh(cfg)
        state = _new_state(cfg)
    masking = masking_for(tokenizer, cfg.mlm.mask_rate, cfg.mlm.mask_token_share, cfg.mlm.random_token_share)
    session = _Session(cfg, out, model, tokenizer, None, masking, texts, [], state, Journal(out / "metrics.jsonl"), unread=unread)
    if resume:
        session.resumed_from = state["step"]
        session.metrics = _trim_metrics(out / "metrics.jsonl", state["step"])
        session.vocab = json.loads((out / "vocab.json").read_text("utf-8")) if (out / "vocab.json").is_file() else None
    else:
        (out / "metrics.jsonl").unlink(missing_ok=True)
        if cfg.vocab.add_tokens:
            _extend_vocab(session, log)
            session.masking = masking_for(tokenizer, cfg.mlm.mask_rate, cfg.mlm.mask_token_share, cfg.mlm.random_token_share)
    session.eval_examples = _eval_examples(cfg, tokenizer, texts, session.masking)
    session.opt = _optimizer(model, cfg)
    if resume:
        optimizer_from_flat(session.opt, tensors, saved["optimizer"])
        restore_rng(saved, tensors)
    else:
        _check_training_text(session)
        state["autocast"] = _choose_autocast(session, log)
    return session


def _check_training_text(session: _Session) -> None:
    if next(train_stream(session), None) is None:
        raise error(
            "E581", path=str(session.cfg.data.corpus), reason=f"no text after the {session.cfg.data.eval_docs} held-out documents (data.eval_docs)"
        )


# ---- the loop --------------------------------------------------------------------


def _step(session: _Session, micro: list[list[tuple[list[int], list[int]]]]) -> float:
    """Forward and backward over the micro-batches of one optimizer step; returns the mean loss."""
    tc, state = session.cfg.training, session.state
    session.model.train()
    losses = []
    for examples in micro:
        batch = collate(examples, session.tokenizer.pad_token_id)
        with _autocast(state["autocast"]):
            loss = mlm_loss(session.model, batch)
        if not torch.isfinite(loss):
            raise error("E586", step=state["step"] + 1, loss=float(loss))
        (loss / len(micro)).backward()
        losses.append(float(loss.detach()))
        state["tokens"] += int(batch["attention_mask"].sum())
    if tc.max_grad_norm:
        torch.nn.utils.clip_grad_norm_(session.model.parameters(), tc.max_grad_norm)
    factor = lr_factor(state["step"], tc.max_steps, int(tc.warmup_ratio * tc.max_steps))
    for g in session.opt.param_groups:
        g["lr"] = g["base_lr"] * factor
    session.opt.step()
    session.opt.zero_grad(set_to_none=True)
    state["step"] += 1
    return sum(losses) / len(losses)


def _next_micro_batches(session: _Session, stream: Iterator) -> list[list[tuple[list[int], list[int]]]]:
    tc = session.cfg.training
    micro = []
    for _ in range(tc.grad_accum):
        pairs = list(islice(stream, tc.batch_size))
        micro.append([ex for _, ex in pairs])
        session.state["position"] = asdict(pairs[-1][0].end)
    return micro


def _evaluate(session: _Session) -> float:
    loss = eval_loss(session.model, session.eval_examples, session.cfg.training.batch_size, session.tokenizer.pad_token_id)
    session.metrics.append({"step": session.state["step"], "kind": "eval", "loss": round(loss, 6), "tokens": session.state["tokens"]})
    return loss


def _log_train(session: _Session, loss: float, seconds: float) -> None:
    state, tc = session.state, session.cfg.training
    state["window"] = [state["window"][0] + loss, state["window"][1] + 1]
    if state["step"] % tc.log_every == 0:
        total, n = state["window"]
        lr = session.opt.param_groups[0]["lr"]
        session.metrics.append(
            {"step": state["step"], "kind": "train", "loss": round(total / n, 6), "lr": lr, "tokens": state["tokens"], "seconds": round(seconds, 2)}
        )
        state["window"] = [0.0, 0]


def _checkpoint(session: _Session) -> None:
    save_training_state(session.out / "last", _HFFolder(session.model, session.tokenizer), session.opt, session.state)


def _progress(session: _Session, console: Any):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]pretrain"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]} eval {task.fields[eval]} {task.fields[speed]} tok/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not session.cfg.training.progress,
    )


def _after_step(session: _Session, loss: float, seconds: float, fault: int) -> float | None:
    """Metrics, eval, checkpoint and fault injection after a step; the eval loss if measured."""
    tc, step = session.cfg.training, session.state["step"]
    _log_train(session, loss, seconds)
    measured = _evaluate(session) if tc.eval_every and step % tc.eval_every == 0 and step < tc.max_steps else None
    if step % tc.checkpoint_every == 0 and step < tc.max_steps:
        _checkpoint(session)
    if fault and step == fault:
        os.kill(os.getpid(), signal.SIGKILL)
    return measured


def _loop(session: _Session, console: Any) -> tuple[int, float]:
    """Steps up to ``max_steps``; returns the tokens and seconds of this process's steps."""
    tc, state = session.cfg.training, session.state
    fault = int(os.environ.get(FAULT_ENV, "0") or 0)
    stream = train_stream(session)
    tokens0, t0 = state["tokens"], time.perf_counter()
    with _progress(session, console) as bar:
        task = bar.add_task("pretrain", total=tc.max_steps, completed=state["step"], loss="-", eval="-", speed="-")
        while state["step"] < tc.max_steps:
            loss = _step(session, _next_micro_batches(session, stream))
            elapsed = time.perf_counter() - t0
            measured = _after_step(session, loss, elapsed, fault)
            speed = (state["tokens"] - tokens0) / max(elapsed, 1e-9)
            fields = {"loss": f"{loss:.3f}", "speed": f"{speed:.0f}"} | ({"eval": f"{measured:.3f}"} if measured is not None else {})
            bar.update(task, advance=1, **fields)
    return state["tokens"] - tokens0, time.perf_counter() - t0


# ---- the final encoder -----------------------------------------------------------


def save_encoder(model: Any, tokenizer: Any, folder: Path, info: dict[str, Any], seed: int) -> Path:
    """The MLM model's encoder as an ``AutoModel`` folder (safetensors, config,
    tokenizer, ``pretrain.json``). A pooler the MLM model does not have (BERT)
    is initialised from ``seed``; biorel does not use it."""
    from transformers import AutoModel

    torch.manual_seed(seed)
    encoder = AutoModel.from_config(model.config, trust_remote_code=False)
    missing, unexpected = encoder.load_state_dict(model.base_model.state_dict(), strict=False)
    if unexpected or any(not k.startswith("pooler.") for k in missing):
        raise error(
            "E587", path=str(folder), reason=f"the encoder's weights do not fit AutoModel (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    info = {**info, "initialised_here": sorted(missing)}
    with atomic_dir(folder) as tmp:
        encoder.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        (tmp / "pretrain.json").write_text(json.dumps(info, indent=1, ensure_ascii=False), "utf-8")
    return folder


def _finish(session: _Session, tokens: int, seconds: float, steps_here: int, log: Callable[[str], None]) -> PretrainResult:
    cfg, state, out = session.cfg, session.state, session.out
    after = _evaluate(session)
    _checkpoint(session)
    info = {
        "base_encoder": cfg.model.name,
        "steps": state["step"],
        "eval_loss_before": state["eval_before"],
        "eval_loss_after": after,
        "tokens": state["tokens"],
        "config": cfg.to_dict(),
        "vocab_added": len((session.vocab or {}).get("added", [])),
    }
    save_encoder(session.model, session.tokenizer, out / "encoder", info, cfg.training.seed)
    result = PretrainResult(
        output_dir=str(out),
        encoder_dir=str(out / "encoder"),
        steps=state["step"],
        resumed_from=session.resumed_from,
        eval_loss_before=state["eval_before"],
        eval_loss_after=after,
        tokens=tokens,
        seconds=round(seconds, 2),
        tokens_per_s=round(tokens / seconds, 1) if seconds else 0.0,
        s_per_step=round(seconds / steps_here, 3) if steps_here else 0.0,
        peak_rss_mib=_peak_rss_mib(),
        precision="bf16" if state["autocast"] else "fp32",
        vocab=session.vocab,
        unread_files=session.unread,
    )
    with atomic_file(out / "summary.json") as fh:
        fh.write(json.dumps(asdict(result), indent=1, ensure_ascii=False))
    log(f"eval MLM loss {state['eval_before']:.4f} -> {after:.4f}; encoder in {out / 'encoder'}")
    return result


def pretrain(cfg: PretrainConfig, *, restart: bool = False, console: Any = None) -> PretrainResult:
    """Train ``cfg.model`` with MLM on ``cfg.data.corpus``; continues from
    ``OUT/last`` unless ``restart``. Returns the run's figures."""
    from rich.console import Console

    console = console or Console(stderr=True)
    log: Callable[[str], None] = console.log
    out = Path(cfg.training.output_dir)
    if cfg.training.threads:
        torch.set_num_threads(cfg.training.threads)
    with exclusive_lock(out):
        out.mkdir(parents=True, exist_ok=True)
        session = _setup(cfg, out, restart, log)
        if session.resumed_from is not None:
            log(f"resuming from step {session.resumed_from} (position {session.state['position']})")
        else:
            session.state["eval_before"] = _evaluate(session)
            log(f"held-out MLM loss before training: {session.state['eval_before']:.4f} ({len(session.eval_examples)} blocks)")
        start_step = session.state["step"]
        tokens, seconds = _loop(session, console)
        return _finish(session, tokens, seconds, session.state["step"] - start_step, log)


def read_metrics(out: str | Path) -> list[dict[str, Any]]:
    """The records of ``OUT/metrics.jsonl`` (for a loss-curve plot)."""
    return Journal(Path(out) / "metrics.jsonl").read()


__all__ = ["FAULT_ENV", "PretrainResult", "eval_loss", "mlm_loss", "pretrain", "read_metrics", "save_encoder"]
