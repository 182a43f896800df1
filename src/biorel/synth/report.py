"""``synth-report``: what a synthetic job produced, and how diverse it is.

* Acceptance: records by final status and rejection reason, plus backend
  failures still pending (``errors.jsonl`` keys that have no record).
* Alignment: records whose final text states every target entity (score 1),
  and the same for the first reply of each record (before any repair).
* Repairs: records accepted first time vs after a repair, records that needed
  a repair, LLM generations in all, and failed replies by reason: every reply
  that failed, including first replies that a repair then fixed (so this
  counts more than ``rejected_by_reason``, which counts records).
* Splitting: records written for a group of a split seed, and relation
  coverage: of the relations of the seeds that have records, the share that an
  accepted record states (as a relation of its document).
* Entity recall: over all records (accepted and rejected), the share of target
  entities located in the abstract (micro: found / targets) and the mean score;
  the share found by each match method.
* Length: words per accepted abstract (min, quartiles, max, mean) and a
  histogram with 50-word bins.
* Lexical diversity of accepted synthetic vs real abstracts (the seeds' own
  abstracts): both sides are cut to the same number of word tokens ``N`` (the
  smaller side's total, or ``sample_tokens``), taking whole abstracts in an
  order shuffled with a fixed seed and cutting the last one; then distinct-1/2/3
  (distinct n-grams / n-grams), vocabulary size and type-token ratio. The cut
  is repeated ``repeats`` times with different shuffles and averaged, so the
  comparison does not hinge on which abstracts were picked. Words are lower-cased
  ``\\w+`` runs (hyphenated and apostrophe words kept whole).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np

from ..errors import Diagnostics, error
from ..types import Document
from .job import ACCEPTED, ERRORS, MANIFEST, REJECTED, recover_jsonl
from .quality import words
from .seeds import abstract_of


@dataclass
class Diversity:
    tokens: int
    n_docs: int
    distinct_1: float
    distinct_2: float
    distinct_3: float
    vocabulary: float
    ttr: float


def _ngram_count(ws: list[str], n: int) -> tuple[int, int]:
    grams = [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]
    return len(set(grams)), len(grams)


def diversity(texts: Sequence[str], n_tokens: int, *, repeats: int = 5, seed: int = 0) -> Diversity:
    """Diversity of ``texts`` on samples of exactly ``n_tokens`` words."""
    docs = [words(t) for t in texts if t.strip()]
    total = sum(len(d) for d in docs)
    if n_tokens <= 0 or total < n_tokens:
        raise ValueError(f"need {n_tokens} tokens, have {total}")
    rows = []
    for r in range(repeats):
        order = list(range(len(docs)))
        random.Random(seed + r).shuffle(order)
        sample: list[str] = []
        # n-grams do not cross abstract boundaries
        pieces: list[list[str]] = []
        for i in order:
            take = docs[i][: n_tokens - len(sample)]
            sample.extend(take)
            pieces.append(take)
            if len(sample) >= n_tokens:
                break
        row = []
        for n in (1, 2, 3):
            d = t = 0
            seen: set[tuple[str, ...]] = set()
            for p in pieces:
                grams = [tuple(p[i : i + n]) for i in range(len(p) - n + 1)]
                seen.update(grams)
                t += len(grams)
            d = len(seen)
            row.append(d / t if t else 0.0)
        vocab = len(set(sample))
        row += [vocab, vocab / len(sample)]
        rows.append(row)
    m = np.mean(np.array(rows, dtype=float), axis=0)
    return Diversity(n_tokens, len(docs), *(round(float(x), 4) for x in m))


def _abstract(rec: dict[str, Any]) -> str:
    for p in rec.get("passages", []):
        if p.get("type") == "abstract":
            return p.get("text", "")
    return ""


def load_job(out_dir: str | Path, diagnostics: Diagnostics | None = None) -> tuple[list[dict], list[dict], list[dict], dict]:
    out = Path(out_dir)
    diagnostics = diagnostics if diagnostics is not None else Diagnostics()
    if not (out / ACCEPTED).exists() and not (out / REJECTED).exists():
        raise error("E330", path=str(out), reason=f"no {ACCEPTED} or {REJECTED}")
    acc = recover_jsonl(out / ACCEPTED, diagnostics)
    rej = recover_jsonl(out / REJECTED, diagnostics)
    errs = recover_jsonl(out / ERRORS, diagnostics)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8")) if (out / MANIFEST).exists() else {}
    return acc, rej, errs, manifest


def synth_report(
    out_dir: str | Path, real: Sequence[Document] | None = None, *, sample_tokens: int | None = None, repeats: int = 5
) -> dict[str, Any]:
    """The report as a JSON-able dict (see the module docstring)."""
    acc, rej, errs, manifest = load_job(out_dir)
    records = acc + rej
    if not records:
        raise error("E330", path=str(out_dir), reason="no records yet")
    meta = [r["metadata"]["synth"] for r in records]
    keys = {m["key"] for m in meta}
    pending = sorted({e["key"] for e in errs} - keys)
    reasons = Counter(m["reason"] for m in meta if m["status"] == "rejected")
    # records written before repairs existed had one generation, and its score was the first score
    gens = [int(m.get("generations", 1)) for m in meta]
    failed = Counter(e["reason"] for m in meta for e in m.get("repairs", []))
    failed.update(reasons)
    acc_meta = [r["metadata"]["synth"] for r in acc]
    groups = [m.get("group") for m in meta]
    seed_relations = {m["seed_id"]: g["seed_relations"] for m, g in zip(meta, groups) if g}
    covered = {(r["metadata"]["synth"]["seed_id"], rel["id"]) for r in acc for rel in r.get("relations", [])}
    n_targets = sum(m["n_targets"] for m in meta)
    n_found = sum(len(m["found"]) for m in meta)
    methods = Counter(method for m in meta for method in m["found"].values())
    lengths = np.array([len(words(_abstract(r))) for r in acc], dtype=float)
    report: dict[str, Any] = {
        "folder": str(out_dir),
        "backend": manifest.get("backend", {}),
        "template": manifest.get("fingerprint", {}).get("template"),
        "records": len(records),
        "accepted": len(acc),
        "acceptance_rate": round(len(acc) / len(records), 4),
        "rejected_by_reason": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "backend_errors": dict(Counter(e["reason"] for e in errs)),
        "pending_keys": len(pending),
        "entity_recall": round(n_found / n_targets, 4) if n_targets else 0.0,
        "mean_score": round(float(np.mean([m["score"] for m in meta])), 4),
        "mean_score_accepted": round(float(np.mean([r["metadata"]["synth"]["score"] for r in acc])), 4) if acc else None,
        "found_by_method": dict(methods),
        "aligned": sum(m["score"] >= 1.0 for m in meta),
        "aligned_rate": round(sum(m["score"] >= 1.0 for m in meta) / len(meta), 4),
        "first_reply_aligned_rate": round(sum(m.get("first_score", m["score"]) >= 1.0 for m in meta) / len(meta), 4),
        "accepted_first_time": sum(m.get("generations", 1) == 1 for m in acc_meta),
        "accepted_after_repair": sum(m.get("generations", 1) > 1 for m in acc_meta),
        "repaired_records": sum(g > 1 for g in gens),
        "generations": sum(gens),
        "failed_replies_by_reason": dict(sorted(failed.items(), key=lambda kv: (-kv[1], kv[0]))),
        "split_records": sum(1 for g in groups if g and g["of"] > 1),
        "seeds_split": len({m["seed_id"] for m, g in zip(meta, groups) if g and g["of"] > 1}),
    }
    if seed_relations:
        total = sum(seed_relations.values())
        n_cov = sum(1 for sid, _ in covered if sid in seed_relations)
        report["relation_coverage"] = {"covered": n_cov, "relations": total, "rate": round(n_cov / total, 4) if total else 0.0}
    gen_seconds = [m.get("seconds") or 0.0 for m in meta]
    if sum(gen_seconds) > 0:
        report["generation_seconds_mean"] = round(float(np.mean(gen_seconds)), 2)
    if len(lengths):
        q = np.percentile(lengths, [0, 25, 50, 75, 100])
        bins = Counter(int(x // 50) * 50 for x in lengths)
        report["length_words"] = {
            "min": int(q[0]),
            "q1": float(q[1]),
            "median": float(q[2]),
            "q3": float(q[3]),
            "max": int(q[4]),
            "mean": round(float(lengths.mean()), 1),
            "histogram": {f"{b}-{b + 49}": bins[b] for b in sorted(bins)},
        }
    synth_texts = [_abstract(r) for r in acc]
    real_texts = [abstract_of(d) for d in real] if real else []
    real_texts = [t for t in real_texts if t.strip()]
    if synth_texts and real_texts:
        n_syn = sum(len(words(t)) for t in synth_texts)
        n_real = sum(len(words(t)) for t in real_texts)
        n = min(n_syn, n_real) if sample_tokens is None else sample_tokens
        if n > 0 and n <= min(n_syn, n_real):
            report["diversity"] = {
                "tokens_per_sample": n,
                "repeats": repeats,
                "synthetic": diversity(synth_texts, n, repeats=repeats).__dict__,
                "real": diversity(real_texts, n, repeats=repeats).__dict__,
            }
        else:
            report["diversity"] = {"skipped": f"sample of {n} tokens is larger than synthetic ({n_syn}) or real ({n_real})"}
    return report


def format_report(rep: dict[str, Any]) -> str:
    """Plain-text rendering for the terminal."""
    lines = [
        f"records {rep['records']}  accepted {rep['accepted']}  acceptance {rep['acceptance_rate']:.1%}  pending (backend errors) {rep['pending_keys']}",
        "rejected by reason: " + (", ".join(f"{k} {v}" for k, v in rep["rejected_by_reason"].items()) or "none"),
        "backend errors: " + (", ".join(f"{k} {v}" for k, v in rep["backend_errors"].items()) or "none"),
        f"entity recall {rep['entity_recall']:.1%}  mean score {rep['mean_score']:.3f}  found by: "
        + ", ".join(f"{k} {v}" for k, v in rep["found_by_method"].items()),
        f"aligned (score 1) {rep['aligned']} ({rep['aligned_rate']:.1%}); first replies aligned {rep['first_reply_aligned_rate']:.1%}",
        f"accepted first time {rep['accepted_first_time']}, after repair {rep['accepted_after_repair']}; records repaired {rep['repaired_records']}; "
        f"generations {rep['generations']}",
        "failed replies (repaired ones included): " + (", ".join(f"{k} {v}" for k, v in rep["failed_replies_by_reason"].items()) or "none"),
    ]
    if rep.get("split_records"):
        lines.append(f"split seeds {rep['seeds_split']}, records written for one group of a split seed {rep['split_records']}")
    if "relation_coverage" in rep:
        c = rep["relation_coverage"]
        lines.append(f"seed relations stated by an accepted abstract: {c['covered']}/{c['relations']} ({c['rate']:.1%})")
    if "length_words" in rep:
        L = rep["length_words"]
        lines.append(f"length (words, accepted): min {L['min']} q1 {L['q1']:g} median {L['median']:g} q3 {L['q3']:g} max {L['max']} mean {L['mean']}")
        lines.append("  histogram: " + ", ".join(f"{k}: {v}" for k, v in L["histogram"].items()))
    div = rep.get("diversity")
    if div and "skipped" not in div:
        lines.append(f"lexical diversity on equal samples of {div['tokens_per_sample']} tokens (mean of {div['repeats']} draws):")
        lines.append(f"  {'':10} {'distinct-1':>10} {'distinct-2':>10} {'distinct-3':>10} {'vocab':>8} {'TTR':>7}")
        for side in ("synthetic", "real"):
            d = div[side]
            lines.append(
                f"  {side:10} {d['distinct_1']:>10.4f} {d['distinct_2']:>10.4f} {d['distinct_3']:>10.4f} {d['vocabulary']:>8.1f} {d['ttr']:>7.4f}"
            )
    elif div:
        lines.append("lexical diversity: " + div["skipped"])
    return "\n".join(lines)
