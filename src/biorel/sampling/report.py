"""Diversity report: a sample against random samples of the same size.

For the sample and for each of ``seeds`` (>= 10) random samples drawn by
``biorel.Random.v1`` with the same size, counting rule (binarised or not) and
stratification, the report gives per variable the entropy, richness, Simpson
(Gini-Simpson) index and evenness of the entity counts (see
:mod:`biorel.sampling.measures`), the random values as mean +- sd (sample
standard deviation, ``ddof=1``), and the same measures on all rankable items.
For stratified tables it gives the items per stratum.

``write()`` puts ``report.json``, ``report.md`` and PNG plots (matplotlib, Agg)
in a folder:

* ``entropy_trajectory.png``: ``H(V)`` of the first ``k`` picks against ``k``,
  the sample against the random mean +- sd, with ``log|V|`` (utopia) and the
  stop step of the stopping rule;
* ``rank_frequency.png``: share of relations of the entity at each frequency
  rank (log-log), sample vs each random sample vs all items;
* ``strata.png`` (stratified tables): items per stratum.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import error
from .measures import MEASURES, diversity
from .rand import RandomSampler
from .result import SampleResult
from .table import ItemTable

MIN_SEEDS = 10


@dataclass
class DiversityReport:
    variables: tuple[str, ...]
    n: int
    sampler: str
    seeds: list[int]
    sample: dict[str, dict[str, float]]
    random_mean: dict[str, dict[str, float]]
    random_sd: dict[str, dict[str, float]]
    everything: dict[str, dict[str, float]]
    n_items: int
    strata: dict[str, dict[str, float]] | None = None
    stop_step: int | None = None
    # plot data
    trajectory: np.ndarray | None = None  # (n, V) sample
    random_trajectory: np.ndarray | None = None  # (seeds, n, V)
    utopia: np.ndarray | None = None
    rank_freq: dict[str, dict[str, Any]] = field(default_factory=dict)  # shares by rank: sample, random (one per seed), all items
    plots: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sampler": self.sampler,
            "n": self.n,
            "n_items": self.n_items,
            "random_seeds": self.seeds,
            "variables": list(self.variables),
            "measures": {
                v: {
                    m: {
                        "sample": self.sample[v][m],
                        "random_mean": self.random_mean[v][m],
                        "random_sd": self.random_sd[v][m],
                        "all_items": self.everything[v][m],
                    }
                    for m in MEASURES
                }
                for v in self.variables
            },
            "strata": self.strata,
            "stop_step": self.stop_step,
            "plots": self.plots,
        }

    def to_markdown(self) -> str:
        lines = [
            f"# Diversity report: {self.sampler}, n = {self.n} of {self.n_items} items",
            "",
            f"Random baseline: {len(self.seeds)} random samples of the same size (seeds {self.seeds[0]}-{self.seeds[-1]}), mean +- sd.",
            "",
            "| variable | measure | sample | random (mean +- sd) | all items |",
            "|---|---|---:|---:|---:|",
        ]
        for v in self.variables:
            for m in MEASURES:
                fmt = "{:.0f}" if m == "richness" else "{:.4f}"
                lines.append(
                    f"| {v} | {m} | {fmt.format(self.sample[v][m])} | {fmt.format(self.random_mean[v][m])} +- {fmt.format(self.random_sd[v][m])} | {fmt.format(self.everything[v][m])} |"
                )
        if self.strata:
            lines += ["", "| stratum | sample | random (mean +- sd) | all items |", "|---|---:|---:|---:|"]
            for s, d in self.strata.items():
                lines.append(f"| {s} | {d['sample']:.0f} | {d['random_mean']:.1f} +- {d['random_sd']:.1f} | {d['all_items']:.0f} |")
        if self.stop_step is not None:
            lines += ["", f"Stopping rule: diversity stops improving after {self.stop_step} picks."]
        if self.plots:
            lines += [""] + [f"![{Path(p).stem}]({Path(p).name})" for p in self.plots]
        return "\n".join(lines) + "\n"

    def write(self, folder: str | os.PathLike, plots: bool = True) -> Path:
        out = Path(folder)
        try:
            out.mkdir(parents=True, exist_ok=True)
            if plots:
                self.plots = [str(p) for p in plot_report(self, out)]
            (out / "report.json").write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
            (out / "report.md").write_text(self.to_markdown(), encoding="utf-8")
        except OSError as e:
            raise error("E228", what="the diversity report", path=str(out), reason=e.strerror or str(e)) from None
        return out


def diversity_report(
    table: ItemTable, result: SampleResult, *, seeds: int = MIN_SEEDS, first_seed: int = 0, n: int | None = None, trajectory: int | None = None
) -> DiversityReport:
    """Compare the first ``n`` picks of ``result`` (all by default) with
    ``seeds`` random samples of the same size. The random samples are drawn
    with ``trajectory`` picks (default: as many as ``result`` has, so a full
    ranking is plotted against full random orders); their first ``n`` picks are
    the random samples of size ``n`` that the measures compare."""
    if seeds < MIN_SEEDS:
        raise error("E220", option="seeds", value=seeds, reason=f"the report needs at least {MIN_SEEDS} random samples")
    n = len(result) if n is None else n
    if not 1 <= n <= len(result):
        raise error("E220", option="n", value=n, reason=f"choose 1 to {len(result)} picks of the sample")
    binarised = bool(result.config.get("binarised", False))
    quota = result.config.get("quota", "balanced")
    counted = table.binarised() if binarised else table
    picks = np.asarray(result.indices[:n])
    steps = max(n, min(len(result) if trajectory is None else trajectory, len(result)))
    orders = [
        RandomSampler(seed=s, binarised=binarised, selector=result.objective_name, quota=quota).sample(table, steps)
        for s in range(first_seed, first_seed + seeds)
    ]
    randoms = [r.indices[:n] for r in orders]
    variables = table.variables
    sample, mean, sd, everything, rank_freq = {}, {}, {}, {}, {}
    for v, var in enumerate(variables):
        sample[var] = diversity(counted.totals(v, picks))
        runs = [diversity(counted.totals(v, r)) for r in randoms]
        mean[var] = {m: float(np.mean([r[m] for r in runs])) for m in MEASURES}
        sd[var] = {m: float(np.std([r[m] for r in runs], ddof=1)) for m in MEASURES}
        everything[var] = diversity(counted.totals(v))
        rank_freq[var] = {
            "sample": _shares(counted.totals(v, picks)),
            "random": [_shares(counted.totals(v, r)) for r in randoms],
            "all items": _shares(counted.totals(v)),
        }
    strata = None
    if table.strata is not None:
        strata = {}
        for k, name in enumerate(table.stratum_names):
            per_seed = [int(np.sum(table.strata[r] == k)) for r in randoms]
            strata[name] = {
                "sample": float(np.sum(table.strata[picks] == k)),
                "random_mean": float(np.mean(per_seed)),
                "random_sd": float(np.std(per_seed, ddof=1)),
                "all_items": float(np.sum(table.strata == k)),
            }
    stop = result.stop().step if len(result) else None
    return DiversityReport(
        variables=variables,
        n=n,
        sampler=result.sampler,
        seeds=list(range(first_seed, first_seed + seeds)),
        sample=sample,
        random_mean=mean,
        random_sd=sd,
        everything=everything,
        n_items=table.n_items,
        strata=strata,
        stop_step=stop,
        trajectory=result.entropies,
        random_trajectory=np.stack([r.entropies for r in orders]),
        utopia=result.utopia,
        rank_freq=rank_freq,
    )


def _shares(counts: np.ndarray) -> np.ndarray:
    c = np.sort(np.asarray(counts, dtype=np.float64)[counts > 0])[::-1]
    return c / c.sum() if len(c) else c


# ---- plots -------------------------------------------------------------------------
def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - matplotlib is a dev/report dependency
        raise error("E229", reason=str(e)) from None
    return plt


def plot_report(rep: DiversityReport, folder: Path) -> list[Path]:
    plt = _pyplot()
    paths = [_plot_trajectory(plt, rep, folder / "entropy_trajectory.png"), _plot_rank_frequency(plt, rep, folder / "rank_frequency.png")]
    if rep.strata:
        paths.append(_plot_strata(plt, rep, folder / "strata.png"))
    return paths


def _label(sampler: str) -> str:
    """``biorel.GME.v1`` -> ``GME``."""
    parts = sampler.split(".")
    return parts[1] if len(parts) == 3 else sampler


def _plot_trajectory(plt, rep: DiversityReport, path: Path) -> Path:
    nv = len(rep.variables)
    fig, axes = plt.subplots(1, nv, figsize=(5.2 * nv, 3.8), squeeze=False)
    steps = np.arange(1, len(rep.trajectory) + 1)
    rsteps = np.arange(1, rep.random_trajectory.shape[1] + 1)
    for v, (ax, var) in enumerate(zip(axes[0], rep.variables)):
        mu = rep.random_trajectory[:, :, v].mean(axis=0)
        sd = rep.random_trajectory[:, :, v].std(axis=0, ddof=1)
        ax.fill_between(rsteps, mu - sd, mu + sd, color="tab:gray", alpha=0.3, linewidth=0)
        ax.plot(rsteps, mu, color="tab:gray", label=f"random (mean ± sd, {len(rep.seeds)} seeds)")
        ax.plot(steps, rep.trajectory[:, v], color="tab:blue", label=_label(rep.sampler))
        ax.axhline(rep.utopia[v], color="tab:green", linestyle="--", linewidth=1, label="log|V| (utopia)")
        if rep.n < len(steps):
            ax.axvline(rep.n, color="tab:purple", linestyle="-", linewidth=0.8, alpha=0.6, label=f"report sample (n = {rep.n})")
        if rep.stop_step is not None and rep.stop_step < len(steps):
            ax.axvline(rep.stop_step, color="tab:red", linestyle=":", linewidth=1, label=f"stop step ({rep.stop_step})")
        ax.set_title(var)
        ax.set_xlabel("sample size (items)")
        ax.set_ylabel("entropy H (nats)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Entropy of the first k picks")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_rank_frequency(plt, rep: DiversityReport, path: Path) -> Path:
    nv = len(rep.variables)
    fig, axes = plt.subplots(1, nv, figsize=(5.2 * nv, 3.8), squeeze=False)
    for ax, var in zip(axes[0], rep.variables):
        curves = rep.rank_freq[var]
        for i, c in enumerate(curves["random"]):
            ax.loglog(
                np.arange(1, len(c) + 1), c, color="tab:gray", alpha=0.35, linewidth=0.8, label=f"random ({len(rep.seeds)} seeds)" if i == 0 else None
            )
        ax.loglog(np.arange(1, len(curves["all items"]) + 1), curves["all items"], color="black", linestyle=":", label="all items")
        ax.loglog(np.arange(1, len(curves["sample"]) + 1), curves["sample"], color="tab:blue", linewidth=1.6, label=_label(rep.sampler))
        ax.set_title(var)
        ax.set_xlabel("entity rank")
        ax.set_ylabel("share of relations")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"Rank-frequency of entities (n = {rep.n} items)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plot_strata(plt, rep: DiversityReport, path: Path) -> Path:
    names = list(rep.strata)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(names) + 2), 3.8))
    ax.bar(x - 0.2, [rep.strata[s]["sample"] for s in names], 0.4, label="sample", color="tab:blue")
    ax.bar(
        x + 0.2,
        [rep.strata[s]["random_mean"] for s in names],
        0.4,
        yerr=[rep.strata[s]["random_sd"] for s in names],
        label="random (mean ± sd)",
        color="tab:gray",
    )
    ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("items")
    ax.legend(fontsize=8)
    fig.suptitle("Items per stratum")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
