from __future__ import annotations

import hashlib
import http.server
import re
import socket
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biorel import datasets as ds
from biorel import io
from biorel.cli import app
from biorel.errors import BiorelError, Diagnostics
from biorel.registry import registry
from biorel.stats import corpus_stats

REQUIRED = ["bc5cdr", "biored", "ncbi-disease", "bc2gm", "chemprot", "chemprot-pure", "ddi", "gad", "euadr", "lotus-gme-example", "abroad-example"]
RAW_URL = re.compile(r"^https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+$")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- the catalogue ----------------------------------------------------------------


def test_required_datasets_are_registered_with_versioned_names():
    assert set(REQUIRED) <= set(ds.list_datasets())
    for name in REQUIRED:
        spec = ds.get_dataset(name)
        assert registry.datasets.resolve(name) == f"biorel.{name}.v1"
        assert ds.get_dataset(f"biorel.{name}.v1") is spec


def test_every_file_has_sha_and_pinned_url_or_is_a_documented_derivative():
    derived = set()
    for name in ds.list_datasets():
        spec = ds.get_dataset(name)
        assert spec.files, name
        for f in spec.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256), f.path
            if f.url is None:
                derived.add(f.path)
            else:
                assert RAW_URL.match(f.url), f.url
        # every part of every split names a file of the spec, and Ref options do too
        for splits in spec.variants.values():
            for split in splits.values():
                for part in split.parts:
                    spec.file(part.file)
                    for v in part.options.values():
                        if isinstance(v, ds.Ref):
                            spec.file(v.path)
    # only the conversions made for the mirror lack an upstream URL
    assert derived == {
        "bc5cdr/bioc_json_converted/CDR_TrainingSet.BioC.json",
        "bc5cdr/bioc_json_converted/CDR_DevelopmentSet.BioC.json",
        "bc5cdr/bioc_json_converted/CDR_TestSet.BioC.json",
        "biored/Train.BioC.JSON.converted_from_XML",
    }


def test_fold_datasets_have_ten_folds():
    for name in ("gad", "euadr"):
        spec = ds.get_dataset(name)
        assert spec.folds == tuple(range(1, 11))
        assert spec.splits() == ["train", "test"]


def test_split_fold_and_option_errors():
    with pytest.raises(BiorelError) as e:
        ds.load_dataset("bc5cdr", split="validation")
    assert e.value.code == "E030" and "train, dev, test" in e.value.message
    with pytest.raises(BiorelError) as e:
        ds.load_dataset("gad", split="test")
    assert e.value.code == "E164" and "fold" in e.value.message
    with pytest.raises(BiorelError) as e:
        ds.load_dataset("gad", split="test", fold=11)
    assert e.value.code == "E164"
    with pytest.raises(BiorelError) as e:
        ds.load_dataset("bc5cdr", split="test", fold=1)
    assert e.value.code == "E164"
    with pytest.raises(BiorelError) as e:
        ds.load_dataset("bc5cdr", split="test", variant="xml")
    assert e.value.code == "E164"
    with pytest.raises(BiorelError) as e:
        ds.load_dataset("bc5cdr", split="test", colour="red")
    assert e.value.code == "E165"
    with pytest.raises(BiorelError) as e:
        ds.load_dataset("no-such-dataset")
    assert e.value.code == "E001"


# ---- fetch: cache, mirror, download -------------------------------------------------


@pytest.fixture
def payload(tmp_path):
    data = b"PMID|t|made-up file for the fetch tests\n"
    src = tmp_path / "upstream" / "x.txt"
    src.parent.mkdir()
    src.write_bytes(data)
    return src, data


def test_download_from_file_url_verifies_sha(tmp_path, payload):
    src, data = payload
    f = ds.DataFile("demo/x.txt", _sha(data), src.as_uri())
    cache = tmp_path / "cache"
    got = ds.fetch_file(f, cache=cache, mirror=None)
    assert got == cache / "demo/x.txt" and got.read_bytes() == data
    # second call: served from the cache even with the upstream gone
    src.unlink()
    assert ds.fetch_file(f, cache=cache, mirror=None) == got


def test_download_with_wrong_sha_is_e031_and_leaves_nothing(tmp_path, payload):
    src, _ = payload
    f = ds.DataFile("demo/x.txt", "0" * 64, src.as_uri())
    cache = tmp_path / "cache"
    with pytest.raises(BiorelError) as e:
        ds.fetch_file(f, cache=cache, mirror=None)
    assert e.value.code == "E031"
    assert not list((cache / "demo").glob("*"))


def test_corrupt_cache_copy_is_replaced(tmp_path, payload):
    src, data = payload
    f = ds.DataFile("demo/x.txt", _sha(data), src.as_uri())
    cache = tmp_path / "cache"
    (cache / "demo").mkdir(parents=True)
    (cache / "demo/x.txt").write_bytes(b"truncated")
    assert ds.fetch_file(f, cache=cache, mirror=None).read_bytes() == data


def test_mirror_is_read_in_place_after_sha_check(tmp_path, payload):
    _, data = payload
    mirror = tmp_path / "mirror"
    (mirror / "demo").mkdir(parents=True)
    (mirror / "demo/x.txt").write_bytes(data)
    f = ds.DataFile("demo/x.txt", _sha(data), "http://127.0.0.1:9/never-used")
    assert ds.fetch_file(f, cache=tmp_path / "cache", mirror=mirror) == mirror / "demo/x.txt"
    (mirror / "demo/x.txt").write_bytes(data + b"tampered")
    with pytest.raises(BiorelError) as e:
        ds.fetch_file(f, cache=tmp_path / "cache", mirror=mirror)
    assert e.value.code == "E031" and str(mirror) in e.value.message


def test_mirror_from_environment(tmp_path, payload, monkeypatch):
    _, data = payload
    mirror = tmp_path / "m"
    (mirror / "demo").mkdir(parents=True)
    (mirror / "demo/x.txt").write_bytes(data)
    monkeypatch.setenv("BIOREL_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("BIOREL_CACHE", str(tmp_path / "c"))
    assert ds.cache_dir() == tmp_path / "c"
    assert ds.fetch_file(ds.DataFile("demo/x.txt", _sha(data), None)) == mirror / "demo/x.txt"


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802
        if self.path != "/data/x.txt":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    data = b"served over loopback HTTP\n" * 1000
    handler = type("H", (_Handler,), {"body": data})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", data
    server.shutdown()
    server.server_close()


def test_download_over_loopback_http(tmp_path, http_server):
    base, data = http_server
    f = ds.DataFile("demo/x.txt", _sha(data), f"{base}/data/x.txt")
    assert ds.fetch_file(f, cache=tmp_path, mirror=None).read_bytes() == data
    missing = ds.DataFile("demo/y.txt", _sha(data), f"{base}/data/missing.txt")
    with pytest.raises(BiorelError) as e:
        ds.fetch_file(missing, cache=tmp_path, mirror=None)
    assert e.value.code == "E032" and "BIOREL_DATA_MIRROR" in e.value.message


def test_unreachable_url_is_e032_with_mirror_hint(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    f = ds.DataFile("demo/x.txt", "0" * 64, f"http://127.0.0.1:{port}/x.txt")
    with pytest.raises(BiorelError) as e:
        ds.fetch_file(f, cache=tmp_path, mirror=None)
    assert e.value.code == "E032" and "BIOREL_DATA_MIRROR" in e.value.message


def test_derived_file_missing_everywhere_is_e033(tmp_path):
    f = ds.DataFile("demo/derived.json", "0" * 64, None)
    with pytest.raises(BiorelError) as e:
        ds.fetch_file(f, dataset="demo", cache=tmp_path, mirror=None)
    assert e.value.code == "E033" and "BIOREL_DATA_MIRROR" in e.value.message


# ---- archives ----------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> ds.DataFile:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return ds.DataFile("demo/" + path.name, _sha(path.read_bytes()), None)


def test_archive_is_extracted_once(tmp_path):
    z = tmp_path / "corpus.zip"
    f = _zip(z, {"C/a.txt": b"Aspirin.", "C/a.ann": b"T1\tDRUG 0 7\tAspirin\n"})
    out = ds.extract_archive(z, f, cache=tmp_path / "cache")
    assert out == tmp_path / "cache/demo/corpus"
    assert (out / "C/a.txt").read_bytes() == b"Aspirin."
    (out / "C/a.txt").write_bytes(b"changed")  # not re-extracted while the marker matches
    assert ds.extract_archive(z, f, cache=tmp_path / "cache") == out
    assert (out / "C/a.txt").read_bytes() == b"changed"


def test_unsafe_or_broken_archive(tmp_path):
    z = tmp_path / "evil.zip"
    f = _zip(z, {"../escape.txt": b"x"})
    with pytest.raises(BiorelError) as e:
        ds.extract_archive(z, f, cache=tmp_path / "cache")
    assert e.value.code == "E167"
    assert not (tmp_path / "cache/escape.txt").exists() and not (tmp_path / "escape.txt").exists()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(BiorelError) as e:
        ds.extract_archive(bad, ds.DataFile("demo/bad.zip", _sha(b"not a zip"), None), cache=tmp_path / "cache")
    assert e.value.code == "E168"


# ---- the sample corpus ----------------------------------------------------------------


def test_sample_corpus_matches_its_hand_counts():
    if "pubtator" not in registry.formats:
        pytest.skip("the PubTator format module is not registered yet")
    docs = io.load(ds.sample_path())
    st = corpus_stats(docs)
    # hand counts from biorel/data/sample/README.md
    assert (st.documents, st.passages, st.sentences) == (5, 10, 26)
    assert dict(st.mentions) == {"Chemical": 19, "Disease": 16}
    assert st.concepts == {"Chemical": 12, "Disease": 11}
    assert dict(st.relations) == {"CID": 5}
    assert (st.cross_sentence, st.within_sentence) == (2, 3)
    composite = [m for d in docs for m in d.mentions if m.is_composite]
    assert len(composite) == 2 and composite[0].grounded_ids == ("D010051", "D001943")


# ---- real data -------------------------------------------------------------------------


@pytest.fixture
def offline(mirror, tmp_path, monkeypatch):
    """Mirror from the fixture, an empty cache, and no network: any download fails."""
    monkeypatch.setenv("BIOREL_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("BIOREL_CACHE", str(tmp_path / "cache"))

    def no_network(*a, **k):
        raise AssertionError("tests must not touch the network")

    monkeypatch.setattr(ds.urllib.request, "urlopen", no_network)
    return mirror


@pytest.mark.realdata
def test_catalogue_sha256_matches_the_mirror(mirror):
    for name in ds.list_datasets():
        for f in ds.get_dataset(name).files:
            assert ds.sha256_file(mirror / f.path) == f.sha256, f.path


@pytest.mark.realdata
def test_fetch_and_path_use_the_mirror(offline):
    paths = ds.fetch("bc5cdr")
    assert paths["bc5cdr/CDR_TestSet.PubTator.txt"] == offline / "bc5cdr/CDR_TestSet.PubTator.txt"
    assert ds.dataset_path("bc5cdr") == offline / "bc5cdr"
    assert ds.dataset_path("bc2gm") == offline / "bc2gm"
    ddi = ds.dataset_path("ddi")  # an archive: the folder it is extracted to, in the cache
    assert ddi == ds.cache_dir() / "ddi2013" / "DDICorpus-2013(BRAT)"
    assert (ddi / "DDICorpusBrat" / "Train" / "MedLine").is_dir()


@pytest.mark.realdata
def test_bc2gm_test_split_from_the_registry(offline):
    docs = ds.load_dataset("bc2gm", split="test")
    assert len(docs) == 5000
    assert sum(len(d.mentions) for d in docs) == 6331
    assert sum(len(d.metadata.get("bc2_altgene", ())) for d in docs) == 5068


@pytest.mark.realdata
def test_lenient_default_split_warns_with_the_skipped_items(offline):
    # no diagnostics given: the 4 skipped annotations are reported in one warning
    with pytest.warns(ds.DatasetWarning, match=r"4 problem\(s\) skipped.*\[E162\] .*ALTGENE.eval:787"):
        docs = ds.load_dataset("bc2gm", split="train")
    assert len(docs) == 15000
    # strict on request
    with pytest.raises(BiorelError) as e:
        ds.load_dataset("bc2gm", split="train", lenient=False)
    assert e.value.code == "E162"


@pytest.mark.realdata
def test_ddi_archive_is_extracted_into_the_cache(offline, tmp_path):
    spec = ds.get_dataset("ddi")
    local = ds.fetch_file(spec.files[0], cache=tmp_path / "cache")
    folder = ds.extract_archive(local, spec.files[0], cache=tmp_path / "cache")
    assert len(list((folder / "DDICorpusBrat/Train/DrugBank").glob("*.ann"))) == 572
    assert len(list((folder / "DDICorpusBrat/Test/MedLine").glob("*.txt"))) == 91


def _expected_splits():
    for name in REQUIRED:
        spec = ds.get_dataset(name)
        for variant, splits in spec.variants.items():
            for key, split in splits.items():
                # folds 1, 3 and 10 cover every distinct published count of GAD / EU-ADR
                if "/" in key and key.split("/")[1] not in ("1", "3", "10"):
                    continue
                if split.expected:
                    yield pytest.param(name, variant, key, dict(split.expected), id=f"{name}-{variant}-{key}")


@pytest.mark.realdata
@pytest.mark.parametrize("name, variant, key, expected", list(_expected_splits()))
def test_split_matches_published_counts(offline, name, variant, key, expected):
    spec = ds.get_dataset(name)
    missing = [p.format for p in spec.variants[variant][key].parts if p.format not in registry.formats]
    if missing:
        pytest.skip(f"format {missing[0]!r} is not registered yet")
    split, _, fold = key.partition("/")
    docs = ds.load_dataset(name, split=split, variant=variant, fold=int(fold) if fold else None, diagnostics=Diagnostics())
    got = {
        "documents": len(docs),
        "mentions": sum(len(d.mentions) for d in docs),
        "relations": sum(len(d.relations) for d in docs),
        "alternatives": sum(len(d.metadata.get("bc2_altgene", ())) for d in docs),
        "sentences": sum(len(d.passages) for d in docs),  # only expected for sentence-passage formats
    }
    assert {k: got[k] for k in expected} == expected


# ---- CLI -------------------------------------------------------------------------------


def test_cli_datasets_list_json():
    import json

    res = CliRunner().invoke(app, ["datasets", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert set(REQUIRED) <= set(rows)
    assert rows["gad"]["folds"] == list(range(1, 11))
    assert rows["bc5cdr"]["variants"]["pubtator"] == ["train", "dev", "test"]


def test_cli_datasets_unknown_name_fails_with_code():
    res = CliRunner().invoke(app, ["datasets", "path", "nope"])
    assert res.exit_code == 1 and "E001" in res.output


@pytest.mark.realdata
def test_cli_datasets_path_and_fetch(offline):
    res = CliRunner().invoke(app, ["datasets", "path", "gad"])
    assert res.exit_code == 0 and res.output.strip() == str(offline / "gad")
    res = CliRunner().invoke(app, ["datasets", "fetch", "euadr"])
    assert res.exit_code == 0 and res.output.count("euadr/") == 40
