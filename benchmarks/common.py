"""What several benchmark scripts share (imported as ``from common import ...``;
the scripts run as ``python benchmarks/NAME.py``, so this folder is on the path).

* :func:`cpu_model`: the ``lscpu`` model name every figure is reported with;
* :func:`relation_scores`: the P/R/F1 (micro, macro, per type) of a relation
  report and the ARI/NMI of a clustering report, as one JSON-ready dict;
* :func:`run_child`: run a command as a child process (it dies with its
  parent), output to a log, and measure its wall time and its own peak RSS;
* :func:`print_result` / :func:`child_result`: a script that times each variant
  in a fresh process of its own prints the child's result as one
  ``RESULT {json}`` line, and the parent reads it back;
* :func:`write_json`: write a result file atomically (a killed script leaves
  the old file or none, never half of one).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import time
from pathlib import Path
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


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _vm_hwm_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "")
    return int(line.split()[1]) if line else 0


def run_child(cmd: list[str], log: str | os.PathLike, *, env: dict[str, str] | None = None, cwd: Any = None, poll_s: float = 0.2) -> dict[str, Any]:
    """Run ``cmd`` with stdout and stderr appended to ``log``; returns ``{"rc",
    "wall_s", "peak_rss_mib"}``. The peak is the child's own ``VmHWM``, polled
    every ``poll_s`` seconds: ``ru_maxrss`` of a child (``wait4``,
    ``RUSAGE_CHILDREN``, its own ``RUSAGE_SELF``) also counts the parent's
    memory it was forked from, which Linux carries over ``exec``. The child gets
    SIGKILL when this process dies, so a killed benchmark leaves no orphan
    holding its output folder."""
    t0 = time.perf_counter()
    peak = 0
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=cwd, preexec_fn=_die_with_parent)
        while proc.poll() is None:
            peak = max(peak, _vm_hwm_kib(proc.pid))
            time.sleep(poll_s)
    return {"rc": proc.returncode, "wall_s": round(time.perf_counter() - t0, 2), "peak_rss_mib": round(peak / 1024, 1)}


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)


RESULT_PREFIX = "RESULT "


def print_result(result: dict[str, Any]) -> None:
    """In a benchmark's child process: hand ``result`` to the parent (:func:`child_result`)."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def parse_result(stdout: str, returncode: int = 0, stderr: str = "") -> dict[str, Any]:
    """The last ``RESULT`` line of a child's ``stdout``, or ``{"error": ...}``
    with its exit status and the end of its ``stderr``."""
    lines = [x for x in stdout.splitlines() if x.startswith(RESULT_PREFIX)]
    if returncode or not lines:
        return {"error": f"exit {returncode}: {stderr[-1500:]}"}
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def child_result(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Any = None) -> dict[str, Any]:
    """Run ``cmd`` (a benchmark's child) to its end and return its result (:func:`parse_result`)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    return parse_result(proc.stdout, proc.returncode, proc.stderr)
