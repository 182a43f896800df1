"""What several benchmark scripts share (imported as ``from common import ...``;
the scripts run as ``python benchmarks/NAME.py``, so this folder is on the path).

* :func:`cpu_model`: the ``lscpu`` model name every figure is reported with;
* :func:`relation_scores`: the P/R/F1 (micro, macro, per type) of a relation
  report and the ARI/NMI of a clustering report, as one JSON-ready dict.
"""

from __future__ import annotations

import platform
import subprocess
from typing import Any


def cpu_model() -> str:
    """``lscpu``'s "Model name" (machines differ: Intel with AMX, AMD with AVX2 only)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name:")), platform.processor() or "unknown")


def relation_scores(report: Any, clusters: Any) -> dict[str, Any]:
    """Micro/macro/per-type figures of an evaluation ``Report`` and ARI/NMI of a ``ClusteringReport``."""
    micro, macro = report.micro, report.macro
    return {
        "micro": {"p": micro.precision, "r": micro.recall, "f1": micro.f1, "tp": micro.tp, "fp": micro.fp, "fn": micro.fn},
        "macro": {"p": macro.precision, "r": macro.recall, "f1": macro.f1},
        "per_type": {t: {"p": c.precision, "r": c.recall, "f1": c.f1, "support": c.support} for t, c in report.per_type.items()},
        "ari": clusters.ari,
        "nmi": clusters.nmi,
        "k": clusters.k,
        "n_pairs": clusters.n,
    }
