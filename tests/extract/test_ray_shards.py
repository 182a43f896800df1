"""The Ray engine's parts that need no Ray: shards of the input, writing a
shard, the manifest (resume, changed settings, starting over)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biorel import io
from biorel.errors import BiorelError
from biorel.extract.ray_engine import (
    MANIFEST,
    Shard,
    ShardManifest,
    dispatch_order,
    input_files,
    plan_shards,
    read_shard,
    tapered_blocks,
    write_shard,
)
from biorel.models.testing import toy_corpus

DOCS = toy_corpus(24, seed=5)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "in.pubtator"
    io.write(DOCS, path)
    return path


def test_a_file_is_cut_into_shards_of_shard_docs(corpus):
    files = input_files(corpus, None)
    assert files == [(corpus.absolute(), "pubtator")]
    shards = plan_shards(files, 10, lenient=False, reader_options=None)
    # one full shard, then the last 2 x 10 documents in shrinking shards (a quarter of what is left, at least 10 // 8)
    assert [(s.start, s.count) for s in shards] == [(0, 10), (10, 4), (14, 3), (17, 2), (19, 2), (21, 1), (22, 1), (23, 1)]
    assert [s.id for s in shards] == [f"{k:05d}" for k in range(8)]
    read = [d.id for s in shards for d in read_shard(s, False, None)]
    assert read == [d.id for d in DOCS]  # every document once, in order


def test_each_file_of_a_folder_is_a_shard(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    io.write(DOCS[:5], folder / "b.pubtator")
    io.write(DOCS[5:7], folder / "a.jsonl")
    (folder / "_notes.txt").write_text("not an input")
    files = input_files(folder, None)
    assert [(p.name, fmt) for p, fmt in files] == [("a.jsonl", "jsonl"), ("b.pubtator", "pubtator")]
    shards = plan_shards(files, None, lenient=False, reader_options=None)
    assert [(s.id, s.start, s.count) for s in shards] == [("00000", 0, None), ("00001", 0, None)]
    assert [len(list(read_shard(s, False, None))) for s in shards] == [2, 5]
    # only the last file's tail is tapered: shards of the other files stay whole
    assert [s.count for s in plan_shards(files, 3, lenient=False, reader_options=None)] == [2, 2, 1, 1, 1]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 400), size=st.integers(1, 40))
def test_tapered_blocks_keep_every_item_once_and_shrink_at_the_end(n, size):
    blocks = list(tapered_blocks(iter(range(n)), size))
    assert [i for b in blocks for i in b] == list(range(n))
    sizes = [len(b) for b in blocks]
    assert all(0 < k <= size for k in sizes)
    assert sizes == sorted(sizes, reverse=True)  # never a longer shard after a shorter one
    tail = [k for k in sizes if k < size]
    assert sum(tail) <= 2 * size  # only the last 2 x size items are cut smaller
    assert all(k >= max(1, size // 8) for k in sizes[:-1])  # and never below size // 8, but for the very last
    if n > 3 * size:
        assert sizes[-1] <= max(1, size // 8) + 1 and sizes[0] == size


def test_dispatch_order_puts_the_largest_shards_first(tmp_path):
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    io.write(DOCS[:2], small)
    io.write(DOCS[:9], big)
    whole = [Shard("00000", str(small), "jsonl"), Shard("00001", str(big), "jsonl")]
    assert [s.id for s in dispatch_order(whole)] == ["00001", "00000"]  # by bytes when a shard is a whole file
    ranges = [Shard("00000", "f", "jsonl", 0, 3), Shard("00001", "f", "jsonl", 3, 5), Shard("00002", "f", "jsonl", 8, 5)]
    assert [s.id for s in dispatch_order(ranges)] == ["00001", "00002", "00000"]  # by documents, stable among equals


def test_write_shard_one_file_or_one_part(tmp_path):
    shard = Shard("00007", "x", "pubtator")
    assert write_shard(iter(DOCS[:3]), shard, tmp_path, "jsonl", {}) == ["shard-00007.jsonl"]
    assert [d.id for d in io.read(tmp_path / "shard-00007.jsonl")] == [d.id for d in DOCS[:3]]
    pytest.importorskip("pyarrow")
    out = tmp_path / "pq"
    out.mkdir()
    outputs = write_shard(iter(DOCS[:3]), shard, out, "parquet", {"provenance": {"model": "m", "model_version": "v1"}})
    assert outputs == [f"{t}/part-00007.parquet" for t in ("documents", "entities", "mentions", "relations")]
    assert [d.id for d in io.read(out, "parquet")] == [d.id for d in DOCS[:3]]


def record(shard: Shard, out) -> dict:
    outputs = write_shard(iter(DOCS[shard.start : shard.start + shard.count]), shard, out, "jsonl", {})
    return {**shard.__dict__, "shard": shard.id, "docs": shard.count, "ids_sha256": "-", "outputs": outputs, "seconds": 0.1}


def test_manifest_resumes_listed_shards_whose_outputs_exist(corpus, tmp_path):
    shards = plan_shards(input_files(corpus, None), 10, lenient=False, reader_options=None)
    out = tmp_path / "out"
    out.mkdir()
    with ShardManifest(out) as m:
        assert m.start({"mode": "extract"}, shards, resume=True) == {}
        m.add(record(shards[0], out))
        m.add(record(shards[1], out))
    (out / "shard-00001.jsonl").unlink()  # listed, but its output is gone: done again
    with (out / MANIFEST).open("a") as fh:
        fh.write('{"shard": "00002", "inp')  # a line torn by kill -9
    with ShardManifest(out) as m:
        assert set(m.start({"mode": "extract"}, shards, resume=True)) == {"00000"}
        assert [p.code for p in m.diagnostics] == ["E052"]
    with ShardManifest(out) as m, pytest.raises(BiorelError) as e:
        m.start({"mode": "relate"}, shards, resume=True)
    assert e.value.code == "E553" and "mode" in str(e.value)
    with ShardManifest(out) as m, pytest.raises(BiorelError) as e:
        m.start({"mode": "extract"}, plan_shards(input_files(corpus, None), 5, lenient=False, reader_options=None), resume=True)
    assert e.value.code == "E553"


def test_starting_over_removes_the_outputs_of_the_earlier_run(corpus, tmp_path):
    shards = plan_shards(input_files(corpus, None), 10, lenient=False, reader_options=None)
    out = tmp_path / "out"
    out.mkdir()
    with ShardManifest(out) as m:
        m.start({"mode": "extract"}, shards, resume=True)
        m.add(record(shards[0], out))
    record(shards[1], out)  # written, not yet listed: a run killed in between
    (out / "notes.txt").write_text("the user's own file")
    with ShardManifest(out) as m:
        assert m.start({"mode": "relate"}, shards, resume=False) == {}
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "notes.txt"]
    assert [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()] == [{"run": {"mode": "relate"}}]


def test_cli_refuses_an_unknown_engine_and_a_file_as_output(corpus, tmp_path):
    from typer.testing import CliRunner

    from biorel.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["extract", str(corpus), "-o", str(tmp_path / "o"), "--engine", "spark"])
    assert r.exit_code == 1 and "E555" in r.output
    (tmp_path / "file").write_text("x")
    r = runner.invoke(app, ["extract", str(corpus), "-o", str(tmp_path / "file"), "--engine", "ray"])
    assert r.exit_code == 1 and "E554" in r.output
    r = runner.invoke(app, ["extract", str(corpus), "-o", str(tmp_path / "o"), "--engine", "ray", "--device", "cuda"])
    assert r.exit_code == 2 and "E555" in r.output and "--device cuda" in r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("shard_docs", [1, 3, 4, 100])
def test_a_split_file_gives_each_shard_its_own_documents(corpus, tmp_path, shard_docs):
    files = input_files(corpus, None)
    by_range = plan_shards(files, shard_docs, lenient=False, reader_options=None)
    split = plan_shards(files, shard_docs, lenient=False, reader_options=None, split_dir=tmp_path / "_input")
    # the same ranges of the same input (what the manifest records), each now with its own file
    assert [(s.id, s.input, s.start, s.count) for s in split] == [(s.id, s.input, s.start, s.count) for s in by_range]
    assert all(s.split and s.split.startswith(str(tmp_path / "_input")) for s in split)
    for a, b in zip(by_range, split):
        assert [d.to_dict() for d in read_shard(b, False, None)] == [d.to_dict() for d in read_shard(a, False, None)]
    ids = [d.id for s in split for d in read_shard(s, False, None)]
    assert ids == [d.id for d in io.read(corpus)]  # every document once, in order
