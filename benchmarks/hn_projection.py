"""2-D projection of relation pair embeddings, one panel per trained model:
how the test pairs of a corpus spread by gold label before and after hard
negatives / the contrastive loss.

Each model (a ``RUN/model/best`` folder of ``benchmarks/hn_ablation.py``, or
any relation-classifier folder) embeds the candidate pairs of the test split
(:meth:`biorel.models.relclf.RelationClassifier.embed`); the embeddings are
projected on their own first two principal components (numpy SVD, centred)
and drawn coloured by gold label, with ARI/NMI of k-means
(:func:`biorel.evaluation.cluster_quality`) in the title.

    python benchmarks/hn_projection.py --test gad:test?fold=1 \\
        --model ce=runs/ablation/gad/minilm/ce-s1/model/best --model both=runs/ablation/gad/minilm/both-s1/model/best \\
        -o docs/img/hn-projection-gad.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def project(z: np.ndarray) -> np.ndarray:
    """The rows of ``z`` on their first two principal components."""
    centred = z - z.mean(axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from biorel.evaluation import cluster_quality
    from biorel.models import load_model
    from biorel.training.data import load_split

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--test", required=True, help="the test split, e.g. gad:test?fold=1")
    ap.add_argument("--model", action="append", required=True, help="NAME=FOLDER, once per panel")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--max-points", type=int, default=3000, help="points drawn per panel at most (a seeded sample)")
    args = ap.parse_args()

    gold, _ = load_split(args.test)
    panels = [m.split("=", 1) for m in args.model]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, (name, folder) in zip(axes[0], panels):
        model = load_model(folder)
        z, labels = model.embed(gold)
        z = z.numpy()
        quality = cluster_quality(z, labels, seed=0)
        xy = project(z)
        keep = rng.permutation(len(xy))[: args.max_points]
        labels_arr = np.array(labels)
        for label in sorted(set(labels)):
            idx = keep[labels_arr[keep] == label]
            ax.scatter(xy[idx, 0], xy[idx, 1], s=5, alpha=0.6, label=label)
        ax.set_title(f"{name}: ARI {quality.ari:.3f}, NMI {quality.nmi:.3f} (n={quality.n})", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(markerscale=3, fontsize=8, loc="best")
        print(f"{name}: ARI {quality.ari:.4f} NMI {quality.nmi:.4f} n={quality.n} k={quality.k}")
    fig.suptitle(f"pair embeddings of {args.test}, first two principal components", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=90)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
