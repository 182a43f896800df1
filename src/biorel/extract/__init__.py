"""Streaming, resumable extraction with a trained model.

::

    from biorel.extract import extract
    stats = extract("abstracts.pubtator", "runs/bc5cdr/best", "out.bioc.xml")

* **Input**: any readable format (raw text, PubTator, BioC, JSONL, ...), read as
  a stream; documents are read in look-ahead pools (``pool_tokens``, default 16
  batches), sorted by length within a pool and batched by a token budget
  (``batch_tokens``), so little of a forward pass is padding and memory stays
  constant in the number of documents; the output keeps the input order
  (:mod:`biorel.models.streaming`).
* **Output**: any writable format; mentions carry ``infons["score"]`` and
  relations ``score``.
* **Resumable**: predictions are appended to a journal ``OUT.partial.jsonl``
  (a :class:`biorel.jobs.Journal`: one document per line, flushed and fsynced
  per batch) next to a small ``OUT.partial.json`` describing the run. After a
  crash or ``kill -9``, running the same command again skips the document ids
  already in the journal (a torn last line is cut off and reported, E052) and
  carries on. When the input is exhausted the journal is converted to ``OUT``
  in the requested format (atomically: ``OUT`` is absent or complete) and
  removed.
* **Checked first**: the input must exist (E171) and the formats, options and
  model must be usable before any ``.partial.*`` file is created.
* **One writer**: the run holds ``OUT.lock`` (:func:`biorel.jobs.exclusive_lock`);
  a second ``extract`` into the same output stops at once with E050.
* An input with no documents is reported as warning E130.
* ``evidence=True`` (``biorel extract --evidence``): each relation gets its
  evidence sentences and top-``evidence_top_k`` token attributions
  (:func:`biorel.models.evidence.add_evidence`, method ``evidence_method``,
  default ``auto``; ``occlusion`` is the faithful one); the counts are
  in :attr:`ExtractStats.evidence`.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Iterator

from ..errors import BiorelError, Diagnostics, error
from ..jobs import Journal, exclusive_lock
from ..models.streaming import batches_by_tokens, predict_pools
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
    #: what this run found (documents resumed from the journal not counted)
    mention_types: Counter = field(default_factory=Counter)
    relation_types: Counter = field(default_factory=Counter)
    examples: list[tuple[str, str, str, str, float | None]] = field(default_factory=list)  # (doc, type, head name, tail name, score)
    #: with ``evidence=True``: the attribution method and how many relations were
    #: explained, had no mention (relation-only) or could not be scored
    evidence: dict[str, Any] = field(default_factory=dict)
    warnings: list[BiorelError] = field(default_factory=list)

    @property
    def docs_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # asdict rebuilds a Counter from (key, count) pairs, counting the pairs: take the counts as they are
        d["mention_types"], d["relation_types"] = dict(self.mention_types), dict(self.relation_types)
        d["warnings"] = [str(w) for w in self.warnings]
        return {**d, "docs_per_second": self.docs_per_second}

    def count(self, doc: Document, max_examples: int = 5) -> None:
        self.mention_types.update(m.type for m in doc.mentions)
        self.relation_types.update(r.type for r in doc.relations)
        if len(self.examples) < max_examples and doc.relations:
            names = entity_names(doc)
            for r in doc.relations[: max_examples - len(self.examples)]:
                self.examples.append((doc.id, r.type, names.get(r.head, r.head), names.get(r.tail, r.tail), r.score))


def entity_names(doc: Document) -> dict[str, str]:
    """Entity id -> a readable name (its name, else its first mention's text)."""
    texts = {m.id: m.text for m in doc.mentions}
    return {e.id: e.name or next((texts[i] for i in e.mention_ids if i in texts), e.id) for e in doc.entities}


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


def read_journal(journal: Path, diagnostics: Diagnostics | None = None) -> set[str]:
    """Ids of the documents in the journal; a torn last line is cut off and
    reported to ``diagnostics`` (E052); a line that is not a document is E411."""
    done: set[str] = set()
    try:
        for lineno, rec in Journal(journal, diagnostics).records():
            if not isinstance(rec.get("id"), str):
                raise error("E411", path=str(journal), reason=f"line {lineno} of the journal is not a document (no id)", partial=str(journal))
            done.add(rec["id"])
    except BiorelError as e:
        if e.code != "E053":
            raise
        raise error("E411", path=str(journal), reason=e.message, partial=str(journal)) from None
    return done


def _progress(console, enabled: bool):
    from rich.progress import Progress, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f} docs/s" if speed else "- docs/s")

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} docs"),
        Rate(),
        TimeElapsedColumn(),
        console=console,
        disable=not enabled,
    )


def extract(
    input: str | os.PathLike,
    model: str | os.PathLike | Any,
    output: str | os.PathLike,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    mode: str | None = None,
    batch_tokens: int = 4096,
    pool_tokens: int | None = None,
    threshold: float = 0.5,
    use_gold_ids: bool = False,
    resume: bool = True,
    lenient: bool = False,
    reader_options: dict[str, Any] | None = None,
    progress: bool = True,
    console=None,
    precision: str = "auto",
    device: str = "auto",
    window_batch: int | None = None,
    evidence: bool = False,
    evidence_top_k: int = 8,
    evidence_method: str = "auto",
    writer_options: dict[str, Any] | None = None,
) -> ExtractStats:
    """Predict every document of ``input`` with ``model`` (a folder or a loaded
    model) and write them to ``output`` (see the module docstring).
    ``precision``: ``auto`` (bf16 where the hardware has native bf16, else
    fp32), ``fp32`` or ``bf16``; see :meth:`biorel.models.BiorelModel.set_precision`.
    ``device``: ``auto`` (a CUDA device when torch sees one, else the CPU),
    ``cpu`` or ``cuda``; the encoder runs there, the rest on the CPU.
    ``window_batch``: encoder windows per forward pass (default: the model's
    ``window_batch``). ``pool_tokens``: the look-ahead sorted by length
    (default ``16 * batch_tokens``; ``batch_tokens`` turns sorting off). ``evidence``: add each relation's evidence sentences and
    its ``evidence_top_k`` strongest token attributions
    (:func:`biorel.models.evidence.add_evidence`)."""
    from rich.console import Console

    from .. import io

    mode = check_options(
        mode=mode,
        batch_tokens=batch_tokens,
        pool_tokens=pool_tokens,
        precision=precision,
        threshold=threshold,
        evidence=evidence,
        evidence_top_k=evidence_top_k,
    )
    console = console or Console(stderr=True)
    out = Path(output)
    if not Path(input).exists():
        raise error("E171", path=str(input))
    in_fmt = io.resolve_format(input, input_format)
    out_fmt = io.get_format(output_format) if output_format else io.detect_format(out) if not out.is_dir() else None
    if out_fmt is None:
        raise error("E412", option=f"-o {out}", reason="the output is a folder; give --output-format")
    if mode == "relate" and in_fmt.name == "text":
        raise error("E412", option="--mode relate", reason="raw text has no entities; use --mode extract")
    _check_writable(out_fmt, out)

    loaded = load_for_extraction(
        model,
        mode=mode,
        text_input=in_fmt.name == "text",
        precision=precision,
        evidence=evidence,
        evidence_top_k=evidence_top_k,
        evidence_method=evidence_method,
        window_batch=window_batch,
        device=device,
    )
    model_obj, model_dir, fingerprint = loaded.model, loaded.folder, loaded.fingerprint
    mode, precision, explain_with = loaded.mode, loaded.precision, loaded.explain_with

    writer_options = _writer_options(out_fmt, writer_options, model, model_obj, model_dir)
    with exclusive_lock(out):
        return _run(
            input,
            in_fmt,
            out,
            out_fmt,
            model_obj,
            model_dir,
            fingerprint,
            mode,
            batch_tokens,
            pool_tokens,
            threshold,
            use_gold_ids,
            resume,
            lenient,
            reader_options,
            progress,
            console,
            precision,
            explain_with,
            writer_options=writer_options,
        )


# ---- the output writer's options: the run's provenance for formats that record it (parquet, issue 17)


def _writer_options(out_fmt, options: dict[str, Any] | None, model_ref, model_obj, model_dir: Path | None) -> dict[str, Any]:
    """The caller's ``writer_options`` (checked now, E005, where the writer
    names its options), plus ``provenance`` (:func:`model_provenance`) for a
    writer that takes it (``parquet``) when the caller gave none."""
    from ..io.base import check_options, option_names

    valid = option_names(out_fmt.api.dump, 2)
    opts = dict(options or {})
    check_options(opts, valid, f"{out_fmt.name} writer")
    if valid is not None and "provenance" in valid and "provenance" not in opts:
        opts["provenance"] = model_provenance(model_ref, model_obj, model_dir)
    return opts


def model_provenance(model_ref, model_obj, model_dir: Path | None) -> dict[str, str | None]:
    """``{"model", "model_version"}``: the model as it was named (a shipped
    model's name or a folder) and ``sha256:`` + 16 hex digits of the hash of
    its ``config.json``, ``labels.json`` and ``*.safetensors`` files; a model
    given in memory is named by its architecture and has no version."""
    if model_dir is None:
        return {"model": model_obj.architecture, "model_version": None}
    h = hashlib.sha256()
    for p in sorted(model_dir.iterdir()):
        if p.is_file() and (p.suffix == ".safetensors" or p.name in ("config.json", "labels.json")):
            h.update(p.name.encode() + b"\0")
            with open(p, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return {"model": str(model_ref), "model_version": f"sha256:{h.hexdigest()[:16]}"}


# ---- shared by both engines (this module's extract, and the Ray engine's actors: extract/ray_engine.py)


def check_options(*, mode, batch_tokens, pool_tokens, precision, threshold, evidence, evidence_top_k) -> str | None:
    """Refuse bad extraction options before anything is read (E412, E532);
    returns ``mode`` under its canonical name (``None`` stays ``None``)."""
    from ..models import MODES
    from ..models.base import MODE_ALIASES, PRECISIONS

    if mode is not None:  # checked again against the model's own modes once it is loaded
        mode = MODE_ALIASES.get(mode, mode)
        if mode not in MODES:
            raise error("E412", option=f"--mode {mode}", reason=f"valid modes: {', '.join(MODES)}")
    if batch_tokens < 1:
        raise error("E412", option=f"--batch-tokens {batch_tokens}", reason="must be at least 1")
    if pool_tokens is not None and pool_tokens < batch_tokens:
        raise error("E412", option=f"--pool-tokens {pool_tokens}", reason=f"must be at least --batch-tokens ({batch_tokens})")
    if precision not in PRECISIONS:
        raise error("E412", option=f"--precision {precision}", reason=f"valid precisions: {', '.join(PRECISIONS)}")
    if not 0.0 <= threshold <= 1.0:
        raise error("E412", option=f"--threshold {threshold}", reason="must lie in [0, 1]")
    if evidence and evidence_top_k < 1:
        raise error("E532", option=f"--evidence-top-k {evidence_top_k}", reason="must be at least 1")
    return mode


@dataclass
class LoadedModel:
    """A model set up for extraction by :func:`load_for_extraction`."""

    model: Any
    folder: Path | None
    fingerprint: str
    mode: str
    precision: str
    explain_with: dict[str, Any] | None


def load_for_extraction(
    model,
    *,
    mode: str | None,
    text_input: bool,
    precision: str,
    evidence: bool,
    evidence_top_k: int,
    evidence_method: str,
    window_batch: int | None,
    device: str = "cpu",
) -> LoadedModel:
    """Load ``model`` (a folder, a shipped model's name, or a loaded model),
    resolve ``mode`` against its modes (E412 for ``relate`` on raw text), set
    its device (``auto``: CUDA when available), precision, evidence method and
    ``window_batch``."""
    from ..models import load_model, resolve_mode

    if isinstance(model, (str, os.PathLike)):
        from ..models.shipped import resolve_model

        model_dir = resolve_model(model)
        model_obj = load_model(model_dir)
        fingerprint = _model_fingerprint(model_dir)
    else:
        model_obj, model_dir, fingerprint = model, None, "(in memory)"
    mode = resolve_mode(mode or model_obj.default_mode, model_obj.capabilities.modes)
    if mode == "relate" and text_input:
        raise error("E412", option="--mode relate", reason="raw text has no entities; use --mode extract")
    model_obj.set_device(device)
    precision = model_obj.set_precision(precision)
    explain_with = _evidence_setting(model_obj, evidence, evidence_top_k, evidence_method)
    if window_batch is not None:
        if window_batch < 1:
            raise error("E412", option=f"--window-batch {window_batch}", reason="must be at least 1")
        model_obj.cfg.window_batch = window_batch
    return LoadedModel(model_obj, model_dir, fingerprint, mode, precision, explain_with)


def predict_documents(
    model_obj,
    docs: Iterable[Document],
    mode: str,
    stats: ExtractStats,
    *,
    batch_tokens: int,
    pool_tokens: int | None,
    threshold: float,
    use_gold_ids: bool,
    explain_with,
) -> Iterator[list[tuple[Document, Document]]]:
    """``(input, prediction)`` pairs of ``docs``, one look-ahead pool at a
    time in input order (:func:`biorel.models.streaming.predict_pools`), with
    evidence when ``explain_with`` is set; evidence counts and documents
    without entities (``relate``) go to ``stats``."""
    options = {"threshold": threshold, **({"use_gold_ids": True} if use_gold_ids else {})}
    for pool in predict_pools(
        lambda b: model_obj.predict(b, mode, **options), docs, model_obj.cost, batch_tokens=batch_tokens, pool_tokens=pool_tokens
    ):
        if explain_with is not None:
            _add_evidence(model_obj, [pred for _, pred in pool], explain_with, stats)
        if mode == "relate":
            stats.without_entities += sum(1 for doc, _ in pool if not doc.mentions)
        yield pool


def _evidence_setting(model_obj, evidence: bool, top_k: int, method: str = "auto") -> dict[str, Any] | None:
    """``{"method", "top_k"}`` when evidence is asked for (E530 for an unknown
    method, E531 when the model cannot explain its relations with it), else ``None``."""
    if not evidence:
        return None
    from ..models.evidence import resolve_method

    return {"method": resolve_method(model_obj, method), "top_k": top_k}


def _run(
    input,
    in_fmt,
    out: Path,
    out_fmt,
    model_obj,
    model_dir,
    fingerprint,
    mode,
    batch_tokens,
    pool_tokens,
    threshold,
    use_gold_ids,
    resume,
    lenient,
    reader_options,
    progress,
    console,
    precision,
    explain_with=None,
    writer_options=None,
) -> ExtractStats:
    """The locked part of :func:`extract`: resume, predict into the journal, write ``out``."""
    from .. import io

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
        "evidence": explain_with,
    }
    done: set[str] = set()
    diags = Diagnostics() if lenient else None
    journal_diags = Diagnostics()
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
            done = read_journal(journal, journal_diags)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(meta, indent=1), "utf-8")

    stats = ExtractStats(output=str(out), resumed=len(done), precision=precision)
    docs = io.read(input, in_fmt.name, lenient=lenient, diagnostics=diags, **(reader_options or {}))
    todo = (d for d in docs if d.id not in done)
    fault = int(os.environ.get(FAULT_ENV, "0") or 0)
    t0 = time.perf_counter()
    with Journal(journal, journal_diags) as jf, _progress(console, progress) as bar:
        task = bar.add_task("extracting", total=None)
        predicted = predict_documents(
            model_obj,
            todo,
            mode,
            stats,
            batch_tokens=batch_tokens,
            pool_tokens=pool_tokens,
            threshold=threshold,
            use_gold_ids=use_gold_ids,
            explain_with=explain_with,
        )
        for pool in predicted:
            for _doc, pred in pool:
                line = Journal.encode(pred.to_dict())
                if fault and stats.written >= fault:
                    jf.write_bytes(line[: len(line) // 2])
                    jf.sync()
                    os.kill(os.getpid(), signal.SIGKILL)
                jf.write_bytes(line)
                stats.written += 1
                stats.count(pred)
            jf.sync()
            bar.update(task, advance=len(pool))
    stats.seconds = time.perf_counter() - t0

    io.write(io.read(journal, "jsonl"), out, out_fmt.name, **(writer_options or {}))  # atomic: out is absent or complete
    journal.unlink()
    meta_path.unlink(missing_ok=True)
    stats.warnings = [_as_warning(p) for p in journal_diags] + _empty_warning(input, stats)
    if diags is not None and len(diags):
        console.print(f"{len(diags)} input problem(s) skipped (lenient): " + "; ".join(str(p) for p in list(diags)[:3]), markup=False)
    return stats


def _add_evidence(model_obj, preds: list[Document], setting: dict[str, Any], stats: ExtractStats) -> None:
    from ..models.evidence import explain

    report = explain(model_obj, preds, top_k=setting["top_k"], method=setting["method"])
    counts = stats.evidence or {"method": report.method, "relations": 0, "explained": 0, "without_mentions": 0, "unscored": 0, "seconds": 0.0}
    for key in ("relations", "explained", "without_mentions", "unscored", "seconds"):
        counts[key] += getattr(report, key)
    stats.evidence = counts


def _check_writable(fmt, out: Path) -> None:
    """Refuse a read-only output format before any work is done."""
    try:
        fmt.api.dumps([])
    except BiorelError as e:
        if e.code == "E004":
            raise error("E412", option=f"-o {out}", reason=f"format '{fmt.name}' cannot be written") from None
    except Exception:  # noqa: BLE001 - only E004 matters here; writers may refuse an empty list otherwise
        pass


def _as_warning(problem) -> BiorelError:
    return BiorelError(problem.code, f"{problem.message} ({problem.action})", where=problem.where)


def _empty_warning(input, stats: ExtractStats) -> list[BiorelError]:
    if stats.written or stats.resumed:
        return []
    what = "an empty folder, or one without files of this format" if Path(input).is_dir() else "the input holds no document"
    return [error("E130", path=str(input), reason=what)]


__all__ = [
    "extract",
    "ExtractStats",
    "check_options",
    "load_for_extraction",
    "LoadedModel",
    "predict_documents",
    "model_provenance",
    "read_journal",
    "partial_paths",
    "batches_by_tokens",
    "FAULT_ENV",
]
