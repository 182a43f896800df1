"""Format commands: ``convert``, ``validate``, ``stats``, ``formats`` and ``demo``.

The commands are thin: the work is done by the importable functions
:func:`convert_file`, :func:`validate_file` and :func:`file_stats`, which stream
(one document in memory at a time, as far as the formats allow).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from .options import parse_options

from .. import io
from ..errors import BiorelError, Diagnostics, Problem, error
from ..registry import registry
from ..stats import CorpusStats, corpus_stats, stats_table
from ..validate import empty_source_warning
from .app import app, err, fail

out = Console()


# ---- importable functions -----------------------------------------------------


@dataclass
class ConvertResult:
    documents: int
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    #: things the user should know that did not stop the run (E130: no documents)
    warnings: list[BiorelError] = field(default_factory=list)


def _check_input(path: str | os.PathLike) -> None:
    if not Path(path).exists():
        raise error("E171", path=str(path))


def convert_file(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    from_format: str | None = None,
    to_format: str | None = None,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    reader_options: dict[str, Any] | None = None,
    writer_options: dict[str, Any] | None = None,
) -> ConvertResult:
    """Stream ``src`` into ``dst``. Formats come from the names or the file names.
    Lenient mode skips bad items and reports each to the result's diagnostics."""
    _check_input(src)
    if Path(src).resolve() == Path(dst).resolve():
        raise error("E170", src=str(src), dst=str(dst), reason="input and output are the same file")
    diags = diagnostics if diagnostics is not None else Diagnostics()
    target = io.get_format(to_format) if to_format else io.detect_format(dst)
    docs = io.read(src, from_format, lenient=lenient, diagnostics=diags, **(reader_options or {}))
    # atomic and locked (biorel.jobs): a failure leaves no part of dst, a second writer gets E050
    n = io.write(docs, dst, target.name, **(writer_options or {}))
    return ConvertResult(n, diags, no_documents_warning(src, n))


def no_documents_warning(src: str | os.PathLike, n: int) -> list[BiorelError]:
    """E130 when a run read no document (an empty file or folder)."""
    if n:
        return []
    what = "an empty folder, or one without files of this format" if Path(src).is_dir() else "the file holds no document"
    return [error("E130", path=str(src), reason=what)]


@dataclass
class ValidationReport:
    documents: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_file(path: str | os.PathLike, format: str | None = None, **reader_options) -> ValidationReport:
    """Read ``path`` leniently and list every problem with its location. A fatal
    error that stops reading (broken XML, undecodable bytes) is the last problem."""
    _check_input(path)
    diags = Diagnostics()
    n = 0
    try:
        for _ in io.read(path, format, lenient=True, diagnostics=diags, **reader_options):
            n += 1
    except BiorelError as e:
        diags.add(e, "reading stopped")
    return ValidationReport(n, list(diags.problems))


def file_stats(
    path: str | os.PathLike, format: str | None = None, *, lenient: bool = False, diagnostics: Diagnostics | None = None, **reader_options
) -> CorpusStats:
    """:func:`biorel.stats.corpus_stats` of a file, streamed."""
    _check_input(path)
    return corpus_stats(io.read(path, format, lenient=lenient, diagnostics=diagnostics, **reader_options))


def format_rows() -> list[dict[str, Any]]:
    """One row per registered format (what ``biorel formats`` shows)."""
    aliases: dict[str, list[str]] = {}
    for alias in registry.formats.choices():
        full = registry.formats.resolve(alias)
        if alias != full:
            aliases.setdefault(full, []).append(alias)
    rows = []
    for full, f in registry.formats.items():
        rows.append(
            {
                "name": f.name,
                "registered": full,
                "aliases": sorted(aliases.get(full, [])),
                "extensions": list(f.extensions),
                "directory": f.directory,
                "read": _can(f, "read"),
                "write": _can(f, "write"),
                "description": f.description,
            }
        )
    return rows


def _can(f, action: str) -> bool:
    """Whether a format reads/writes: probe with an empty input, which a reader or
    writer that exists accepts and one that does not refuses with E004."""
    try:
        if action == "read":
            f.api.loads("")
        else:
            f.api.dumps([])
    except BiorelError as e:
        return e.code != "E004"
    except Exception:
        return True
    return True


def sample_path() -> Path:
    """The bundled sample corpus (PubTator, made-up abstracts)."""
    from ..datasets import sample_path as _sample

    return _sample()


# ---- CLI helpers ----------------------------------------------------------------


def _print_problems(problems: list[Problem]) -> None:
    for p in problems:
        err.print(str(p), markup=False, highlight=False, soft_wrap=True)


# ---- commands -------------------------------------------------------------------


@app.command()
def convert(
    src: Path = typer.Argument(..., help="input file or folder"),
    dst: Path = typer.Argument(..., help="output file or folder"),
    from_format: str | None = typer.Option(None, "--from", help="input format (default: from the file name)"),
    to_format: str | None = typer.Option(None, "--to", help="output format (default: from the file name)"),
    lenient: bool = typer.Option(False, "--lenient", help="skip bad items (each is reported) instead of stopping"),
    reader_option: list[str] | None = typer.Option(None, "--reader-option", "-r", help="reader option key=value"),
    writer_option: list[str] | None = typer.Option(None, "--writer-option", "-w", help="writer option key=value"),
) -> None:
    """Convert between formats, streaming; reports the count and every skipped item."""
    try:
        res = convert_file(
            src,
            dst,
            from_format=from_format,
            to_format=to_format,
            lenient=lenient,
            reader_options=parse_options(reader_option),
            writer_options=parse_options(writer_option),
        )
    except BiorelError as e:
        fail(e)
    _print_problems(res.diagnostics.problems)
    _print_warnings(res.warnings)
    skipped = f", {len(res.diagnostics)} problem(s) skipped" if len(res.diagnostics) else ""
    out.print(f"wrote {res.documents} documents to {dst}{skipped}", markup=False, highlight=False, soft_wrap=True)
    if note := io.text.split_note(src, from_format, parse_options(reader_option)):  # raw text: how it was split into documents
        out.print(note, markup=False, highlight=False, soft_wrap=True)


def _print_warnings(warnings: list[BiorelError]) -> None:
    for w in warnings:
        err.print(f"warning {w}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def validate(
    path: Path = typer.Argument(..., help="file or folder to check"),
    format: str | None = typer.Option(None, "--format", "-f", help="format (default: from the file name)"),
    reader_option: list[str] | None = typer.Option(None, "--reader-option", "-r", help="reader option key=value"),
) -> None:
    """List every problem with its location; exit 1 if there is any, 0 if clean."""
    try:
        report = validate_file(path, format, **parse_options(reader_option))
    except BiorelError as e:
        fail(e)
    _print_problems(report.problems)
    if report.ok:
        _print_warnings(empty_source_warning(path, report.documents))  # E174: an empty file or folder is valid, and said so
        out.print(f"{path}: {report.documents} documents, no problems", markup=False, highlight=False, soft_wrap=True)
        return
    out.print(f"{path}: {report.documents} documents read, {len(report.problems)} problem(s)", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@app.command()
def stats(
    path: Path = typer.Argument(..., help="file or folder"),
    format: str | None = typer.Option(None, "--format", "-f", help="format (default: from the file name)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    lenient: bool = typer.Option(False, "--lenient", help="skip bad items (each is reported on stderr)"),
    reader_option: list[str] | None = typer.Option(None, "--reader-option", "-r", help="reader option key=value"),
) -> None:
    """Corpus statistics: documents, mentions/concepts/relations per type,
    cross-sentence relation share, entity entropy per type."""
    diags = Diagnostics()
    try:
        st = file_stats(path, format, lenient=lenient, diagnostics=diags, **parse_options(reader_option))
    except BiorelError as e:
        fail(e)
    _print_problems(diags.problems)
    if as_json:
        print(json.dumps(st.to_dict(), indent=2, sort_keys=False))
    else:
        out.print(stats_table(st, title=f"{path}"))


@app.command("formats")
def formats_cmd(as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table")) -> None:
    """List the registered formats."""
    rows = format_rows()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="biorel formats")
    for col in ("name", "registered", "extensions", "read", "write", "description"):
        table.add_column(col)
    for r in rows:
        exts = " ".join(r["extensions"]) + (" (folder)" if r["directory"] else "")
        table.add_row(r["name"], r["registered"], exts, "yes" if r["read"] else "no", "yes" if r["write"] else "no", r["description"])
    out.print(table)


@app.command()
def demo(outdir: Path = typer.Argument(Path("biorel-demo"), help="folder for the converted files")) -> None:
    """Convert the bundled sample corpus (PubTator) to other formats, show its stats, and extract chemicals, diseases
    and CID relations from it with the shipped default model (when the model extras are installed)."""
    src = sample_path()
    targets = [("jsonl", "sample.jsonl"), ("conll", "sample.conll")]
    targets += [(f, n) for f, n in (("bioc-xml", "sample.bioc.xml"), ("bioc", "sample.bioc.xml")) if f in registry.formats][:1]
    try:
        for fmt, name in targets:
            opts = {"sentences": "split", "tokenizer": "punct"} if fmt == "conll" else {}
            res = convert_file(src, outdir / name, to_format=fmt, writer_options=opts)
            out.print(f"{src.name} -> {outdir / name} ({fmt}): {res.documents} documents", markup=False, highlight=False, soft_wrap=True)
        st = file_stats(src)
    except BiorelError as e:
        fail(e)
    out.print(stats_table(st, title=f"sample corpus ({src.name})"))
    from .extract import demo_extraction

    try:
        demo_extraction(src, outdir, out)
    except BiorelError as e:
        fail(e)
