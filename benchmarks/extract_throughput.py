"""Extraction throughput and peak memory on the 500 BC5CDR test abstracts, side by side
with a plain baseline (one script, one figure).

Variants, each run in a fresh process (so that peak RSS is its own), all on the same
trained joint model and the same threads:

* ``baseline``: the model's encoder and token-tagging head exported as an HF
  ``AutoModelForTokenClassification`` and run through a transformers
  ``pipeline("token-classification", aggregation_strategy="simple")``, one call per
  sentence (sentences from :func:`biorel.sentences.sentence_spans`). Mentions only: the
  baseline has no relation step.
* ``biorel-fp32`` / ``biorel-bf16``: ``biorel.extract.extract`` end to end (mentions,
  entities, relations), encoder in fp32 or with bf16 weights.
* ``biorel-torch-int8``: ``precision="int8"``: the encoder's linear layers
  quantised to int8 (per output channel) with ``torch.ao.quantization``.
* ``biorel-ort-fp32`` / ``biorel-ort-int8``: the encoder exported to ONNX and run by ONNX
  Runtime, in fp32 or dynamically quantised to int8 (``onnxruntime.quantization``).
  Needs ``onnxruntime`` and ``onnx`` (the ``onnx`` extra).

Every variant's mentions are scored with the strict ``ner`` protocol, so speed and
accuracy are read together. Time counts from before the model is loaded to the last
document written (model loading, export and quantisation included), and is also given
without the start-up.

    python benchmarks/extract_throughput.py --model runs/bc5cdr/best --out /tmp/tp --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from common import child_result, print_result

VARIANTS = ("baseline", "biorel-fp32", "biorel-bf16", "biorel-torch-int8", "biorel-ort-fp32", "biorel-ort-int8")


def _gold(out: Path, limit: int | None) -> Path:
    from biorel import io
    from biorel.datasets import load_dataset

    path = out / "test.gold.jsonl"
    if not path.exists():
        io.write(load_dataset("bc5cdr", split="test")[:limit], path)
    return path


def _ort_encoder(session, config):
    """A module that stands in for the HF encoder in :meth:`JointNERRE.encode`."""
    import torch

    class OrtEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.session = session
            self.config = config

        def forward(self, input_ids, attention_mask):
            return _ort_forward(self.session, input_ids, attention_mask)

    return OrtEncoder()


def _ort_forward(session, input_ids, attention_mask):
    from types import SimpleNamespace

    import torch

    out = session.run(None, {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})[0]
    return SimpleNamespace(last_hidden_state=torch.from_numpy(out))


def _onnx_encoder(model, work: Path, int8: bool, threads: int):
    import onnxruntime as ort
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self, enc):
            super().__init__()
            self.enc = enc

        def forward(self, input_ids, attention_mask):
            return self.enc(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    enc = model.net.encoder.eval()
    path = work / "encoder.onnx"
    example = (torch.ones((2, 16), dtype=torch.long), torch.ones((2, 16), dtype=torch.long))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "hidden": {0: "batch", 1: "tokens"}}
    torch.onnx.export(
        Wrapped(enc),
        example,
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["hidden"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        qpath = work / "encoder.int8.onnx"
        quantize_dynamic(str(path), str(qpath), weight_type=QuantType.QInt8)
        path = qpath
    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    return _ort_encoder(session, enc.config)


def run_biorel(variant: str, model_dir: str, gold: Path, work: Path, threads: int) -> dict:

    from biorel.extract import extract
    from biorel.models import load_model

    t0 = time.perf_counter()
    model = load_model(model_dir)
    precision = "fp32"
    if variant == "biorel-bf16":
        precision = "bf16"
    elif variant == "biorel-torch-int8":
        precision = "int8"
    elif variant.startswith("biorel-ort"):
        model.net.encoder = model.encoder.module = _onnx_encoder(model, work, variant.endswith("int8"), threads)
    ready = time.perf_counter()
    pred = work / f"pred.{variant}.jsonl"
    stats = extract(gold, model, pred, mode="extract", resume=False, progress=False, precision=precision)
    end = time.perf_counter()
    return {"pred": str(pred), "seconds": end - t0, "startup_seconds": ready - t0, "documents": stats.written}


def run_baseline(model_dir: str, gold: Path, work: Path, threads: int) -> dict:
    from transformers import AutoModelForTokenClassification, pipeline

    from biorel import io
    from biorel.models import load_model
    from biorel.sentences import sentence_spans
    from biorel.types import Document, Mention

    t0 = time.perf_counter()
    joint = load_model(model_dir)
    tags = joint.labels.tags
    cfg = joint.net.encoder.config
    cfg.id2label = dict(enumerate(tags))
    cfg.label2id = {t: i for i, t in enumerate(tags)}
    cfg.num_labels = len(tags)
    hf = AutoModelForTokenClassification.from_config(cfg)
    base = getattr(hf, hf.base_model_prefix)
    missing, unexpected = base.load_state_dict(joint.net.encoder.state_dict(), strict=False)
    if missing or [k for k in unexpected if not k.startswith("pooler.")]:
        raise SystemExit(f"encoder weights do not fit the token-classification model: missing {missing}, unexpected {unexpected}")
    hf.classifier.load_state_dict(joint.net.tagger.out.state_dict())
    folder = work / "baseline-model"
    hf.save_pretrained(str(folder))
    joint.encoder.tokenizer.save_pretrained(str(folder))
    del joint, hf
    nlp = pipeline("token-classification", model=str(folder), tokenizer=str(folder), aggregation_strategy="simple", device=-1)
    ready = time.perf_counter()
    out_docs = []
    n_sent = 0
    for doc in io.read(gold):
        mentions = []
        text = doc.text
        for s, e in sentence_spans(doc):
            n_sent += 1
            for _k, ent in enumerate(nlp(text[s:e])):
                a, b = s + int(ent["start"]), s + int(ent["end"])
                mentions.append(
                    Mention(f"m{len(mentions)}", ((a, b),), text[a:b], ent["entity_group"], infons={"score": round(float(ent["score"]), 6)})
                )
        out_docs.append(Document(doc.id, [p for p in doc.passages], mentions=mentions))
    end = time.perf_counter()
    pred = work / "pred.baseline.jsonl"
    io.write(out_docs, pred)
    return {"pred": str(pred), "seconds": end - t0, "startup_seconds": ready - t0, "documents": len(out_docs), "sentences": n_sent}


def child(args) -> None:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(args.out)
    gold = work / "test.gold.jsonl"
    if args.variant == "baseline":
        res = run_baseline(args.model, gold, work, args.threads)
    else:
        res = run_biorel(args.variant, args.model, gold, work, args.threads)
    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print_result(res)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="trained joint model folder")
    ap.add_argument("--out", required=True, help="work folder")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="only the first N test documents")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        return child(args)

    from biorel import io
    from biorel.evaluation import evaluate
    from biorel.types import pair_examples

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gold_path = _gold(out, args.limit)
    gold = io.load(gold_path)
    results = {
        "model": args.model,
        "threads": args.threads,
        "documents": len(gold),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "loadavg_before": os.getloadavg(),
        "variants": {},
    }
    for v in args.variants:
        cmd = [sys.executable, __file__, "--model", args.model, "--out", str(out), "--threads", str(args.threads), "--variant", v]
        res = child_result(cmd)
        if "error" in res:
            print(f"{v}: failed ({res['error']})", file=sys.stderr)
            results["variants"][v] = res
            continue
        pred = io.load(res["pred"])
        ner = evaluate(pair_examples(pred, gold), "ner").to_dict(documents=False)
        res["ner_f1"] = ner["micro"]["f1"]
        res["docs_per_s"] = res["documents"] / res["seconds"]
        res["docs_per_s_after_startup"] = res["documents"] / (res["seconds"] - res["startup_seconds"])
        results["variants"][v] = res
        print(
            f"{v}: {res['docs_per_s']:.2f} docs/s ({res['docs_per_s_after_startup']:.2f} after start-up), "
            f"peak RSS {res['peak_rss_mib']:.0f} MiB, NER F1 {res['ner_f1']:.4f}",
            flush=True,
        )
    results["loadavg_after"] = os.getloadavg()
    (out / "throughput.json").write_text(json.dumps(results, indent=1))
    base = results["variants"].get("baseline", {}).get("docs_per_s")
    print("\n| variant | abstracts/s (incl. start-up) | abstracts/s after start-up | x baseline | peak RSS MiB | NER strict F1 |")
    print("|---|---:|---:|---:|---:|---:|")
    for v, r in results["variants"].items():
        if "error" in r:
            print(f"| {v} | failed | | | | |")
            continue
        ratio = f"{r['docs_per_s'] / base:.2f}" if base else "-"
        print(f"| {v} | {r['docs_per_s']:.2f} | {r['docs_per_s_after_startup']:.2f} | {ratio} | {r['peak_rss_mib']:.0f} | {r['ner_f1']:.4f} |")


if __name__ == "__main__":
    main()
