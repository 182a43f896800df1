"""Speed and memory of the exact incremental GME sampler at LOTUS scale, side
by side with a plain O(N^2) implementation.

Measured:

1. ``n`` picks (default 1,000) on a generated LOTUS-scale table
   (:mod:`gen_lotus_table`: ~130,000 references, ~750,000 rows): wall and CPU
   time, best of ``--repeat``; peak traced memory (``tracemalloc``, numpy
   arrays included) in a separate run, and the peak resident memory added
   while the timed runs ran.
2. A full ranking of the same table (once): time and peak resident memory
   added (sampled; ``tracemalloc`` would slow it down more than 2x).
3. The plain baseline, which does what the reference implementation does:
   at every step, for every candidate, it builds the dense count vector of the
   sample plus the candidate and computes its entropy, O(candidates x |V|) per
   step. It runs on a random subsample of references small enough to finish
   in about a minute; the fast sampler runs on the same subsample and must
   pick exactly the same items. A per-step cost of the baseline on the full
   table is also measured on a slice of the candidates and scaled up (an
   estimate, marked as such).

Usage (rerunnable; prints Markdown and writes JSON)::

    python benchmarks/gme_speed.py --json /tmp/gme_speed.json
    python benchmarks/gme_speed.py --refs 20000 --rows 115000 --no-full   # a quick run
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_lotus_table import generate  # noqa: E402

from biorel.sampling import GMESampler, ItemTable  # noqa: E402


# ---- the plain O(N^2) baseline ------------------------------------------------------
def plain_gme(table: ItemTable, n: int, decimals: int = 5) -> list[int]:
    """Reference-style GME: recompute every candidate's entropies from dense
    count vectors at every step (dutopia, ties to the first item in id order)."""
    rows = [[(m.indices[m.indptr[i] : m.indptr[i + 1]], m.data[m.indptr[i] : m.indptr[i + 1]]) for i in range(table.n_items)] for m in table.counts]
    utopia = [math.log(m.shape[1]) for m in table.counts]
    current = [np.zeros(m.shape[1], dtype=np.int64) for m in table.counts]
    remaining = list(range(table.n_items))
    picks = []
    for _ in range(n):
        best, best_score = None, None
        for i in remaining:
            score = 0.0
            for v, cur in enumerate(current):
                cols, a = rows[v][i]
                vec = cur.copy()
                vec[cols] += a
                h = _entropy(vec)
                score += (utopia[v] - float(np.round(h, decimals))) ** 2
            if best_score is None or score < best_score:
                best, best_score = i, score
        picks.append(best)
        remaining.remove(best)
        for v, cur in enumerate(current):
            cols, a = rows[v][best]
            cur[cols] += a
    return picks


def _entropy(vec: np.ndarray) -> float:
    total = vec.sum()
    if total == 0:
        return 0.0
    p = vec[vec > 0] / total
    return float(-(p * np.log(p)).sum())


def plain_step_cost(table: ItemTable, candidates: int) -> float:
    """Seconds the baseline spends per candidate in one step on the full table
    (first step, measured on ``candidates`` candidates)."""
    utopia = [math.log(m.shape[1]) for m in table.counts]
    current = [np.zeros(m.shape[1], dtype=np.int64) for m in table.counts]
    t0 = time.perf_counter()
    for i in range(candidates):
        for v, m in enumerate(table.counts):
            vec = current[v].copy()
            lo, hi = m.indptr[i], m.indptr[i + 1]
            vec[m.indices[lo:hi]] += m.data[lo:hi]
            _ = (utopia[v] - float(np.round(_entropy(vec), 5))) ** 2
    return (time.perf_counter() - t0) / candidates


# ---- measurements ------------------------------------------------------------------
def timed(fn, repeat: int) -> dict:
    walls, cpus = [], []
    out = None
    for _ in range(repeat):
        gc.collect()
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return {"wall_s": min(walls), "cpu_s": min(cpus), "runs": repeat, "all_wall_s": walls, "result": out}


class RSSPeak:
    """Peak resident memory of this process while the block runs, sampled by a
    thread every 20 ms (negligible overhead, unlike ``tracemalloc``, which
    slows a full ranking down by more than 2x)."""

    def __enter__(self):
        import threading

        import psutil

        self._proc = psutil.Process()
        self.before = self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def added_MiB(self) -> float:
        return (self.peak - self.before) / 2**20


def traced_peak(fn) -> tuple[float, object]:
    gc.collect()
    tracemalloc.start()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, out


def table_bytes(table: ItemTable) -> int:
    return sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in table.counts)


def parse_time(synth, table: ItemTable) -> dict:
    """Write the table as a LOTUS TSV (temporary file) and time ``load_table``
    on it: the path a real LOTUS export takes."""
    import tempfile

    from gen_lotus_table import write_tsv

    from biorel.sampling import load_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lotus_synth.tsv"
        write_tsv(synth, path)
        t0 = time.perf_counter()
        parsed = load_table(path, on=["structure_wikidata", "organism_wikidata"], stratify="organism_taxonomy_02kingdom")
        took = time.perf_counter() - t0
        same = parsed.n_items == table.n_items and all((a != b).nnz == 0 for a, b in zip(parsed.counts, table.counts))
        return {"MiB": path.stat().st_size / 2**20, "load_table_s": took, "same_counts_as_in_memory": bool(same)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--refs", type=int, default=130_000)
    ap.add_argument("--rows", type=int, default=750_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-n", "--picks", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-full", action="store_true", help="skip the full ranking")
    ap.add_argument("--no-parse", action="store_true", help="skip timing load_table on the table written as TSV")
    ap.add_argument("--baseline-refs", type=int, default=1500, help="subsample size for the plain O(N^2) baseline")
    ap.add_argument("--baseline-picks", type=int, default=200)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    res: dict = {"python": platform.python_version(), "numpy": np.__version__, "args": vars(a) | {"json": str(a.json)}}

    t0 = time.perf_counter()
    synth = generate(a.refs, a.rows, seed=a.seed)
    t1 = time.perf_counter()
    table = synth.to_table()
    t2 = time.perf_counter()
    res["table"] = {
        "references": table.n_items,
        "rows": int(len(synth.ref)),
        "distinct": {v: table.n_entities(k) for k, v in enumerate(table.variables)},
        "generate_s": t1 - t0,
        "build_table_s": t2 - t1,
        "table_MiB": table_bytes(table) / 2**20,
    }
    print(f"table: {table.n_items} references, {len(synth.ref)} rows, distinct {res['table']['distinct']}", flush=True)
    if not a.no_parse:
        res["parse"] = parse_time(synth, table)
        print(f"parse the TSV ({res['parse']['MiB']:.0f} MiB) with load_table: {res['parse']['load_table_s']:.1f} s", flush=True)

    with RSSPeak() as mem:
        fast = timed(lambda: GMESampler("dutopia").sample(table, a.picks), a.repeat)
    peak, _ = traced_peak(lambda: GMESampler("dutopia").sample(table, a.picks))
    res["fast_picks"] = {
        "n": a.picks,
        "wall_s": fast["wall_s"],
        "cpu_s": fast["cpu_s"],
        "all_wall_s": fast["all_wall_s"],
        "peak_traced_MiB": peak,
        "rss_before_MiB": mem.before / 2**20,
        "rss_peak_added_MiB": mem.added_MiB,
    }
    print(
        f"fast, {a.picks} picks: best of {a.repeat} {fast['wall_s']:.2f} s wall, {fast['cpu_s']:.2f} s CPU; "
        f"peak traced {peak:.0f} MiB, peak RSS +{mem.added_MiB:.0f} MiB over {mem.before / 2**20:.0f} MiB",
        flush=True,
    )

    if not a.no_full:
        gc.collect()
        with RSSPeak() as mem:
            w, c = time.perf_counter(), time.process_time()
            full = GMESampler("dutopia").sample(table)
            wall, cpu = time.perf_counter() - w, time.process_time() - c
        stop = full.stop()
        peak = mem.added_MiB
        res["fast_full"] = {
            "n": len(full),
            "wall_s": wall,
            "cpu_s": cpu,
            "rss_before_MiB": mem.before / 2**20,
            "rss_peak_added_MiB": peak,
            "stop_step": stop.step,
            "stop_distance": stop.objective,
            "variable_peaks": stop.variable_peaks,
            "first_picks_agree": full.items[: a.picks] == fast["result"].items,
        }
        print(
            f"fast, full ranking ({len(full)}): {wall:.1f} s wall, {cpu:.1f} s CPU; "
            f"peak RSS +{peak:.0f} MiB over {mem.before / 2**20:.0f} MiB; stop step {stop.step}",
            flush=True,
        )

    rng = np.random.default_rng(a.seed)
    sub = table.subset(rng.choice(table.n_items, size=min(a.baseline_refs, table.n_items), replace=False))
    k = min(a.baseline_picks, sub.n_items)
    base = timed(lambda: plain_gme(sub, k), 1)
    fast_sub = timed(lambda: GMESampler("dutopia").sample(sub, k), a.repeat)
    same = [sub.items[i] for i in base["result"]] == fast_sub["result"].items
    res["baseline"] = {
        "subsample_refs": sub.n_items,
        "subsample_rows": int(sub.counts[0].sum()),
        "picks": k,
        "distinct": {v: sub.n_entities(j) for j, v in enumerate(sub.variables)},
        "plain_wall_s": base["wall_s"],
        "plain_cpu_s": base["cpu_s"],
        "fast_wall_s": fast_sub["wall_s"],
        "fast_cpu_s": fast_sub["cpu_s"],
        "same_picks": same,
    }
    print(f"baseline on {sub.n_items} refs, {k} picks: plain {base['wall_s']:.1f} s, fast {fast_sub['wall_s']:.3f} s, same picks: {same}", flush=True)
    per_candidate = plain_step_cost(table, 300)
    res["baseline"]["full_table_estimate"] = {
        "per_candidate_s": per_candidate,
        "first_step_s": per_candidate * table.n_items,
        "n_picks_h_estimate": per_candidate * table.n_items * a.picks / 3600,
        "note": "estimate: one step's per-candidate cost on the full table x candidates x picks",
    }
    print(f"baseline estimate on the full table: {per_candidate * table.n_items:.0f} s per step", flush=True)
    if a.json:
        a.json.write_text(json.dumps(res, indent=1, default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
