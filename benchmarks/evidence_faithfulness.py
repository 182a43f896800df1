"""Are the token attributions faithful? A deletion test on BC5CDR test (one
script, one figure).

For each relation the shipped model predicts on the 500 BC5CDR test abstracts
with the gold entities given (mode ``relate``, so the pair is fixed), the
top-k attributed words (:mod:`biorel.models.evidence`, methods ``attention``,
``grad-input`` and ``occlusion``) are deleted from the text (their characters removed, every
offset shifted; the relation's own argument mentions are never deleted, and a
word between two non-space characters is replaced by one space so that its
neighbours are not glued into one word), the same pair is scored again and the
score drop is recorded; the baseline deletes k random words drawn from the
same candidates (every word that overlaps no argument mention), several seeded
draws per relation, averaged. Per method and k: mean drop for top-k and for
random, the share of relations where top-k drops more, the mean paired
difference with a paired bootstrap 95% interval, and the one-sided Wilcoxon
signed-rank p-value (top-k drop > random drop).

Optionally (``--e2e-relations N``) the same on N relations predicted end to
end (mode ``extract``): after deletion the text is tagged again and the pair is
looked up by its entity ids; a pair that is no longer found scores 0.

    python benchmarks/evidence_faithfulness.py --out /tmp/evf --threads 1 \\
        --max-relations 250 --ks 1 3 5 10 --draws 3 --e2e-relations 60
    python benchmarks/evidence_faithfulness.py --out /tmp/evf-occ --threads 1 \\
        --max-relations 160 --ks 1 3 5 10 --draws 3 --methods occlusion attention

``occlusion`` is the deletion of single words by construction (its weight: the
margin drop when that word alone is deleted, by the same :func:`delete_words`);
what this test adds is whether deleting its top-k words *together* drops more
than k random words.

Relations are subsampled with ``--seed`` when ``--max-relations`` is below the
number predicted; the report says so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from common import cpu_model

Span = tuple[int, int]


@dataclass
class Case:
    """One predicted relation and what is deleted for it."""

    doc_index: int
    relation: Any
    score: float
    candidates: list[Span]
    top: dict[str, list[Span]] = field(default_factory=dict)
    #: the pair's margin (logit_r - logit_none) before deletion
    margin: float | None = None
    #: (method or "random#d", k) -> margin after deletion (None: the pair was lost)
    after: dict[tuple[str, int], float | None] = field(default_factory=dict)


# ---- deletion -------------------------------------------------------------------------------
def delete_words(doc: Any, spans: list[Span], keep_relations: bool = False) -> Any:
    """The library's deletion (:func:`biorel.models.evidence.delete_words`, the
    operation ``occlusion`` attributes with): the characters of ``spans``
    removed (a span with non-space characters on both sides becomes one
    space), passages and mentions shifted; mentions overlapping a deleted span
    are dropped, with their entities' references (entities left without
    mentions are dropped)."""
    from biorel.models.evidence import delete_words as delete

    return delete(doc, spans, keep_relations)


def candidate_words(model: Any, doc: Any, rel: Any) -> list[Span]:
    """Every word of ``doc`` (as the evidence module joins word pieces) that
    overlaps no mention of the relation's arguments."""
    from biorel.models.evidence import argument_spans, word_weights

    f = model.encoder.features(doc)
    entities = {e.id: e for e in doc.entities or doc.entities_from_mentions()}
    head, tail = argument_spans(rel, doc.mention_index(), entities)
    args = head + tail
    words = word_weights({tuple(o): 0.0 for o in f.offsets}, f.text)
    return [(s, e) for s, e, _ in words if not any(a < e and s < b for a, b in args)]


# ---- scoring ---------------------------------------------------------------------------------
def pair_margin(model: Any, doc: Any, rel: Any, mode: str) -> float | None:
    """The pair's margin ``logit_r - logit_none`` (its score is the sigmoid of
    it; the model's scores are mostly saturated near 1, so the margin is the
    sensitive measure), the best argument order for an undirected type. In
    ``extract`` mode the text is tagged again first; ``None`` when an argument
    is no longer found. One encoder pass (model internals of the joint model)."""
    import torch

    from biorel.models.pairs import entity_refs

    with torch.inference_mode():
        f = model.encoder.features(doc)
        tok = model.encoder.encode([f])[0]
        if mode == "extract":
            doc = model._extract(doc, f, tok, 1.0, False)
        refs = entity_refs(doc, f.offsets)
        index = {r.id: k for k, r in enumerate(refs)}
        if rel.head not in index or rel.tail not in index:
            return None
        h, t = index[rel.head], index[rel.tail]
        orders = [(h, t)] if rel.directed else [(h, t), (t, h)]
        logits = model._pair_logits(tok, refs, orders).float()
        ri = model.labels.relation_index[rel.type]
        return float((logits[:, 1 + ri] - logits[:, 0]).max())


def rescore(model: Any, cases: list[Case], docs: list[Any], mode: str, ks: list[int], draws: int, seed: int, log) -> None:
    """Fill ``case.margin`` and ``case.after`` for every deletion set
    (identical sets scored once)."""
    t0 = time.perf_counter()
    for n, case in enumerate(cases):
        doc = docs[case.doc_index]
        case.margin = pair_margin(model, doc, case.relation, mode)
        rng = random.Random(seed * 1_000_003 + n)
        sets: dict[tuple[str, int], frozenset[Span]] = {}
        for k in ks:
            for method, words in case.top.items():
                sets[(method, k)] = frozenset(words[:k])
            for d in range(draws):
                sets[(f"random#{d}", k)] = frozenset(rng.sample(case.candidates, min(k, len(case.candidates))))
        seen: dict[frozenset[Span], float | None] = {}
        for key, spans in sets.items():
            if spans not in seen:
                seen[spans] = pair_margin(model, delete_words(doc, sorted(spans)), case.relation, mode)
            case.after[key] = seen[spans]
        if (n + 1) % 25 == 0 or n + 1 == len(cases):
            log(f"  {mode}: {n + 1}/{len(cases)} relations rescored, {time.perf_counter() - t0:.0f} s")


# ---- statistics -------------------------------------------------------------------------------
def sigmoid(x: float | None) -> float:
    import math

    return 0.0 if x is None else 1.0 / (1.0 + math.exp(-x))


def paired(top: Any, rnd: Any, seed: int) -> dict[str, Any]:
    """Mean drops, the paired difference with a bootstrap 95% interval, the
    share of relations where top-k drops more, one-sided Wilcoxon p."""
    import numpy as np
    from scipy.stats import wilcoxon

    diff = top - rnd
    boots = np.random.default_rng(seed).choice(diff, size=(2000, len(diff)), replace=True).mean(1)
    p = float(wilcoxon(top, rnd, alternative="greater").pvalue) if np.any(diff != 0) else 1.0
    return {
        "drop_top": float(top.mean()),
        "drop_random": float(rnd.mean()),
        "diff": float(diff.mean()),
        "diff_ci": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
        "share_top_more": float((diff > 0).mean()),
        "wilcoxon_p": p,
    }


def summarise(cases: list[Case], methods: list[str], ks: list[int], draws: int, seed: int) -> list[dict[str, Any]]:
    """Per method and k: the score drop (``sigmoid(margin)``; a lost pair
    scores 0) and, over relations whose pair survives every deletion, the
    margin drop."""
    import numpy as np

    cases = [c for c in cases if c.margin is not None]
    rows = []
    for method in methods:
        for k in ks:
            rand_keys = [(f"random#{d}", k) for d in range(draws)]
            s0 = np.array([sigmoid(c.margin) for c in cases])
            top = s0 - np.array([sigmoid(c.after[(method, k)]) for c in cases])
            rnd = s0 - np.array([np.mean([sigmoid(c.after[key]) for key in rand_keys]) for c in cases])
            kept = [c for c in cases if c.after[(method, k)] is not None and all(c.after[key] is not None for key in rand_keys)]
            mtop = np.array([c.margin - c.after[(method, k)] for c in kept])
            mrnd = np.array([np.mean([c.margin - c.after[key] for key in rand_keys]) for c in kept])
            lost = sum(1 for c in cases if c.after[(method, k)] is None)
            lost_random = float(np.mean([sum(c.after[key] is None for key in rand_keys) / draws for c in cases])) * len(cases)
            rows.append(
                {
                    "method": method,
                    "k": k,
                    "n": len(cases),
                    "fewer_than_k": sum(1 for c in cases if len(c.top[method]) < k),
                    "score": paired(top, rnd, seed),
                    "margin": {**paired(mtop, mrnd, seed), "n": len(kept)} if kept else None,
                    "pair_lost_top": lost,
                    "pair_lost_random": lost_random,
                }
            )
    return rows


def table(rows: list[dict[str, Any]], title: str) -> str:
    lines = [
        f"**{title}**",
        "",
        "| method | k | relations | score drop top-k | score drop random-k | difference [95% CI] | top-k drops more | Wilcoxon p | margin drop top-k | margin drop random-k | top-k drops margin more | Wilcoxon p (margin) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        sc, mg = r["score"], r["margin"]
        lo, hi = sc["diff_ci"]
        margin = (
            f"{mg['drop_top']:.3f} | {mg['drop_random']:.3f} | {100 * mg['share_top_more']:.1f}% | {mg['wilcoxon_p']:.2g}" if mg else "- | - | - | -"
        )
        lines.append(
            f"| {r['method']} | {r['k']} | {r['n']} | {sc['drop_top']:.4f} | {sc['drop_random']:.4f} | "
            f"{sc['diff']:+.4f} [{lo:+.4f}, {hi:+.4f}] | {100 * sc['share_top_more']:.1f}% | {sc['wilcoxon_p']:.2g} | {margin} |"
        )
    return "\n".join(lines)


# ---- the run -----------------------------------------------------------------------------------
def collect_cases(
    model: Any, preds: list[Any], methods: list[str], top_k: int, limit: int | None, seed: int, log
) -> tuple[list[Case], int, dict[str, float]]:
    """The predicted relations (a seeded subsample of ``limit`` when there are
    more) with their attributions under each method, computed on a copy of
    their document holding only the sampled relations; and per method the
    seconds per document it took."""
    from biorel.models.evidence import explain

    every = [(i, r) for i, d in enumerate(preds) for r in d.relations]
    total = len(every)
    if limit is not None and limit < total:
        every = sorted(random.Random(seed).sample(every, limit), key=lambda x: (x[0], x[1].id))
    by_doc: dict[int, list[Any]] = {}
    for i, r in every:
        by_doc.setdefault(i, []).append(r)
    cases = []
    t0 = time.perf_counter()
    seconds = dict.fromkeys(methods, 0.0)
    for i, rels in by_doc.items():
        work = {m: replace(preds[i], relations=[replace(r, infons={}, evidence=()) for r in rels]) for m in methods}
        for m, doc in work.items():
            seconds[m] += explain(model, [doc], top_k=top_k, method=m).seconds
        for j, r in enumerate(rels):
            case = Case(i, r, float(r.score), candidate_words(model, preds[i], r))
            case.top = {m: [(s, e) for s, e, _ in work[m].relations[j].infons["attributions"]] for m in methods}
            cases.append(case)
    log(f"  attributions for {len(cases)} relations in {len(by_doc)} documents: {time.perf_counter() - t0:.0f} s")
    for m, sec in seconds.items():
        log(f"    {m}: {sec:.0f} s, {sec / max(1, len(by_doc)):.2f} s per document")
    return cases, total, {m: sec / max(1, len(by_doc)) for m, sec in seconds.items()}


def run_mode(model, docs, mode: str, args, log) -> dict[str, Any]:
    t0 = time.perf_counter()
    preds = model.predict(docs, mode)
    log(f"{mode}: predicted {sum(len(d.relations) for d in preds)} relations in {time.perf_counter() - t0:.0f} s")
    limit = args.max_relations if mode == "relate" else args.e2e_relations
    cases, total, per_doc = collect_cases(model, preds, args.methods, max(args.ks), limit, args.seed, log)
    # deletions are made on the predicted documents (their mentions: the gold ones in
    # relate mode; in extract mode they only keep the offsets straight, the text is tagged again)
    rescore(model, cases, preds, mode, args.ks, args.draws, args.seed, log)
    rows = summarise(cases, args.methods, args.ks, args.draws, args.seed)
    return {
        "mode": mode,
        "relations_predicted": total,
        "relations_used": len(cases),
        "seconds": time.perf_counter() - t0,
        "attribution_seconds_per_document": per_doc,
        "rows": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="bc5cdr-minilm")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 3, 5, 10])
    ap.add_argument("--draws", type=int, default=3, help="random deletions per relation and k")
    ap.add_argument("--methods", nargs="+", default=["attention", "grad-input", "occlusion"])
    ap.add_argument("--max-relations", type=int, default=None, help="relate mode: subsample this many relations (seeded)")
    ap.add_argument("--e2e-relations", type=int, default=0, help="also run end to end (extract mode) on this many relations")
    ap.add_argument("--limit-docs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from biorel.datasets import load_dataset
    from biorel.models import load_model

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    model = load_model(args.model)
    model.set_precision("fp32")
    docs = load_dataset("bc5cdr", split="test")[: args.limit_docs]
    results = [run_mode(model, docs, "relate", args, log)]
    if args.e2e_relations:
        results.append(run_mode(model, docs, "extract", args, log))
    seconds = time.perf_counter() - start
    meta = {
        "command": "python benchmarks/evidence_faithfulness.py " + " ".join(_argv()),
        "cpu": cpu_model(),
        "threads": args.threads,
        "date": dt.date.today().isoformat(),
        "documents": len(docs),
        "seconds": seconds,
    }
    (args.out / "faithfulness.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1), "utf-8")
    print()
    print(f"Evidence faithfulness, BC5CDR test ({len(docs)} abstracts), model {args.model}; {meta['cpu']}, {args.threads} thread(s), {meta['date']}")
    print(f"command: {meta['command']}; total {seconds / 60:.1f} min")
    for res in results:
        sub = (
            f"a seeded subsample (seed {args.seed}) of {res['relations_used']} of the {res['relations_predicted']} predicted relations"
            if res["relations_used"] < res["relations_predicted"]
            else f"all {res['relations_used']} predicted relations"
        )
        print()
        print(table(res["rows"], f"mode {res['mode']}: {sub}; {args.draws} random draws per relation and k; {res['seconds'] / 60:.1f} min"))


def _argv() -> list[str]:
    import sys

    return sys.argv[1:]


if __name__ == "__main__":
    main()
