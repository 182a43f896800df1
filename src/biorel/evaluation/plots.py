"""PNG plots of a report (matplotlib, Agg backend; needs ``biorel[report]``).

* :func:`plot_per_type`: per-type precision, recall and F1 bars, with micro and
  macro averages as the last two groups.
* :func:`plot_confusion`: gold type (rows) vs predicted type (columns), counts in
  the cells, ``(none)`` for missed / spurious items.
* :func:`plot_pr_curve`: precision against recall as the score threshold falls
  (from :func:`precision_recall_curve`); only when predictions carry scores.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import error
from .report import Report


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - matplotlib is a dev dependency
        raise error("E211", reason=str(e)) from None
    return plt


def precision_recall_curve(report: Report) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(precision, recall, thresholds)`` over the scored predictions, ranked by
    falling score (ties broken by order); recall is over all gold items of the
    report. ``None`` when no prediction has a score. Unscored predictions are
    left out of the curve (they have no rank)."""
    scored = [p for p in report.predictions if p.score is not None]
    if not scored:
        return None
    order = sorted(range(len(scored)), key=lambda i: -scored[i].score)
    correct = np.array([scored[i].correct for i in order], dtype=float)
    thresholds = np.array([scored[i].score for i in order], dtype=float)
    tp = np.cumsum(correct)
    rank = np.arange(1, len(order) + 1)
    n_gold = max(report.n_gold, 1)
    return tp / rank, tp / n_gold, thresholds


def plot_per_type(report: Report, path: str | Path) -> Path:
    plt = _pyplot()
    per = report.per_type
    names = list(per) + ["micro", "macro"]
    p = [c.precision for c in per.values()] + [report.micro.precision, report.macro.precision]
    r = [c.recall for c in per.values()] + [report.micro.recall, report.macro.recall]
    f = [c.f1 for c in per.values()] + [report.micro.f1, report.macro.f1]
    x = np.arange(len(names))
    w = 0.27
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(names) + 2), 4.2), dpi=100)
    ax.bar(x - w, p, w, label="precision", color="#4C72B0")
    ax.bar(x, r, w, label="recall", color="#DD8452")
    ax.bar(x + w, f, w, label="F1", color="#55A868")
    ax.set_xticks(x, names, rotation=30 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title(f"{report.evaluator}: per-type P/R/F1")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_confusion(report: Report, path: str | Path) -> Path | None:
    if report.confusion is None:
        return None
    plt = _pyplot()
    labels, m = report.confusion.labels, report.confusion.matrix
    n = len(labels)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.7 * n + 2.5), max(4.0, 0.6 * n + 2)), dpi=100)
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted type")
    ax.set_ylabel("gold type")
    ax.set_title("confusion of types")
    hi = m.max() if m.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8, color="white" if m[i, j] > hi / 2 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_pr_curve(report: Report, path: str | Path) -> Path | None:
    curve = precision_recall_curve(report)
    if curve is None:
        return None
    plt = _pyplot()
    precision, recall, _ = curve
    fig, ax = plt.subplots(figsize=(5.0, 4.2), dpi=100)
    ax.step(np.concatenate([[0.0], recall]), np.concatenate([[precision[0]], precision]), where="post", color="#4C72B0")
    ax.scatter([report.micro.recall], [report.micro.precision], color="#C44E52", zorder=3, label="all predictions")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("precision / recall by score threshold")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, plt, path)


def _save(fig, plt, path: str | Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    except OSError as e:
        raise error("E209", path=str(path), reason=str(e)) from None
    finally:
        plt.close(fig)
    return path
