"""``biorel extract -o OUT -t parquet``: the extraction lands in a Parquet
output whose mentions and relations name the model and its version, with
each relation's evidence sentences, and ``biorel query`` reads it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.errors import BiorelError
from biorel.extract import extract, model_provenance
from biorel.query import counts, sql

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model_and_input(tmp_path_factory):
    import torch

    from biorel.config import validate_model_config
    from biorel.models import build_model
    from biorel.models.testing import make_tiny_tokenizer, tiny_model_config, toy_corpus

    root = tmp_path_factory.mktemp("xp")
    docs = toy_corpus(4, seed=3)
    torch.manual_seed(0)
    model = build_model(validate_model_config(tiny_model_config(make_tiny_tokenizer(root / "tok"))), docs)
    io.write(docs, root / "in.jsonl")
    return model.save(root / "model"), root / "in.jsonl", docs


def test_extract_to_parquet_records_the_model(model_and_input, tmp_path):
    model_dir, corpus, docs = model_and_input
    out = tmp_path / "out"
    args = ["extract", str(corpus), "-m", str(model_dir), "-o", str(out), "-t", "parquet", "--mode", "relate"]
    res = CliRunner().invoke(app, [*args, "--threshold", "0", "--evidence", "--no-progress"])
    assert res.exit_code == 0, res.output
    prov = model_provenance(str(model_dir), None, model_dir)
    assert prov["model"] == str(model_dir) and prov["model_version"].startswith("sha256:")
    back = io.load(out)
    assert [d.id for d in back] == [d.id for d in docs] and sum(len(d.relations) for d in back) > 0
    version = f"{prov['model']} {prov['model_version']}"
    n_mentions, n_relations = (sum(len(getattr(d, t)) for d in back) for t in ("mentions", "relations"))
    assert counts(out).rows[-2:] == [("mentions by model", version, n_mentions), ("relations by model", version, n_relations)]
    rows = sql(out, "SELECT evidence, evidence_spans FROM relations").rows
    assert all(ev and len(ev) == len(spans) for ev, spans in rows)  # --evidence: every relation has its sentences


def test_writer_options_are_checked_before_any_work(model_and_input, tmp_path):
    model_dir, corpus, _ = model_and_input
    with pytest.raises(BiorelError) as e:
        extract(corpus, model_dir, tmp_path / "out", output_format="parquet", writer_options={"nope": 1}, progress=False)
    assert e.value.code == "E005"
    assert not any(tmp_path.iterdir())
