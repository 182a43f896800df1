"""Data references in configs: file paths and ``dataset:split?options``."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorel import io
from biorel.config import load_config
from biorel.errors import BiorelError
from biorel.models.testing import toy_corpus
from biorel.training.data import _parse_ref, load_split

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.toml"))


def test_parse_ref(tmp_path):
    assert _parse_ref("bc2gm:train?variant=devel-split") == ("bc2gm", "train", {"variant": "devel-split"})
    assert _parse_ref("gad:test?fold=3") == ("gad", "test", {"fold": 3})
    assert _parse_ref("some/file.jsonl") is None
    p = tmp_path / "a:b"
    p.write_text("")
    assert _parse_ref(str(p)) is None  # an existing path wins


def test_load_split_from_a_file_with_provenance(tmp_path):
    docs = toy_corpus(5)
    io.write(docs, tmp_path / "t.jsonl")
    got, prov = load_split(str(tmp_path / "t.jsonl"), limit=3)
    assert [d.id for d in got] == [d.id for d in docs[:3]]
    assert prov["documents"] == 3 and len(prov["sha256"]) == 64 and prov["path"].endswith("t.jsonl")
    with pytest.raises(BiorelError) as e:
        load_split(str(tmp_path / "missing.jsonl"))
    assert e.value.code == "E408"


#: shipped configs without a dev split, by design (each says why in its header)
FIXED_SCHEDULE = {"gad", "chemprot", "biored-pairs"}
#: generative configs: a small dev set scored on entity names (no mentions)
NAME_SCORED = {"abroad-smollm2-lora"}


@pytest.mark.realdata
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_shipped_config_dev_splits_load(config, mirror, monkeypatch):
    monkeypatch.setenv("BIOREL_DATA_MIRROR", str(mirror))
    cfg = load_config(config)
    if not cfg.data.dev:  # configs that train on a fixed schedule (GAD has no dev split; ChemProt and the pairs chain skip it)
        assert config.stem in FIXED_SCHEDULE and cfg.data.train
        if not Path(cfg.data.train).suffix:  # a dataset reference (the pairs chain trains on a table it wrote itself)
            docs, prov = load_split(cfg.data.train, limit=50)
            assert len(docs) == 50 and prov["dataset"] and any(d.mentions for d in docs)
        return
    docs, prov = load_split(cfg.data.dev, limit=50)
    if config.stem in NAME_SCORED:
        assert docs and prov["dataset"] and all(e.name for d in docs for e in d.entities) and any(d.relations for d in docs)
        return
    assert len(docs) == 50 and prov["dataset"] and any(d.mentions for d in docs)


def test_a_list_of_refs_is_their_concatenation(tmp_path):
    a, b = toy_corpus(3, prefix="a"), toy_corpus(2, prefix="b")
    io.write(a, tmp_path / "a.jsonl")
    io.write(b, tmp_path / "b.jsonl")
    got, prov = load_split([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")])
    assert [d.id for d in got] == [d.id for d in a + b]
    assert prov["documents"] == 5 and [p["documents"] for p in prov["parts"]] == [3, 2]
    got, prov = load_split([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")], limit=4)
    assert len(got) == 4 and prov["limit"] == 4
    with pytest.raises(BiorelError) as e:  # overlapping parts
        load_split([str(tmp_path / "a.jsonl"), str(tmp_path / "a.jsonl")])
    assert e.value.code == "E408" and "also in" in str(e.value)
    with pytest.raises(BiorelError) as e:
        load_split([])
    assert e.value.code == "E408"


def test_list_refs_in_configs_and_overrides(tmp_path):
    cfg = load_config(CONFIGS[0], ['--data.train=["bc5cdr:train", "bc5cdr:dev"]', '--data.dev=""'])
    assert cfg.data.train == ["bc5cdr:train", "bc5cdr:dev"] and not cfg.data.dev
