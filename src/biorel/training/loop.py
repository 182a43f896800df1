"""The training loop.

:class:`Trainer` composes small pieces: data loading (:mod:`.data`), the model
(``registry.models``), AdamW with linear warmup and decay, gradient
accumulation, optional bf16 autocast on CPU (``auto`` measures it first), a
dev evaluation each epoch through a scorer (:mod:`.scoring`), early stopping
and best-checkpoint selection on the primary metric, and resumable
checkpoints (:mod:`.checkpoint`). Output folder::

    OUTPUT/best/       the best model (a loadable model folder with metrics.json
                       and provenance.json)
    OUTPUT/last/       the latest resumable state (model + optimizer + RNG)
    OUTPUT/history.json
"""

from __future__ import annotations

import json
import math
import platform
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from .. import __version__
from ..config import Config
from ..errors import error
from ..types import Document
from .checkpoint import find_resume_folder, load_training_state, optimizer_from_flat, restore_rng, save_training_state
from .data import documents_digest, load_split
from .scoring import Scorer, make_scorer, primary_value


@dataclass
class TrainResult:
    output_dir: Path
    best_dir: Path
    best_metric: float | None
    best_epoch: int | None
    global_step: int
    history: list[dict[str, Any]] = field(default_factory=list)
    stopped: str = "completed"


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warmup to 1, then linear decay to 0 at ``total``."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if total <= warmup:
        return 1.0
    return max(0.0, (total - step) / (total - warmup))


def param_groups(model, cfg) -> list[dict[str, Any]]:
    """Encoder parameters at ``lr``, heads at ``head_lr``; no weight decay on
    biases and norms."""
    groups: dict[tuple[bool, bool], list] = {}
    for name, p in model.net.named_parameters():
        if not p.requires_grad:
            continue
        is_enc = name.startswith("encoder.")
        no_decay = p.ndim < 2 or "norm" in name.lower()
        groups.setdefault((is_enc, no_decay), []).append(p)
    out = []
    for (is_enc, no_decay), params in sorted(groups.items()):
        lr = cfg.lr if is_enc else cfg.head_lr
        out.append({"params": params, "lr": lr, "base_lr": lr, "weight_decay": 0.0 if no_decay else cfg.weight_decay})
    return out


class Trainer:
    def __init__(
        self,
        config: Config,
        *,
        train_docs: Sequence[Document] | None = None,
        dev_docs: Sequence[Document] | None = None,
        scorer: Scorer | None = None,
        scorer_modes: Sequence[str] = ("e2e", "gold"),
        console=None,
        overrides: Sequence[str] = (),
    ):
        from rich.console import Console

        self.cfg = config
        self.console = console or Console(stderr=True)
        self.overrides = list(overrides)
        self._train_docs = list(train_docs) if train_docs is not None else None
        self._dev_docs = list(dev_docs) if dev_docs is not None else None
        self._scorer = scorer
        self._scorer_modes = tuple(scorer_modes)
        self.provenance: dict[str, Any] = {}

    # ---- pieces ----------------------------------------------------------------
    def load_data(self) -> tuple[list[Document], list[Document]]:
        d = self.cfg.data
        data_prov: dict[str, Any] = {}
        if self._train_docs is None:
            if not d.train:
                raise error("E407", reason="data.train is not set")
            self._train_docs, data_prov["train"] = load_split(d.train, format=d.format, lenient=d.lenient, limit=d.limit_train)
        else:
            self._train_docs = self._train_docs[: d.limit_train or None]
            data_prov["train"] = {"ref": "(in memory)", "documents": len(self._train_docs), "content_sha256": documents_digest(self._train_docs)}
        if self._dev_docs is None and d.dev:
            self._dev_docs, data_prov["dev"] = load_split(d.dev, format=d.format, lenient=d.lenient, limit=d.limit_dev)
        elif self._dev_docs is not None:
            self._dev_docs = self._dev_docs[: d.limit_dev or None]
            data_prov["dev"] = {"ref": "(in memory)", "documents": len(self._dev_docs), "content_sha256": documents_digest(self._dev_docs)}
        if not self._train_docs:
            raise error("E407", reason="the training split is empty")
        self.provenance["data"] = data_prov
        return self._train_docs, self._dev_docs or []

    def _provenance(self) -> dict[str, Any]:
        import transformers

        return {
            **self.provenance,
            "biorel_version": __version__,
            "git_commit": _git_commit(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
            "encoder": self.cfg.model.encoder.name,
            "seed": self.cfg.training.seed,
            "overrides": self.overrides,
            "config": self.cfg.to_dict(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def _choose_bf16(self, model, items) -> bool:
        mode = self.cfg.training.bf16
        if mode != "auto":
            return mode == "on"
        batch = items[: self.cfg.training.batch_size]

        def timed(flag: bool) -> float:
            model.autocast = flag
            best = math.inf
            for _ in range(3):  # the first call warms up
                t0 = time.perf_counter()
                loss, _ = model.loss(batch)
                if loss.requires_grad:
                    loss.backward()
                best = min(best, time.perf_counter() - t0)
            model.net.zero_grad(set_to_none=True)
            return best

        rng = torch.get_rng_state()
        fp32, bf16 = timed(False), timed(True)
        torch.set_rng_state(rng)
        choice = bf16 < 0.9 * fp32
        self.console.log(f"bf16 autocast: measured {bf16 * 1000:.0f} ms vs fp32 {fp32 * 1000:.0f} ms per step -> {'on' if choice else 'off'}")
        self.provenance["bf16_measurement"] = {"bf16_s": bf16, "fp32_s": fp32, "chosen": choice}
        return choice

    def evaluate(self, model, docs: Sequence[Document], batch_docs: int = 8) -> dict[str, float]:
        scorer, modes = self._scorer, self._scorer_modes
        if scorer is None:
            scorer, modes = make_scorer(self.cfg.evaluation.scorers, labels=model.labels)
        preds: dict[str, list[Document]] = {m: [] for m in modes}
        for i in range(0, len(docs), batch_docs):
            out = model.predict_modes(docs[i : i + batch_docs], modes, threshold=self.cfg.evaluation.threshold)
            for m in modes:
                preds[m].extend(out[m])
        return scorer(preds, docs)

    # ---- the loop --------------------------------------------------------------
    def train(self, resume: str | Path | None = None) -> TrainResult:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        from ..models import build_model, load_model

        tc = self.cfg.training
        out_dir = Path(tc.output_dir)
        if tc.threads:
            torch.set_num_threads(tc.threads)
        set_seed(tc.seed)
        train_docs, dev_docs = self.load_data()

        state: dict[str, Any] = {"epoch": 0, "batch": 0, "global_step": 0, "best": None, "best_epoch": None, "bad_epochs": 0, "history": []}
        resume_tensors = None
        if resume is not None:
            folder = find_resume_folder(resume)
            saved, resume_tensors = load_training_state(folder)
            if saved.get("config", {}).get("model") != self.cfg.to_dict()["model"]:
                raise error("E410", path=str(folder), reason="the model section of the config differs from the checkpoint's")
            model = load_model(folder / "model")
            state.update({k: saved[k] for k in state if k in saved})
        else:
            model = build_model(self.cfg.model, train_docs)
        model.loss_weights = {"ner": tc.loss_weights.ner, "re": tc.loss_weights.re}
        if tc.freeze_embeddings:
            frozen = model.net.encoder.get_input_embeddings().weight
            frozen.requires_grad_(False)
            self.provenance["frozen"] = {"input_embeddings": list(frozen.shape)}

        items = [model.prepare(d) for d in train_docs]
        stats = {k: sum(it.stats.get(k, 0) for it in items) for k in ("tokens", "windows", "misaligned_mentions", "unreachable_relations")}
        self.provenance["train_stats"] = stats
        self.console.log(f"{len(items)} training documents, {stats['tokens']} tokens in {stats['windows']} windows; "
                         f"{stats['misaligned_mentions']} mentions not on token boundaries, {stats['unreachable_relations']} relations the model cannot reach")

        opt = torch.optim.AdamW(param_groups(model, tc), lr=tc.lr)
        if resume_tensors is not None:
            optimizer_from_flat(opt, resume_tensors, saved["optimizer"])
        model.autocast = self._choose_bf16(model, items) if resume is None else bool(saved.get("autocast", False))

        n_batches = math.ceil(len(items) / tc.batch_size)
        steps_per_epoch = math.ceil(n_batches / tc.grad_accum)
        total = steps_per_epoch * tc.epochs
        if tc.max_steps:
            total = min(total, tc.max_steps) if tc.epochs else tc.max_steps
        warmup = int(tc.warmup_ratio * total)
        if resume_tensors is not None:
            restore_rng(saved, resume_tensors)

        def checkpoint() -> None:
            save_training_state(out_dir / "last", model, opt, {**state, "autocast": model.autocast, "config": self.cfg.to_dict()})

        stopped = "completed"
        progress = Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console, disable=not tc.progress, transient=False,
        )
        with progress:
            task = progress.add_task("train", total=total, completed=state["global_step"], epoch=state["epoch"] + 1, loss="-")
            while state["epoch"] < tc.epochs and not (tc.max_steps and state["global_step"] >= tc.max_steps):
                epoch = state["epoch"]
                order = list(range(len(items)))
                random.Random(tc.seed * 1_000_003 + epoch).shuffle(order)
                batches = [order[i : i + tc.batch_size] for i in range(0, len(order), tc.batch_size)]
                model.net.train()
                epoch_start = time.perf_counter()
                running: list[float] = []
                opt.zero_grad(set_to_none=True)
                b = state["batch"]
                while b < len(batches):
                    group = batches[b : b + tc.grad_accum]
                    for idx in group:
                        loss, parts = model.loss([items[i] for i in idx])
                        if loss.requires_grad:
                            (loss / len(group)).backward()
                        running.append(float(loss.detach()))
                    if tc.max_grad_norm:
                        torch.nn.utils.clip_grad_norm_(model.net.parameters(), tc.max_grad_norm)
                    f = lr_factor(state["global_step"], total, warmup)
                    for g in opt.param_groups:
                        g["lr"] = g["base_lr"] * f
                    opt.step()
                    opt.zero_grad(set_to_none=True)
                    b += len(group)
                    state["batch"] = b
                    state["global_step"] += 1
                    avg = sum(running[-20:]) / len(running[-20:])
                    progress.update(task, advance=1, epoch=epoch + 1, loss=f"{avg:.4f}")
                    if tc.log_every and state["global_step"] % tc.log_every == 0:
                        self.console.log(f"step {state['global_step']}/{total} epoch {epoch + 1} loss {avg:.4f} (ner {parts['ner']:.4f}, re {parts['re']:.4f})")
                    if tc.checkpoint_every and state["global_step"] % tc.checkpoint_every == 0:
                        checkpoint()
                    if tc.max_steps and state["global_step"] >= tc.max_steps:
                        break
                # ---- end of epoch (or of the step budget) ----
                record: dict[str, Any] = {
                    "epoch": epoch + 1, "global_step": state["global_step"], "train_loss": sum(running) / max(1, len(running)),
                    "train_seconds": round(time.perf_counter() - epoch_start, 2), "peak_rss_mib": _peak_rss_mib(),
                }
                finished_epoch = state["batch"] >= len(batches)
                if dev_docs:
                    dev_start = time.perf_counter()
                    metrics = self.evaluate(model, dev_docs)
                    record["dev_seconds"] = round(time.perf_counter() - dev_start, 2)
                    value = primary_value(metrics, self.cfg.evaluation.primary_metric)
                    record["dev"] = metrics
                    improved = state["best"] is None or value > state["best"]
                    if improved:
                        state["best"], state["best_epoch"], state["bad_epochs"] = value, epoch + 1, 0
                        model.save(out_dir / "best", metrics={"dev": metrics, "epoch": epoch + 1, "global_step": state["global_step"]}, provenance=self._provenance())
                    else:
                        state["bad_epochs"] += 1
                    self.console.log(f"epoch {epoch + 1}: dev {self.cfg.evaluation.primary_metric} = {value:.4f}" + (" (best)" if improved else f" (best {state['best']:.4f} at epoch {state['best_epoch']})"))
                else:
                    model.save(out_dir / "best", metrics={"epoch": epoch + 1, "global_step": state["global_step"]}, provenance=self._provenance())
                    state["best_epoch"] = epoch + 1
                state["history"].append(record)
                if finished_epoch:
                    state["epoch"], state["batch"] = epoch + 1, 0
                checkpoint()
                (out_dir / "history.json").write_text(json.dumps(state["history"], indent=1), "utf-8")
                if dev_docs and tc.patience and state["bad_epochs"] >= tc.patience:
                    stopped = f"early stopping after {tc.patience} epochs without improvement"
                    break
            if tc.max_steps and state["global_step"] >= tc.max_steps and stopped == "completed":
                stopped = f"max_steps {tc.max_steps} reached"
        if not (out_dir / "best").exists():  # zero epochs: still leave a model behind
            model.save(out_dir / "best", metrics={"epoch": 0, "global_step": state["global_step"]}, provenance=self._provenance())
        self.console.log(f"training stopped: {stopped}; best model in {out_dir / 'best'}")
        return TrainResult(out_dir, out_dir / "best", state["best"], state["best_epoch"], state["global_step"], state["history"], stopped)


def train(config: Config, *, resume: str | Path | None = None, **kw) -> TrainResult:
    return Trainer(config, **kw).train(resume=resume)
