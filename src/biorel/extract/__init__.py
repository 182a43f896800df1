"""Streaming, resumable extraction with a trained model.

::

    from biorel.extract import extract
    stats = extract("abstracts.pubtator", "runs/bc5cdr/best", "out.bioc.xml")

* **Input**: any readable format (raw text, PubTator, BioC, JSONL, ...), read as
  a stream; documents are batched by a token budget, so memory stays constant
  in the number of documents.
* **Output**: any writable format; mentions carry ``infons["score"]`` and
  relations ``score``.
* **Resumable**: predictions are appended to a journal ``OUT.partial.jsonl``
  (one document per line, flushed and fsynced per batch) next to a small
  ``OUT.partial.json`` describing the run. After a crash or ``kill -9``, running
  the same command again skips the document ids already in the journal (a torn
  last line is cut off) and carries on. When the input is exhausted the journal
  is converted to ``OUT`` in the requested format and removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import error
from ..types import Document

#: fault injection for tests: kill -9 this process after writing this many
#: documents (and half of the next line) in one run
FAULT_ENV = "BIOREL_EXTRACT_KILL_AFTER"


@dataclass
class ExtractStats:
    output: str
    resumed: int = 0
    written: int = 0
    precision: str = "fp32"
    without_entities: int = 0
    seconds: float = 0.0

    @property
    def docs_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "docs_per_second": self.docs_per_second}


def partial_paths(output: str | os.PathLike) -> tuple[Path, Path]:
    out = Path(output)
    return out.with_name(out.name + ".partial.jsonl"), out.with_name(out.name + ".partial.json")


def _model_fingerprint(model_dir: Path) -> str:
    h = hashlib.sha256()
    for name in ("config.json", "labels.json"):
        p = model_dir / name
        if p.is_file():
            h.update(p.read_bytes())
    w = model_dir / "model.safetensors"
    if w.is_file():
        st = w.stat()
        h.update(f"{st.st_size}".encode())
        with open(w, "rb") as fh:  # the header holds every tensor's name, dtype and offsets
            h.update(fh.read(1 << 16))
    return h.hexdigest()


def read_journal(journal: Path) -> set[str]:
    """Ids of the documents in the journal; a torn last line is cut off."""
    done: set[str] = set()
    if not journal.exists():
        return done
    with open(journal, "r+b") as fh:
        good = 0
        lineno = 0
        for line in iter(fh.readline, b""):
            lineno += 1
            if not line.endswith(b"\n"):
                break  # torn by a kill: dropped below
            try:
                done.add(str(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                raise error("E411", path=str(journal), reason=f"line {lineno} of the journal is not a document", partial=str(journal)) from None
            good = fh.tell()
        fh.truncate(good)
    return done


def batches_by_tokens(docs: Iterable[Document], cost, budget: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    size = 0
    for doc in docs:
        n = cost(doc)
        if batch and size + n > budget:
            yield batch
            batch, size = [], 0
        batch.append(doc)
        size += n
    if batch:
        yield batch


def _progress(console, enabled: bool):
    from rich.progress import Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f} docs/s" if speed else "- docs/s")

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} docs"), Rate(), TimeElapsedColumn(),
                    console=console, disable=not enabled)


def extract(
    input: str | os.PathLike,
    model: str | os.PathLike | Any,
    output: str | os.PathLike,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    mode: str = "e2e",
    batch_tokens: int = 4096,
    threshold: float = 0.5,
    use_gold_ids: bool = False,
    resume: bool = True,
    lenient: bool = False,
    reader_options: dict[str, Any] | None = None,
    progress: bool = True,
    console=None,
    precision: str = "auto",
    window_batch: int | None = None,
) -> ExtractStats:
    """Predict every document of ``input`` with ``model`` (a folder or a loaded
    model) and write them to ``output`` (see the module docstring).
    ``precision``: ``auto`` (bf16 where the hardware has native bf16, else
    fp32), ``fp32`` or ``bf16``; see :meth:`biorel.models.BiorelModel.set_precision`.
    ``window_batch``: encoder windows per forward pass (default: the model's
    ``window_batch``)."""
    from rich.console import Console

    from .. import io
    from ..errors import Diagnostics
    from ..models import MODES, load_model
    from ..models.base import PRECISIONS

    if mode not in MODES:
        raise error("E412", option=f"--mode {mode}", reason=f"valid modes: {', '.join(MODES)}")
    if batch_tokens < 1:
        raise error("E412", option=f"--batch-tokens {batch_tokens}", reason="must be at least 1")
    if precision not in PRECISIONS:
        raise error("E412", option=f"--precision {precision}", reason=f"valid precisions: {', '.join(PRECISIONS)}")
    if not 0.0 <= threshold <= 1.0:
        raise error("E412", option=f"--threshold {threshold}", reason="must lie in [0, 1]")
    console = console or Console(stderr=True)
    out = Path(output)
    in_fmt = io.resolve_format(input, input_format)
    out_fmt = io.get_format(output_format) if output_format else io.detect_format(out) if not out.is_dir() else None
    if out_fmt is None:
        raise error("E412", option=f"-o {out}", reason="the output is a folder; give --output-format")
    if mode == "gold" and in_fmt.name == "text":
        raise error("E412", option="--mode gold", reason="raw text has no entities; use --mode e2e")

    if isinstance(model, (str, os.PathLike)):
        from ..models.shipped import resolve_model

        model_dir = resolve_model(model)
        model_obj = load_model(model_dir)
        fingerprint = _model_fingerprint(model_dir)
    else:
        model_obj, model_dir, fingerprint = model, None, "(in memory)"
    precision = model_obj.set_precision(precision)
    if window_batch is not None:
        if window_batch < 1:
            raise error("E412", option=f"--window-batch {window_batch}", reason="must be at least 1")
        model_obj.cfg.window_batch = window_batch

    journal, meta_path = partial_paths(out)
    meta = {
        "input": str(Path(input).resolve()),
        "model": str(model_dir.resolve()) if model_dir else None,
        "model_fingerprint": fingerprint,
        "mode": mode,
        "threshold": threshold,
        "use_gold_ids": use_gold_ids,
        "output_format": out_fmt.name,
        "precision": precision,
    }
    done: set[str] = set()
    if journal.exists() or meta_path.exists():
        if not resume:
            journal.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
        else:
            try:
                old = json.loads(meta_path.read_text("utf-8"))
            except (OSError, ValueError):
                raise error("E411", path=str(out), reason=f"{meta_path.name} is missing or unreadable", partial=str(journal)) from None
            diff = [k for k in meta if old.get(k) != meta[k]]
            if diff:
                raise error("E411", path=str(out), reason=f"the earlier run used different {', '.join(diff)}", partial=str(journal))
            done = read_journal(journal)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(meta, indent=1), "utf-8")

    stats = ExtractStats(output=str(out), resumed=len(done), precision=precision)
    diags = Diagnostics() if lenient else None
    docs = io.read(input, in_fmt.name, lenient=lenient, diagnostics=diags, **(reader_options or {}))
    todo = (d for d in docs if d.id not in done)
    fault = int(os.environ.get(FAULT_ENV, "0") or 0)
    t0 = time.perf_counter()
    with open(journal, "ab") as jf, _progress(console, progress) as bar:
        task = bar.add_task("extracting", total=None)
        for batch in batches_by_tokens(todo, model_obj.cost, batch_tokens):
            preds = model_obj.predict(batch, mode, threshold=threshold, **({"use_gold_ids": True} if use_gold_ids else {}))
            for doc, pred in zip(batch, preds):
                if mode == "gold" and not doc.mentions:
                    stats.without_entities += 1
                line = json.dumps(pred.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
                if fault and stats.written >= fault:
                    jf.write(line[: len(line) // 2])
                    jf.flush()
                    os.fsync(jf.fileno())
                    os.kill(os.getpid(), signal.SIGKILL)
                jf.write(line)
                stats.written += 1
            jf.flush()
            os.fsync(jf.fileno())
            bar.update(task, advance=len(batch))
    stats.seconds = time.perf_counter() - t0

    if out_fmt.name == "jsonl":
        os.replace(journal, out)
    else:
        io.write(io.read(journal, "jsonl"), out, out_fmt.name)
        journal.unlink()
    meta_path.unlink(missing_ok=True)
    if diags is not None and len(diags):
        console.print(f"{len(diags)} input problem(s) skipped (lenient): " + "; ".join(str(p) for p in list(diags)[:3]), markup=False)
    return stats


__all__ = ["extract", "ExtractStats", "read_journal", "partial_paths", "batches_by_tokens", "FAULT_ENV"]
