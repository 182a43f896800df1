"""``biorel evaluate GOLD PRED``: score predictions against gold with any registered protocol.

The work is done by :func:`evaluate_files` (importable); the command prints a
Rich table, and writes ``--json`` and an HTML ``--report`` folder on request.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from .. import io
from ..errors import BiorelError, Diagnostics, error
from ..jobs import atomic_file, exclusive_lock
from ..registry import registry
from ..types import Document, pair_examples
from .app import app

out = Console()
err = Console(stderr=True)

DEFAULT_PROTOCOL = {"ner": "ner", "re": "concept"}


# ---- importable functions -----------------------------------------------------


def load_outputs(path: str | os.PathLike) -> dict[str, str | None]:
    """Raw model outputs: a JSON object ``{doc id: text or null}``, or JSON lines
    ``{"id": ..., "output": text or null}``. ``null`` marks a failed generation."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise error("E208", path=str(p), reason=str(e)) from None
    stripped = text.lstrip()
    try:
        if not _is_jsonl(stripped):
            data = json.loads(text)
            if not isinstance(data, dict):
                raise error("E208", path=str(p), reason=f"expected a JSON object {{id: output}}, got {type(data).__name__}")
            items = list(data.items())
        else:
            items = []
            for n, line in enumerate(text.splitlines(), start=1):
                if line.strip():
                    rec = json.loads(line)
                    if not isinstance(rec, dict) or "id" not in rec or "output" not in rec:
                        raise error("E208", path=f"{p}:{n}", reason='each line must be an object with "id" and "output"')
                    items.append((str(rec["id"]), rec["output"]))
    except json.JSONDecodeError as e:
        raise error("E208", path=f"{p}:{e.lineno}", reason=f"invalid JSON: {e.msg}") from None
    outputs: dict[str, str | None] = {}
    for key, value in items:
        if value is not None and not isinstance(value, str):
            raise error("E208", path=str(p), reason=f"output of '{key}' is {type(value).__name__}, not a string or null")
        outputs[str(key)] = value
    return outputs


def _is_jsonl(text: str) -> bool:
    """JSON lines when the first line alone is an object with "id" and "output"."""
    first = text.splitlines()[0] if text else ""
    try:
        rec = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(rec, dict) and {"id", "output"} <= set(rec)


def resolve_protocol(task: str | None, protocol: str | None) -> str:
    """The evaluator name for ``--task``/``--protocol`` (E200 if they disagree)."""
    if task is not None and task not in DEFAULT_PROTOCOL:
        raise error("E201", option="task", value=task, reason="choose ner or re")
    name = registry.evaluators.resolve(protocol or DEFAULT_PROTOCOL[task or "ner"])
    cls = registry.evaluators.get(name)
    if task is not None and cls.task != task:
        raise error("E200", name=name, what=f"task '{task}'", reason=f"it scores task '{cls.task}'")
    return name


def evaluate_files(
    gold: str | os.PathLike,
    pred: str | os.PathLike,
    *,
    protocol: str | None = None,
    task: str | None = None,
    gold_format: str | None = None,
    pred_format: str | None = None,
    outputs: bool = False,
    lenient: bool = False,
    diagnostics: Diagnostics | None = None,
    **options: Any,
):
    """Read GOLD and PRED (any supported format; ``outputs=True``: PRED holds raw
    model outputs, see :func:`load_outputs`), pair documents by id and score them."""
    from ..evaluation import make_evaluator, outputs_to_documents

    name = resolve_protocol(task, protocol)
    evaluator = make_evaluator(name, **options)
    for p in (gold, pred):
        if not Path(p).exists():
            raise error("E171", path=str(p))
    diags = diagnostics if diagnostics is not None else Diagnostics()
    gold_docs = io.load(gold, gold_format, lenient=lenient, diagnostics=diags, **_scoring_options(gold, gold_format))  # strict readers raise
    if outputs:
        pred_docs: list[Document] = outputs_to_documents(load_outputs(pred), gold_docs, source=str(pred))
    else:
        pred_docs = io.load(pred, pred_format, lenient=lenient, diagnostics=diags, **_scoring_options(pred, pred_format))
    examples = pair_examples(pred_docs, gold_docs)
    return evaluator(examples, diagnostics=diags, lenient=lenient)


def _scoring_options(path: str | os.PathLike, fmt: str | None) -> dict[str, Any]:
    """Reader options for scoring: a PubTator relation line naming a concept id
    that no mention carries is a relation to an entity without mentions (the
    BC5CDR submission format), never an error that would drop the relation."""
    return {"unmentioned": "entity"} if io.resolve_format(path, fmt).name == "pubtator" else {}


def report_table(report) -> Table:
    """A Rich table: per type, micro and macro, with the bootstrap intervals."""
    t = Table(title=f"{report.evaluator}  ({report.n_documents} documents)")
    for col in ("type", "TP", "FP", "FN", "precision", "recall", "F1"):
        t.add_column(col, justify="left" if col == "type" else "right")
    for ty, c in report.per_type.items():
        t.add_row(ty, str(c.tp), str(c.fp), str(c.fn), f"{c.precision:.4f}", f"{c.recall:.4f}", f"{c.f1:.4f}")
    iv = report.intervals

    def ci_row(label: str, kind: str) -> None:
        cells = [iv.get(f"{kind}_{w}") for w in ("precision", "recall", "f1")]
        if any(c is not None for c in cells):
            t.add_row(label, "", "", "", *(f"[{c.low:.3f}, {c.high:.3f}]" if c else "" for c in cells), style="dim")

    level = next(iter(iv.values())).level if iv else 0.95
    ci_label = f"  {int(round(level * 100))}% CI"
    mi, ma = report.micro, report.macro
    t.add_row("micro", str(mi.tp), str(mi.fp), str(mi.fn), f"{mi.precision:.4f}", f"{mi.recall:.4f}", f"{mi.f1:.4f}", style="bold")
    ci_row(ci_label, "micro")
    t.add_row("macro", "", "", "", f"{ma.precision:.4f}", f"{ma.recall:.4f}", f"{ma.f1:.4f}")
    ci_row(ci_label, "macro")
    t.caption = f"primary {report.primary_metric} = {report.primary:.4f}; macro over {ma.n_types} types" + (
        "; CI: bootstrap over documents" if iv else ""
    )
    return t


# ---- command ----------------------------------------------------------------------


def parse_json_options(items: list[str] | None) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {item!r}")
        try:
            opts[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            opts[key.replace("-", "_")] = value
    return opts


@app.command()
def evaluate(
    gold: Path = typer.Argument(..., help="gold file or folder (any supported format)"),
    pred: Path = typer.Argument(..., help="predicted file or folder (any supported format)"),
    task: str | None = typer.Option(None, "--task", "-t", help="ner or re (picks the default protocol: ner / concept)"),
    protocol: str | None = typer.Option(None, "--protocol", "-p", help="evaluator name or alias: ner, concept, cid, mention, e2e, abroad, sentence"),
    gold_format: str | None = typer.Option(None, "--gold-format", help="gold format (default: from the file name)"),
    pred_format: str | None = typer.Option(None, "--pred-format", help="predicted format (default: from the file name)"),
    match: str | None = typer.Option(None, "--match", help="NER matching: strict, overlap or type-agnostic"),
    untyped: bool = typer.Option(False, "--untyped", help="RE: ignore the relation type"),
    directed: bool | None = typer.Option(None, "--directed/--undirected", help="RE: argument order matters (default: the protocol's)"),
    option: list[str] | None = typer.Option(None, "--option", "-O", help="other evaluator option key=value (JSON values)"),
    outputs: bool = typer.Option(False, "--outputs", help="PRED holds raw model outputs ({id: text}), e.g. for --protocol abroad"),
    n_resamples: int = typer.Option(1000, "--bootstrap", help="bootstrap resamples for the intervals (0: none)"),
    seed: int = typer.Option(0, "--seed", help="bootstrap seed"),
    json_path: Path | None = typer.Option(None, "--json", "--output", "-o", help="write the report as JSON here ('-': stdout)"),
    report_dir: Path | None = typer.Option(None, "--report", help="write an HTML report with PNG plots into this folder"),
    lenient: bool = typer.Option(False, "--lenient", help="skip bad input items (each is reported on stderr)"),
) -> None:
    """Score PRED against GOLD; prints a table with bootstrap CIs."""
    opts = parse_json_options(option)
    if match is not None:
        opts["match"] = match
    if untyped:
        opts["typed"] = False
    if directed is not None:
        opts["directed"] = directed
    opts.update(n_resamples=n_resamples, seed=seed)
    diags = Diagnostics()
    try:
        report = evaluate_files(
            gold,
            pred,
            protocol=protocol,
            task=task,
            gold_format=gold_format,
            pred_format=pred_format,
            outputs=outputs,
            lenient=lenient,
            diagnostics=diags,
            **opts,
        )
        if report_dir is not None:
            from ..evaluation.html import write_html_report

            index = write_html_report(report, report_dir, title=f"biorel evaluate {gold.name} {pred.name}")
        if json_path is not None and str(json_path) != "-":
            try:
                with exclusive_lock(json_path), atomic_file(json_path) as fh:
                    fh.write(json.dumps(report.to_dict(), indent=2))
            except OSError as e:
                raise error("E209", path=str(json_path), reason=str(e)) from None
    except BiorelError as e:
        err.print(f"[red]error[/red] {e}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1)
    for p in diags.problems:
        err.print(str(p), markup=False, highlight=False, soft_wrap=True)
    if json_path is not None and str(json_path) == "-":
        print(json.dumps(report.to_dict(), indent=2))
        return
    out.print(report_table(report))
    for note in report.notes:
        out.print(f"note: {note}", markup=False, highlight=False)
    if report_dir is not None:
        out.print(f"HTML report: {index}", markup=False, highlight=False)
