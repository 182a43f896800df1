"""A self-contained HTML page for one or more reports, with PNG plots.

:func:`write_html_report` writes ``index.html`` into a folder together with, per
report, ``<n>-per_type.png``, ``<n>-confusion.png`` (when types were compared)
and ``<n>-pr_curve.png`` (when predictions carry scores). Images are referenced
by relative paths, so the folder can be moved or served as is. Also written:
``report.json`` (the reports' :meth:`~biorel.evaluation.report.Report.to_dict`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from collections.abc import Iterable

from ..errors import error
from .plots import plot_confusion, plot_per_type, plot_pr_curve
from .report import Report

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f3f7; }
.plots img { max-width: 100%; border: 1px solid #ddd; margin: 0.4em 0; display: block; }
code { background: #f5f5f5; padding: 0 0.2em; }
.muted { color: #666; font-size: 0.9em; }
"""


def _fmt(x: float) -> str:
    return f"{x:.4f}"


def _metrics_table(r: Report) -> str:
    rows = []
    for name, c in [*r.per_type.items(), ("micro", r.micro)]:
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{c.tp}</td><td>{c.fp}</td><td>{c.fn}</td>"
            f"<td>{_fmt(c.precision)}</td><td>{_fmt(c.recall)}</td><td>{_fmt(c.f1)}</td></tr>"
        )
    m = r.macro
    rows.append(
        f"<tr><td>macro ({m.n_types} types)</td><td></td><td></td><td></td><td>{_fmt(m.precision)}</td><td>{_fmt(m.recall)}</td><td>{_fmt(m.f1)}</td></tr>"
    )
    head = "<thead><tr><th>type</th><th>TP</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th></tr></thead>"
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _intervals_table(r: Report) -> str:
    if not r.intervals:
        return "<p class='muted'>No bootstrap intervals (bootstrap turned off).</p>"
    any_i = next(iter(r.intervals.values()))
    rows = "".join(
        f"<tr><td>{html.escape(m)}</td><td>{_fmt(i.estimate)}</td><td>{_fmt(i.low)}</td><td>{_fmt(i.high)}</td></tr>" for m, i in r.intervals.items()
    )
    caption = f"{int(round(any_i.level * 100))}% bootstrap intervals over documents ({any_i.n_resamples} resamples, seed {any_i.seed})"
    return f"<table><caption>{html.escape(caption)}</caption><thead><tr><th>metric</th><th>estimate</th><th>low</th><th>high</th></tr></thead><tbody>{rows}</tbody></table>"


def _section(r: Report, n: int, out: Path) -> str:
    imgs = []
    for kind, fn, alt in (
        ("per_type", plot_per_type, "per-type precision, recall and F1"),
        ("confusion", plot_confusion, "confusion matrix of types"),
        ("pr_curve", plot_pr_curve, "precision/recall curve"),
    ):
        path = fn(r, out / f"{n}-{kind}.png")
        if path is not None:
            imgs.append(f'<img src="{html.escape(path.name)}" alt="{html.escape(alt)}" data-plot="{kind}">')
    settings = ", ".join(f"{k}={v!r}" for k, v in r.settings.items())
    notes = "".join(f"<li>{html.escape(x)}</li>" for x in r.notes)
    return (
        f"<section><h2>{html.escape(r.evaluator)}</h2>"
        f"<p>Primary metric <code>{html.escape(r.primary_metric)}</code> = <b>{_fmt(r.primary)}</b> over {r.n_documents} documents. "
        f"<span class='muted'>Settings: {html.escape(settings)}</span></p>"
        f"{_metrics_table(r)}{_intervals_table(r)}"
        + (f"<p>Notes:</p><ul>{notes}</ul>" if notes else "")
        + f"<div class='plots'>{''.join(imgs)}</div></section>"
    )


def write_html_report(reports: Report | Iterable[Report], out_dir: str | Path, *, title: str = "biorel evaluation") -> Path:
    """Write ``index.html``, the PNG plots and ``report.json`` into ``out_dir``."""
    reports = [reports] if isinstance(reports, Report) else list(reports)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise error("E209", path=str(out), reason=str(e)) from None
    body = "".join(_section(r, i, out) for i, r in enumerate(reports))
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    index = out / "index.html"
    try:
        index.write_text(page, encoding="utf-8")
        (out / "report.json").write_text(json.dumps([r.to_dict() for r in reports], indent=2), encoding="utf-8")
    except OSError as e:
        raise error("E209", path=str(index), reason=str(e)) from None
    return index
