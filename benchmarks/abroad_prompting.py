"""Zero- and few-shot prompting of the generative base models on ABroad-RE
(issue 14, the baseline of figure 1; constrained against free decoding for
figure 2): ``biorel.GenerativeRE.v1`` without adapters
(``GenerativeRE.prompted``), the chat template of the instruct models, the ABroad
form, greedy decoding.

Cells: model (``smollm2-135m``, ``qwen2.5-coder-0.5b``) x shots (0, 3) x decoding
(``constrained``: copy-constrained, names up to ASCII case as in the ABroad LoRA
config; ``free``). Each cell predicts the 16 real abstracts
(``abroad-example:examples``) and the 10 synthetic validation abstracts
(``abroad-example:synthetic-valid``). Shots come from the *other* set: the
first three synthetic validation abstracts for a real one and the first three
real ones for a synthetic one, so a prompt never shows the abstract being read
(and the model excludes its own document in any case). Outputs are scored with
the ABroad protocol (``biorel.RE.ABroad.v1``, micro P/R/F1); also counted: the
items that do not parse, the generated entity names not found in the input
(case-insensitive, as grounding reads them), seconds per abstract, new and
prompt tokens per second, and the peak RSS of the cell.

Each cell runs in its own process (its own peak RSS) and writes
``OUT/<model>_<k>shot_<decoding>.json``; a cell whose file exists is skipped, so
a stopped run resumes. The default order runs the most informative cells first.

    python benchmarks/abroad_prompting.py --out runs/abroad-prompting            # every cell, then the table
    python benchmarks/abroad_prompting.py --out /tmp/est --limit 2 --cells qwen2.5-coder-0.5b:3:constrained
    python benchmarks/abroad_prompting.py --out runs/abroad-prompting --table    # the table of the cells done
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from common import cpu_model

MODELS = ("qwen2.5-coder-0.5b", "smollm2-135m")
#: the most informative cells first: constrained before free, the larger model first
CELLS = tuple(f"{m}:{k}:{d}" for d in ("constrained", "free") for m in MODELS for k in (0, 3))
SETS = {"real": "examples", "synthetic": "synthetic-valid"}
PROMPT = (
    "List every organism in this abstract together with each natural product (chemical compound) it is said to produce. "
    "Write one item per pair as 'ORGANISM produces CHEMICAL', items separated by '; ', names copied from the abstract. "
    "Write only the list.\n\nAbstract: {text}"
)


def cell_file(out: Path, cell: str) -> Path:
    model, k, decoding = cell.split(":")
    return out / f"{model}_{k}shot_{decoding}.json"


def load_sets() -> dict[str, list]:
    from biorel.datasets import load_dataset

    return {name: list(load_dataset("abroad-example", split=split)) for name, split in SETS.items()}


def build(model_name: str, shots: int, constrained: bool, pool: list, max_new_tokens: int, ignore_case: bool):
    from biorel.models.generative import GenerativeRE

    decoding = {"strategy": "greedy", "constrained": constrained, "ignore_case": ignore_case}
    options = dict(form="abroad", prompt=PROMPT, chat=True, max_length=512, max_new_tokens=max_new_tokens, decoding=decoding)
    return GenerativeRE.prompted(pool, base=model_name, shots=shots, **options)


def names_in_input(output: str, text: str) -> tuple[int, int]:
    """``(names, found)``: the entity names of the parsable items of
    ``output`` and how many occur in ``text`` (any case)."""
    from biorel.models.linearize import parse

    rels, _ = parse(output, "abroad")
    names = [n for r in rels for n in (r.head, r.tail)]
    return len(names), sum(bool(n) and n.lower() in text.lower() for n in names)


def predict_set(model, docs: list) -> tuple[list, list[dict]]:
    """Predictions one abstract at a time, each timed."""
    preds, rows = [], []
    for doc in docs:
        t0 = time.perf_counter()
        (pred,) = model.predict([doc])
        seconds = time.perf_counter() - t0
        gen = pred.metadata["generation"]
        names, found = names_in_input(pred.metadata["output"], doc.text)
        rows.append(
            {"id": doc.id, "seconds": round(seconds, 2), "names": names, "names_found": found, "output": pred.metadata["output"], "generation": gen}
        )
        print(f"  {doc.id}: {seconds:.1f} s, {gen['new_tokens']} new tokens, {len(gen['unparsable_items'])} unparsable", flush=True)
        preds.append(pred)
    return preds, rows


def count(value: int | list) -> int:
    """A count of the generation report (a number, or a list of what it counts)."""
    return len(value) if isinstance(value, list) else int(value)


def summarise(preds: list, gold: list, rows: list[dict]) -> dict:
    from biorel.evaluation import evaluate
    from biorel.types import Example

    micro = evaluate([Example(p, g) for p, g in zip(preds, gold)], "abroad", n_resamples=0).micro
    seconds = sum(r["seconds"] for r in rows)
    total = {
        k: sum(count(r["generation"][k]) for r in rows) for k in ("items", "unparsable_items", "truncated_windows", "new_tokens", "prompt_tokens")
    }
    names = sum(r["names"] for r in rows)
    return {
        "documents": len(rows),
        "p": micro.precision,
        "r": micro.recall,
        "f1": micro.f1,
        "tp": micro.tp,
        "fp": micro.fp,
        "fn": micro.fn,
        **total,
        "outputs_without_pair": sum(r["names"] == 0 for r in rows),
        "names": names,
        "names_not_in_input": names - sum(r["names_found"] for r in rows),
        "share_not_in_input": (names - sum(r["names_found"] for r in rows)) / names if names else None,
        "seconds_per_abstract": seconds / len(rows),
        "new_tokens_per_s": total["new_tokens"] / seconds,
        "prompt_tokens_per_abstract": total["prompt_tokens"] / len(rows),
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory (``VmHWM``: from its exec on, unlike
    ``ru_maxrss``, which a child inherits from the parent it forked from)."""
    status = Path("/proc/self/status").read_text()
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 1024 if line else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_cell(cell: str, out: Path, limit: int | None, max_new_tokens: int, threads: int, ignore_case: bool) -> dict:
    """One cell, in this process: both sets, shots from the other one."""
    import torch

    from biorel.jobs import atomic_file

    torch.set_num_threads(threads)
    model_name, k, decoding = cell.split(":")
    every = load_sets()
    sets = {name: docs[:limit] for name, docs in every.items()}
    pools = {"real": every["synthetic"], "synthetic": every["real"]}
    result = {
        "cell": cell,
        "model": model_name,
        "shots": int(k),
        "decoding": decoding,
        "ignore_case": ignore_case,
        "threads": threads,
        "max_new_tokens": max_new_tokens,
        "prompt": PROMPT,
    }
    for name, docs in sets.items():
        print(f"{cell} on {name} ({len(docs)} abstracts)", flush=True)
        t0 = time.perf_counter()
        model = build(model_name, int(k), decoding == "constrained", pools[name], max_new_tokens, ignore_case)
        load_s = time.perf_counter() - t0
        preds, rows = predict_set(model, docs)
        result[name] = {
            **summarise(preds, docs, rows),
            "load_seconds": round(load_s, 1),
            "shot_ids": [s.id for s in model.shots[: int(k)]],
            "per_document": rows,
        }
        del model
    result["peak_rss_mib"] = peak_rss_mib()
    result["cpu"] = cpu_model()
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    with atomic_file(cell_file(out, cell)) as fh:
        json.dump(result, fh, indent=1, ensure_ascii=False)
    return result


def fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def table(out: Path) -> str:
    """The markdown table of the cells done in ``out``."""
    done = [json.loads(f.read_text("utf-8")) for f in sorted(out.glob("*shot_*.json"))]
    if not done:
        return "(no cell done)"
    head = (
        f"ABroad protocol, micro; greedy; {done[0]['threads']} thread(s); max_new_tokens {done[0]['max_new_tokens']}; "
        f"constrained names {'up to ASCII case' if done[0].get('ignore_case', True) else 'with their case'}; "
        f"CPU: {done[0]['cpu']}; {done[0]['date'][:10]}\n\n"
        "| model | shots | decoding | real P / R / F1 | synthetic P / R / F1 | unparsable items (real + synth) | names not in input "
        "| s / abstract | new tokens / s | prompt tokens / abstract | peak RSS MiB |\n|" + "---|" * 11
    )
    lines = [head]
    for d in sorted(done, key=lambda d: CELLS.index(d["cell"]) if d["cell"] in CELLS else 99):
        real, syn = d["real"], d["synthetic"]
        names = real["names"] + syn["names"]
        missing = real["names_not_in_input"] + syn["names_not_in_input"]
        n = real["documents"] + syn["documents"]
        seconds = real["seconds_per_abstract"] * real["documents"] + syn["seconds_per_abstract"] * syn["documents"]
        new = real["new_tokens"] + syn["new_tokens"]
        lines.append(
            f"| {d['model']} | {d['shots']} | {d['decoding']} "
            f"| {fmt(real['p'])} / {fmt(real['r'])} / {fmt(real['f1'])} | {fmt(syn['p'])} / {fmt(syn['r'])} / {fmt(syn['f1'])} "
            f"| {real['unparsable_items']} + {syn['unparsable_items']} of {real['items'] + syn['items']} "
            f"| {missing} / {names} ({fmt(missing / names if names else None, 2)}) "
            f"| {seconds / n:.1f} | {new / seconds:.2f} | {(real['prompt_tokens'] + syn['prompt_tokens']) / n:.0f} | {d['peak_rss_mib']:.0f} |"
        )
    return "\n".join(lines)


def prepare_bases(cells: list[str]) -> None:
    """Dequantise each GGUF base once, before the timed cells."""
    from biorel.models.gguf_cache import dequantised_folder

    for name in dict.fromkeys(c.split(":")[0] for c in cells):
        t0 = time.perf_counter()
        folder, _ = dequantised_folder(name)
        print(f"{name}: {folder} ({time.perf_counter() - t0:.0f} s)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/abroad-prompting"))
    ap.add_argument("--cells", default=",".join(CELLS), help="MODEL:SHOTS:DECODING,... (default: all, most informative first)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-new-tokens", type=int, default=160)
    ap.add_argument("--limit", type=int, default=None, help="the first N abstracts of each set (an estimate of the time)")
    ap.add_argument(
        "--exact-case", action="store_true", help="constrained names copied with their case (default: up to ASCII case, as the ABroad LoRA config)"
    )
    ap.add_argument("--cell", default=None, help=argparse.SUPPRESS)  # one cell in this process
    ap.add_argument("--table", action="store_true", help="print the table of the cells done and stop")
    args = ap.parse_args()
    if args.cell:
        run_cell(args.cell, args.out, args.limit, args.max_new_tokens, args.threads, not args.exact_case)
        return
    if not args.table:
        args.out.mkdir(parents=True, exist_ok=True)
        cells = [c for c in args.cells.split(",") if c]
        prepare_bases(cells)
        for cell in cells:
            if cell_file(args.out, cell).exists():
                print(f"{cell}: done, skipped", flush=True)
                continue
            cmd = [
                sys.executable,
                __file__,
                "--cell",
                cell,
                "--out",
                str(args.out),
                "--threads",
                str(args.threads),
                "--max-new-tokens",
                str(args.max_new_tokens),
            ]
            cmd += (["--limit", str(args.limit)] if args.limit else []) + (["--exact-case"] if args.exact_case else [])
            t0 = time.perf_counter()
            env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
            subprocess.run(cmd, check=True, env=env)
            print(f"{cell}: {time.perf_counter() - t0:.0f} s", flush=True)
    print(table(args.out))


if __name__ == "__main__":
    main()
