"""The DAPT corpus built from the real dataset mirror holds no test text: no
test PMID, no test text, no 13-word sequence of a test text, no short test
sentence, for every test split of every variant of every registered dataset.
The corpus is built once and cached under ``$BIOREL_CACHE`` (keyed by the
builder's and readers' code and the data files)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

import biorel
from biorel import io
from biorel.datasets import get_dataset, iter_dataset, list_datasets
from biorel.errors import Diagnostics
from biorel.jobs import cache_dir
from biorel.pretrain.corpus import build_corpus, report_path

pytestmark = pytest.mark.realdata

WORD = re.compile(r"[^\W_]+")
N = 13


def normal(text: str) -> list[str]:
    return WORD.findall(text.lower())


def grams(ws: list[str]) -> set[int]:
    return {hash(tuple(ws[i : i + N])) for i in range(len(ws) - N + 1)}


def cache_key(mirror: Path) -> str:
    """The builder's and readers' code, the registered files' checksums and the mirror's other files."""
    src = Path(biorel.__file__).parent
    h = hashlib.sha256()
    for p in sorted([src / "pretrain" / "corpus.py", src / "pretrain" / "overlap.py", *(src / "io").rglob("*.py"), src / "datasets.py"]):
        h.update(p.read_bytes())
    known = sorted(f.path + f.sha256 for n in list_datasets() for f in get_dataset(n).files)
    h.update("".join(known).encode())
    h.update("".join(sorted(f"{p.relative_to(mirror)}:{p.stat().st_size}" for p in mirror.rglob("*") if p.is_file())).encode())
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def corpus(mirror, monkeypatch_module):
    monkeypatch_module.setenv("BIOREL_DATA_MIRROR", str(mirror))
    out = cache_dir() / "pretrain-tests" / f"dapt-{cache_key(mirror)}.jsonl"
    if not (out.is_file() and report_path(out).is_file()):
        for stale in out.parent.glob("dapt-*"):  # built by older code or data
            stale.unlink()
        build_corpus([], out)
    return io.load(out, "jsonl"), json.loads(report_path(out).read_text("utf-8"))


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def every_test_split():
    """``(label, documents)`` of every test split (folds included) of every variant of every dataset."""
    for name in list_datasets():
        spec = get_dataset(name)
        for variant, table in spec.variants.items():
            for key in table:
                split, _, fold = key.partition("/")
                if split == "test":
                    docs = iter_dataset(
                        name, split, variant=variant, fold=int(fold) if fold else None, lenient=True, diagnostics=Diagnostics(), validate=False
                    )
                    yield f"{name}/{variant}/{key}", list(docs)


def pmids(doc) -> set[str]:
    """Stricter than the builder: any id of five or more digits counts as a PMID."""
    found = {str(doc.metadata[k]).strip() for k in ("pmid", "PMID", "pubmed_id", "reference_pubmed_id") if doc.metadata.get(k)}
    if doc.id.isdigit() and len(doc.id) >= 5:
        found.add(doc.id)
    return {str(int(p)) for p in found if p.isdigit()}


def test_no_test_abstract_is_in_the_corpus(corpus):
    docs, _ = corpus
    corpus_words = [normal(d.text) for d in docs]
    corpus_texts = {" ".join(ws) for ws in corpus_words}
    corpus_grams = set().union(*(grams(ws) for ws in corpus_words))
    corpus_pmids = {d.metadata["pmid"] for d in docs if "pmid" in d.metadata}
    corpus_blob = "\n".join(f" {t} " for t in corpus_texts)
    checked = {"splits": 0, "texts": 0, "pmids": 0, "short": 0}
    test_blob_parts = []
    for label, test_docs in every_test_split():
        checked["splits"] += 1
        for doc in test_docs:
            ws = normal(doc.text)
            ids = pmids(doc)
            checked["pmids"] += len(ids)
            assert not ids & corpus_pmids, f"{label} {doc.id}: PMID in the corpus"
            if not ws:
                continue
            checked["texts"] += 1
            text = " ".join(ws)
            test_blob_parts.append(f" {text} ")
            assert text not in corpus_texts, f"{label} {doc.id}: its text is a corpus document"
            assert not grams(ws) & corpus_grams, f"{label} {doc.id}: shares a {N}-word sequence with the corpus"
            if 8 <= len(ws) < N:
                checked["short"] += 1
                assert f" {text} " not in corpus_blob, f"{label} {doc.id}: a short test text inside a corpus document"
    test_blob = "\n".join(test_blob_parts)
    for ws in corpus_words:
        if 8 <= len(ws) < N:
            assert f" {' '.join(ws)} " not in test_blob, "a short corpus document inside a test text"
    assert checked["splits"] >= 30 and checked["texts"] > 20000 and checked["pmids"] > 1000 and checked["short"] > 1000, checked


def test_the_report_accounts_for_every_document(corpus):
    docs, report = corpus
    for s in report["sources"]:
        assert s["read"] == s["empty"] + sum(s["excluded"].values()) + sum(s["duplicates"].values()) + s["written"], s["source"]
    assert report["totals"]["written"] == len(docs) == len({d.id for d in docs})
    sources = {s["source"]: s for s in report["sources"]}
    for name in list_datasets():  # every non-test split of every dataset is a source; no test split is
        spec = get_dataset(name)
        for key in spec.variants[spec.default_variant]:
            assert (key.split("/")[0] == "test") == (f"{name}/{key}" not in sources), f"{name}/{key}"
    for name in ("gad", "euadr"):  # 10-fold: every sentence is in some fold's test split
        folds = [s for label, s in sources.items() if label.startswith(f"{name}/")]
        assert len(folds) == 10 and all(s["written"] == 0 and sum(s["excluded"].values()) == s["read"] for s in folds)
    assert any(s["excluded"].get("test PMID") for label, s in sources.items() if label.startswith("biored/"))
    tests = {t["split"] for t in report["test_splits"]}
    assert {"bc5cdr/test (pubtator)", "bc5cdr/test (bioc-xml)", "chemprot-pure/test (pure)", "gad/test/10 (biobert)"} <= tests
    assert "mirror:pubmed_xml/pubmed4.xml" in sources
    unused = {u["path"]: u["reason"] for u in report["unused_files"]}
    assert "ppi_aimed_bioinfer/AIMed-test.xml" in unused and "drugprot/development/drugprot_development_abstracs.tsv" in unused


def test_the_corpus_is_shuffled_text_only(corpus):
    docs, _ = corpus
    assert len({d.metadata["source"].split("/")[0] for d in docs[:300]}) >= 5
    assert all(not d.mentions and not d.relations and d.text.strip() for d in docs)
    assert not any("<< " in d.text for d in docs if d.metadata["source"].startswith("chemprot/"))  # entity markers removed
