"""``biorel extract --engine ray``: the same predictions as the single-process
engine, resuming from the manifest, and a real two-node Ray cluster on
loopback whose actor is killed with SIGKILL in the middle of writing a shard."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from biorel import io
from biorel.config import validate_model_config
from biorel.errors import BiorelError
from biorel.extract import extract
from biorel.extract.ray_engine import HOLD_ENV, MANIFEST, extract_ray, ray_session
from biorel.models import build_model
from biorel.models.testing import make_tiny_tokenizer, tiny_model_config, toy_corpus

pytest.importorskip("ray.data")
pytestmark = [pytest.mark.ray, pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")]  # Ray's own settings

TOY = toy_corpus(24, seed=5)
#: Ray rewrites 127.0.0.1 to the machine's routable address; the rest of 127/8 is loopback too and is kept
LOOPBACK = "127.0.0.2"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    import torch

    root = tmp_path_factory.mktemp("ray-model")
    tok = make_tiny_tokenizer(root / "tok")
    torch.manual_seed(0)
    model = build_model(validate_model_config(tiny_model_config(tok)), TOY)
    opt = torch.optim.AdamW(model.net.parameters(), lr=3e-3)
    items = [model.prepare(d) for d in TOY[:8]]
    model.net.train()
    for step in range(30):  # a few steps so that the model predicts something
        loss, _ = model.loss(items[(step % 4) * 2 :][:2])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.save(root / "model")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance (2 CPUs) for this module's in-process runs:
    ``extract_ray`` uses it and leaves it running."""
    with ray_session(None, num_cpus=2) as ray:
        yield ray


@pytest.fixture(scope="module")
def bc5cdr_run(mirror, model_dir, local_ray, tmp_path_factory):
    """40 BC5CDR test abstracts extracted by Ray, 2 workers, shards of 10
    (tapered: 10, 10, 5, 4, 3, 2, 2, 1, 1, 1, 1)."""
    from biorel.datasets import load_dataset

    root = tmp_path_factory.mktemp("ray-bc5cdr")
    corpus = root / "bc5cdr40.pubtator"
    io.write(load_dataset("bc5cdr", split="test")[:40], corpus)
    out = root / "out"
    stats = extract_ray(corpus, model_dir, out, workers=2, shard_docs=10, precision="fp32", progress=False)
    return corpus, out, stats


def manifest_records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST).read_text("utf-8").splitlines()]


def shard_docs(out: Path) -> list[dict]:
    """The documents of every shard the manifest lists, in shard order;
    checks each shard's count and id hash against the manifest."""
    docs = []
    for rec in sorted(manifest_records(out)[1:], key=lambda r: r["shard"]):
        [name] = rec["outputs"]
        got = [d.to_dict() for d in io.read(out / name)]
        assert len(got) == rec["docs"]
        assert hashlib.sha256(b"".join(d["id"].encode() + b"\n" for d in got)).hexdigest() == rec["ids_sha256"]
        docs.extend(got)
    return docs


def without_scores(docs: list[dict]) -> tuple[list[dict], list[float]]:
    scores = []
    for d in docs:
        for x in d["mentions"]:
            scores.append(x.get("infons", {}).pop("score", None))
        for r in d["relations"]:
            scores.append(r.pop("score", None))
    return docs, scores


@pytest.mark.realdata
def test_same_predictions_as_the_single_process_engine(bc5cdr_run, model_dir, tmp_path):
    corpus, out, stats = bc5cdr_run
    ref = tmp_path / "ref.jsonl"
    extract(corpus, model_dir, ref, precision="fp32", progress=False)
    expected = [d.to_dict() for d in io.read(ref)]
    got = shard_docs(out)
    assert [d["id"] for d in got] == [d["id"] for d in expected]  # every document once, in input order
    assert (stats.shards, stats.shards_done, stats.shards_resumed, stats.written, stats.resumed) == (11, 11, 0, 40, 0)
    assert [r["count"] for r in sorted(manifest_records(out)[1:], key=lambda r: r["shard"])] == [10, 10, 5, 4, 3, 2, 2, 1, 1, 1, 1]
    assert sum(stats.mention_types.values()) > 0
    (got, got_scores), (expected, expected_scores) = without_scores(got), without_scores(expected)
    assert got == expected
    assert got_scores == pytest.approx(expected_scores, abs=1e-5)


@pytest.mark.realdata
def test_resume_runs_only_the_shards_not_in_the_manifest(bc5cdr_run, model_dir, tmp_path):
    corpus, first, _ = bc5cdr_run
    out = tmp_path / "out"
    shutil.copytree(first, out)
    records = manifest_records(out)
    done_before = sorted(records[1:], key=lambda r: r["shard"])[:2]
    (out / MANIFEST).write_text("".join(json.dumps(r) + "\n" for r in [records[0], *done_before]), "utf-8")
    (out / "shard-00003.jsonl").unlink()  # shard 00002 stays: the output of a run stopped before the manifest said so
    stats = extract_ray(corpus, model_dir, out, workers=1, shard_docs=10, precision="fp32", progress=False)
    assert (stats.shards_resumed, stats.resumed, stats.shards_done, stats.written) == (2, 20, 9, 20)
    assert {r["shard"] for r in manifest_records(out)[1:]} == {f"{k:05d}" for k in range(11)}
    assert shard_docs(out) == shard_docs(first)
    stats = extract_ray(corpus, model_dir, out, workers=1, shard_docs=10, precision="fp32", progress=False)
    assert (stats.shards_resumed, stats.shards_done, stats.written) == (11, 0, 0)  # nothing left: Ray not even started
    with pytest.raises(BiorelError) as e:
        extract_ray(corpus, model_dir, out, workers=1, shard_docs=10, threshold=0.9, precision="fp32", progress=False)
    assert e.value.code == "E553" and "threshold" in str(e.value)


def test_bad_options_are_refused_before_ray_starts(model_dir, tmp_path):
    corpus = tmp_path / "in.pubtator"
    io.write(TOY[:3], corpus)
    (tmp_path / "file").write_text("x")
    for kw, code in (({"workers": 0}, "E555"), ({"shard_docs": 0}, "E555"), ({"threshold": 2.0}, "E412")):
        with pytest.raises(BiorelError) as e:
            extract_ray(corpus, model_dir, tmp_path / "o", progress=False, **kw)
        assert e.value.code == code
    with pytest.raises(BiorelError) as e:
        extract_ray(corpus, model_dir, tmp_path / "file", progress=False)
    assert e.value.code == "E554"
    with pytest.raises(BiorelError) as e:
        extract_ray(tmp_path / "missing", model_dir, tmp_path / "o", progress=False)
    assert e.value.code == "E171"


def test_an_address_other_than_the_connected_cluster_is_refused(local_ray, model_dir, tmp_path):
    corpus = tmp_path / "in.pubtator"
    io.write(TOY[:3], corpus)
    with pytest.raises(BiorelError) as e:
        extract_ray(corpus, model_dir, tmp_path / "o", address="10.255.255.1:6379", progress=False)
    assert e.value.code == "E551" and "already connected" in str(e.value)


# ---------------------------------------------------------------- a real cluster, kill -9


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, logs: list[Path] = ()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    tails = "\n".join(f"--- {p}\n" + (p.read_text(errors="replace")[-3000:] if p.exists() else "(none)") for p in logs)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{tails}")


class LoopbackCluster:
    """``ray start --head`` (no CPUs) and one worker node of 2 CPUs on
    127.0.0.2, token authentication with a fresh token, in a temp folder of
    their own; :meth:`stop` ends exactly these processes (never ``ray stop``,
    which would stop every Ray cluster of the machine)."""

    def __init__(self, env: dict[str, str]):
        self.temp = Path(tempfile.mkdtemp(prefix="brray-", dir="/tmp"))  # Ray's socket paths must stay under 107 characters
        self.port = free_port()
        self.address = f"{LOOPBACK}:{self.port}"
        self.env = {**env, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0"}
        self.env["RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S"] = "2"  # a node drains for 30 s on SIGTERM by default
        self.env.pop("RAY_ADDRESS", None)
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def _start(self, name: str, *args: str) -> None:
        ray_cli = Path(sys.executable).with_name("ray")
        ray_cli = ray_cli if ray_cli.exists() else shutil.which("ray")
        common = [f"--node-ip-address={LOOPBACK}", f"--temp-dir={self.temp}", "--object-store-memory=100000000"]
        common += [f"--dashboard-agent-listen-port={free_port()}", f"--metrics-export-port={free_port()}", "--disable-usage-stats", "--block"]
        log = self.temp / f"{name}.log"
        self.logs.append(log)
        with open(log, "w") as fh:
            self.procs.append(subprocess.Popen([str(ray_cli), "start", *args, *common], env=self.env, stdout=fh, stderr=subprocess.STDOUT))
        wait_for(lambda: "Ray runtime started" in log.read_text(errors="replace"), 90, f"ray start ({name})", self.logs)

    def start(self) -> LoopbackCluster:
        self._start("head", "--head", f"--port={self.port}", "--num-cpus=0", "--include-dashboard=false", f"--dashboard-port={free_port()}")
        self._start("worker", f"--address={self.address}", "--num-cpus=2")
        return self

    def stop(self) -> None:
        ours = self.processes()
        for p in reversed(self.procs):  # ray start --block stops its node's processes on SIGTERM
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for pid in ours | self.processes():  # whatever of this cluster is still running
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.temp, ignore_errors=True)

    def processes(self) -> set[int]:
        """This cluster's processes: those whose command line names its temp
        folder, and every descendant of its ``ray start`` processes."""
        parent, found = {}, {p.pid for p in self.procs if p.poll() is None}
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                parent[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if str(self.temp).encode() in (proc / "cmdline").read_bytes():
                    found.add(int(proc.name))
            except (OSError, IndexError, ValueError):
                pass
        grown = True
        while grown:
            more = {pid for pid, ppid in parent.items() if ppid in found} - found
            found |= more
            grown = bool(more)
        return found - {os.getpid()}


@pytest.fixture
def loopback_cluster(tmp_path):
    hold = tmp_path / "hold-dir"
    hold.mkdir()
    cluster = LoopbackCluster({**os.environ, HOLD_ENV: str(hold)})
    try:
        yield cluster.start(), hold
    finally:
        cluster.stop()


def test_kill_9_of_an_actor_on_a_real_cluster_loses_and_duplicates_nothing(loopback_cluster, model_dir, tmp_path):
    cluster, hold = loopback_cluster
    corpus, out = tmp_path / "in.pubtator", tmp_path / "out"
    io.write(TOY, corpus)
    (hold / "hold").touch()  # the first actor to start writing a shard stops half-way, until the test lets it go
    cmd = [sys.executable, "-c", "from biorel.cli import main; main()", "extract", str(corpus), "--model", str(model_dir), "-o", str(out)]
    cmd += ["--engine", "ray", "--ray-address", cluster.address, "--workers", "2", "--shard-docs", "4", "--precision", "fp32", "--no-progress"]
    job_log = tmp_path / "job.log"
    with open(job_log, "w") as log:
        job = subprocess.Popen(cmd, env=cluster.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        logs = [job_log, *cluster.logs]
        held = wait_for(lambda: _held(hold), 150, "an actor held in the middle of a shard", logs)
        pid, shard = held
        wait_for(lambda: _lines(out / MANIFEST) >= 3, 60, "two shards done by the other actor", logs)
        assert list(out.glob(f".shard-{shard}.jsonl.{pid}.*.tmp")), "the held actor is in the middle of writing its shard"
        os.kill(pid, signal.SIGKILL)
        (hold / "hold").unlink()
        assert job.wait(timeout=150) == 0, job_log.read_text()
    finally:
        if job.poll() is None:
            job.kill()
    stdout = job_log.read_text()
    assert "24 documents in 10 of 10 shards" in stdout  # shards of 4, tapered: 4, 4, 4, 4, 2, 2, 1, 1, 1, 1
    docs = shard_docs(out)
    assert sorted(d["id"] for d in docs) == sorted(d.id for d in TOY)  # every document exactly once
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST] + [
        f"shard-{i:05d}.jsonl" for i in range(10)
    ]  # no temporary file, lock or attempt left
    ref = tmp_path / "ref.jsonl"
    extract(corpus, model_dir, ref, precision="fp32", progress=False)
    assert without_scores(docs)[0] == without_scores([d.to_dict() for d in io.read(ref)])[0]


def _held(folder: Path) -> tuple[int, str] | None:
    try:
        pid, shard = (folder / "held").read_text().split()
    except (OSError, ValueError):
        return None
    return int(pid), shard


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except OSError:
        return 0
