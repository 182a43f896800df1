"""Abstracts per second of a model's ``predict`` by batch size, one process,
side by side: is a batched call faster per abstract than one abstract at a time
on this machine? (The question behind ``biorel serve``'s micro-batching.)

    python benchmarks/predict_batch_size.py [--model bc5cdr-minilm] [--docs 32] [--sizes 1 4 8 32] [--precision auto]

The first ``--docs`` BC5CDR test abstracts (``$BIOREL_DATA_MIRROR``), title +
abstract without annotations, ``extract`` mode; one warm-up call first.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from common import cpu_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="bc5cdr-minilm")
    ap.add_argument("--docs", type=int, default=32)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 32])
    ap.add_argument("--precision", default="auto")
    args = ap.parse_args()

    import torch

    from biorel import io
    from biorel.models import load_model
    from biorel.types import Document

    mirror = Path(os.environ.get("BIOREL_DATA_MIRROR", "../shared/datasets"))
    gold = io.load(mirror / "bc5cdr" / "CDR_TestSet.PubTator.txt")[: args.docs]
    docs = [Document(d.id, d.passages) for d in gold]
    model = load_model(args.model)
    precision = model.set_precision(args.precision)
    model.predict(docs[:2], "extract")
    print(f"CPU: {cpu_model()}; {time.strftime('%Y-%m-%d %H:%M')}; {precision}, {torch.get_num_threads()} threads, {len(docs)} abstracts\n")
    print("| batch size | abstracts/s |\n|---:|---:|")
    for size in args.sizes:
        t0 = time.perf_counter()
        for i in range(0, len(docs), size):
            model.predict(docs[i : i + size], "extract")
        print(f"| {size} | {len(docs) / (time.perf_counter() - t0):.1f} |")


if __name__ == "__main__":
    main()
