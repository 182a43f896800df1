"""The training loop.

:class:`Trainer` knows the model interface (:class:`~biorel.models.base.BiorelModel`)
and its declared capabilities, nothing else: no loss part, parameter or item
field is named here. It composes small pieces: data loading (:mod:`.data`), the
model (``registry.models``), AdamW with linear warmup and decay over the
model's parameter groups, gradient accumulation, optional bf16 autocast
(``auto`` measures it first, for models that declare it), the model's hooks
(``on_epoch_start``, ``batches``), a dev evaluation each epoch through the
registered evaluators (:mod:`.dev`), early stopping and best-checkpoint
selection on the primary metric, and resumable checkpoints (:mod:`.checkpoint`;
a resumed run is bit-exact). One process writes an output folder at a time
(a lock, :func:`biorel.jobs.exclusive_lock`). Output folder::

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
from typing import Any
from collections.abc import Callable, Sequence

import torch

from .. import __version__
from ..config import Config
from ..errors import error
from ..types import Document
from ..jobs import atomic_file, exclusive_lock
from .checkpoint import find_resume_folder, load_training_state, optimizer_from_flat, restore_rng, save_training_state
from .data import documents_digest, load_split
from .dev import Scorer, canonical_metric, default_primary, dev_scorer, primary_value


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


def measure_bf16(step: Callable[[bool], None], repeats: int = 3) -> tuple[bool, float, float]:
    """Time ``step(autocast)`` (one forward and backward) in fp32 and with bf16
    autocast, best of ``repeats`` (the first call warms up); bf16 is chosen when
    it is at least 10% faster. The torch RNG state is restored afterwards.
    Returns ``(choose bf16, bf16 seconds, fp32 seconds)``."""

    def timed(flag: bool) -> float:
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            step(flag)
            best = min(best, time.perf_counter() - t0)
        return best

    rng = torch.get_rng_state()
    fp32, bf16 = timed(False), timed(True)
    torch.set_rng_state(rng)
    return bf16 < 0.9 * fp32, bf16, fp32


@dataclass
class _Run:
    """Everything one training run carries from step to step."""

    model: Any
    opt: Any
    items: list[Any]
    weights: dict[str, float]
    total: int
    warmup: int
    state: dict[str, Any]


class Trainer:
    def __init__(
        self,
        config: Config,
        *,
        train_docs: Sequence[Document] | None = None,
        dev_docs: Sequence[Document] | None = None,
        scorer: Scorer | None = None,
        scorer_modes: Sequence[str] | None = None,
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
        self._scorer_modes = tuple(scorer_modes) if scorer_modes is not None else None
        self.provenance: dict[str, Any] = {}

    # ---- data and provenance ------------------------------------------------------
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
            "architecture": self.cfg.model.architecture,
            "encoder": getattr(getattr(self.cfg.model, "encoder", None), "name", None),
            "seed": self.cfg.training.seed,
            "overrides": self.overrides,
            "config": self.cfg.to_dict(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    # ---- scoring -------------------------------------------------------------------
    def scorer_for(self, model) -> tuple[Scorer, tuple[str, ...], str]:
        """``(scorer, modes, primary metric)``: the one given to the trainer, or
        the registered evaluators of ``evaluation.scorers`` (default: the
        model's declared scorers)."""
        ev = self.cfg.evaluation
        modes = model.capabilities.modes
        specs = list(ev.scorers) or list(model.capabilities.default_scorers)
        if self._scorer is not None:
            primary = canonical_metric(ev.primary_metric) if ev.primary_metric else default_primary(specs, modes)
            return self._scorer, self._scorer_modes or (model.default_mode,), primary
        scorer, needed = dev_scorer(specs, modes)
        primary = canonical_metric(ev.primary_metric) if ev.primary_metric else default_primary(specs, modes)
        return scorer, needed, primary

    def evaluate(self, model, docs: Sequence[Document], batch_docs: int = 8) -> dict[str, float]:
        scorer, modes, _ = self.scorer_for(model)
        preds: dict[str, list[Document]] = {m: [] for m in modes}
        for i in range(0, len(docs), batch_docs):
            out = model.predict_modes(docs[i : i + batch_docs], modes, threshold=self.cfg.evaluation.threshold)
            for m in modes:
                preds[m].extend(out[m])
        return scorer(preds, docs)

    # ---- setting up ----------------------------------------------------------------
    def _model(self, resume: str | Path | None, train_docs: Sequence[Document]) -> tuple[Any, dict[str, Any] | None, Any]:
        """A new model, or the checkpoint's with its saved state and tensors."""
        from ..models import build_model, load_model

        if resume is None:
            return build_model(self.cfg.model, train_docs), None, None
        folder = find_resume_folder(resume)
        saved, tensors = load_training_state(folder)
        if saved.get("config", {}).get("model") != self.cfg.to_dict()["model"]:
            raise error("E410", path=str(folder), reason="the model section of the config differs from the checkpoint's")
        return load_model(folder / "model"), saved, tensors

    def _prepare_items(self, model, train_docs: Sequence[Document]) -> list[Any]:
        items = [model.prepare(d) for d in train_docs]
        stats: dict[str, int] = {}
        for it in items:
            for k, v in (getattr(it, "stats", None) or {}).items():
                stats[k] = stats.get(k, 0) + v
        self.provenance["train_stats"] = stats
        described = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in stats.items())
        self.console.log(f"{len(items)} training documents" + (f"; {described}" if described else ""))
        return items

    def _choose_bf16(self, model, items, weights) -> bool:
        mode = self.cfg.training.bf16
        if mode != "auto":
            return mode == "on"
        if not model.capabilities.train_bf16:
            return False
        from ..models.base import native_bf16

        if not native_bf16():  # emulated bf16 is many times slower: nothing to measure
            self.console.log("bf16 autocast: off (no native bf16 on this machine)")
            self.provenance["bf16_measurement"] = {"native_bf16": False, "chosen": False}
            return False
        batch = items[: self.cfg.training.batch_size]

        def step(flag: bool) -> None:
            model.set_train_autocast(flag)
            loss, _ = model.loss(batch, weights)
            if loss.requires_grad:
                loss.backward()

        choice, bf16, fp32 = measure_bf16(step)
        model.net.zero_grad(set_to_none=True)
        self.console.log(f"bf16 autocast: measured {bf16 * 1000:.0f} ms vs fp32 {fp32 * 1000:.0f} ms per step -> {'on' if choice else 'off'}")
        self.provenance["bf16_measurement"] = {"bf16_s": bf16, "fp32_s": fp32, "chosen": choice}
        return choice

    def _setup(self, resume: str | Path | None, train_docs: Sequence[Document]) -> _Run:
        tc = self.cfg.training
        model, saved, tensors = self._model(resume, train_docs)
        weights = model.loss_weights(tc.loss_weights)
        if tc.freeze_embeddings:
            self.provenance["frozen"] = {"input_embeddings": model.freeze("embeddings")}
        items = self._prepare_items(model, train_docs)
        opt = torch.optim.AdamW(model.parameter_groups(tc.lr, tc.head_lr, tc.weight_decay), lr=tc.lr)
        state: dict[str, Any] = {"epoch": 0, "batch": 0, "global_step": 0, "best": None, "best_epoch": None, "bad_epochs": 0, "history": []}
        if saved is not None:
            optimizer_from_flat(opt, tensors, saved["optimizer"])
            state.update({k: saved[k] for k in state if k in saved})
            model.set_train_autocast(bool(saved.get("autocast", False)))
            model.restore_hook_state(saved.get("hooks") or {})
        else:
            model.set_train_autocast(self._choose_bf16(model, items, weights))
        steps_per_epoch = math.ceil(math.ceil(len(items) / tc.batch_size) / tc.grad_accum)
        total = steps_per_epoch * tc.epochs
        if tc.max_steps:
            total = min(total, tc.max_steps) if tc.epochs else tc.max_steps
        if saved is not None:
            restore_rng(saved, tensors)
        return _Run(model, opt, items, weights, total, int(tc.warmup_ratio * total), state)

    # ---- one step, one epoch ----------------------------------------------------------
    def _step(self, run: _Run, group: Sequence[Sequence[int]], running: list[float]) -> dict[str, float]:
        """Forward and backward over ``group`` (the batches of one optimizer
        step), clip, schedule, step. Returns the last batch's loss parts."""
        tc = self.cfg.training
        parts: dict[str, float] = {}
        for idx in group:
            loss, parts = run.model.loss([run.items[i] for i in idx], run.weights)
            if loss.requires_grad:
                (loss / len(group)).backward()
            running.append(float(loss.detach()))
        if tc.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(run.model.net.parameters(), tc.max_grad_norm)
        f = lr_factor(run.state["global_step"], run.total, run.warmup)
        for g in run.opt.param_groups:
            g["lr"] = g["base_lr"] * f
        run.opt.step()
        run.opt.zero_grad(set_to_none=True)
        run.state["global_step"] += 1
        return parts

    def _out_of_steps(self, run: _Run) -> bool:
        return bool(self.cfg.training.max_steps and run.state["global_step"] >= self.cfg.training.max_steps)

    def _epoch(self, run: _Run, epoch: int, out_dir: Path, progress, task) -> tuple[list[float], bool]:
        """Train one epoch (from ``state['batch']`` when resumed); returns the
        losses seen and whether the epoch's batches were all done."""
        tc = self.cfg.training
        run.model.on_epoch_start(epoch, run.items)
        batches = run.model.batches(run.items, tc.batch_size, tc.seed, epoch)
        run.model.net.train()
        running: list[float] = []
        run.opt.zero_grad(set_to_none=True)
        b = run.state["batch"]
        while b < len(batches):
            group = batches[b : b + tc.grad_accum]
            parts = self._step(run, group, running)
            b += len(group)
            run.state["batch"] = b
            step = run.state["global_step"]
            avg = sum(running[-20:]) / len(running[-20:])
            progress.update(task, advance=1, epoch=epoch + 1, loss=f"{avg:.4f}")
            if tc.log_every and step % tc.log_every == 0:
                detail = ", ".join(f"{k} {v:.4f}" for k, v in parts.items())
                self.console.log(f"step {step}/{run.total} epoch {epoch + 1} loss {avg:.4f} ({detail})")
            if tc.checkpoint_every and step % tc.checkpoint_every == 0:
                self._checkpoint(run, out_dir)
            if self._out_of_steps(run):
                break
        return running, run.state["batch"] >= len(batches)

    # ---- end of epoch -------------------------------------------------------------
    def _checkpoint(self, run: _Run, out_dir: Path) -> None:
        save_training_state(
            out_dir / "last",
            run.model,
            run.opt,
            {**run.state, "autocast": run.model.train_autocast, "hooks": run.model.hook_state(), "config": self.cfg.to_dict()},
        )

    def _dev_round(self, run: _Run, epoch: int, dev_docs: Sequence[Document], record: dict[str, Any], out_dir: Path) -> None:
        """Score the dev set, keep the best model, count epochs without gain."""
        state = run.state
        _, _, primary = self.scorer_for(run.model)
        start = time.perf_counter()
        metrics = self.evaluate(run.model, dev_docs)
        record["dev_seconds"] = round(time.perf_counter() - start, 2)
        value = primary_value(metrics, primary)
        record["dev"] = metrics
        improved = state["best"] is None or value > state["best"]
        if improved:
            state["best"], state["best_epoch"], state["bad_epochs"] = value, epoch + 1, 0
            run.model.save(
                out_dir / "best",
                metrics={"dev": metrics, "primary_metric": primary, "epoch": epoch + 1, "global_step": state["global_step"]},
                provenance=self._provenance(),
            )
        else:
            state["bad_epochs"] += 1
        self.console.log(
            f"epoch {epoch + 1}: dev {primary} = {value:.4f}"
            + (" (best)" if improved else f" (best {state['best']:.4f} at epoch {state['best_epoch']})")
        )

    def _end_epoch(
        self, run: _Run, epoch: int, running: list[float], seconds: float, finished: bool, dev_docs: Sequence[Document], out_dir: Path
    ) -> None:
        state = run.state
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "global_step": state["global_step"],
            "train_loss": sum(running) / max(1, len(running)),
            "train_seconds": round(seconds, 2),
            "peak_rss_mib": _peak_rss_mib(),
        }
        if dev_docs:
            self._dev_round(run, epoch, dev_docs, record, out_dir)
        else:
            run.model.save(out_dir / "best", metrics={"epoch": epoch + 1, "global_step": state["global_step"]}, provenance=self._provenance())
            state["best_epoch"] = epoch + 1
        state["history"].append(record)
        if finished:
            state["epoch"], state["batch"] = epoch + 1, 0
        self._checkpoint(run, out_dir)
        with atomic_file(out_dir / "history.json") as fh:
            fh.write(json.dumps(state["history"], indent=1))

    # ---- the loop --------------------------------------------------------------
    def _progress(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        return Progress(
            TextColumn("[bold]epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.cfg.training.progress,
            transient=False,
        )

    def _loop(self, run: _Run, dev_docs: Sequence[Document], out_dir: Path) -> str:
        tc = self.cfg.training
        with self._progress() as progress:
            task = progress.add_task("train", total=run.total, completed=run.state["global_step"], epoch=run.state["epoch"] + 1, loss="-")
            while run.state["epoch"] < tc.epochs and not self._out_of_steps(run):
                epoch = run.state["epoch"]
                start = time.perf_counter()
                running, finished = self._epoch(run, epoch, out_dir, progress, task)
                self._end_epoch(run, epoch, running, time.perf_counter() - start, finished, dev_docs, out_dir)
                if dev_docs and tc.patience and run.state["bad_epochs"] >= tc.patience:
                    return f"early stopping after {tc.patience} epochs without improvement"
        if self._out_of_steps(run):
            return f"max_steps {tc.max_steps} reached"
        return "completed"

    def train(self, resume: str | Path | None = None) -> TrainResult:
        tc = self.cfg.training
        out_dir = Path(tc.output_dir)
        if tc.threads:
            torch.set_num_threads(tc.threads)
        set_seed(tc.seed)
        train_docs, dev_docs = self.load_data()
        with exclusive_lock(out_dir):
            run = self._setup(resume, train_docs)
            stopped = self._loop(run, dev_docs, out_dir)
            if not (out_dir / "best").exists():  # zero epochs: still leave a model behind
                run.model.save(out_dir / "best", metrics={"epoch": 0, "global_step": run.state["global_step"]}, provenance=self._provenance())
        self.console.log(f"training stopped: {stopped}; best model in {out_dir / 'best'}")
        state = run.state
        return TrainResult(out_dir, out_dir / "best", state["best"], state["best_epoch"], state["global_step"], state["history"], stopped)


def train(config: Config, *, resume: str | Path | None = None, **kw) -> TrainResult:
    return Trainer(config, **kw).train(resume=resume)
