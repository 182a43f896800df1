"""``biorel extract --engine ray``: :mod:`biorel.extract` on Ray Data, for
PubMed-scale inputs, on one machine or an existing Ray cluster (docs/ray.md).

::

    from biorel.extract.ray_engine import extract_ray
    stats = extract_ray("pubmed/baseline/", "bc5cdr-minilm", "out/", workers=8)

* **Shards**: every file of an input folder is one shard (``shard_docs``
  cuts files into shards of that many documents); a single input file is cut
  into shards of ``shard_docs`` (default 1000) documents, counted by a
  streaming read in the driver. A shard is ``(file, first document, count)``:
  its actor reads its own documents, nothing is sent through Ray.
* **Ray Data**: ``from_items(shards)`` (one block per shard) then
  ``map_batches(ExtractActor, batch_size=1)`` on an actor pool of
  ``workers`` actors of ``threads_per_worker`` CPUs each. An actor loads the
  model once (:func:`biorel.extract.load_for_extraction`), sets
  ``torch.set_num_threads``, predicts a shard with the single-process engine's
  :func:`biorel.extract.predict_documents` and writes ``OUT/shard-NNNNN.<ext>``
  with :func:`biorel.io.write` (atomic: absent or complete), or part ``NNNNN``
  for a format that writes parts (``parquet``).
* **Manifest** ``OUT/_manifest.jsonl`` (a :class:`biorel.jobs.Journal`): the
  run's settings on the first line, then one line per finished shard (its
  input, first document, documents, sha256 of their ids, outputs, seconds),
  appended and fsynced by the driver as results stream back. Rerunning skips
  the shards listed whose outputs exist; other settings than the manifest's
  are E553. One writer: ``OUT.lock`` (:func:`biorel.jobs.exclusive_lock`).
* **Faults**: a shard's output has a name of its own and appears whole or not
  at all, so a shard retried after its actor was killed replaces whatever the
  first attempt left. Ray Data restarts dead actors and retries their shard;
  a shard whose actor died ``retries + 1`` times (counted in
  ``OUT/_attempts/``), or whose input cannot be read, is reported (E552) once
  the other shards are done. If Ray itself gives up, the job stops (E556);
  either way the finished shards are in the manifest and a rerun resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from ..errors import BiorelError, Diagnostics, error
from ..jobs import Journal, exclusive_lock
from ..types import Document
from . import ExtractStats, check_options, load_for_extraction, predict_documents

MANIFEST = "_manifest.jsonl"
#: attempts at each shard of the current run (one small file per shard being done)
ATTEMPTS = "_attempts"
#: a single input file cut into shards is split into one biorel JSONL file per shard here
#: (removed once every shard is done), so that each actor reads only its own documents
SPLIT = "_input"
SHARD_PREFIX = "shard-"
#: shard size of a single input file when ``shard_docs`` is not given
DEFAULT_SHARD_DOCS = 1000
#: how shard sizes are planned (recorded in the manifest: a resumed run must plan the same shards);
#: "tapered.v1": the input's last ``2 * shard_docs`` documents in shrinking shards (:func:`tapered_blocks`)
SHARD_PLAN = "tapered.v1"
#: shards are handed out only once the whole actor pool has loaded its models
#: (so that no worker starts late and the shards spread evenly); a pool not up
#: within this many seconds (a cluster without the CPUs asked for) stops the job (E556)
POOL_START_TIMEOUT_S = 600
#: fault injection for tests: while ``<dir>/hold`` exists, the first actor to
#: send a shard's first document to the writer writes its pid and the shard's
#: id to ``<dir>/held`` and waits (the test kills it meanwhile); the others go on
HOLD_ENV = "BIOREL_RAY_HOLD_DIR"
#: settings that change what is written; a resumed run must have the same
RUN_KEYS = (
    "inputs",
    "shard_docs",
    "shard_plan",
    "lenient",
    "reader_options",
    "model",
    "model_fingerprint",
    "mode",
    "threshold",
    "use_gold_ids",
    "precision",
    "evidence",
    "output_format",
    "writer_options",
)


@dataclass(frozen=True)
class Shard:
    """Documents ``start`` to ``start + count`` of one input file (``count``
    ``None``: to the end of the file)."""

    id: str
    input: str
    format: str
    start: int = 0
    count: int | None = None
    #: the shard's documents split off into their own biorel JSONL file (see :func:`split_file`)
    split: str | None = None


@dataclass
class RayExtractStats(ExtractStats):
    """:class:`biorel.extract.ExtractStats` plus the shards: ``written`` and
    what was found count this run's shards, ``resumed`` the documents of
    shards done before."""

    shards: int = 0
    shards_done: int = 0
    shards_resumed: int = 0
    workers: int = 1
    threads_per_worker: int = 1
    address: str = "local"
    manifest: str = ""
    #: seconds from the start of the Ray job to the first finished shard (actors starting, models loading)
    first_result_seconds: float = 0.0
    #: seconds from the start of the Ray job until the first shard began (Ray and its actors starting, models loading)
    startup_seconds: float = 0.0
    #: lenient reading: input problems skipped, and the first few
    input_problems: int = 0
    first_problems: list[str] = field(default_factory=list)

    def add_shard(self, result: dict[str, Any]) -> None:
        """Count a finished shard's result (see :meth:`ExtractActor.run`)."""
        self.shards_done += 1
        self.input_problems += result["n_problems"]
        self.first_problems.extend(result["problems"][: max(0, 3 - len(self.first_problems))])
        self.written += result["docs"]
        self.without_entities += result["without_entities"]
        self.mention_types.update(result["mention_types"])
        self.relation_types.update(result["relation_types"])
        room = max(0, 5 - len(self.examples))
        self.examples.extend(tuple(e) for e in result["examples"][:room])
        for key, value in (result.get("evidence") or {}).items():
            self.evidence[key] = value if key == "method" else self.evidence.get(key, 0) + value


# ---------------------------------------------------------------- the run


def extract_ray(
    input: str | os.PathLike,
    model: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    workers: int = 2,
    address: str | None = None,
    shard_docs: int | None = None,
    threads_per_worker: int = 1,
    retries: int = 3,
    input_format: str | None = None,
    output_format: str = "jsonl",
    mode: str | None = None,
    batch_tokens: int = 4096,
    pool_tokens: int | None = None,
    threshold: float = 0.5,
    use_gold_ids: bool = False,
    resume: bool = True,
    lenient: bool = False,
    reader_options: dict[str, Any] | None = None,
    precision: str = "auto",
    window_batch: int | None = None,
    evidence: bool = False,
    evidence_top_k: int = 8,
    evidence_method: str = "auto",
    writer_options: dict[str, Any] | None = None,
    progress: bool = True,
    console=None,
) -> RayExtractStats:
    """Predict every document of ``input`` (a file or a folder of files) with
    ``model`` (a folder or a shipped model's name) on Ray and write shards into
    the folder ``output_dir`` (see the module docstring). ``address``: ``None``
    starts a local Ray instance of ``workers * threads_per_worker`` CPUs (or
    uses the one this process is already connected to); ``"auto"`` or
    ``"host:port"`` connects to an existing cluster. The other options are
    :func:`biorel.extract.extract`'s."""
    from rich.console import Console

    mode = check_options(
        mode=mode,
        batch_tokens=batch_tokens,
        pool_tokens=pool_tokens,
        precision=precision,
        threshold=threshold,
        evidence=evidence,
        evidence_top_k=evidence_top_k,
    )
    _check_ray_options(model=model, workers=workers, threads_per_worker=threads_per_worker, shard_docs=shard_docs, retries=retries)
    console = console or Console(stderr=True)
    out = _output_folder(output_dir)
    files = input_files(input, input_format)
    predict = {"mode": mode, "threshold": threshold, "use_gold_ids": use_gold_ids, "batch_tokens": batch_tokens, "pool_tokens": pool_tokens}
    predict |= {"precision": precision, "window_batch": window_batch, "evidence_top_k": evidence_top_k, "evidence_method": evidence_method}
    settings = actor_settings(model, files, out, output_format, writer_options, evidence=evidence, **predict)
    settings |= {"lenient": lenient, "reader_options": reader_options or {}, "threads": threads_per_worker, "retries": retries}
    if shard_docs is None and not Path(input).is_dir():
        shard_docs = DEFAULT_SHARD_DOCS
    run = {"inputs": [[str(p), fmt, p.stat().st_size] for p, fmt in files], "shard_docs": shard_docs, "shard_plan": SHARD_PLAN, **settings}
    with exclusive_lock(out), ShardManifest(out) as manifest:
        split = out / SPLIT if len(files) == 1 and shard_docs is not None else None
        read_problems = Diagnostics()
        shards = plan_shards(files, shard_docs, lenient=lenient, reader_options=reader_options, split_dir=split, diagnostics=read_problems)
        done = manifest.start({k: run[k] for k in RUN_KEYS}, shards, resume)
        stats = _new_stats(out, manifest, settings["precision"], shards, done, workers, threads_per_worker, address)
        todo = [s for s in shards if s.id not in done]
        if todo:
            _run_shards(todo, settings, manifest, stats, address=address, progress=progress, console=console)
        if split is not None:  # every shard is done (_run_shards raised otherwise)
            shutil.rmtree(split, ignore_errors=True)
        stats.input_problems += len(read_problems)
        stats.first_problems.extend(str(p) for p in list(read_problems)[: max(0, 3 - len(stats.first_problems))])
    _add_warnings(stats, manifest, input, console)
    return stats


def actor_settings(model, files, out: Path, output_format: str, writer_options, *, mode, evidence: bool, **predict) -> dict[str, Any]:
    """What every actor needs (JSON): the model (loaded here once to check it
    and the options, E412/E53x), how to predict and how to write."""
    from .. import io
    from . import _check_writable, _writer_options

    out_fmt = io.get_format(output_format)
    _check_writable(out_fmt, out)
    if writes_parts(out_fmt) and "part" in (writer_options or {}):
        raise error("E555", option="writer option part", reason="the Ray engine names the parts after its shards")
    loaded = load_for_extraction(
        model,
        mode=mode,
        text_input=any(fmt == "text" for _, fmt in files),
        precision=predict["precision"],
        evidence=evidence,
        evidence_top_k=predict["evidence_top_k"],
        evidence_method=predict["evidence_method"],
        window_batch=predict["window_batch"],
    )
    return {
        **predict,
        "model": str(loaded.folder),
        "model_fingerprint": loaded.fingerprint,
        "mode": loaded.mode,
        "precision": loaded.precision,
        "evidence": loaded.explain_with,
        "output": str(out),
        "output_format": out_fmt.name,
        "writer_options": _writer_options(out_fmt, writer_options, model, loaded.model, loaded.folder),
    }


def _add_warnings(stats: RayExtractStats, manifest: ShardManifest, input, console) -> None:
    """A torn manifest line (E052), input problems skipped (lenient), no document (E130)."""
    from . import _as_warning

    stats.warnings = [_as_warning(p) for p in manifest.diagnostics] + stats.warnings
    if stats.input_problems:
        console.print(f"{stats.input_problems} input problem(s) skipped (lenient): " + "; ".join(stats.first_problems), markup=False)
    if not stats.written and not stats.resumed:
        what = "an empty folder" if Path(input).is_dir() else "the input holds no document"
        stats.warnings.append(error("E130", path=str(input), reason=what))


def _new_stats(out: Path, manifest: ShardManifest, precision: str, shards, done, workers, threads_per_worker, address) -> RayExtractStats:
    return RayExtractStats(
        output=str(out),
        precision=precision,
        shards=len(shards),
        shards_resumed=len(done),
        resumed=sum(r["docs"] for r in done.values()),
        workers=workers,
        threads_per_worker=threads_per_worker,
        address=address or "local",
        manifest=str(manifest.path),
    )


def _check_ray_options(*, model, workers: int, threads_per_worker: int, shard_docs: int | None, retries: int) -> None:
    if not isinstance(model, (str, os.PathLike)):
        raise error("E555", option="model", reason="give a model folder or a shipped model's name: every actor loads its own copy")
    for name, value, least in (("--workers", workers, 1), ("--threads", threads_per_worker, 1), ("retries", retries, 0)):
        if value < least:
            raise error("E555", option=f"{name} {value}", reason=f"must be at least {least}")
    if shard_docs is not None and shard_docs < 1:
        raise error("E555", option=f"--shard-docs {shard_docs}", reason="must be at least 1")


def _output_folder(output_dir: str | os.PathLike) -> Path:
    out = Path(output_dir).absolute()
    if out.exists() and not out.is_dir():
        raise error("E554", path=str(out), reason="is a file; give a folder (-o OUT/)")
    out.mkdir(parents=True, exist_ok=True)
    return out


def writes_parts(fmt) -> bool:
    """Whether a format writes one part of a folder at a time (its ``dump``
    takes ``part``: ``parquet``); other formats get one file per shard."""
    from ..io.base import option_names

    return fmt.directory and "part" in (option_names(fmt.api.dump, 2) or ())


def _run_shards(todo: list[Shard], settings, manifest: ShardManifest, stats: RayExtractStats, *, address, progress, console) -> None:
    """Run ``todo`` on Ray, appending each finished shard to the manifest as it
    streams back; E556 when Ray gives up, E552 for shards that failed."""
    from . import _progress

    failed: list[dict[str, Any]] = []
    attempts = manifest.folder / ATTEMPTS
    shutil.rmtree(attempts, ignore_errors=True)
    t0, wall0 = time.perf_counter(), time.time()
    with ray_session(address, stats.workers * stats.threads_per_worker) as ray:
        console.print(_start_line(stats, len(todo), ray), markup=False, highlight=False, soft_wrap=True)
        with _quiet_ray_data(ray), _progress(console, progress) as bar:
            ds = _dataset(ray, todo, settings, stats.workers, stats.threads_per_worker)
            task = bar.add_task(f"extracting on ray ({stats.workers} x {stats.threads_per_worker} threads)", total=None)
            for result in _results(ds, manifest):
                stats.first_result_seconds = stats.first_result_seconds or time.perf_counter() - t0
                if result.get("error"):
                    failed.append(result)
                    continue
                manifest.add(result)
                stats.add_shard(result)
                began = result["started_at"] - wall0  # node clocks: the same machine, or NTP-close
                stats.startup_seconds = min(stats.startup_seconds, began) if stats.shards_done > 1 else began
                bar.update(task, advance=result["docs"])
    stats.seconds = time.perf_counter() - t0
    if not failed:
        shutil.rmtree(attempts, ignore_errors=True)
    _check_complete(todo, manifest, failed)


def _start_line(stats: RayExtractStats, n_todo: int, ray) -> str:
    cpus = int(ray.cluster_resources().get("CPU", 0))
    resumed = f", {stats.shards_resumed} done before" if stats.shards_resumed else ""
    return (
        f"ray ({stats.address}, {cpus} CPUs): {n_todo} of {stats.shards} shards to do{resumed}; "
        f"{stats.workers} workers x {stats.threads_per_worker} threads"
    )


def _dataset(ray, todo: list[Shard], settings: dict[str, Any], workers: int, threads: int):
    """One block per shard (a task per shard, retried alone), each actor one
    shard at a time. Ray Data restarts a dead actor and retries its task
    (``max_restarts=-1``, ``max_task_retries=-1`` are its defaults for actor
    pools); the actor bounds the attempts of a shard itself (:func:`_attempt`)."""
    items = [{"shard": json.dumps(asdict(s))} for s in dispatch_order(todo)]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    return ds.map_batches(
        ExtractActor,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=1),
        num_cpus=threads,
        fn_constructor_kwargs={"settings": settings},
    )


def dispatch_order(shards: list[Shard]) -> list[Shard]:
    """The largest shards first (by documents, or by bytes for whole files),
    the plan's order among equals: the longest jobs start early and the short
    ones fill the end, so the workers finish close together."""

    def size(s: Shard) -> int:
        return s.count if s.count is not None else Path(s.input).stat().st_size

    return sorted(shards, key=size, reverse=True)


def _results(ds, manifest: ShardManifest) -> Iterator[dict[str, Any]]:
    """The shards' results as Ray streams them back; a Ray failure is E556."""
    try:
        for row in ds.iter_rows():
            yield json.loads(row["result"])
    except BiorelError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever Ray raises (task failed after retries, cluster lost) stops the job
        reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        raise error("E556", reason=reason, manifest=str(manifest.path)) from e


def _check_complete(todo: list[Shard], manifest: ShardManifest, failed: list[dict[str, Any]]) -> None:
    """Every shard of ``todo`` is in the manifest, or failed (E552)."""
    done = manifest.done_ids()
    missing = [s.id for s in todo if s.id not in done and not any(f["shard"] == s.id for f in failed)]
    if missing:
        raise error("E556", reason=f"Ray returned no result for shard(s) {', '.join(missing[:5])}", manifest=str(manifest.path))
    if failed:
        first = failed[0]
        raise error("E552", n=len(failed), path=first["input"], reason=f"shard {first['shard']}: {first['error']}", manifest=str(manifest.path))


# ---------------------------------------------------------------- Ray


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data is the part needed
    except ImportError as e:
        raise error("E550", reason=str(e)) from None
    return ray


@contextmanager
def ray_session(address: str | None, num_cpus: int):
    """Yield the ``ray`` module connected to a cluster: the one this process is
    already connected to, else a new local instance (``address=None``, of
    ``num_cpus`` CPUs, no dashboard) or the cluster at ``address``. Disconnects
    (and stops the local instance) only if it connected."""
    ray = _import_ray()
    if ray.is_initialized():
        connected = ray.get_runtime_context().gcs_address
        if address not in (None, "auto", connected):
            raise error("E551", address=address, reason=f"this process is already connected to the Ray cluster at {connected}")
        yield ray
        return
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address is None:
            # no dashboard, so nothing reads the metrics: collecting them would only take CPU from the actors
            ray.init(num_cpus=num_cpus, include_dashboard=False, _system_config={"enable_metrics_collection": False}, **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, ValueError, RuntimeError, TimeoutError) as e:
        raise error("E551", address=address or "(a new local instance)", reason=str(e).strip().splitlines()[0]) from None
    try:
        yield ray
    finally:
        ray.shutdown()


@contextmanager
def _quiet_ray_data(ray):
    """Ray Data without its own progress bars and log lines below errors
    (biorel shows its own progress); datasets made inside take these settings."""
    ctx = ray.data.DataContext.get_current()
    log = logging.getLogger("ray.data")
    saved = ctx.enable_progress_bars, ctx.print_on_execution_start, ctx.wait_for_min_actors_s, log.level
    ctx.enable_progress_bars, ctx.print_on_execution_start = False, False
    ctx.wait_for_min_actors_s = POOL_START_TIMEOUT_S
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        ctx.enable_progress_bars, ctx.print_on_execution_start, ctx.wait_for_min_actors_s, level = saved
        log.setLevel(level)


# ---------------------------------------------------------------- shards


def input_files(input: str | os.PathLike, input_format: str | None) -> list[tuple[Path, str]]:
    """``(file, format name)`` of each input: the file itself, or the files of
    a folder (sorted; names starting with ``.`` or ``_`` skipped), each of
    ``input_format`` or of its detected format. A folder read whole by its
    format (``-f brat``, ``-f text``) is one input."""
    from .. import io

    src = Path(input)
    if not src.exists():
        raise error("E171", path=str(input))
    given = io.get_format(input_format) if input_format else None
    if src.is_dir() and not (given and given.directory):
        paths = sorted(p for p in src.iterdir() if p.is_file() and not p.name.startswith((".", "_")))
    else:
        paths = [src]
    return [(p.absolute(), (given or io.detect_format(p)).name) for p in paths]


def plan_shards(
    files: list[tuple[Path, str]],
    shard_docs: int | None,
    *,
    lenient: bool,
    reader_options: dict[str, Any] | None,
    split_dir: Path | None = None,
    diagnostics: Diagnostics | None = None,
) -> list[Shard]:
    """The shards of ``files``: one per file, or ranges of ``shard_docs``
    documents (the documents are counted by reading each file once), the last
    file's final ``2 * shard_docs`` documents in shrinking ranges
    (:func:`tapered_blocks`). With ``split_dir`` (one input file), that one read
    also writes each range to its own JSONL file there (:func:`split_file`),
    and the shards are those files: an actor then reads its own documents
    only, not the file up to them."""
    shards: list[Shard] = []
    for i, (path, fmt) in enumerate(files):
        if shard_docs is not None and split_dir is not None:
            shards.extend(
                split_file(
                    path, fmt, shard_docs, split_dir, first=len(shards), lenient=lenient, reader_options=reader_options, diagnostics=diagnostics
                )
            )
            continue
        if shard_docs is None:
            ranges = [(0, None)]
        else:
            n = sum(1 for _ in _read(str(path), fmt, lenient, reader_options, Diagnostics()))
            blocks = tapered_blocks(iter(range(n)), shard_docs) if i == len(files) - 1 else _blocks(iter(range(n)), shard_docs)
            ranges = [(b[0], len(b)) for b in blocks]
        first = len(shards)
        shards.extend(Shard(f"{first + k:05d}", str(path), fmt, start, count) for k, (start, count) in enumerate(ranges))
    return shards


def _blocks(items: Iterator, size: int) -> Iterator[list]:
    while block := list(islice(items, size)):
        yield block


def tapered_blocks(items: Iterator, size: int) -> Iterator[list]:
    """``items`` in blocks of ``size``, except the last ``2 * size`` (or all, if
    fewer): those go in shrinking blocks, each a quarter of what is left (at
    least ``size // 8``, at most ``size``), as in guided self-scheduling. The
    shards handed out last are then short, and the workers finish together
    instead of one waiting for another's last full shard. Streams, holding
    ``3 * size`` items at most; the sizes depend only on the count of items."""
    pending: list = []
    for item in items:
        pending.append(item)
        if len(pending) == 3 * size:
            yield pending[:size]
            pending = pending[size:]
    while len(pending) > 2 * size:
        yield pending[:size]
        pending = pending[size:]
    smallest = max(1, size // 8)
    while pending:
        k = min(size, max(smallest, -(-len(pending) // 4)))
        yield pending[:k]
        pending = pending[k:]


def split_file(
    path: Path,
    fmt: str,
    shard_docs: int,
    folder: Path,
    *,
    first: int,
    lenient: bool,
    reader_options: dict[str, Any] | None,
    diagnostics: Diagnostics | None = None,
) -> list[Shard]:
    """Stream ``path`` once into the files of its shards (``folder/NNNNN.jsonl``,
    biorel JSONL, each written atomically; sizes as :func:`tapered_blocks`
    cuts ``shard_docs``): the shards of ``path`` (documents ``start`` to
    ``start + count``) with their ``split`` file. Records a lenient read
    skips go to ``diagnostics``."""
    from .. import io

    folder.mkdir(parents=True, exist_ok=True)
    docs = _read(str(path), fmt, lenient, reader_options, diagnostics if diagnostics is not None else Diagnostics())
    shards: list[Shard] = []
    start = 0
    for block in tapered_blocks(docs, shard_docs):
        shard_id = f"{first + len(shards):05d}"
        target = folder / f"{shard_id}.jsonl"
        io.write(block, target, "jsonl")
        shards.append(Shard(shard_id, str(path), fmt, start, len(block), split=str(target)))
        start += len(block)
    return shards


def _read(path: str, fmt: str, lenient: bool, reader_options: dict[str, Any] | None, diagnostics: Diagnostics | None) -> Iterator[Document]:
    from .. import io

    return io.read(path, fmt, lenient=lenient, diagnostics=diagnostics if lenient else None, **(reader_options or {}))


def read_shard(shard: Shard, lenient: bool, reader_options: dict[str, Any] | None, diagnostics: Diagnostics | None = None) -> Iterator[Document]:
    """The documents of ``shard``, streamed: its split file, else its input
    file read from the start."""
    if shard.split is not None:
        return _read(shard.split, "jsonl", False, None, None)
    docs = _read(shard.input, shard.format, lenient, reader_options, diagnostics)
    return islice(docs, shard.start, None if shard.count is None else shard.start + shard.count)


class ShardManifest:
    """``OUT/_manifest.jsonl``: ``{"run": settings}``, then one record per
    finished shard (``shard``, ``input``, ``start``, ``count``, ``docs``,
    ``ids_sha256``, ``outputs``, ``seconds``, ``started_at``, ``worker``).
    Use as a context manager."""

    RECORD_KEYS = ("shard", "input", "start", "count", "docs", "ids_sha256", "outputs", "seconds")
    #: where known: when the shard began (epoch seconds, the worker's clock) and which worker did it (host:pid)
    TIMELINE_KEYS = ("started_at", "worker")

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / MANIFEST
        self.diagnostics = Diagnostics()
        self.journal = Journal(self.path, self.diagnostics)
        self._done: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> ShardManifest:
        return self

    def __exit__(self, *exc) -> None:
        self.journal.close()

    def start(self, run: dict[str, Any], shards: list[Shard], resume: bool) -> dict[str, dict[str, Any]]:
        """Begin or resume; returns the records of the shards already done
        (listed, with every output in place)."""
        records = self._read()
        if records and not resume:
            self._remove_outputs(records)
            records = []
        if not records:
            self.path.unlink(missing_ok=True)
            self.journal = Journal(self.path, self.diagnostics)
            self.journal.append({"run": run})
            return {}
        self._check_run(records[0].get("run"), run)
        planned = {s.id: s for s in shards}
        for rec in records[1:]:
            self._check_shard(rec, planned.get(rec.get("shard")))
            if all((self.folder / o).exists() for o in rec["outputs"]):
                self._done[rec["shard"]] = rec
        return dict(self._done)

    def add(self, result: dict[str, Any]) -> None:
        """Record a finished shard (one line, fsynced)."""
        self.journal.append({k: result[k] for k in self.RECORD_KEYS} | {k: result[k] for k in self.TIMELINE_KEYS if k in result})
        self._done[result["shard"]] = result

    def done_ids(self) -> set[str]:
        return set(self._done)

    def _read(self) -> list[dict[str, Any]]:
        try:
            return self.journal.read()
        except BiorelError as e:  # E053: a line that is not a record
            if e.code != "E053":
                raise
            raise self._mismatch(e.message) from None

    def _check_run(self, old: Any, run: dict[str, Any]) -> None:
        if not isinstance(old, dict):
            raise self._mismatch("its first line is not the run's settings")
        diff = [k for k in run if old.get(k) != run[k]]
        if diff:
            raise self._mismatch(f"the earlier run used different {', '.join(diff)}")

    def _check_shard(self, rec: dict[str, Any], planned: Shard | None) -> None:
        if planned is None or not isinstance(rec.get("outputs"), list):
            raise self._mismatch(f"shard {rec.get('shard')!r} of the manifest is not a shard of this input")
        if (rec.get("input"), rec.get("start"), rec.get("count")) != (planned.input, planned.start, planned.count):
            raise self._mismatch(f"shard {planned.id} was {rec.get('input')} from document {rec.get('start')}; the input changed")

    def _mismatch(self, reason: str) -> BiorelError:
        return error("E553", path=str(self.folder), reason=reason, manifest=str(self.path))

    def _remove_outputs(self, records: list[dict[str, Any]]) -> None:
        """Start over: remove the outputs the old manifest lists, and those of
        shards written but not yet listed (``shard-N*``, ``*/part-N*``)."""
        listed = {o for rec in records[1:] for o in rec.get("outputs") or ()}
        found = [*self.folder.glob(f"{SHARD_PREFIX}[0-9]*"), *self.folder.glob("*/part-[0-9]*")]
        strays = {str(p.relative_to(self.folder)) for p in found if p.is_file()}
        root = self.folder.resolve()
        for rel in sorted(listed | strays):
            target = self.folder / rel
            if target.is_file() and target.resolve().is_relative_to(root):
                target.unlink()


# ---------------------------------------------------------------- the actor


class ExtractActor:
    """One Ray actor of the pool: loads the model once, then extracts one shard
    per call (``batch_size=1``) and returns its result as JSON."""

    def __init__(self, settings: dict[str, Any]):
        import torch

        torch.set_num_threads(settings["threads"])
        os.environ.setdefault("RAYON_NUM_THREADS", str(settings["threads"]))  # the tokenizer's thread pool, before its first use
        self.settings = settings
        self.loaded = load_for_extraction(
            settings["model"],
            mode=settings["mode"],
            text_input=False,  # the driver checked --mode relate against the inputs
            precision=settings["precision"],
            evidence=settings["evidence"] is not None,
            evidence_top_k=settings["evidence_top_k"],
            evidence_method=settings["evidence_method"],
            window_batch=settings["window_batch"],
        )
        if self.loaded.fingerprint != settings["model_fingerprint"]:
            raise error("E553", path=settings["output"], reason="the model folder changed on this node", manifest=MANIFEST)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        return {"result": [json.dumps(self.run(Shard(**json.loads(text)))) for text in batch["shard"]]}

    def run(self, shard: Shard) -> dict[str, Any]:
        """Extract ``shard``: its result (what the manifest records, plus what
        was found), or ``{"shard", "input", "error"}`` for a biorel error."""
        t0, started_at = time.perf_counter(), time.time()
        out = Path(self.settings["output"])
        tries = _attempt(out, shard)
        if tries > self.settings["retries"] + 1:
            return _failure(shard, f"its worker died in each of {tries - 1} attempts (killed, or out of memory?)")
        stats = ExtractStats(output=str(out), precision=self.loaded.precision)
        diags = Diagnostics()
        digest = hashlib.sha256()
        try:
            preds = self._predictions(shard, stats, diags, digest)
            outputs = write_shard(preds, shard, out, self.settings["output_format"], self.settings["writer_options"])
        except BiorelError as e:
            return _failure(shard, str(e))
        finally:
            (out / ATTEMPTS / shard.id).unlink(missing_ok=True)
        return {
            **asdict(shard),
            "shard": shard.id,
            "docs": stats.written,
            "ids_sha256": digest.hexdigest(),
            "outputs": outputs,
            "seconds": round(time.perf_counter() - t0, 3),
            "started_at": started_at,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "without_entities": stats.without_entities,
            "mention_types": dict(stats.mention_types),
            "relation_types": dict(stats.relation_types),
            "examples": stats.examples,
            "evidence": stats.evidence,
            "problems": [str(p) for p in list(diags)[:3]],
            "n_problems": len(diags),
        }

    def _predictions(self, shard: Shard, stats: ExtractStats, diags: Diagnostics, digest) -> Iterator[Document]:
        s, m = self.settings, self.loaded
        docs = read_shard(shard, s["lenient"], s["reader_options"], diags)
        options = {k: s[k] for k in ("batch_tokens", "pool_tokens", "threshold", "use_gold_ids")}
        for pool in predict_documents(m.model, docs, m.mode, stats, explain_with=m.explain_with, **options):
            for _doc, pred in pool:
                digest.update(pred.id.encode("utf-8") + b"\n")
                stats.written += 1
                stats.count(pred)
                yield pred
                if stats.written == 1:
                    _hold_point(shard)


def _attempt(out: Path, shard: Shard) -> int:
    """Count one more attempt at ``shard`` in ``OUT/_attempts/<id>`` (the
    driver clears the folder when a run starts; the file goes once the shard
    is written or has failed) and return the count."""
    path = out / ATTEMPTS / shard.id
    path.parent.mkdir(exist_ok=True)
    tries = int(path.read_text("ascii") or 0) + 1 if path.exists() else 1
    path.write_text(str(tries), "ascii")
    return tries


def _failure(shard: Shard, reason: str) -> dict[str, Any]:
    return {"shard": shard.id, "input": shard.input, "error": reason}


def write_shard(docs: Iterator[Document], shard: Shard, out: Path, fmt_name: str, writer_options: dict[str, Any]) -> list[str]:
    """Write a shard's documents (atomically) and return its outputs' paths
    relative to ``out``: ``shard-NNNNN.<ext>``, or part ``NNNNN`` of a format
    that writes parts (one file per table)."""
    from .. import io

    fmt = io.get_format(fmt_name)
    if writes_parts(fmt):
        fmt.api.dump(docs, out, part=shard.id, **writer_options)
        return sorted(str(p.relative_to(out)) for d in out.iterdir() if d.is_dir() for p in d.glob(f"part-{shard.id}.*"))
    name = f"{SHARD_PREFIX}{shard.id}{fmt.extensions[0] if fmt.extensions else ''}"
    io.write(docs, out / name, fmt.name, **writer_options)
    return [name]


def _hold_point(shard: Shard) -> None:
    """Fault injection (:data:`HOLD_ENV`)."""
    folder = os.environ.get(HOLD_ENV)
    if not folder or not (Path(folder) / "hold").exists():
        return
    try:
        fd = os.open(Path(folder) / "held", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:  # another actor is the one held
        return
    os.write(fd, f"{os.getpid()} {shard.id}".encode())
    os.close(fd)
    while (Path(folder) / "hold").exists():
        time.sleep(0.05)


__all__ = [
    "extract_ray",
    "RayExtractStats",
    "Shard",
    "ShardManifest",
    "ExtractActor",
    "input_files",
    "plan_shards",
    "read_shard",
    "write_shard",
    "writes_parts",
    "ray_session",
    "MANIFEST",
    "DEFAULT_SHARD_DOCS",
    "HOLD_ENV",
]
