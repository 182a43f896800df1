"""Domain-adaptive pretraining ablation (issue 15, figure 1): all-MiniLM-L6-v2
as it is ("base") against the same encoder after MLM pretraining on the DAPT
corpus ("dapt"), each fine-tuned on BC5CDR and NCBI-disease with the same
config, overrides and seed, and scored on the test sets.

    python benchmarks/dapt_ablation.py --out runs/dapt-ablation --pretrain-steps 600 --finetune-epochs 2 --threads 1

One resumable command, in stages; each writes ``OUT/STAGE.json`` atomically at
its end and is skipped when that file exists (``--stages`` runs a subset):

1. ``corpus``: ``biorel.pretrain.build_corpus`` into ``OUT/corpus/dapt.jsonl``
   (skipped when ``--corpus`` names an existing corpus);
2. ``pretrain``: ``biorel pretrain configs/pretrain/dapt-minilm.toml`` in a child
   process with ``training.max_steps = --pretrain-steps`` (the config's
   ``log_every`` shrunk for short runs, the rest as configured); rerunning
   continues from ``OUT/pretrain/last`` (the pretrainer's own resume). Wall
   time, tokens/s, peak RSS of the child and the MLM loss curve
   (``OUT/pretrain/metrics.jsonl``) are recorded;
3. ``finetune``: ``biorel train`` (child processes) of configs/bc5cdr.toml and
   configs/ncbi_disease.toml for both encoders, with ``--finetune-epochs``,
   ``--seed`` and every ``--set KEY=VALUE``; an interrupted run resumes from its
   ``last`` checkpoint;
4. ``score``: ``biorel extract`` (child processes) over the test sets, scored by
   ``biorel.evaluation``: BC5CDR strict NER, CID with gold entities, CID end to
   end, NCBI-disease strict NER (micro F1 with 95% bootstrap intervals), and the
   paired bootstrap dapt vs base of each;
5. ``report``: the markdown table, the pretraining cost and the loss-curve PNG
   (``--plot``); prints the table, writes ``OUT/report.json``.

Smoke test (minutes): ``--pretrain-steps 3 --finetune-epochs 1 --limit-train 8
--limit-test 8 --out /tmp/dapt-smoke --plot /tmp/dapt-smoke/loss.png``
(``--limit-train`` caps the training and dev documents; smoke tests only).
Needs the dataset mirror (``BIOREL_DATA_MIRROR``) and the offline MiniLM.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from common import cpu_model, run_child, write_json

ROOT = Path(__file__).resolve().parents[1]
PRETRAIN_CONFIG = ROOT / "configs/pretrain/dapt-minilm.toml"
TASKS = {"bc5cdr": ROOT / "configs/bc5cdr.toml", "ncbi": ROOT / "configs/ncbi_disease.toml"}
ENCODERS = ("base", "dapt")
BASE_ENCODER = "minilm"  # the offline all-MiniLM-L6-v2 the configs use
STAGES = ("corpus", "pretrain", "finetune", "score", "report")
#: table rows: (label, task, evaluator, prediction mode)
METRICS = (
    ("BC5CDR NER (strict)", "bc5cdr", "ner", "extract"),
    ("BC5CDR CID, gold entities", "bc5cdr", "cid", "relate"),
    ("BC5CDR CID, end to end", "bc5cdr", "e2e", "extract"),
    ("NCBI-disease NER (strict)", "ncbi", "ner", "extract"),
)
CLI = [sys.executable, "-c", "from biorel.cli import main; main()"]
RESAMPLES = 1000


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def child_env(threads: int) -> dict[str, str]:
    n = str(threads)
    return {**os.environ, "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "RAYON_NUM_THREADS": n, "TOKENIZERS_PARALLELISM": "false"}


def run_checked(cmd: list[str], log_path: Path, args) -> dict[str, Any]:
    """A heavy step as a child process; exits with the log's tail when it fails."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    run = run_child(cmd, log_path, env=child_env(args.threads), cwd=ROOT)
    if run["rc"] != 0:
        tail = "".join(log_path.read_text("utf-8", errors="replace").splitlines(keepends=True)[-25:])
        raise SystemExit(f"{' '.join(cmd[3:6])} ... failed (exit {run['rc']}); the end of {log_path}:\n{tail}")
    return run


def load_stage(out: Path, name: str) -> dict[str, Any]:
    path = out / f"{name}.json"
    if not path.is_file():
        raise SystemExit(f"stage {name!r} has no result ({path}): run it first (--stages {name})")
    return json.loads(path.read_text("utf-8"))


# ---- 1. corpus ---------------------------------------------------------------------


def stage_corpus(args) -> dict[str, Any]:
    from biorel.pretrain import build_corpus
    from biorel.pretrain.corpus import report_path

    path = args.out / "corpus" / "dapt.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    report = build_corpus([], path, log=log)
    return {"corpus": str(path), "report": str(report_path(path)), "totals": report.totals(), "seconds": round(time.perf_counter() - t0, 1)}


def corpus_path(args) -> str:
    if args.corpus:
        return str(args.corpus.resolve())
    return load_stage(args.out, "corpus")["corpus"]


# ---- 2. pretrain -------------------------------------------------------------------


def pretrain_overrides(args, corpus: str) -> list[str]:
    """The overrides of the config: steps, corpus, threads; ``log_every`` (it
    does not change the weights) small enough for a curve of a short run."""
    from biorel.pretrain.config import load_pretrain_config

    every = load_pretrain_config(PRETRAIN_CONFIG).training.log_every
    every = max(1, min(every, args.pretrain_steps // 20))
    steps, threads = f"--training.max_steps={args.pretrain_steps}", f"--training.threads={args.threads}"
    return [steps, f"--data.corpus={corpus}", threads, f"--training.log_every={every}", "--training.progress=false"]


def loss_curve(folder: Path) -> dict[str, list[list[float]]]:
    """``{"train": [[step, loss], ...], "eval": [...]}`` from the pretrainer's ``metrics.jsonl``."""
    from biorel.jobs import Journal

    records = Journal(folder / "metrics.jsonl").read()
    return {kind: [[r["step"], r["loss"]] for r in records if r.get("kind") == kind] for kind in ("train", "eval")}


def stage_pretrain(args) -> dict[str, Any]:
    from biorel.jobs import Journal

    folder = args.out / "pretrain"
    folder.mkdir(parents=True, exist_ok=True)
    summary_path, attempts = folder / "summary.json", folder / "attempts.jsonl"
    done = summary_path.is_file() and json.loads(summary_path.read_text("utf-8"))["steps"] == args.pretrain_steps
    if not done:  # a checkpoint in OUT/pretrain/last is continued, not restarted
        cmd = CLI + ["pretrain", str(PRETRAIN_CONFIG), "-o", str(folder), *pretrain_overrides(args, corpus_path(args))]
        run = run_checked(cmd, folder / "pretrain.log", args)
        with open(attempts, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(run) + "\n")
    runs = [json.loads(line) for line in attempts.read_text("utf-8").splitlines() if line.strip()] if attempts.is_file() else []
    summary = json.loads(summary_path.read_text("utf-8"))
    curve = loss_curve(folder)
    return {
        "steps": summary["steps"],
        "resumed_from": summary["resumed_from"],
        "encoder": summary["encoder_dir"],
        "wall_s": round(sum(r["wall_s"] for r in runs), 1),
        "peak_rss_mib": max((r["peak_rss_mib"] for r in runs), default=summary["peak_rss_mib"]),
        "tokens": max((r.get("tokens", 0) for r in Journal(folder / "metrics.jsonl").read()), default=0),
        "tokens_per_s": summary["tokens_per_s"],
        "s_per_step": summary["s_per_step"],
        "precision": summary["precision"],
        "eval_loss_before": summary["eval_loss_before"],
        "eval_loss_after": summary["eval_loss_after"],
        "threads": args.threads,
        "attempts": runs,
        "curve": curve,
    }


# ---- 3. finetune -------------------------------------------------------------------


def finetune_overrides(args, encoder: str, model_dir: Path) -> list[str]:
    """The same overrides for both encoders; only the encoder and the output differ."""
    ov = [f"--training.seed={args.seed}", f"--training.threads={args.threads}", "--training.progress=false"]
    if args.finetune_epochs is not None:
        ov.append(f"--training.epochs={args.finetune_epochs}")
    if args.limit_train:
        ov += [f"--data.limit_train={args.limit_train}", f"--data.limit_dev={args.limit_train}"]
    ov += [f"--{kv}" for kv in args.set]
    return ov + [f"--model.encoder.name={encoder}", f"--training.output_dir={model_dir}"]


def finetune_one(args, task: str, encoder: str, folder: Path) -> dict[str, Any]:
    model_dir = folder / "model"
    cmd = CLI + ["train", str(TASKS[task]), *finetune_overrides(args, encoder, model_dir)]
    if (model_dir / "last" / "trainer_state.json").is_file():
        cmd += ["--resume", str(model_dir)]
    run = run_checked(cmd, folder / "train.log", args)
    history = json.loads((model_dir / "history.json").read_text("utf-8"))
    steps, seconds = history[-1]["global_step"], sum(h["train_seconds"] for h in history)
    return {
        **run,
        "encoder": encoder,
        "model": str(model_dir / "best"),
        "epochs": len(history),
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "s_per_step": round(seconds / max(1, steps), 3),
        "dev": [h.get("dev", {}) for h in history],
    }


def stage_finetune(args) -> dict[str, Any]:
    encoders = {"base": BASE_ENCODER, "dapt": load_stage(args.out, "pretrain")["encoder"]}
    runs: dict[str, Any] = {}
    for name, encoder in encoders.items():
        for task in TASKS:
            folder = args.out / "finetune" / f"{name}-{task}"
            done = folder / "run.json"
            if not done.is_file():
                log(f"finetune {name} {task}")
                write_json(done, finetune_one(args, task, encoder, folder))
            runs[f"{name}-{task}"] = json.loads(done.read_text("utf-8"))
            log(f"finetune {name} {task}: {runs[f'{name}-{task}']['steps']} steps, {runs[f'{name}-{task}']['s_per_step']} s/step")
    return {"runs": runs, "overrides": finetune_overrides(args, "ENCODER", Path("OUT"))}


# ---- 4. score ----------------------------------------------------------------------


def test_gold(args, task: str) -> Path:
    """The task's test split (first ``--limit-test`` documents) as biorel JSONL."""
    from biorel import io
    from biorel.config import load_config
    from biorel.training.data import load_split

    path = args.out / "score" / f"{task}.gold.jsonl"
    if not path.is_file():
        cfg = load_config(TASKS[task])
        gold, _ = load_split(cfg.data.test, format=cfg.data.format, lenient=cfg.data.lenient, limit=args.limit_test)
        path.parent.mkdir(parents=True, exist_ok=True)
        io.write(gold, path)
    return path


def predict(args, gold: Path, model: str, pred: Path, mode: str) -> dict[str, Any]:
    """``biorel extract`` in a child process (it resumes an interrupted output
    itself); a finished prediction (its ``.run.json``) is not run again."""
    done = pred.with_suffix(".run.json")
    if done.is_file():
        return json.loads(done.read_text("utf-8"))
    cmd = CLI + ["extract", str(gold), "--model", model, "-o", str(pred), "--mode", mode, f"--threads={args.threads}", "--no-progress"]
    run = run_checked(cmd, pred.with_suffix(".log"), args)
    write_json(done, run)
    return run


def score_pair(reports: dict[str, Any]) -> dict[str, Any]:
    """F1 with intervals of each encoder and the paired bootstrap dapt vs base."""
    from biorel.evaluation import paired_bootstrap

    row = {}
    for name, r in reports.items():
        ci = r.intervals["micro_f1"]
        row[name] = {"precision": r.micro.precision, "recall": r.micro.recall, "f1": r.micro.f1, "low": ci.low, "high": ci.high}
    test = paired_bootstrap(reports["dapt"], reports["base"], "micro_f1", n_resamples=RESAMPLES, seed=0)
    return row | {"delta": test.delta, "delta_low": test.low, "delta_high": test.high, "p": test.p_value, "documents": reports["base"].n_documents}


def stage_score(args) -> dict[str, Any]:
    from biorel import io
    from biorel.evaluation import evaluate
    from biorel.types import pair_examples

    runs = load_stage(args.out, "finetune")["runs"]
    timings, rows = {}, []
    for label, task, protocol, mode in METRICS:
        gold_path = test_gold(args, task)
        gold, reports = io.load(gold_path), {}
        for name in ENCODERS:
            pred = args.out / "score" / f"{name}-{task}.{mode}.jsonl"
            if f"{name}-{task}.{mode}" not in timings:
                timings[f"{name}-{task}.{mode}"] = predict(args, gold_path, runs[f"{name}-{task}"]["model"], pred, mode)
            reports[name] = evaluate(pair_examples(io.load(pred), gold), protocol, n_resamples=RESAMPLES, seed=0)
        rows.append({"metric": label, "task": task, "protocol": protocol, "mode": mode} | score_pair(reports))
        log(f"{label}: base {rows[-1]['base']['f1']:.4f} dapt {rows[-1]['dapt']['f1']:.4f} (p {rows[-1]['p']:.3f})")
    return {"rows": rows, "extract": timings, "limit_test": args.limit_test}


# ---- 5. report ---------------------------------------------------------------------


def _f1(s: dict[str, float]) -> str:
    return f"{100 * s['f1']:.2f} ({100 * s['low']:.1f}–{100 * s['high']:.1f})"


def results_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| metric (test, micro F1 %, 95% CI) | docs | base | dapt | Δ (95% CI) | p |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        delta = f"{100 * r['delta']:+.2f} ({100 * r['delta_low']:+.1f}–{100 * r['delta_high']:+.1f})"
        lines.append(f"| {r['metric']} | {r['documents']} | {_f1(r['base'])} | {_f1(r['dapt'])} | {delta} | {r['p']:.3f} |")
    return "\n".join(lines)


def cost_table(pre: dict[str, Any], finetune: dict[str, Any], cpu: str) -> str:
    lines = [
        f"Pretraining: {pre['steps']} steps ({pre['precision']}, {pre['threads']} thread(s)), wall {pre['wall_s'] / 60:.1f} min, "
        f"{pre['s_per_step']:.2f} s/step, {pre['tokens_per_s']:.0f} tokens/s, peak RSS {pre['peak_rss_mib']:.0f} MiB, "
        f"held-out MLM loss {pre['eval_loss_before']:.3f} -> {pre['eval_loss_after']:.3f}; CPU {cpu}; {time.strftime('%Y-%m-%d')}",
        "",
        "| fine-tuning run | epochs | steps | s/step | wall (min) | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in finetune["runs"].items():
        lines.append(f"| {name} | {r['epochs']} | {r['steps']} | {r['s_per_step']:.2f} | {r['wall_s'] / 60:.1f} | {r['peak_rss_mib']:.0f} |")
    return "\n".join(lines)


def plot_curve(curve: dict[str, list[list[float]]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for kind, style in (("train", "-"), ("eval", "o-")):
        if curve[kind]:
            steps, losses = zip(*curve[kind], strict=True)
            ax.plot(steps, losses, style, label=f"{kind} MLM loss", markersize=4)
    ax.set(xlabel="optimizer step", ylabel="MLM loss (masked tokens)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def stage_report(args) -> dict[str, Any]:
    pre, finetune, score = (load_stage(args.out, s) for s in ("pretrain", "finetune", "score"))
    cpu = cpu_model()
    plot_curve(pre["curve"], args.plot, f"DAPT of all-MiniLM-L6-v2, {pre['steps']} steps")
    table = results_table(score["rows"])
    cost = cost_table(pre, finetune, cpu)
    return {
        "table": table,
        "cost": cost,
        "plot": str(args.plot),
        "cpu": cpu,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "command": " ".join(sys.argv),
        "rows": score["rows"],
        "pretrain": {k: v for k, v in pre.items() if k != "curve"},
        "finetune": finetune,
    }


# ---- driver ------------------------------------------------------------------------


RUNNERS = {"corpus": stage_corpus, "pretrain": stage_pretrain, "finetune": stage_finetune, "score": stage_score, "report": stage_report}


def run_stage(args, name: str) -> None:
    path = args.out / f"{name}.json"
    if path.is_file():
        log(f"stage {name}: done before ({path}), skipped")
        steps = json.loads(path.read_text("utf-8")).get("steps") if name == "pretrain" else None
        if steps is not None and steps != args.pretrain_steps:
            log(f"note: the pretrained encoder has {steps} steps, not --pretrain-steps {args.pretrain_steps} (use a new --out)")
        return
    if name == "corpus" and args.corpus:
        log(f"stage corpus: --corpus {args.corpus} given, skipped")
        return
    log(f"stage {name}")
    t0 = time.perf_counter()
    result = RUNNERS[name](args)
    result["stage_seconds"] = round(time.perf_counter() - t0, 1)
    write_json(path, result)
    log(f"stage {name}: done in {result['stage_seconds']:.0f} s ({path})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="work folder (rerun the same command to resume)")
    ap.add_argument("--pretrain-steps", type=int, default=2000, help="MLM optimizer steps (training.max_steps)")
    ap.add_argument("--finetune-epochs", type=int, default=None, help="training.epochs of both configs (default: each config's)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of every child process")
    ap.add_argument("--seed", type=int, default=13, help="training.seed of every fine-tuning run")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a fine-tuning override for both encoders (repeatable)")
    ap.add_argument("--limit-train", type=int, default=0, help="smoke tests only: the first N training and dev documents")
    ap.add_argument("--limit-test", type=int, default=0, help="smoke tests only: the first N test documents")
    ap.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES), help="run only these stages (in pipeline order)")
    ap.add_argument("--corpus", type=Path, default=None, help="an existing corpus: no corpus stage")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs/img/dapt_mlm_loss.png", help="PNG of the MLM loss curve")
    args = ap.parse_args(argv)
    if args.corpus and not args.corpus.exists():
        ap.error(f"--corpus {args.corpus} does not exist")
    bad = [kv for kv in args.set if "=" not in kv or kv.startswith("-")]
    if bad:
        ap.error(f"--set takes KEY=VALUE (e.g. training.lr=3e-5), not {bad[0]!r}")
    args.out = args.out.resolve()
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in STAGES:
        if name in args.stages:
            run_stage(args, name)
    report = args.out / "report.json"
    if report.is_file():
        r = json.loads(report.read_text("utf-8"))
        print(f"\n{r['table']}\n\n{r['cost']}\n\nloss curve: {r['plot']}; result: {report}")


if __name__ == "__main__":
    main()
