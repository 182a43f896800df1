"""The domain-adaptive pretraining (DAPT) corpus: every abstract biorel can
read from the registered datasets, the dataset mirror's PubMed/MEDLINE files
and any files a user adds, de-duplicated, with the test splits left out.

::

    report = build_corpus(["pubmed/"], "runs/dapt/corpus.jsonl")

Sources, in this order (the first copy of a duplicate is kept):

1. every registered dataset's splits except the excluded ones (``test``), read
   from its default variant (fold datasets: every fold);
2. the files of the mirror (``$BIOREL_DATA_MIRROR``) that belong to no
   registered dataset and are PubMed XML or MEDLINE; every other such file is
   listed in the report with the reason it was not read;
3. the user's files and folders (a folder: its files, recursively, each read in
   the format its name and content say; ``X.txt`` beside ``X.ann`` is read
   through the ``.ann``), any readable format (PubMed ``.xml.gz`` baseline
   files included).

The test index (:class:`~biorel.pretrain.overlap.ExclusionIndex`) holds the excluded
splits of *every variant* of every registered dataset; a document that overlaps
it is left out (the reasons are in :mod:`biorel.pretrain.overlap`). A document
with the same normalised text, or the same PMID, as an earlier one is a
duplicate. The counts per source add up: read = empty + excluded + duplicates +
written (E584 otherwise). The corpus is biorel JSON lines (passages only,
``metadata``: source, source id, PMID), shuffled with a seed (an external
shuffle: memory stays bounded), written atomically with its report
``NAME.report.json`` beside it.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BiorelError, Diagnostics, error
from ..jobs import Journal, atomic_output, exclusive_lock
from ..types import Document, Passage
from .overlap import ExclusionIndex, pmid_of, text_key, words

#: reader options that give a format's plain text (ChemProt's entity markers removed)
READER_OPTIONS: dict[str, dict[str, Any]] = {"chemprot-scibert": {"strip_markers": True}}
#: formats read from mirror files that belong to no registered dataset
MIRROR_FORMATS = ("pubmed-xml", "medline")
#: file names (lower-cased, without extension) that are documentation, not data
DOC_NAMES = ("readme", "license", "licence", "copying", "source_readme", "source_repo_license_mit")
#: documents per bucket of the external shuffle
SHUFFLE_BUCKET = 50_000


@dataclass(frozen=True)
class Source:
    """One stream of documents: ``read(diagnostics)`` opens it (lenient: what
    it skips goes to ``diagnostics``); ``fmt`` decides whether ids are PMIDs."""

    label: str
    fmt: str | None
    read: Callable[[Diagnostics], Iterator[Document]]


@dataclass
class SourceCounts:
    source: str
    format: str | None
    read: int = 0
    empty: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    written: int = 0
    problems: int = 0
    problem_examples: list[str] = field(default_factory=list)

    def count(self, kind: str, reason: str) -> None:
        table = self.excluded if kind == "excluded" else self.duplicates
        table[reason] = table.get(reason, 0) + 1

    def check(self) -> None:
        total = self.empty + sum(self.excluded.values()) + sum(self.duplicates.values()) + self.written
        if total != self.read:
            raise error("E584", source=self.source, what=f"{self.read} read but {total} accounted for")


@dataclass
class CorpusReport:
    output: str
    sources: list[SourceCounts] = field(default_factory=list)
    excluded_splits: list[str] = field(default_factory=list)
    test_splits: list[dict[str, Any]] = field(default_factory=list)
    test_index: dict[str, Any] = field(default_factory=dict)
    unused_files: list[dict[str, str]] = field(default_factory=list)
    seed: int = 13
    seconds: float = 0.0

    def totals(self) -> dict[str, int]:
        out: Counter = Counter()
        for s in self.sources:
            out.update(read=s.read, empty=s.empty, written=s.written, problems=s.problems)
            out.update(excluded=sum(s.excluded.values()), duplicates=sum(s.duplicates.values()))
        return {k: out[k] for k in ("read", "empty", "excluded", "duplicates", "written", "problems")}

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["totals"] = self.totals()
        return d

    def lines(self) -> list[str]:
        """A plain-text table: one line per source, then the totals."""
        head = f"{'source':<34} {'read':>7} {'empty':>6} {'test':>6} {'dupl.':>6} {'written':>8} {'problems':>8}"
        rows = [head]
        for s in self.sources:
            label = s.source if len(s.source) <= 34 else "..." + s.source[-31:]
            rows.append(
                f"{label:<34} {s.read:>7} {s.empty:>6} {sum(s.excluded.values()):>6} {sum(s.duplicates.values()):>6} {s.written:>8} {s.problems:>8}"
            )
        t = self.totals()
        rows.append(f"{'total':<34} {t['read']:>7} {t['empty']:>6} {t['excluded']:>6} {t['duplicates']:>6} {t['written']:>8} {t['problems']:>8}")
        return rows


# ---- sources -------------------------------------------------------------------


def _split_keys(spec, variant: str) -> Iterator[tuple[str, int | None, str]]:
    """``(split, fold, format)`` for every split key of a variant."""
    for key, split_spec in spec.variants[variant].items():
        split, _, fold = key.partition("/")
        yield split, int(fold) if fold else None, split_spec.parts[0].format


def _dataset_source(name: str, variant: str, split: str, fold: int | None, fmt: str) -> Source:
    from ..datasets import iter_dataset

    label = "/".join([name, split] + ([str(fold)] if fold is not None else []))
    options = READER_OPTIONS.get(fmt, {})

    def read(diags: Diagnostics) -> Iterator[Document]:
        return iter_dataset(name, split, variant=variant, fold=fold, lenient=True, diagnostics=diags, validate=False, reader_options=options)

    return Source(label, fmt, read)


def dataset_sources(exclude_splits: Sequence[str]) -> list[Source]:
    """Every registered dataset's splits but ``exclude_splits``, default variant."""
    from ..datasets import get_dataset, list_datasets

    out = []
    for name in list_datasets():
        spec = get_dataset(name)
        variant = spec.default_variant
        out += [_dataset_source(name, variant, s, f, fmt) for s, f, fmt in _split_keys(spec, variant) if s not in exclude_splits]
    return out


def test_sources(splits: Sequence[str]) -> list[Source]:
    """The ``splits`` of every variant of every registered dataset (the test index)."""
    from ..datasets import get_dataset, list_datasets

    out = []
    for name in list_datasets():
        spec = get_dataset(name)
        for variant in spec.variants:
            for s, f, fmt in _split_keys(spec, variant):
                if s in splits:
                    src = _dataset_source(name, variant, s, f, fmt)
                    out.append(Source(f"{src.label} ({variant})", fmt, src.read))
    return out


def _path_source(path: Path, fmt: str, options: dict[str, Any], lenient: bool = True, label: str | None = None) -> Source:
    from .. import io

    def read(diags: Diagnostics) -> Iterator[Document]:
        return io.read(path, fmt, lenient=lenient, diagnostics=diags, validate=False, **options)

    return Source(label or str(path), fmt, read)


def _is_documentation(path: Path) -> bool:
    return path.name.lower().split(".")[0] in DOC_NAMES or path.suffix.lower() == ".md"


def _detect(path: Path) -> tuple[str | None, str]:
    """``(format name, '')`` or ``(None, why not)``."""
    from .. import io

    try:
        return io.detect_format(path).name, ""
    except BiorelError as e:
        return None, e.message


def expand_path(path: Path) -> list[Path]:
    """A file, or a folder's files (recursive, sorted, hidden ones skipped;
    ``X.txt`` beside ``X.ann`` is left to the ``.ann`` reader)."""
    if not path.exists():
        raise error("E580", path=str(path), reason="it does not exist")
    if path.is_file():
        return [path]
    files = [p for p in sorted(path.rglob("*")) if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)]
    return [p for p in files if not (p.suffix == ".txt" and p.with_suffix(".ann").is_file())]


def path_sources(
    paths: Sequence[str | Path], fmt: str | None = None, options: dict[str, Any] | None = None, *, lenient: bool = True
) -> tuple[list[Source], list[dict[str, str]]]:
    """Sources for user files and folders, and the files of those folders that
    cannot be read (with the reason). A named file that cannot be read is E580.
    ``lenient``: a bad record is reported and skipped (else it is an error)."""
    sources, unused = [], []
    for given in map(Path, paths):
        for f in expand_path(given):
            name, why = (fmt, "") if fmt else _detect(f)
            if name is None:
                if f == given:
                    raise error("E580", path=str(f), reason=why)
                unused.append({"path": str(f), "reason": why})
                continue
            sources.append(_path_source(f, name, {**READER_OPTIONS.get(name, {}), **(options or {})}, lenient))
    return sources, unused


def mirror_sources(mirror: Path) -> tuple[list[Source], list[dict[str, str]]]:
    """PubMed XML / MEDLINE files of the mirror outside the registered datasets,
    and every other such file with the reason it is not read."""
    from ..datasets import get_dataset, list_datasets

    known = {f.path for name in list_datasets() for f in get_dataset(name).files}
    sources, unused = [], []
    for f in sorted(p for p in mirror.rglob("*") if p.is_file()):
        rel = f.relative_to(mirror).as_posix()
        if rel in known or any(part.startswith(".") for part in f.relative_to(mirror).parts):
            continue
        if _is_documentation(f):
            unused.append({"path": rel, "reason": "documentation"})
            continue
        name, why = _detect(f)
        if name in MIRROR_FORMATS:
            sources.append(_path_source(f, name, {}, label=f"mirror:{rel}"))
        else:
            detected = f"it reads as {name}" if name else why
            unused.append({"path": rel, "reason": f"not a registered dataset's file nor PubMed XML/MEDLINE ({detected})"})
    return sources, unused


# ---- filtering -------------------------------------------------------------------


class _Seen:
    """Normalised-text keys and PMIDs of the documents kept so far."""

    def __init__(self) -> None:
        self.keys: set[bytes] = set()
        self.pmids: set[str] = set()

    def duplicate(self, key: bytes, pmid: str | None) -> str | None:
        if key in self.keys:
            return "same text"
        if pmid is not None and pmid in self.pmids:
            return "same PMID"
        self.keys.add(key)
        if pmid is not None:
            self.pmids.add(pmid)
        return None


def corpus_document(doc: Document, key: bytes, source: str, pmid: str | None) -> Document:
    """The text of ``doc`` (its passages, annotations dropped) under a content id."""
    meta: dict[str, Any] = {"source": source, "source_id": doc.id}
    if pmid is not None:
        meta["pmid"] = pmid
    return Document(id=key.hex(), passages=[Passage(p.offset, p.text, p.type) for p in doc.passages], metadata=meta)


def filter_source(src: Source, index: ExclusionIndex | None, seen: _Seen, counts: SourceCounts) -> Iterator[Document]:
    """The documents of ``src`` to keep; ``counts`` says what happened to each."""
    diags = Diagnostics()
    for doc in src.read(diags):
        counts.read += 1
        ws = words(doc.text)
        if not ws:
            counts.empty += 1
            continue
        pmid, key = pmid_of(doc, src.fmt), text_key(ws)
        reason = index.why(ws, pmid, key) if index is not None else None
        if reason is not None:
            counts.count("excluded", reason)
            continue
        dup = seen.duplicate(key, pmid)
        if dup is not None:
            counts.count("duplicates", dup)
            continue
        counts.written += 1
        yield corpus_document(doc, key, src.label, pmid)
    counts.problems = len(diags)
    counts.problem_examples = [str(p) for p in diags.problems[:3]]
    counts.check()


def build_test_index(splits: Sequence[str], report: CorpusReport, log: Callable[[str], None]) -> ExclusionIndex:
    index = ExclusionIndex()
    for src in test_sources(splits):
        diags = Diagnostics()
        n = 0
        for doc in src.read(diags):
            index.add(doc, src.fmt)
            n += 1
        report.test_splits.append({"split": src.label, "documents": n, "problems": len(diags)})
    report.test_index = index.summary()
    log(f"test index: {index.texts} texts, {len(index.pmids)} PMIDs from {len(report.test_splits)} splits ({', '.join(splits)})")
    return index


# ---- writing ---------------------------------------------------------------------


def shuffle_lines(src: Path, dst: Path, n: int, seed: int, work: Path, bucket: int = SHUFFLE_BUCKET) -> None:
    """Write the lines of ``src`` to ``dst`` in a seeded random order: each line
    goes to one of ``ceil(n / bucket)`` bucket files, and each bucket is
    shuffled in memory."""
    rng = random.Random(seed)
    k = max(1, -(-n // bucket))
    paths = [work / f"bucket-{i}.jsonl" for i in range(k)]
    handles = [open(p, "wb") for p in paths]
    try:
        with open(src, "rb") as fh:
            for line in fh:
                handles[rng.randrange(k)].write(line)
    finally:
        for h in handles:
            h.close()
    with open(dst, "wb") as out:
        for p in paths:
            lines = p.read_bytes().splitlines(keepends=True)
            rng.shuffle(lines)
            out.writelines(lines)
            p.unlink()


def report_path(out: str | Path) -> Path:
    """``corpus.jsonl`` -> ``corpus.report.json``."""
    p = Path(out)
    return p.with_name(p.name.removesuffix(".jsonl") + ".report.json")


def _write_kept(sources: Sequence[Source], index: ExclusionIndex | None, report: CorpusReport, path: Path, log: Callable[[str], None]) -> int:
    seen, n = _Seen(), 0
    with Journal(path) as journal:
        for src in sources:
            counts = SourceCounts(src.label, src.fmt)
            for doc in filter_source(src, index, seen, counts):
                journal.write_bytes(Journal.encode(doc.to_dict()))
            n += counts.written
            report.sources.append(counts)
            log(
                f"{src.label}: {counts.read} read, {sum(counts.excluded.values())} test overlaps, {sum(counts.duplicates.values())} duplicates, {counts.written} kept"
            )
    return n


def build_corpus(
    sources: Sequence[str | Path],
    out: str | Path,
    *,
    exclude_tests: bool = True,
    exclude_splits: Sequence[str] = ("test",),
    datasets: bool = True,
    mirror: str | Path | None = "env",
    fmt: str | None = None,
    reader_options: dict[str, Any] | None = None,
    seed: int = 13,
    log: Callable[[str], None] | None = None,
) -> CorpusReport:
    """Build the corpus at ``out`` (``.jsonl``) from the registered datasets
    (``datasets``), the mirror's PubMed files (``mirror``: a folder, ``"env"``
    for ``$BIOREL_DATA_MIRROR``, ``None`` for none) and ``sources`` (user files
    and folders, read in ``fmt`` when given). ``exclude_tests=False`` keeps
    every split and builds no test index. Returns the report (also written
    beside ``out``)."""
    from ..datasets import mirror_dir

    out = Path(out)
    if not out.name.endswith(".jsonl"):
        raise error("E585", option=f"output {out}", reason="the corpus is biorel JSON lines", choices="a name ending in .jsonl")
    log = log or (lambda _msg: None)
    t0 = time.perf_counter()
    splits = tuple(exclude_splits) if exclude_tests else ()
    report = CorpusReport(str(out), excluded_splits=list(splits), seed=seed)
    chosen = dataset_sources(splits) if datasets else []
    mirror_path = mirror_dir() if mirror == "env" else (Path(mirror) if mirror else None)
    if mirror_path is not None:
        extra, report.unused_files = mirror_sources(mirror_path)
        chosen += extra
    user, unused = path_sources(sources, fmt, reader_options)
    chosen += user
    report.unused_files += unused
    index = build_test_index(splits, report, log) if splits else None
    with exclusive_lock(out), atomic_output(out) as staged:
        work = staged.parent / "work"
        work.mkdir()
        try:
            n = _write_kept(chosen, index, report, work / "kept.jsonl", log)
            shuffle_lines(work / "kept.jsonl", staged, n, seed, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        report.seconds = round(time.perf_counter() - t0, 2)
        report_path(staged).write_text(json.dumps(report.to_dict(), indent=1, ensure_ascii=False), "utf-8")
    return report


__all__ = [
    "CorpusReport",
    "Source",
    "SourceCounts",
    "build_corpus",
    "corpus_document",
    "dataset_sources",
    "expand_path",
    "mirror_sources",
    "path_sources",
    "report_path",
    "shuffle_lines",
    "test_sources",
]
